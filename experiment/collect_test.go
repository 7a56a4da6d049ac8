package experiment

import (
	"context"
	"runtime/metrics"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/scenarios"
)

// forcedCycles is the number of collections runtime.GC has run.
func forcedCycles(t *testing.T) uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	require.Equal(t, metrics.KindUint64, s[0].Value.Kind())
	return s[0].Value.Uint64()
}

// A replication whose world leaves a live heap of largeWorld or more is
// collected before its results are built; smaller ones are not.
func TestCollectLargeWorld(t *testing.T) {
	s, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	defer func(v uint64) { largeWorld = v }(largeWorld)

	for _, c := range []struct {
		threshold uint64
		forced    bool
	}{{1 << 62, false}, {0, true}} {
		largeWorld = c.threshold
		before := forcedCycles(t)
		_, err := Replications(context.Background(), cfg, 0, 3, Options{Workers: 1})
		require.NoError(t, err)
		n := forcedCycles(t) - before
		if c.forced {
			require.GreaterOrEqual(t, n, uint64(3), "one per replication")
		} else {
			require.Zero(t, n)
		}
	}
}
