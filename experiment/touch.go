package experiment

import (
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// touchMetrics adds the customer touch layer's measures (scenarios with a
// touch section only, so other scenarios' results do not change): windows,
// rewards, and the locker-side effects a planner weighs them against
// (refused drops, mean dwell over all nodes).
func touchMetrics(m map[string]float64, r *sim.Result) {
	if r.Touch == nil {
		return
	}
	ratio := func(a, b uint64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	t := &r.Stats.Touch
	m[results.MRewardCost] = t.RewardCost
	m[results.MRewardsPaid] = float64(t.QuickRewards + t.OffPeakRewards)
	m[results.MWindowedShare] = ratio(t.Windowed, r.Stats.Orders)
	m[results.MPickupInWindowShare] = ratio(t.InWindow, t.BeforeWindow+t.InWindow+t.AfterWindow)
	m[results.MWindowReadyLateShare] = ratio(t.ReadyLate, t.Windowed)
	m[results.MWindowsFullShare] = ratio(r.Touch.Full, r.Stats.Orders)
	var refused, dwelled uint64
	var dwell float64
	for i := range r.Nodes {
		n := &r.Nodes[i]
		refused += n.Refused
		dwelled += n.Dwelled
		dwell += float64(n.Dwelled) * n.DwellMean
	}
	m[results.MDropsRefused] = float64(refused)
	if dwelled > 0 {
		m[results.MParcelDwellMeanMin] = dwell / float64(dwelled)
	} else {
		m[results.MParcelDwellMeanMin] = 0
	}
}
