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
	UnitKg       = "kg"
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
	MReady                   = "ready"
	MCollected               = "collected"
	MCollectedWithinSLA      = "collected_within_sla"
	MPickupSuccessRate       = "pickup_success_rate"
	MOnTimeReadyRate         = "on_time_ready_rate"
	MReroutes                = "reroutes"
	MReturns                 = "returns"
	MCancelled               = "cancelled"
	MRefunds                 = "refunds"
	MRefundAmount            = "refund_amount"
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

	// ttl: stage TTL alerts and escalations, the ready-for-pickup TTL and
	// the expiry practice
	MStageTTLAlertsPicked    = "stage_ttl_alerts_picked"
	MStageTTLAlertsPacked    = "stage_ttl_alerts_packed"
	MStageTTLAlertsInTransit = "stage_ttl_alerts_in_transit"
	MTTLRedispatches         = "ttl_redispatches"
	MTTLDiversions           = "ttl_diversions"
	MReadyTTLExpired         = "ready_ttl_expired"
	MExpiryReminders         = "expiry_reminders"
	MExpiryExtensions        = "expiry_extensions"
)

// Pickup-point choice (issue 13, choice part).
const (
	MFirstChoiceUnavailableShare = "first_choice_unavailable_share"
	// replenishment (the replenish part of issue 12)
	MUnitsHeld       = "units_held"
	MHoldingCost     = "holding_cost"
	MSpaceCost       = "space_cost"
	MRestockTrips    = "restock_trips"
	MRestockCost     = "restock_cost"
	MForecastWAPE    = "forecast_wape"
	MUnitsRotatedOut = "units_rotated_out"
	MSKURotations    = "sku_rotations"
)

// Metric names of the supply side (branch supply, issue 12): where orders'
// units came from, the causes of stockouts, line haul and pickers.
const (
	MSameDayShare        = "same_day_share"
	MCacheHitRate        = "cache_hit_rate"
	MCentralShare        = "central_share"
	MStockoutsOutOfStock = "stockouts_out_of_stock"
	MStockoutsCentral    = "stockouts_central"
	MStockoutsCounter    = "stockouts_counter"
	MFallbackNextDay     = "sla_fallback_next_day"
	MFallbackMissed      = "sla_fallback_missed"
	MLineHaulCost        = "line_haul_cost"
	MLineHaulWaves       = "line_haul_waves"
	MPickerUtilization   = "picker_utilization"
	MPickQueueWaitP90Min = "pick_queue_wait_p90_min"
	MPickerCost          = "picker_cost"
	// cohort: the drain, censoring, courier waits and trips, dwell (issue 13)
	MCensored                = "censored"
	MCensoredShare           = "censored_share"
	MDrainHours              = "drain_hours"
	MCourierWaitMeanMin      = "courier_wait_mean_min"
	MCourierWaitP90Min       = "courier_wait_p90_min"
	MCourierTimeRerouteShare = "courier_time_reroute_share"
	MCourierTimeReturnShare  = "courier_time_return_share"
	// customer touch layer: pickup windows and rewards (issue 14)
	MRewardCost           = "reward_cost"
	MRewardsPaid          = "rewards_paid"
	MWindowedShare        = "windowed_share"
	MPickupInWindowShare  = "pickup_in_window_share"
	MWindowReadyLateShare = "window_ready_late_share"
	MWindowsFullShare     = "windows_full_share"
	MDropsRefused         = "drops_refused"
	MParcelDwellMeanMin   = "parcel_dwell_mean_min"
	// per-node metrics (in PerNode, not the catalog)
	MDwellMeanMin = "dwell_mean_min"
	MDwellP90Min  = "dwell_p90_min"
)

// The cost breakdown and lost revenue (issue 15, metrics part): every
// component of total_cost is a catalog metric; CostComponents lists them.
const (
	MCourierCost       = "courier_cost"
	MFixedCost         = "fixed_cost"
	MOrderHandlingCost = "order_handling_cost"
	MRerouteCost       = "reroute_cost"
	MReturnCost        = "return_cost"
	MLateRefundCost    = "late_refund_cost"
	MLostRevenue       = "lost_revenue"
	MCounterRevenue    = "counter_revenue"
	// per-node and per-microstore metrics (in PerNode, not the catalog):
	// a node's own (pickup node) and, on a microstore, those of the pickup
	// nodes it serves (the fulfilling node's view)
	MMicrostoreOrders    = "microstore_orders"
	MMicrostoreCollected = "microstore_collected"
	MMicrostoreCost      = "microstore_cost"
	MMicrostoreFCPO      = "microstore_fcpo"
	MMicrostoreRSMI      = "microstore_rsmi"
	MMicrostoreLostRev   = "microstore_lost_revenue"
)

