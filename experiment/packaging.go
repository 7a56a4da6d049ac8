package experiment

import (
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// packagingMetrics adds the reusable-packaging measures of a replication
// (none without a packaging section). The mean cycle time is left out when
// no box finished a cycle.
func packagingMetrics(m map[string]float64, p *sim.PackagingResult) {
	if p == nil {
		return
	}
	m[results.MBoxReuseRate] = p.ReuseRate
	m[results.MBoxStockouts] = float64(p.Stockouts)
	m[results.MBoxesLost] = float64(p.BoxesLost)
	if p.CycleMeanMin > 0 {
		m[results.MBoxCycleTimeMeanMin] = p.CycleMeanMin
	}
	m[results.MBoxesOutMean] = p.BoxesOutMean
	m[results.MPackagingCost] = p.Cost
	m[results.MSingleUseAvoidedKg] = p.AvoidedKg
}
