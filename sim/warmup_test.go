package sim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// The warm-up only decides what is measured, never what happens: the same
// scenario, seed and replication with warm-up 0 and with warm-up 1 d
// simulate the same events, and the measured totals differ by exactly what
// the orders of the first day contributed. This holds for the quickstart
// (cache-first nodes, reroutes) and the pilot (several microstores,
// rebalancing couriers), and for the metrics of results.json too.
func TestWarmupExcludedFromMetrics(t *testing.T) {
	for _, path := range []string{"../scenarios/quickstart.yaml", "../scenarios/pilot-5-neighborhoods.yaml"} {
		t.Run(path, func(t *testing.T) {
			s, err := scenarios.Load(path)
			require.NoError(t, err)
			cfg0, err := s.Config()
			require.NoError(t, err)
			cfg0.Warmup = 0
			if cfg0.Horizon > 4*model.Day {
				cfg0.Horizon = 4 * model.Day // enough to show it, quick to run
			}
			cfg1 := *cfg0
			cfg1.Warmup = model.Day
			const rep = 1
			r0, err := sim.Run(cfg0, rep)
			require.NoError(t, err)
			r1, err := sim.Run(&cfg1, rep)
			require.NoError(t, err)

			// the same run
			require.Equal(t, r0.KernelEvents, r1.KernelEvents)
			require.Equal(t, r0.Parcels, r1.Parcels)
			require.Equal(t, r0.Trace, r1.Trace, "the hourly trace covers the whole run either way")

			// what the first day contributed
			day0 := r0.Daily[0]
			var traceDay0 uint64
			for _, h := range r0.Trace[:24] {
				traceDay0 += h.Orders
			}
			require.Positive(t, day0.Orders)
			require.Equal(t, traceDay0, day0.Orders, "every order of day 0 is measured without warm-up")
			require.Equal(t, sim.DayResult{Day: 0}, r1.Daily[0], "nothing of day 0 is measured with a 1 d warm-up")
			require.Equal(t, r0.Daily[1:], r1.Daily[1:], "later days are the same")

			require.Equal(t, r0.Stats.Orders-day0.Orders, r1.Stats.Orders)
			require.Equal(t, r0.Stats.PickedUpWithinSLA-day0.PickedUpWithinSLA, r1.Stats.PickedUpWithinSLA)
			require.Less(t, r1.Stats.PickedUp, r0.Stats.PickedUp)
			var cells0, cells1 uint64
			for c, n := range r0.DemandByCell {
				require.GreaterOrEqual(t, n, r1.DemandByCell[c])
				cells0 += n
			}
			for _, n := range r1.DemandByCell {
				cells1 += n
			}
			require.Equal(t, day0.Orders, cells0-cells1)
			var nodes0, nodes1 uint64
			for i := range r0.Nodes {
				nodes0 += r0.Nodes[i].Orders
				nodes1 += r1.Nodes[i].Orders
			}
			require.Equal(t, day0.Orders, nodes0-nodes1)
			// every measured order is accounted for in both
			require.NoError(t, r0.Conserved())
			require.NoError(t, r1.Conserved())

			// and in the results vocabulary: the metrics and the daily points
			m0 := experiment.Replication(cfg0, r0, false)
			m1 := experiment.Replication(&cfg1, r1, false)
			require.Equal(t, float64(day0.Orders), m0.Metrics[results.MOrders]-m1.Metrics[results.MOrders])
			require.Equal(t, float64(day0.PickedUpWithinSLA),
				m0.Metrics[results.MCollectedWithinSLA]-m1.Metrics[results.MCollectedWithinSLA])
			require.Len(t, m1.Daily, len(m0.Daily)-1, "the warm-up day is left out")
			for i, d := range m1.Daily {
				want := m0.Daily[i+1]
				want.Day = i
				require.Equal(t, want.Orders, d.Orders)
				require.Equal(t, want.CollectedWithinSLA, d.CollectedWithinSLA)
			}
			require.Equal(t, m0.PickupDelay.Total()-m1.PickupDelay.Total(), int64(r0.Stats.PickedUp-r1.Stats.PickedUp),
				"the pickup-delay histogram holds the measured pickups only")
		})
	}
}
