package experiment

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// The bundled reusable-packaging example reports every packaging metric,
// byte-identically whatever the worker count, with the packaging cost part
// of total_cost.
func TestPackagingExampleDeterministic(t *testing.T) {
	s, err := scenarios.Load("../scenarios/examples/reusable-packaging.yaml")
	require.NoError(t, err)
	run := func(workers int) []byte {
		r, err := Run(context.Background(), s, Options{Replications: 3, Workers: workers})
		require.NoError(t, err)
		var b bytes.Buffer
		require.NoError(t, results.WriteRunJSON(&b, r))
		for _, rep := range r.Replications {
			for _, m := range []string{results.MBoxReuseRate, results.MBoxStockouts, results.MBoxesLost, results.MBoxCycleTimeMeanMin,
				results.MBoxesOutMean, results.MPackagingCost, results.MSingleUseAvoidedKg} {
				_, ok := rep.Metrics[m]
				assert.True(t, ok, "replication %d lacks %s", rep.Index, m)
			}
			assert.Greater(t, rep.Metrics[results.MBoxReuseRate], 0.5)
			assert.Less(t, rep.Metrics[results.MPackagingCost], rep.Metrics[results.MTotalCost])
		}
		return b.Bytes()
	}
	a, b := run(1), run(3)
	require.Equal(t, a, b)
	// the quickstart, without a packaging section, reports none of them
	q, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	r, err := Run(context.Background(), q, Options{Replications: 1})
	require.NoError(t, err)
	_, ok := r.Replications[0].Metrics[results.MPackagingCost]
	assert.False(t, ok)
}

// The pool size acts in the bundled example: the small pool of the compare
// has more box stockouts and a lower reuse rate, paired by replication.
func TestPackagingExamplePoolDirection(t *testing.T) {
	metric := func(file, m string) []float64 {
		s, err := scenarios.Load(file)
		require.NoError(t, err)
		r, err := Run(context.Background(), s, Options{Replications: 4})
		require.NoError(t, err)
		var out []float64
		for _, rep := range r.Replications {
			out = append(out, rep.Metrics[m])
		}
		return out
	}
	big := "../scenarios/examples/reusable-packaging.yaml"
	small := "../scenarios/examples/reusable-packaging-small-pool.yaml"
	bs, ss := metric(big, results.MBoxStockouts), metric(small, results.MBoxStockouts)
	for i := range bs {
		assert.Less(t, bs[i], ss[i], "replication %d", i)
	}
	br, sr := metric(big, results.MBoxReuseRate), metric(small, results.MBoxReuseRate)
	for i := range br {
		assert.Greater(t, br[i], sr[i], "replication %d", i)
	}
}
