package experiment

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// Common random numbers: comparing two designs with the same seed gives a
// much narrower CI for the difference than comparing them with independent
// seeds, on the same pair of scenarios and the same number of replications.
func TestCommonRandomNumbersNarrowTheCI(t *testing.T) {
	a, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	b, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	b.Name = "quickstart-ttl-12h"
	b.Labels.TTL.ReadyForPickup = scenarios.Duration(b.Labels.TTL.ReadyForPickup.Model() / 2)
	const reps = 12
	ctx := context.Background()
	runs, cmp, err := Compare(ctx, []*scenarios.Scenario{a, b}, Options{Replications: reps})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	for _, metric := range []string{results.MCollected, results.MTotalCost, results.MOrders} {
		ca, _ := runs[0].Values(metric)
		cb, _ := runs[1].Values(metric)
		crn := results.Compare(ca, cb, results.MetricDef{}).HalfWidth
		other := uint64(987654321)
		indep, err := Run(ctx, b, Options{Replications: reps, Seed: &other})
		require.NoError(t, err)
		ib, _ := indep.Values(metric)
		ind := results.Compare(ca, ib, results.MetricDef{}).HalfWidth
		t.Logf("%s: CI half-width of the difference: common random numbers %.3f, independent seeds %.3f", metric, crn, ind)
		require.Less(t, crn, ind, "%s: common random numbers must narrow the CI of the difference", metric)
		if metric == results.MOrders {
			// demand does not depend on the TTL: with common random numbers
			// both designs see exactly the same orders
			require.Zero(t, crn)
		}
	}
	mc, ok := cmp.Metric(results.MOrders)
	require.True(t, ok)
	require.Len(t, mc.Differences, 1)
}

func TestCompareNeedsTwo(t *testing.T) {
	a, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	_, _, err = Compare(context.Background(), []*scenarios.Scenario{a}, Options{})
	require.Error(t, err)
}

// BenchmarkPilotReplications: 100 replications of the pilot on 1 and 2
// workers (run with -benchtime 1x); the ratio of the two is the speed-up.
func BenchmarkPilotReplications(b *testing.B) {
	s, err := scenarios.Load("../scenarios/pilot-5-neighborhoods.yaml")
	require.NoError(b, err)
	for _, w := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[w], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_, err := Run(context.Background(), s, Options{Replications: 100, Workers: w})
				require.NoError(b, err)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100reps")
		})
	}
}
