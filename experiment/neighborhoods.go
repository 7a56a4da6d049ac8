package experiment

import (
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sim"
)

// costMetrics adds the cost breakdown (the components of total_cost that
// are not reported elsewhere), lost revenue, counter revenue and RSMI.
// RSMI is reported when some node has cached floor area in use in the
// window.
func costMetrics(m map[string]float64, r *sim.Result) {
	c := &r.Costs
	m[results.MCourierCost] = c.Couriers
	m[results.MFixedCost] = c.Fixed
	m[results.MOrderHandlingCost] = c.Orders
	m[results.MRerouteCost] = c.Reroutes
	m[results.MReturnCost] = c.Returns
	m[results.MLateRefundCost] = c.LateRefunds
	m[results.MLostRevenue] = r.LostRevenue
	if r.Edge {
		m[results.MCounterRevenue] = r.CounterRevenue
	}
	if r.M2Days > 0 {
		m[results.MRSMI] = r.RSMI
	}
}

// nodeCostMetrics adds a node's lost revenue, counter revenue and RSMI (a
// node with cached floor area in use).
func nodeCostMetrics(pn map[string]float64, n *sim.NodeResult) {
	pn[results.MLostRevenue] = n.LostRevenue
	if n.CounterRevenue > 0 {
		pn[results.MCounterRevenue] = n.CounterRevenue
	}
	if n.M2Days > 0 {
		pn[results.MRSMI] = n.RSMI
	}
}

// microstoreMetrics adds to each microstore's per-node map the results of
// the pickup nodes it serves (the fulfilling node's view): orders,
// collected, cost, FCPO, RSMI and lost revenue.
func microstoreMetrics(perNode map[string]map[string]float64, r *sim.Result) {
	for _, ms := range r.Microstores {
		pm := perNode[ms.ID]
		if pm == nil {
			continue
		}
		pm[results.MMicrostoreOrders] = float64(ms.Orders)
		pm[results.MMicrostoreCollected] = float64(ms.Collected)
		pm[results.MMicrostoreCost] = ms.Cost
		pm[results.MMicrostoreLostRev] = ms.LostRevenue
		if ms.Collected > 0 {
			pm[results.MMicrostoreFCPO] = ms.FCPO
		}
		if ms.M2Days > 0 {
			pm[results.MMicrostoreRSMI] = ms.RSMI
		}
	}
}

// neighborhoodMetrics is the per-neighborhood results of a replication:
// orders, collected (within the SLA), pickup success rate, friction p50 and
// p90, cost, FCPO and lost revenue; nil without neighborhoods.
func neighborhoodMetrics(r *sim.Result) map[string]map[string]float64 {
	if len(r.Hoods) == 0 {
		return nil
	}
	out := make(map[string]map[string]float64, len(r.Hoods))
	for i := range r.Hoods {
		h := &r.Hoods[i]
		m := map[string]float64{
			results.MOrders:             float64(h.Orders),
			results.MCollected:          float64(h.Collected),
			results.MCollectedWithinSLA: float64(h.WithinSLA),
			"cost":                      h.Cost,
			results.MLostRevenue:        h.LostRevenue,
		}
		if h.Orders > 0 {
			m[results.MPickupSuccessRate] = float64(h.WithinSLA) / float64(h.Orders)
		}
		if h.Collected > 0 {
			m[results.MPickupFrictionP50] = h.Friction.Quantile(0.5)
			m[results.MPickupFrictionP90] = h.Friction.Quantile(0.9)
			m[results.MFCPO] = h.FCPO
		}
		out[h.Name] = m
	}
	return out
}
