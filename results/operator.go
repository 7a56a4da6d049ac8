package results

import "sort"

// Operator metrics (issue 14, the provenance part): pickup friction with
// censoring, pickup success and bonuses per node operator. The catalog
// holds MBonusCost; the per-operator and per-node metrics below live in
// Replication.PerOperator and PerNode.
const (
	MBonusCost = "bonus_cost"

	// per node and per operator
	MReadyEpisodes      = "ready_episodes"
	MPickupSuccessShare = "pickup_success_share"
	MFrictionKMP50Min   = "friction_km_p50_min"
	MFrictionKMP90Min   = "friction_km_p90_min"
	// per operator, with a bonus rule
	MBonusPeriods     = "bonus_periods"
	MBonusPeriodsPaid = "bonus_periods_paid"
)

// OperatorMetricSummary is the replication statistics of one per-operator
// metric.
type OperatorMetricSummary struct {
	Operator string  `json:"operator"`
	Metric   string  `json:"metric"`
	Stats    Summary `json:"stats"`
}

// finiteMaps drops the non-finite values of nested maps (nil stays nil).
func finiteMaps(m map[string]map[string]float64) map[string]map[string]float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]map[string]float64, len(m))
	for k, v := range m {
		out[k] = finiteMap(v)
	}
	return out
}

// summarizeOperators recomputes PerOperatorSummary from the replications,
// sorted by operator and metric.
func (r *RunResult) summarizeOperators() {
	r.PerOperatorSummary = nil
	type key struct{ op, metric string }
	vals := map[key][]float64{}
	for _, rep := range r.Replications {
		for op, m := range rep.PerOperator {
			for k, v := range m {
				if finite(v) {
					vals[key{op, k}] = append(vals[key{op, k}], v)
				}
			}
		}
	}
	keys := make([]key, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].op != keys[j].op {
			return keys[i].op < keys[j].op
		}
		return keys[i].metric < keys[j].metric
	})
	for _, k := range keys {
		r.PerOperatorSummary = append(r.PerOperatorSummary, OperatorMetricSummary{Operator: k.op, Metric: k.metric, Stats: Summarize(vals[k], r.Precision)})
	}
}
