package results

import (
	"fmt"
	"strings"
)

// Better says which direction of a metric is an improvement.
type Better int

// Directions. Neutral metrics (volumes, utilisation) are reported and compared
// but never judged better or worse.
const (
	Neutral Better = iota
	HigherIsBetter
	LowerIsBetter
)

var betterNames = [...]string{"neutral", "higher", "lower"}

func (b Better) String() string {
	if b >= 0 && int(b) < len(betterNames) {
		return betterNames[b]
	}
	return fmt.Sprintf("better(%d)", int(b))
}

// Arrow is a one-character hint for tables: ↑ higher is better, ↓ lower is
// better, · neutral.
func (b Better) Arrow() string {
	switch b {
	case HigherIsBetter:
		return "↑"
	case LowerIsBetter:
		return "↓"
	}
	return "·"
}

// MarshalText writes "higher", "lower" or "neutral".
func (b Better) MarshalText() ([]byte, error) {
	if b < 0 || int(b) >= len(betterNames) {
		return nil, fmt.Errorf("results: invalid Better %d", int(b))
	}
	return []byte(betterNames[b]), nil
}

// UnmarshalText is the inverse of MarshalText.
func (b *Better) UnmarshalText(t []byte) error {
	for i, n := range betterNames {
		if n == string(t) {
			*b = Better(i)
			return nil
		}
	}
	return fmt.Errorf("results: unknown direction %q (want higher, lower or neutral)", t)
}

// Units used by the catalog.
const (
	UnitCount    = "count"
	UnitShare    = "share"    // a fraction in [0,1]
	UnitCurrency = "currency" // the scenario's currency (EUR in the examples)
	UnitMinutes  = "min"
	UnitHours    = "h"
	UnitUnits    = "units"  // stock units
	UnitUnitHour = "unit·h" // stock units integrated over hours
	UnitPerM2Day = "currency/m²/day"
)

// MetricDef describes one scalar metric of a replication.
type MetricDef struct {
	Name        string `json:"name"`
	Unit        string `json:"unit"`
	Description string `json:"description"`
	Better      Better `json:"better"`
}

// Metric names, for the simulator to fill Replication.Metrics without typos.
const (
	MOrders                  = "orders"
	MDelivered               = "delivered"
	MPickedUp                = "picked_up"
	MPickedUpWithinSLA       = "picked_up_within_sla"
	MPickupSuccessRate       = "pickup_success_rate"
	MOnTimeReadyRate         = "on_time_ready_rate"
	MReroutes                = "reroutes"
	MReturns                 = "returns"
	MCancelled               = "cancelled"
	MRefunds                 = "refunds"
	MRefundCost              = "refund_cost"
	MTotalCost               = "total_cost"
	MFCPO                    = "fcpo"
	MPickupFrictionP50       = "pickup_friction_p50_min"
	MPickupFrictionP90       = "pickup_friction_p90_min"
	MRSMI                    = "rsmi"
	MCourierUtilization      = "courier_utilization"
	MLockerOccupancy         = "locker_occupancy"
	MInFlight                = "in_flight"
	MRejectedEvents          = "rejected_events"
	MDriftIntegral           = "drift_integral"
	MDriftMax                = "drift_max"
	MConflicts               = "conflicts"
	MOversells               = "oversells"
	MStockouts               = "stockouts"
	MOfflinePickupsFailed    = "offline_pickups_failed"
	MOfflinePickupsDelayed   = "offline_pickups_delayed"
	MReconciliationLagP90Min = "reconciliation_lag_p90_min"

	// cohort: the drain, censoring, courier waits and trips, dwell (issue 13)
	MCensored                = "censored"
	MCensoredShare           = "censored_share"
	MDrainHours              = "drain_hours"
	MCourierWaitMeanMin      = "courier_wait_mean_min"
	MCourierWaitP90Min       = "courier_wait_p90_min"
	MCourierTimeRerouteShare = "courier_time_reroute_share"
	MCourierTimeReturnShare  = "courier_time_return_share"
	// per-node metrics (in PerNode, not the catalog)
	MDwellMeanMin = "dwell_mean_min"
	MDwellP90Min  = "dwell_p90_min"
)

