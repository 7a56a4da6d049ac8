package experiment

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// courierWaitBins is the courier-wait histogram's range in one-minute bins
// (16 hours: an order packed after the shift waits for the next morning).
const courierWaitBins = 16 * 60

// cohortMetrics adds the cohort's metrics (the drain, censoring, courier
// waits and trips) to m, the courier-wait histogram and the per-node dwell
// times to rep.
func cohortMetrics(m map[string]float64, rep *results.Replication, r *sim.Result) {
	m[results.MCensored] = float64(r.Censored)
	if r.Stats.Orders > 0 {
		m[results.MCensoredShare] = float64(r.Censored) / float64(r.Stats.Orders)
	}
	m[results.MDrainHours] = float64(r.DrainEnd.Sub(r.End)) / float64(model.Hour)
	m[results.MCourierWaitMeanMin] = r.CourierWait.Mean()
	m[results.MCourierWaitP90Min] = r.CourierWait.Quantile(0.9)
	m[results.MCourierTimeRerouteShare] = r.CourierRerouteShare
	m[results.MCourierTimeReturnShare] = r.CourierReturnShare
	rep.CourierWait = results.NewHistogram(1, courierWaitBins)
	for minute, n := range r.CourierWait.Counts {
		if minute < model.HistogramBins && minute < courierWaitBins {
			rep.CourierWait.Counts[minute] += int64(n)
		} else {
			rep.CourierWait.Overflow += int64(n)
		}
	}
	for _, n := range r.Nodes {
		if n.Dwelled == 0 {
			continue
		}
		pn := rep.PerNode[n.ID]
		pn[results.MDwellMeanMin] = n.DwellMean
		pn[results.MDwellP90Min] = n.DwellP90
	}
}
