package experiment

import (
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// choiceMetrics adds the pickup-point choice's measures: with a
// capacity-aware checkout, the share of measured orders whose customer's
// first choice had no room.
func choiceMetrics(m map[string]float64, cfg *sim.Config, r *sim.Result) {
	if !cfg.Customers.Choice.CapacityAware {
		return
	}
	if r.Stats.Orders > 0 {
		m[results.MFirstChoiceUnavailableShare] = float64(r.FirstChoiceUnavailable) / float64(r.Stats.Orders)
	} else {
		m[results.MFirstChoiceUnavailableShare] = 0
	}
}
