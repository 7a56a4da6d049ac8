package experiment

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// supplyMetrics adds the supply side's metrics to m: of the run (n nil) or
// of node n as a fulfilling node. Sources and stockout causes are reported
// when the core kept them (a cache or a supply tier), line haul with a
// supply tier, pickers with finite staff; same_day_share always (run only).
// stockouts is redefined here, once, as the sum of its three causes.
func supplyMetrics(cfg *sim.Config, r *sim.Result, m map[string]float64, n *sim.NodeResult) {
	sr := &r.Supply
	if n != nil {
		sr = &n.Supply
	} else {
		m[results.MSameDayShare] = share(r.Stats.SameDay, r.Stats.Orders)
	}
	sources := r.Edge || cfg.Network.Supply != nil
	if n != nil && n.Kind != model.Microstore && sr.Orders == 0 && sr.CounterStockouts == 0 {
		sources = false // a pickup point: nothing is fulfilled there
	}
	if sources {
		if n == nil || sr.Orders > 0 {
			m[results.MCacheHitRate] = share(sr.CacheHits, sr.Orders)
			m[results.MCentralShare] = share(sr.Central, sr.Orders)
		}
		m[results.MStockoutsOutOfStock] = float64(sr.StockoutsOutOfStock)
		m[results.MStockoutsCentral] = float64(sr.StockoutsCentral)
		m[results.MStockoutsCounter] = float64(sr.CounterStockouts)
		m[results.MStockouts] = float64(sr.StockoutsOutOfStock + sr.StockoutsCentral + sr.CounterStockouts)
	}
	if cfg.Network.Supply != nil && (n == nil || sr.Orders > 0) {
		m[results.MFallbackNextDay] = float64(sr.FallbackNextDay)
		m[results.MFallbackMissed] = float64(sr.FallbackMissed)
		if n == nil {
			m[results.MLineHaulCost] = r.Costs.LineHaul
			m[results.MLineHaulWaves] = float64(sr.Waves)
		}
	}
	if sr.Staffed && (n == nil || sr.StaffedTime > 0 || sr.PickJobs > 0) {
		m[results.MPickerUtilization] = sr.PickerUtilization()
		m[results.MPickQueueWaitP90Min] = sr.PickWaitP90
		if n == nil {
			m[results.MPickerCost] = r.Costs.Pickers
		}
	}
}

func share(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
