package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// lastDayGap runs the pilot and returns how far the last measured day's
// pickup success rate (pooled over replications) lies from the mean of the
// other days, in standard deviations of those days.
func lastDayGap(t *testing.T, s *scenarios.Scenario) float64 {
	run, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	var orders, within []float64
	for _, rep := range run.Replications {
		for _, d := range rep.Daily {
			for len(orders) <= d.Day {
				orders, within = append(orders, 0), append(within, 0)
			}
			orders[d.Day] += d.Orders
			within[d.Day] += d.CollectedWithinSLA
		}
	}
	n := len(orders)
	require.Greater(t, n, 10)
	rates := make([]float64, n)
	for d := range rates {
		require.Greater(t, orders[d], 0.0)
		rates[d] = within[d] / orders[d]
	}
	mean, sd := stat.MeanStdDev(rates[:n-1], nil)
	t.Logf("days 0..%d: %.4f ± %.4f (sd); last day %.4f", n-2, mean, sd, rates[n-1])
	return math.Abs(rates[n-1]-mean) / sd
}

// With the drain the last measured day of the pilot looks like the others:
// its pickup success rate is within mean ± 3 sd of the other days. Without
// it (drain.cap 0) the last day's orders are cut off and it is not.
func TestPilotLastDayLikeTheOthers(t *testing.T) {
	s, err := scenarios.Load("../scenarios/pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	require.Equal(t, scenarios.DefaultDrainCap, s.Drain.Cap)
	require.LessOrEqual(t, lastDayGap(t, s), 3.0, "the last day within the between-day spread")
	s.Drain.Cap = 0
	require.Greater(t, lastDayGap(t, s), 10.0, "without a drain the last day is cut off")
}

// Extending drain.cap beyond what the cohort needs changes no number of the
// results; a tiny cap censors orders, and every order is still accounted for.
func TestDrainCapResults(t *testing.T) {
	s, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	ctx := context.Background()
	opt := Options{Trace: true}
	base, err := Run(ctx, s, opt)
	require.NoError(t, err)
	s.Drain.Cap *= 5
	longer, err := Run(ctx, s, opt)
	require.NoError(t, err)
	require.Equal(t, base.Replications, longer.Replications)
	for _, rep := range base.Replications {
		require.Zero(t, rep.Metrics[results.MCensored])
	}
	s.Drain.Cap = scenarios.Duration(60 * 1000) // one minute
	tiny, err := Run(ctx, s, opt)
	require.NoError(t, err)
	var censored float64
	for _, rep := range tiny.Replications {
		m := rep.Metrics
		censored += m[results.MCensored]
		require.Equal(t, m[results.MOrders], m[results.MCollected]+m[results.MReturns]+m[results.MCancelled]+m[results.MCensored])
		require.InDelta(t, m[results.MCensored]/m[results.MOrders], m[results.MCensoredShare], 1e-12)
	}
	require.Greater(t, censored, 0.0)
}
