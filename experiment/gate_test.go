package experiment

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// Extending a run in stages gives byte-for-byte the run of all its
// replications at once (the sequential check relies on it).
func TestExtendEqualsOneRun(t *testing.T) {
	s, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	ctx := context.Background()
	seed := uint64(11)
	whole, err := Run(ctx, s, Options{Replications: 7, Seed: &seed})
	require.NoError(t, err)

	staged, err := Run(ctx, s, Options{Replications: 2, Seed: &seed})
	require.NoError(t, err)
	require.NoError(t, Extend(ctx, s, staged, 5, Options{Workers: 1}))
	require.Len(t, staged.Replications, 5)
	require.NoError(t, Extend(ctx, s, staged, 7, Options{}))
	require.NoError(t, Extend(ctx, s, staged, 3, Options{}), "fewer than there are: nothing to do")

	var a, b bytes.Buffer
	require.NoError(t, results.WriteRunJSON(&a, whole))
	require.NoError(t, results.WriteRunJSON(&b, staged))
	require.Equal(t, a.String(), b.String())
}