// Catalog is the ordered list of scalar metrics a replication reports. Tables,
// CSV and the report list metrics in this order; metrics a run did not measure
// are left out.
var Catalog = []MetricDef{
	{MOrders, UnitCount, "orders placed after warm-up", Neutral},
	{MDelivered, UnitCount, "orders made ready for pickup (locker or partner counter)", HigherIsBetter},
	{MPickedUp, UnitCount, "orders picked up by the customer", HigherIsBetter},
	{MPickedUpWithinSLA, UnitCount, "orders picked up within the SLA", HigherIsBetter},
	{MPickupSuccessRate, UnitShare, "share of orders picked up within the SLA", HigherIsBetter},
	{MOnTimeReadyRate, UnitShare, "share of orders ready for pickup by their SLA deadline (same day before the cutoff, next day after)", HigherIsBetter},
	{MReroutes, UnitCount, "reroutes (TTL expired, node full or offline, conflict lost)", LowerIsBetter},
	{MReturns, UnitCount, "parcels returned after exhausting reroute hops", LowerIsBetter},
	{MCancelled, UnitCount, "orders cancelled because stock could not be honoured", LowerIsBetter},
	{MRefunds, UnitCount, "refunds: late SLA, cancelled orders, parcels returned before they were ever ready", LowerIsBetter},
	{MRefundCost, UnitCurrency, "money refunded", LowerIsBetter},
	{MTotalCost, UnitCurrency, "total fulfilment cost (couriers, nodes, refunds)", LowerIsBetter},
	{MFCPO, UnitCurrency, "fulfilment cost per delivered order", LowerIsBetter},
	{MPickupFrictionP50, UnitMinutes, "median minutes from ready notification to verified pickup", LowerIsBetter},
	{MPickupFrictionP90, UnitMinutes, "90th percentile minutes from ready notification to verified pickup", LowerIsBetter},
	{MRSMI, UnitPerM2Day, "revenue per m² of local inventory per day", HigherIsBetter},
	{MCourierUtilization, UnitShare, "share of courier time spent on tasks", Neutral},
	{MLockerOccupancy, UnitShare, "mean occupied share of locker slots", Neutral},
	{MInFlight, UnitCount, "orders of the cohort still in flight at the horizon (the drain follows them; see censored)", Neutral},
	{MRejectedEvents, UnitCount, "illegal events rejected by the core", LowerIsBetter},
	{MDriftIntegral, UnitUnitHour, "cache-first nodes: |central − real stock| integrated over time", LowerIsBetter},
	{MDriftMax, UnitUnits, "cache-first nodes: largest |central − real stock|", LowerIsBetter},
	{MConflicts, UnitCount, "cache-first nodes: reconciliation conflicts", LowerIsBetter},
	{MOversells, UnitCount, "cache-first nodes: units sold that were not there", LowerIsBetter},
	{MStockouts, UnitCount, "cache-first nodes: orders that found no stock", LowerIsBetter},
	{MOfflinePickupsFailed, UnitCount, "cache-first nodes: pickups that failed while the node was offline", LowerIsBetter},
	{MOfflinePickupsDelayed, UnitCount, "cache-first nodes: pickups completed only after a customer was turned away by an offline node", LowerIsBetter},
	{MReconciliationLagP90Min, UnitMinutes, "cache-first nodes: 90th percentile minutes from local event to central view", LowerIsBetter},
	// cohort (issue 13)
	{MCensored, UnitCount, "orders of the cohort still unfinished when the drain stopped (cap reached): neither picked up, returned nor cancelled", Neutral},
	{MCensoredShare, UnitShare, "censored orders over the cohort's orders", Neutral},
	{MDrainHours, UnitHours, "hours the run went on after the horizon until the cohort finished (or the drain cap)", Neutral},
	{MCourierWaitMeanMin, UnitMinutes, "mean minutes from packed to the handoff to a courier", LowerIsBetter},
	{MCourierWaitP90Min, UnitMinutes, "90th percentile minutes from packed to the handoff to a courier", LowerIsBetter},
	{MCourierTimeRerouteShare, UnitShare, "share of courier busy time spent on reroute trips", Neutral},
	{MCourierTimeReturnShare, UnitShare, "share of courier busy time spent on return trips", Neutral},
}

// Lookup returns the catalog entry for name.
func Lookup(name string) (MetricDef, bool) {
	for _, d := range Catalog {
		if d.Name == name {
			return d, true
		}
	}
	return MetricDef{}, false
}

// defOf returns the catalog entry for name, or a neutral definition for a
// metric outside the catalog (per-node metrics may use other names).
func defOf(name string) MetricDef {
	if d, ok := Lookup(name); ok {
		return d
	}
	return MetricDef{Name: name, Better: Neutral}
}

// Label is "name (unit)" for axis titles and table headers.
func (d MetricDef) Label() string {
	if d.Unit == "" {
		return d.Name
	}
	return d.Name + " (" + d.Unit + ")"
}

func isShare(d MetricDef) bool { return d.Unit == UnitShare || strings.HasSuffix(d.Name, "_rate") }
