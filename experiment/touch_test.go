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

// The bundled pair answers "does a 1-unit reward for pickup within 4 h pay
// for itself in locker capacity?": with common random numbers, the paired
// 95 % CIs show the reward frees locker capacity (occupancy, dwell, refused
// drops, reroutes down) and what it costs (reward_cost, and the total).
func TestTouchRewardCompare(t *testing.T) {
	var scs []*scenarios.Scenario
	for _, f := range []string{"pickup-windows-no-reward.yaml", "pickup-windows.yaml"} {
		s, err := scenarios.Load("../scenarios/examples/" + f)
		require.NoError(t, err)
		scs = append(scs, s)
	}
	runs, cmp, err := Compare(context.Background(), scs, Options{})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	diff := map[string]results.Difference{}
	for _, m := range cmp.Metrics {
		if len(m.Differences) == 1 {
			diff[m.Metric] = m.Differences[0].Diff
		}
	}
	lower := func(metric string) {
		d, ok := diff[metric]
		require.True(t, ok, metric)
		assert.Less(t, d.CI95High, 0.0, "%s: the reward lowers it (paired 95%% CI [%g, %g])", metric, d.CI95Low, d.CI95High)
	}
	higher := func(metric string) {
		d, ok := diff[metric]
		require.True(t, ok, metric)
		assert.Greater(t, d.CI95Low, 0.0, "%s: the reward raises it (paired 95%% CI [%g, %g])", metric, d.CI95Low, d.CI95High)
	}
	for _, m := range []string{results.MLockerOccupancy, results.MParcelDwellMeanMin, results.MDropsRefused, results.MReroutes,
		results.MPickupFrictionP50} {
		lower(m)
	}
	for _, m := range []string{results.MRewardCost, results.MRewardsPaid} {
		higher(m)
	}
	// the windows themselves do not depend on the reward (same draws)
	assert.Zero(t, diff[results.MWindowedShare].Mean)
	// reward_cost is part of total_cost in every replication
	for i, run := range runs {
		for _, rep := range run.Replications {
			if i == 0 {
				assert.Zero(t, rep.Metrics[results.MRewardCost])
			}
			assert.Positive(t, rep.Metrics[results.MWindowedShare])
		}
	}
}

func TestTouchResultsDeterministic(t *testing.T) {
	s, err := scenarios.Load("../scenarios/examples/pickup-windows.yaml")
	require.NoError(t, err)
	var out [2][]byte
	for i, workers := range []int{1, 3} {
		run, err := Run(context.Background(), s, Options{Replications: 3, Workers: workers})
		require.NoError(t, err)
		var b bytes.Buffer
		require.NoError(t, results.WriteRunJSON(&b, run))
		out[i] = b.Bytes()
	}
	require.Equal(t, string(out[0]), string(out[1]))
	assert.Contains(t, string(out[0]), `"`+results.MRewardCost+`"`)
}
