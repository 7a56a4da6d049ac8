package sim

import (
	"fmt"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// Result is what one replication of a scenario produced. Outcome counts and
// variable costs cover the cohort of orders placed in [WarmupEnd, End)
// (measured labels), followed through the drain to DrainEnd; time-based
// quantities (courier and fixed costs, utilisation, occupancy, node
// arrivals, inventory) cover the window [WarmupEnd, End) (see cohort.go).
// The trace covers the whole run, drain included, so the warm-up can be
// chosen from it.
type Result struct {
	Name        string
	Replication int
	Seed        uint64
	Start       model.Instant
	WarmupEnd   model.Instant
	End         model.Instant // the horizon: end of the order window
	DrainEnd    model.Instant // when the run stopped (End when there was no drain)

	KernelEvents uint64
	// Parcels counts every order simulated, warm-up included.
	Parcels  uint64
	Stats    model.Stats // the core's counters (outcomes: measured labels)
	InFlight int         // measured labels not in a terminal state at the horizon
	// Censored counts measured labels still not finished when the run
	// stopped (the drain cap reached, or no drain).
	Censored int
	Unserved uint64 // orders with no pickup node to go to
	// FirstChoiceUnavailable counts measured orders whose customer's first
	// choice of pickup node had no room (capacity-aware checkout, choice.go).
	FirstChoiceUnavailable uint64
	// MissedPickups counts customers who came for a parcel that had moved on.
	MissedPickups uint64

	// Revenue is the price of the measured orders collected by their
	// customers; CounterRevenue the walk-in counter sales in the window.
	Revenue float64
	Costs   CostBreakdown
	// LostRevenue is the money refunded for measured orders that never
	// reached their customer (cancelled or returned): not a fulfilment
	// cost, so not in Costs (metrics.go).
	LostRevenue    float64
	CounterRevenue float64
	// M2Days is the cached floor area in use (m² × active days in the
	// window, nodes with a cache); RSMI = (Revenue + CounterRevenue) / M2Days.
	M2Days, RSMI float64
	// Microstores and Hoods are the results by fulfilling microstore and by
	// neighborhood (metrics.go).
	Microstores []MicrostoreResult
	Hoods       []HoodResult
	// CourierUtilization is courier time on trips over courier time on shift.
	CourierUtilization float64
	// LockerOccupancy is the mean share of locker slots occupied.
	LockerOccupancy float64
	// CourierRerouteShare and CourierReturnShare are the shares of courier
	// busy time spent on reroute and on return trips (trips ending in the
	// window).
	CourierRerouteShare, CourierReturnShare float64
	// CourierWait is the distribution of minutes from packed to the handoff
	// to a courier, over the cohort.
	CourierWait model.Histogram

	// Inventory sums the cache-first counters over the nodes (Edge: the run
	// had caches, counter trade or connectivity drops at all).
	Edge      bool
	Inventory InventoryResult
	Replenish ReplenishResult
	// InventoryError is the first stock invariant broken at the horizon
	// (conservation, negative stock); empty when all hold.
	InventoryError string
	// Supply is the run's supply side: orders by source, line haul, pickers.
	Supply SupplyResult
	// Packaging is the run's reusable packaging (nil: no packaging section;
	// packaging.go).
	Packaging *PackagingResult

	// Touch is the touch layer's checkout counts (nil: off).
	Touch *TouchResult

	Nodes        []NodeResult
	Daily        []DayResult
	Trace        Trace
	DemandByCell map[model.Cell]uint64

	// Pickup is each node's pickup friction and success (indexed like
	// Nodes), Operators each operator's, sorted by name (operator.go).
	Pickup    []PickupResult
	Operators []OperatorResult
}

// CostBreakdown is what the measured period cost the operator, by cause:
// couriers (paid per shift hour), node fixed costs, per-order handling,
// reroutes, returns, late refunds, restocks, holding, space, line haul and
// pickers; Total is their sum, FCPO's numerator. (Costs, in Config, are the
// per-event prices some of them are computed from.) LateRefunds are the
// late-SLA refunds of orders the customer collected anyway (and of orders
// still unfinished when the run stopped); refunds of orders that never
// reached the customer are Result.LostRevenue, not a cost.
//
// Packaging, rewards and operator bonuses plug in here: one field each,
// added into Total in finish (result.go) and listed in
// results.CostComponents.
type CostBreakdown struct {
	Couriers, Fixed, Orders, Reroutes, Returns, LateRefunds, Total float64
	// Restock trips, holding stock and the caches' floor space (replenish.go).
	Restock, Holding, Space float64
	// LineHaul: the central supply tier's waves and parcels; Pickers: the
	// pickers' hours on shift (fulfilment.staff).
	LineHaul, Pickers float64
	// Bonuses: operator bonuses paid under the bonus rule (operator.go).
	Bonuses float64
	// Rewards: the touch layer's credits to customers (touch.go).
	Rewards float64
	// Packaging: single-use packaging, reusable uses, washes and boxes
	// written off (packaging.go; 0 without a packaging section).
	Packaging float64
}

// NodeResult is one node's share of a replication.
type NodeResult struct {
	ID       string
	Kind     model.NodeKind
	Lat, Lng float64
	Orders   uint64 // orders whose customer chose this node
	Arrivals uint64 // parcels brought to it
	Refused  uint64 // parcels it refused (full, closed, offline)
	// Reroutes and Returns count the cohort's parcels rerouted away from
	// the node (refused on arrival, ready TTL expired, in-transit diversion)
	// and returned from it.
	Reroutes, Returns uint64
	Entered           uint64 // parcels it took
	PickedUp          uint64
	Occupancy         float64 // mean parcels held
	Cost              float64 // fixed cost plus the variable costs attributed to it
	FCPO              float64 // Cost / PickedUp (0 when nothing was collected)
	// PickedUp counts the orders collected here by their customer.
	// Revenue: collected orders' prices and counter sales here;
	// CounterRevenue the counter sales alone; M2Days its cached floor area
	// in use (m² × active days, 0 without a cache); RSMI = Revenue / M2Days.
	Revenue, CounterRevenue, M2Days, RSMI float64
	// LostRevenue: refunds of orders headed here that never reached the
	// customer.
	LostRevenue float64
	// Dwelled counts the cohort's parcels that left the node after being
	// held there (ready for pickup → picked up, rerouted or returned);
	// DwellMean and DwellP90 are the minutes they were held.
	Dwelled             uint64
	DwellMean, DwellP90 float64
	Inventory           InventoryResult
	Replenish           ReplenishResult
	// Supply: this node's orders by source and, as a fulfilling node, its
	// pickers.
	Supply SupplyResult
}

// InventoryResult holds the cache-first measures of a node or of the run
// (measured period). For the run, DriftMax is the largest of any node.
type InventoryResult struct {
	DriftIntegral         float64 // |central - actual| shelf stock, unit-hours
	DriftMax              float64 // units
	Conflicts             uint64
	Oversells             uint64
	Stockouts             uint64 // online orders and counter sales without stock
	CounterSales          uint64
	OfflinePickups        uint64 // verified locally while offline
	OfflinePickupsFailed  uint64 // turned away by a refusing offline node
	OfflinePickupsDelayed uint64 // collected after being turned away
	Reconciliations       uint64
	ReconcileLagP90       float64 // minutes
}

func (a *InventoryResult) add(b InventoryResult) {
	a.DriftIntegral += b.DriftIntegral
	a.DriftMax = max(a.DriftMax, b.DriftMax)
	a.Conflicts += b.Conflicts
	a.Oversells += b.Oversells
	a.Stockouts += b.Stockouts
	a.CounterSales += b.CounterSales
	a.OfflinePickups += b.OfflinePickups
	a.OfflinePickupsFailed += b.OfflinePickupsFailed
	a.OfflinePickupsDelayed += b.OfflinePickupsDelayed
	a.Reconciliations += b.Reconciliations
}

// DayResult is one simulated day (orders placed that day, measured only).
type DayResult struct {
	Day               int
	Orders            uint64
	PickedUpWithinSLA uint64
}

// HourResult is one simulated hour of the trace.
type HourResult struct {
	Hour               int
	Orders             uint64
	Ready              uint64
	PickedUp           uint64
	Occupancy          float64 // locker slot occupancy share, mean over the hour
	CourierUtilization float64 // share of the fleet on trips, mean over the hour
	Drift              float64
}

// Trace is the hourly time series of a run.
type Trace []HourResult

func (t *Trace) add(at, start model.Instant) *HourResult {
	h := int(at.Sub(start) / model.Hour)
	if h < 0 {
		h = 0
	}
	for len(*t) <= h {
		*t = append(*t, HourResult{Hour: len(*t)})
	}
	return &(*t)[h]
}

func (t *Trace) addOrder(at, start model.Instant) { t.add(at, start).Orders++ }

func (r *Result) day(d int) *DayResult {
	for len(r.Daily) <= d {
		r.Daily = append(r.Daily, DayResult{Day: len(r.Daily)})
	}
	return &r.Daily[d]
}

// Run simulates one replication of cfg. Replications are independent: each
// draws from streams derived from (cfg.Seed, replication, stream name).
func Run(cfg *Config, replication int) (*Result, error) {
	return RunObserved(cfg, replication, nil)
}

// Observer sees every event the world hands the core, with the effects the
// core returned, in order (hwsim turns them into hardware messages). The
// effects slice is only valid during the call; the core may be queried but
// not stepped.
type Observer interface {
	Observe(core *model.Core, ev model.Event, effs []model.Effect)
}

// RunObserved is Run with an observer (nil: none).
func RunObserved(cfg *Config, replication int, obs Observer) (*Result, error) {
	return RunDaily(cfg, replication, obs, nil)
}

// RunDaily is RunObserved that also calls onDay (nil: never) once per
// simulated day: onDay(d) when d days have passed since the start, d = 1 ..
// cfg.Days() in order (a last partial day when the run ends), on the calling
// goroutine. The hourly tick calls it, not the event loop, so it costs
// nothing per event; the result is the same with or without it.
func RunDaily(cfg *Config, replication int, obs Observer, onDay func(day int)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := newWorld(cfg, replication)
	w.obs = obs
	w.onDay = onDay
	w.res = &Result{Name: cfg.Name, Replication: replication, Seed: cfg.Seed, Start: cfg.Start,
		WarmupEnd: cfg.Start.Add(cfg.Warmup), End: cfg.Start.Add(cfg.Horizon), DemandByCell: map[model.Cell]uint64{}}
	w.start()
	rs := w.k.Run(w)
	if clamped := rs.Clamped + w.drain(); clamped > 0 {
		return nil, fmt.Errorf("simulate %q: %d events scheduled in the past (a bug in the world model)", cfg.Name, clamped)
	}
	w.finish()
	w.lastDays()
	return w.res, nil
}

func (w *world) finish() {
	w.flushHists() // histlog.go
	r := w.res
	end := r.End
	r.KernelEvents = w.k.Events()
	r.Parcels = uint64(w.next - 1)
	for hi := range w.hoods {
		for _, c := range w.hoods[hi].cells {
			if c.orders > 0 {
				r.DemandByCell[c.cell] += c.orders
			}
		}
	}
	co := &w.co
	if w.warm == nil { // no warm-up: snapshot at start is all zeros
		w.warm = make([]model.NodeState, len(w.net.Nodes))
	}
	window := float64(end - r.WarmupEnd)
	if w.lockerSlots > 0 {
		r.LockerOccupancy = float64(co.occ-w.occWarm) / float64(w.lockerSlots) / window
	}
	onShift := w.shiftTime(r.WarmupEnd, end) * float64(len(w.cour))
	if onShift > 0 {
		r.CourierUtilization = float64(co.busy-w.busyWarm) / onShift
	}
	st := w.core.Stats
	r.Stats = st
	r.Costs.Couriers = onShift / float64(model.Hour) * w.cfg.Couriers.CostPerHour
	r.Costs.Orders = float64(st.Orders) * w.cfg.Costs.PerOrder
	r.Costs.Reroutes = st.RerouteCost
	r.Costs.Rewards = st.Touch.RewardCost
	var entered uint64
	r.Nodes = make([]NodeResult, len(w.net.Nodes))
	for i := range w.net.Nodes {
		nd := &w.net.Nodes[i]
		ns := co.nodes[i]
		wn := w.warm[i]
		a := &w.accs[i]
		nr := NodeResult{ID: nd.ID, Kind: nd.Kind, Lat: nd.Lat, Lng: nd.Lng, Orders: a.orders, PickedUp: a.pickedUp,
			Reroutes: a.reroutes, Returns: a.returns,
			Arrivals: ns.Arrivals - wn.Arrivals, Refused: ns.Refused - wn.Refused, Entered: ns.Entered - wn.Entered}
		nr.Occupancy = float64(ns.OccupiedTime-wn.OccupiedTime) / window
		fixed := nd.FixedCostPerDay * w.activeDays(nd, r.WarmupEnd, end)
		r.Costs.Fixed += fixed
		nr.Cost = fixed + a.cost
		entered += nr.Arrivals
		if w.edge.on {
			nr.Inventory = co.inv[i]
			r.Inventory.add(nr.Inventory)
			w.replenishResult(i, &nr, end)
		}
		r.Nodes[i] = nr
	}
	w.supplyFinish()
	w.metricsRefunds()
	w.operatorsFinish()
	// courier cost is attributed to nodes by the parcels brought to them
	for i := range r.Nodes {
		if entered > 0 {
			r.Nodes[i].Cost += r.Costs.Couriers * float64(r.Nodes[i].Arrivals) / float64(entered)
		}
		if r.Nodes[i].PickedUp > 0 {
			r.Nodes[i].FCPO = r.Nodes[i].Cost / float64(r.Nodes[i].PickedUp)
		}
	}
	if w.edge.on {
		r.Edge = true
		r.Inventory.ReconcileLagP90 = co.lagP90
		if err := w.core.CheckInventory(); err != nil {
			r.InventoryError = err.Error()
		}
	}
	if err := w.core.CheckDepot(); err != nil && r.InventoryError == "" {
		r.InventoryError = err.Error()
	}
	w.packagingResult()
	r.Costs.Total = r.Costs.Couriers + r.Costs.Fixed + r.Costs.Orders + r.Costs.Reroutes + r.Costs.Returns + r.Costs.LateRefunds +
		r.Costs.Restock + r.Costs.Holding + r.Costs.Space + r.Costs.LineHaul + r.Costs.Pickers +
		r.Costs.Bonuses + r.Costs.Rewards + r.Costs.Packaging
	w.metricsResults()
	w.cohortResult()
	w.touchResult()
	// daily rows for every day of the horizon, trace to the horizon
	nd := int((end - r.Start + model.Instant(model.Day) - 1) / model.Instant(model.Day))
	if nd > 0 {
		r.day(nd - 1)
	}
	if h := int(end.Sub(r.Start) / model.Hour); h > 0 {
		r.Trace.add(end-1, r.Start)
	}
}

// shiftTime is the time within [from, to) that the courier shift is open.
func (w *world) shiftTime(from, to model.Instant) float64 {
	var s float64
	for d := model.DayStart(from); d < to; d += model.Instant(model.Day) {
		spans := w.cfg.Couriers.Shift
		if len(spans) == 0 {
			spans = model.Hours{{From: 0, To: model.Day}}
		}
		for _, sp := range spans {
			a, b := d+model.Instant(sp.From), d+model.Instant(sp.To)
			a, b = max(a, from), min(b, to)
			if b > a {
				s += float64(b - a)
			}
		}
	}
	return s
}

// activeDays is the number of days within [from, to) the node exists.
func (w *world) activeDays(nd *model.Node, from, to model.Instant) float64 {
	if nd.ActiveFrom != 0 || nd.ActiveUntil != 0 {
		from, to = max(from, nd.ActiveFrom), min(to, nd.ActiveUntil)
	}
	if to <= from {
		return 0
	}
	return float64(to-from) / float64(model.Day)
}

// Conserved checks that every measured order ended in exactly one of picked
// up, returned, cancelled, or is censored (unfinished when the run stopped),
// that every cache kept
// its stock invariants (conservation per SKU and node, no negative stock),
// and that every refund was booked once, as late-refund cost or lost revenue.
func (r *Result) Conserved() error {
	if r.InventoryError != "" {
		return fmt.Errorf("replication %d: inventory: %s", r.Replication, r.InventoryError)
	}
	s := r.Stats
	if got := s.PickedUp + s.Returned + s.Cancelled + uint64(r.Censored); got != s.Orders {
		return fmt.Errorf("replication %d: %d orders but %d picked up + %d returned + %d cancelled + %d censored = %d",
			r.Replication, s.Orders, s.PickedUp, s.Returned, s.Cancelled, r.Censored, got)
	}
	return r.refundsBooked() // metrics.go
}

// Cells returns the demand cells in a stable order.
func (r *Result) Cells() []model.Cell {
	cs := make([]model.Cell, 0, len(r.DemandByCell))
	for c := range r.DemandByCell {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	return cs
}