// Metric names of reusable packaging (issue 14, boxes part).
const (
	MBoxReuseRate        = "box_reuse_rate"
	MBoxStockouts        = "box_stockouts"
	MBoxesLost           = "boxes_lost"
	MBoxCycleTimeMeanMin = "box_cycle_time_mean_min"
	MBoxesOutMean        = "boxes_out_mean"
	MPackagingCost       = "packaging_cost"
	MSingleUseAvoidedKg  = "single_use_waste_avoided_kg"
)

// Catalog is the ordered list of scalar metrics a replication reports. Tables,
// CSV and the report list metrics in this order; metrics a run did not measure
// are left out.
var Catalog = []MetricDef{
	{MOrders, UnitCount, "orders placed after warm-up", Neutral},
	{MReady, UnitCount, "orders made ready for pickup (in a locker slot or at a partner counter), collected or not", HigherIsBetter},
	{MCollected, UnitCount, "orders collected by their customer (verified pickup)", HigherIsBetter},
	{MCollectedWithinSLA, UnitCount, "orders collected within the SLA (ready by the deadline, collected within the pickup window)", HigherIsBetter},
	{MPickupSuccessRate, UnitShare, "share of orders collected within the SLA: collected_within_sla / orders", HigherIsBetter},
	{MOnTimeReadyRate, UnitShare, "share of orders ready for pickup by their SLA deadline (same day before the cutoff, next day after)", HigherIsBetter},
	{MReroutes, UnitCount, "reroutes (TTL expired, node full or offline, conflict lost)", LowerIsBetter},
	{MReturns, UnitCount, "parcels returned to sender (reroute hops exhausted, no node can take it, or an expired ready TTL with labels.expiry.action return)", LowerIsBetter},
	{MCancelled, UnitCount, "orders cancelled because stock could not be honoured", LowerIsBetter},
	{MRefunds, UnitCount, "refunds: late SLA, cancelled orders, parcels returned before they were ever ready", LowerIsBetter},
	{MRefundAmount, UnitCurrency, "money refunded: late_refund_cost + lost_revenue", LowerIsBetter},
	{MTotalCost, UnitCurrency, "fulfilment cost: the sum of the cost breakdown (couriers, nodes, handling, reroutes, returns, late refunds, restocks, holding, space, line haul, pickers); lost revenue excluded", LowerIsBetter},
	{MFCPO, UnitCurrency, "fulfilment cost per collected order: total_cost / collected, over the orders placed in the measured window", LowerIsBetter},
	{MPickupFrictionP50, UnitMinutes, "median minutes from ready notification to verified pickup", LowerIsBetter},
	{MPickupFrictionP90, UnitMinutes, "90th percentile minutes from ready notification to verified pickup", LowerIsBetter},
	{MRSMI, UnitPerM2Day, "revenue per m² of local inventory per day: collected orders' prices and counter sales over the cached floor area in use (m² × active days)", HigherIsBetter},
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
	// ttl
	{MStageTTLAlertsPicked, UnitCount, "stage TTL alerts: parcels not packed within labels.ttl.picked", LowerIsBetter},
	{MStageTTLAlertsPacked, UnitCount, "stage TTL alerts: parcels not handed to a courier within labels.ttl.packed", LowerIsBetter},
	{MStageTTLAlertsInTransit, UnitCount, "stage TTL alerts: parcels not delivered within labels.ttl.in_transit of the handoff", LowerIsBetter},
	{MTTLRedispatches, UnitCount, "stage TTL redispatches (picked: packed at once; packed: first for a courier)", Neutral},
	{MTTLDiversions, UnitCount, "in-transit TTL reroutes: couriers diverted to the nearest partner with space (also counted in reroutes)", Neutral},
	{MReadyTTLExpired, UnitCount, "ready-for-pickup TTLs that expired before pickup (then rerouted or returned)", LowerIsBetter},
	{MExpiryReminders, UnitCount, "expiry reminders sent to customers", Neutral},
	{MExpiryExtensions, UnitCount, "ready-for-pickup TTL extensions granted", Neutral},
	// pickup-point choice (issue 13, choice part)
	{MFirstChoiceUnavailableShare, UnitShare, "share of orders whose customer's first-choice pickup node had no room at checkout (capacity-aware checkout)", LowerIsBetter},
	// replenishment (the replenish part of issue 12)
	{MUnitsHeld, UnitUnits, "caches: mean units on the shelves over the measured period", Neutral},
	{MHoldingCost, UnitCurrency, "caches: cost of holding stock (unit-days × costs.holding_per_unit_day)", LowerIsBetter},
	{MSpaceCost, UnitCurrency, "caches: cost of the caches' floor space (m²-days × costs.space_per_m2_day)", LowerIsBetter},
	{MRestockTrips, UnitCount, "caches: restock vehicle round trips (one per node and night with a delivery)", LowerIsBetter},
	{MRestockCost, UnitCurrency, "caches: cost of the restock trips", LowerIsBetter},
	{MForecastWAPE, UnitShare, "caches: WAPE of the heatmap's next-day forecast against realised demand (Σ|F−A| / ΣA over nights and SKUs)", LowerIsBetter},
	{MUnitsRotatedOut, UnitUnits, "caches: units taken back because their SKU rotated out of a cache", LowerIsBetter},
	{MSKURotations, UnitCount, "caches: SKUs rotated into a cache's assortment", Neutral},
	// supply side (branch supply)
	{MSameDayShare, UnitShare, "share of orders promised same-day: placed before the cutoff and not moved to the next day by sla.fallback", HigherIsBetter},
	{MCacheHitRate, UnitShare, "share of orders whose unit was reserved in the fulfilling node's cache", Neutral},
	{MCentralShare, UnitShare, "share of orders whose unit came from the central depot by line haul", Neutral},
	{MStockoutsOutOfStock, UnitCount, "orders cancelled for lack of stock of a SKU the fulfilling node caches (its cache and the depot empty)", LowerIsBetter},
	{MStockoutsCentral, UnitCount, "orders cancelled for lack of stock of a SKU the fulfilling node does not cache (the depot empty)", LowerIsBetter},
	{MStockoutsCounter, UnitCount, "walk-in counter sales that found the shelf empty", LowerIsBetter},
	{MFallbackNextDay, UnitCount, "same-day orders promised for the next day because their wave arrives too late (sla.fallback next_day)", LowerIsBetter},
	{MFallbackMissed, UnitCount, "same-day orders kept same-day though their wave arrives too late (sla.fallback miss)", LowerIsBetter},
	{MLineHaulCost, UnitCurrency, "line-haul cost: per parcel and per wave departure carrying a parcel", LowerIsBetter},
	{MLineHaulWaves, UnitCount, "wave departures that carried at least one parcel", Neutral},
	{MPickerUtilization, UnitShare, "busy picker-time over staffed picker-time", Neutral},
	{MPickQueueWaitP90Min, UnitMinutes, "90th percentile minutes an order waited for a free picker", LowerIsBetter},
	{MPickerCost, UnitCurrency, "pickers: picker-hours on shift times fulfilment.staff.cost_per_hour", LowerIsBetter},
	// cohort (issue 13)
	{MCensored, UnitCount, "orders of the cohort still unfinished when the drain stopped (cap reached): neither collected, returned nor cancelled", Neutral},
	{MCensoredShare, UnitShare, "censored orders over the cohort's orders", Neutral},
	{MDrainHours, UnitHours, "hours the run went on after the horizon until the cohort finished (or the drain cap)", Neutral},
	{MCourierWaitMeanMin, UnitMinutes, "mean minutes from packed to the handoff to a courier", LowerIsBetter},
	{MCourierWaitP90Min, UnitMinutes, "90th percentile minutes from packed to the handoff to a courier", LowerIsBetter},
	{MCourierTimeRerouteShare, UnitShare, "share of courier busy time spent on reroute trips", Neutral},
	{MCourierTimeReturnShare, UnitShare, "share of courier busy time spent on return trips", Neutral},
	// operators (issue 14, operator.go)
	{MBonusCost, UnitCurrency, "operator bonuses: operators.bonus.per_collected per parcel collected in periods whose Kaplan–Meier median pickup friction beat the target (in total_cost)", LowerIsBetter},
	// customer touch layer (issue 14; reported for scenarios with a touch section)
	{MRewardCost, UnitCurrency, "touch layer: credits paid to customers (quick pickup, kept off-peak window); part of total_cost", LowerIsBetter},
	{MRewardsPaid, UnitCount, "touch layer: rewards credited (a pickup earning both counts twice)", Neutral},
	{MWindowedShare, UnitShare, "touch layer: share of orders placed with a pickup window", Neutral},
	{MPickupInWindowShare, UnitShare, "touch layer: share of windowed pickups made inside the chosen window", HigherIsBetter},
	{MWindowReadyLateShare, UnitShare, "touch layer: share of windowed orders first ready after their window opened", LowerIsBetter},
	{MWindowsFullShare, UnitShare, "touch layer: share of orders whose node had windows in range but every one booked up", LowerIsBetter},
	{MDropsRefused, UnitCount, "touch layer: parcel drops refused by pickup nodes (full, closed, inactive, offline) in the measured window", LowerIsBetter},
	{MParcelDwellMeanMin, UnitMinutes, "touch layer: mean minutes a parcel of the cohort was held at a pickup node, over all nodes", Neutral},
	// cost breakdown and lost revenue (issue 15, metrics part)
	{MCourierCost, UnitCurrency, "couriers: fleet × shift hours in the window × couriers.cost_per_hour", LowerIsBetter},
	{MFixedCost, UnitCurrency, "nodes' fixed costs: fixed_cost_per_day × days each node is active in the window", LowerIsBetter},
	{MOrderHandlingCost, UnitCurrency, "per-order handling: orders × costs.per_order", LowerIsBetter},
	{MRerouteCost, UnitCurrency, "reroutes and in-transit diversions: their per-reroute cost", LowerIsBetter},
	{MReturnCost, UnitCurrency, "returns: returns × costs.per_return", LowerIsBetter},
	{MLateRefundCost, UnitCurrency, "late-SLA refunds of orders collected anyway (or still unfinished when the run stopped): a fulfilment cost", LowerIsBetter},
	{MLostRevenue, UnitCurrency, "refunds of orders that never reached their customer (cancelled, returned; their late refunds too): lost revenue, not in total_cost", LowerIsBetter},
	{MCounterRevenue, UnitCurrency, "walk-in counter sales at cache nodes in the window (part of rsmi's revenue)", HigherIsBetter},
	// reusable packaging (issue 14, boxes part)
	{MBoxReuseRate, UnitShare, "packaging: share of the cohort's packed parcels packed in a reusable box", HigherIsBetter},
	{MBoxStockouts, UnitCount, "packaging: parcels of a reusable template packed single-use because their microstore's pool was empty", LowerIsBetter},
	{MBoxesLost, UnitCount, "packaging: reusable boxes that left the loop after the warm-up (kept by customers, refused by a full node, lost, damaged)", LowerIsBetter},
	{MBoxCycleTimeMeanMin, UnitMinutes, "packaging: mean minutes from a box leaving its pool to being back in a pool or leaving the loop", LowerIsBetter},
	{MBoxesOutMean, UnitCount, "packaging: time-mean number of reusable boxes out of their pools (with parcels, customers, at nodes, on couriers)", Neutral},
	{MPackagingCost, UnitCurrency, "packaging: single-use packaging, reusable uses, washes and boxes written off", LowerIsBetter},
	{MSingleUseAvoidedKg, UnitKg, "packaging: mass of single-use packaging the reusable uses replaced", HigherIsBetter},
}

// CostComponents are the catalog metrics that sum to total_cost, in the
// order of the cost breakdown (tables, report). A component a run does not
// have (no cache, no supply tier, no staff) is 0.
//
// A new cost joins here: one catalog metric appended to this list, filled
// from its sim.CostBreakdown field in experiment.Replication (as
// bonus_cost, reward_cost and packaging_cost are).
var CostComponents = []string{
	MCourierCost, MFixedCost, MOrderHandlingCost, MRerouteCost, MReturnCost, MLateRefundCost,
	MRestockCost, MHoldingCost, MSpaceCost, MLineHaulCost, MPickerCost, MBonusCost, MRewardCost, MPackagingCost,
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
