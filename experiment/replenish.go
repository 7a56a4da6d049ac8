package experiment

import (
	"math"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// replenishMetrics adds the replenishment measures (a run's or a cache
// node's). The WAPE is left out when there was no realised demand to score
// the forecast against.
func replenishMetrics(m map[string]float64, r *sim.ReplenishResult) {
	m[results.MUnitsHeld] = r.UnitsHeld
	m[results.MHoldingCost] = r.HoldingCost
	m[results.MSpaceCost] = r.SpaceCost
	m[results.MRestockTrips] = float64(r.RestockTrips)
	m[results.MRestockCost] = r.RestockCost
	m[results.MUnitsRotatedOut] = float64(r.RotatedOut)
	m[results.MSKURotations] = float64(r.Rotations)
	if w := r.WAPE(); !math.IsNaN(w) {
		m[results.MForecastWAPE] = w
	}
}
