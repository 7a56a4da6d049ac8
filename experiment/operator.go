package experiment

import (
	"math"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// operatorMetrics adds the pickup friction (Kaplan–Meier, stays not
// collected censored) and success per node and per operator, and, with a
// bonus rule, the bonuses (sim/operator.go).
func operatorMetrics(cfg *sim.Config, r *sim.Result, m map[string]float64, rep *results.Replication) {
	pickup := func(dst map[string]float64, p sim.PickupResult) {
		dst[results.MReadyEpisodes] = float64(p.Ready)
		// left out without stays (NaN) or when not reached (+Inf): the
		// maps hold finite values only, so replications compare equal
		for k, v := range map[string]float64{results.MPickupSuccessShare: p.SuccessShare(),
			results.MFrictionKMP50Min: p.FrictionP50, results.MFrictionKMP90Min: p.FrictionP90} {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				dst[k] = v
			}
		}
	}
	for i, p := range r.Pickup {
		if pn := rep.PerNode[r.Nodes[i].ID]; pn != nil {
			pickup(pn, p)
		}
	}
	rep.PerOperator = make(map[string]map[string]float64, len(r.Operators))
	for _, op := range r.Operators {
		om := map[string]float64{results.MCollected: float64(op.Collected)}
		pickup(om, op.PickupResult)
		if cfg.Operators.Bonus != nil {
			om[results.MBonusCost] = op.Bonus
			om[results.MBonusPeriods] = float64(op.Periods)
			om[results.MBonusPeriodsPaid] = float64(op.PaidPeriods)
		}
		rep.PerOperator[op.Name] = om
	}
	if cfg.Operators.Bonus != nil {
		m[results.MBonusCost] = r.Costs.Bonuses
	}
}
