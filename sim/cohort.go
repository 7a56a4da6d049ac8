package sim

import "github.com/lockstep-sim/lockstep/model"

// Cohort metrics with a drain.
//
// The measured cohort is the orders placed in [warm-up end, horizon). At the
// horizon the world snapshots everything measured over time (courier and
// locker time, node arrivals, inventory), then, if Config.Drain > 0 and some
// measured order has not finished, it runs on with no new orders and no
// counter trade (couriers, customers, timers, connectivity and
// replenishment go on) until every measured order has finished (picked up,
// returned or cancelled) or the drain cap is reached. Orders still
// unfinished then are censored: counted in Result.Censored, never dropped.
//
// Which numbers cover what (docs/results.md says it for each metric):
//   - the cohort's own outcomes and variable costs (orders, pickups, SLA,
//     reroutes, returns, refunds, per-order and per-return costs, revenue,
//     pickup friction, courier wait, dwell) whenever they happen;
//   - time-based quantities (courier and node fixed costs, courier
//     utilisation, occupancies, node arrivals, inventory counters) over the
//     window [warm-up end, horizon) only. In steady state the drain's courier
//     work for the cohort's last orders equals the work done in the window for
//     the orders placed before it, so a design is charged one window of
//     couriers and nodes, whatever the drain cap.

// cohort is the world's bookkeeping for the measured window and the drain.
type cohort struct {
	horizon  model.Instant // end of the order window
	draining bool
	// snapshots at the horizon
	nodes       []model.NodeState // with OccupiedTime at the horizon
	inv         []InventoryResult
	lagP90      float64
	busy, occ   int64
	inFlight    int
	courierWait model.Histogram // minutes from packed to courier handoff (measured)
	dwell       []dwell         // per node
}

// dwell accumulates the time parcels spend held at one node, from ready for
// pickup to picked up or taken away, in dwellBin bins up to dwellBins.
type dwell struct {
	n    uint64
	sum  float64 // minutes
	bins binCounts
}

const (
	dwellBin  = 5.0 // minutes
	dwellBins = 7 * 24 * 60 / 5
)

func (d *dwell) add(min float64) {
	b := int(min / dwellBin)
	if b > dwellBins {
		b = dwellBins
	}
	d.bins.inc(b)
	d.n++
	d.sum += min
}

// quantile is the q-quantile in minutes, interpolated within its bin (the
// last bin holds everything from 7 days on and reads as 7 days).
func (d *dwell) quantile(q float64) float64 {
	if d.n == 0 {
		return 0
	}
	target := q * float64(d.n)
	var acc float64
	for i := 0; i <= dwellBins; i++ {
		c := d.bins.get(i)
		if c == 0 {
			continue
		}
		if acc+float64(c) >= target {
			if i == dwellBins {
				return dwellBin * dwellBins
			}
			return dwellBin * (float64(i) + (target-acc)/float64(c))
		}
		acc += float64(c)
	}
	return dwellBin * dwellBins
}

func (d *dwell) mean() float64 {
	if d.n == 0 {
		return 0
	}
	return d.sum / float64(d.n)
}

func (w *world) cohortInit() {
	w.co.horizon = w.cfg.Start.Add(w.cfg.Horizon)
	w.co.dwell = make([]dwell, len(w.net.Nodes))
}

// scheduleShifts schedules the courier shift openings within [from, to).
func (w *world) scheduleShifts(from, to model.Instant) {
	for d := model.DayStart(from); d < to; d += model.Instant(model.Day) {
		for _, s := range w.cfg.Couriers.Shift {
			if at := d + model.Instant(s.From); at >= from && at < to {
				w.k.Schedule(at, kShift, 0, 0, 0)
			}
		}
	}
}

// cohortState records the courier wait (packed → in transit from the
// fulfilling node) and the dwell at a node (ready for pickup → anything
// else) of measured labels.
func (w *world) cohortState(e *model.Effect) {
	wl := &w.labs[e.Slab]
	switch {
	case e.State == model.Packed, e.State == model.ReadyForPickup:
		wl.mark = e.At
	case e.Prev == model.Packed && e.State == model.InTransit:
		if wl.measured {
			w.co.courierWait.Add(e.At.Sub(wl.mark).Minutes())
		}
	}
	if e.Prev == model.ReadyForPickup && e.State != model.ReadyForPickup && wl.measured {
		w.logHist(histOp{kind: histDwell, idx: int32(e.Node), v: e.At.Sub(wl.mark).Minutes()}) // histlog.go
		w.opEnd(e.Node, wl.mark, e.At, e.State == model.PickedUp)
	}
}

// open is the number of measured orders not finished yet.
func (w *world) open() uint64 {
	s := &w.core.Stats
	return s.Orders - s.PickedUp - s.Returned - s.Cancelled
}

// measuredLive counts the measured labels the core holds in a state that is
// not terminal (counted label by label, independently of the core's outcome
// counters, so Result.Conserved checks one against the other).
func (w *world) measuredLive() int {
	n := 0
	w.core.EachLabel(func(l *model.Label) {
		if l.Measured && !l.State.Terminal() {
			n++
		}
	})
	return n
}

// atHorizon snapshots what the window measures; the kernel's clock is at
// the horizon.
func (w *world) atHorizon() {
	now := w.k.Now
	co := &w.co
	w.setBusy(0)
	co.busy = w.busyInt
	co.occ = w.lockerOcc(now)
	if w.pk != nil {
		w.pk.outEnd = w.core.BoxesOutTime(now)
	}
	co.nodes = make([]model.NodeState, len(w.net.Nodes))
	for i := range co.nodes {
		co.nodes[i] = w.core.Node(model.NodeIndex(i))
		co.nodes[i].OccupiedTime = w.core.OccupiedTime(model.NodeIndex(i), now)
	}
	if w.edge.on {
		co.inv = make([]InventoryResult, len(w.net.Nodes))
		for i := range co.inv {
			is := w.core.Inventory(model.NodeIndex(i), now).Stats
			co.inv[i] = InventoryResult{DriftIntegral: float64(is.DriftTime) / float64(model.Hour), DriftMax: float64(is.DriftMax),
				Conflicts: is.Conflicts, Oversells: is.Oversells, Stockouts: is.Stockouts + is.CounterStockouts,
				CounterSales: is.CounterSales, OfflinePickups: is.OfflinePickups, OfflinePickupsFailed: is.OfflinePickupsFailed,
				OfflinePickupsDelayed: is.OfflinePickupsDelayed, Reconciliations: is.Reconciliations}
		}
		co.lagP90 = w.core.Stats.ReconcileLag.Quantile(0.9)
	}
	co.inFlight = w.measuredLive()
}

// drain runs the world on past the horizon, without new orders, until the
// cohort has finished or the drain cap is reached. It returns the events
// scheduled in the past during the drain (a bug in the world model).
func (w *world) drain() uint64 {
	k := w.k
	w.atHorizon()
	if w.cfg.Drain <= 0 || w.open() == 0 {
		return 0
	}
	w.co.draining = true
	// only the labels in flight are left: the queue and the core need not
	// make room for more (memory only, nothing they compute changes)
	k.q.KeepArrays()
	w.core.Draining()
	end := k.Horizon.Add(w.cfg.Drain)
	w.scheduleShifts(k.Horizon, end)
	k.Horizon = end
	k.Stop = func() bool { return w.open() == 0 }
	rs := k.Run(w)
	k.Stop = nil
	return rs.Clamped
}

// cohortResult fills the cohort's own results (after the drain).
func (w *world) cohortResult() {
	r := w.res
	co := &w.co
	r.InFlight = co.inFlight
	r.Censored = w.measuredLive()
	r.DrainEnd = w.k.Now
	if r.DrainEnd < r.End {
		r.DrainEnd = r.End
	}
	if r.DrainEnd > r.End {
		r.Trace.add(r.DrainEnd, r.Start) // the trace runs to the hour the drain ended in
	}
	r.CourierWait = co.courierWait
	for i := range r.Nodes {
		d := &co.dwell[i]
		r.Nodes[i].Dwelled = d.n
		r.Nodes[i].DwellMean = d.mean()
		r.Nodes[i].DwellP90 = d.quantile(0.9)
	}
	if busy := float64(co.busy - w.busyWarm); busy > 0 {
		r.CourierRerouteShare = float64(w.tr.busyReroute) / busy
		r.CourierReturnShare = float64(w.tr.busyReturn) / busy
	}
}
