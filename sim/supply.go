package sim

import (
	"fmt"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// Event kinds of the supply side (numbered apart from world.go's block).
const (
	kArrive Kind = 40 + iota // A: label whose central unit reached its fulfilling node
	kStaff                   // A: base whose picker count may change now
)

// Staff is the pickers of the fulfilling nodes. A picker picks and packs one
// order at a time; orders wait for a free picker in FIFO order, and nobody
// picks while the node is closed.
type Staff struct {
	// Default is the number of pickers on shift at every fulfilling node
	// (each microstore, or the hub) during its opening hours (the hub: all
	// day).
	Default int
	// Nodes overrides the default per node (indexed like Network.Nodes; nil
	// or a nil entry: the default): the node's shifts, each a daily span with
	// its picker count (overlapping shifts add up), still only while open.
	Nodes [][]StaffShift
	// CostPerHour is paid per picker-hour on shift (CostBreakdown.Pickers).
	CostPerHour float64
}

// StaffShift is a daily span with a number of pickers on shift.
type StaffShift struct {
	Span    model.Span
	Pickers int
}

// SupplyCosts are the line-haul prices of the central supply tier.
type SupplyCosts struct {
	// PerParcel is paid for every parcel a wave carries; PerWave once for
	// every wave departure that carries at least one (measured) parcel.
	PerParcel, PerWave float64
}

// SupplyResult is the supply side of a replication, or of one fulfilling
// node (measured orders only).
type SupplyResult struct {
	// Orders fulfilled here, by source (they sum to Orders).
	Orders uint64
	model.SupplyStats
	// CounterStockouts: walk-in counter sales that found no stock.
	CounterStockouts uint64
	// LineHaulParcels and Waves: parcels carried, wave departures paid for
	// (run only).
	LineHaulParcels, Waves uint64
	// Staffed: the run had finite pickers. StaffedTime and BusyTime are
	// picker-milliseconds on shift and picking in the measured window;
	// PickJobs and PickWait* describe the wait from "can be picked" (placed,
	// central unit arrived, node back online) to a picker starting.
	Staffed               bool
	StaffedTime, BusyTime float64
	PickJobs              uint64
	PickWaitMean          float64 // minutes
	PickWaitP90           float64 // minutes
}

// PickerUtilization is busy picker-time over staffed picker-time (0 when
// nobody was on shift). A pick started before a shift ends is finished, so
// it can exceed 1 slightly.
func (s *SupplyResult) PickerUtilization() float64 {
	if s.StaffedTime <= 0 {
		return 0
	}
	return s.BusyTime / s.StaffedTime
}

type pickJob struct {
	id int32
	at model.Instant
}

// pickers is one fulfilling node's (base's) picking crew and queue.
type pickers struct {
	shifts    []StaffShift // daily spans (empty: nobody)
	edges     []model.Duration
	queue     []pickJob
	head      int
	busy      int64
	busySince model.Instant
	busyInt   int64
	busyWarm  int64
	wait      model.Histogram
}

type supplyWorld struct {
	staffed   bool
	crews     []pickers       // per base
	holding   map[int32]int32 // label id -> base of the picker holding it
	lastWave  model.Instant   // last wave departure paid for
	waves     uint64
	parcels   uint64
	waveCost  float64
	centralTo []uint64 // per pickup node: measured central parcels
	allWait   model.Histogram
}

func (w *world) supplyInit() {
	s := &w.sup
	s.centralTo = make([]uint64, len(w.net.Nodes))
	st := w.cfg.Fulfilment.Staff
	if st == nil {
		return
	}
	s.staffed = true
	s.holding = map[int32]int32{}
	s.crews = make([]pickers, len(w.bases))
	for b := range w.bases {
		cr := &s.crews[b]
		n := w.bases[b].node
		var hours model.Hours
		if n != model.NoNode {
			hours = w.net.Nodes[n].Hours
			if int(n) < len(st.Nodes) && st.Nodes[n] != nil {
				cr.shifts = st.Nodes[n]
			}
		}
		if cr.shifts == nil && st.Default > 0 {
			if len(hours) == 0 {
				hours = model.Hours{{From: 0, To: model.Day}}
			}
			for _, h := range hours {
				cr.shifts = append(cr.shifts, StaffShift{Span: h, Pickers: st.Default})
			}
		}
		edges := []model.Duration{0}
		for _, sh := range cr.shifts {
			edges = append(edges, sh.Span.From, sh.Span.To)
		}
		for _, h := range hours {
			edges = append(edges, h.From, h.To)
		}
		sort.Slice(edges, func(i, j int) bool { return edges[i] < edges[j] })
		for _, e := range edges {
			if e >= 0 && e < model.Day && (len(cr.edges) == 0 || cr.edges[len(cr.edges)-1] != e) {
				cr.edges = append(cr.edges, e)
			}
		}
	}
}

// supplyStart schedules the first picker-count change of every base.
func (w *world) supplyStart() {
	for b := range w.sup.crews {
		w.scheduleStaff(int32(b))
	}
}

// scheduleStaff schedules base b's next picker-count change after now.
func (w *world) scheduleStaff(b int32) {
	cr := &w.sup.crews[b]
	now := w.k.Now
	tod := model.TimeOfDay(now)
	day := model.DayStart(now)
	for _, e := range cr.edges {
		if e > tod {
			w.k.Schedule(day+model.Instant(e), kStaff, b, 0, 0)
			return
		}
	}
	w.k.Schedule(day+model.Instant(model.Day)+model.Instant(cr.edges[0]), kStaff, b, 0, 0)
}

// pickersAt is the number of pickers on shift at base b at instant t.
func (w *world) pickersAt(b int, t model.Instant) int64 {
	if n := w.bases[b].node; n != model.NoNode {
		nd := &w.net.Nodes[n]
		if !nd.Hours.OpenAt(t) || !nd.ActiveAt(t) {
			return 0
		}
	}
	tod := model.TimeOfDay(t)
	var c int64
	for _, sh := range w.sup.crews[b].shifts {
		if tod >= sh.Span.From && tod < sh.Span.To {
			c += int64(sh.Pickers)
		}
	}
	return c
}

// staffedTime is base b's picker-time on shift within [from, to).
func (w *world) staffedTime(b int, from, to model.Instant) float64 {
	cr := &w.sup.crews[b]
	var s float64
	for d := model.DayStart(from); d < to; d += model.Instant(model.Day) {
		for k, e := range cr.edges {
			end := model.Day
			if k+1 < len(cr.edges) {
				end = cr.edges[k+1]
			}
			a, z := max(d+model.Instant(e), from), min(d+model.Instant(end), to)
			if z > a {
				s += float64(w.pickersAt(b, d+model.Instant(e))) * float64(z-a)
			}
		}
	}
	return s
}

func (cr *pickers) setBusy(now model.Instant, delta int64) {
	cr.busyInt += cr.busy * int64(now-cr.busySince)
	cr.busySince = now
	cr.busy += delta
}

// toPick sends label id to picking at its fulfilling node: a central order
// waits for its wave (kArrive); with finite staff it queues for a picker,
// otherwise the pick ends a drawn pick time from now (at once for a central
// unit, already picked at the depot, or for a resumed pick).
func (w *world) toPick(id int32, resumed bool) {
	if w.net.Supply == nil && !w.sup.staffed { // the model before the supply side
		var d model.Duration
		if !resumed {
			d = w.cfg.Fulfilment.PickTime.Sample(w.pick)
		}
		w.k.Schedule(w.k.Now.Add(d), kPicked, id, 0, 0)
		return
	}
	l := w.core.Label(model.LabelID(id))
	if l != nil && l.Stock == model.StockCentral && l.Arrive > w.k.Now {
		w.k.Schedule(l.Arrive, kArrive, id, 0, 0)
		return
	}
	if w.sup.staffed {
		if l != nil && l.State == model.Issued {
			b := w.baseIndex(l.From)
			cr := &w.sup.crews[b]
			cr.queue = append(cr.queue, pickJob{id, w.k.Now})
			w.startPicks(b)
		}
		return
	}
	var d model.Duration
	if !resumed && (l == nil || l.Stock != model.StockCentral) {
		d = w.cfg.Fulfilment.PickTime.Sample(w.pick)
	}
	w.k.Schedule(w.k.Now.Add(d), kPicked, id, 0, 0)
}

func (w *world) baseIndex(n model.NodeIndex) int32 {
	if n == model.NoNode {
		return 0
	}
	return w.baseOf[n]
}

// startPicks gives queued orders of base b to free pickers, FIFO.
func (w *world) startPicks(b int32) {
	cr := &w.sup.crews[b]
	now := w.k.Now
	staff := w.pickersAt(int(b), now)
	for cr.head < len(cr.queue) && cr.busy < staff {
		j := cr.queue[cr.head]
		cr.head++
		l := w.core.Label(model.LabelID(j.id))
		if l == nil || l.State != model.Issued {
			continue
		}
		if l.Stock == model.StockPending {
			w.edge.deferPick[l.From] = append(w.edge.deferPick[l.From], j.id)
			continue
		}
		cr.setBusy(now, 1)
		w.sup.holding[j.id] = b
		if w.labs[l.Slab()].measured {
			m := now.Sub(j.at).Minutes()
			cr.wait.Add(m)
			w.sup.allWait.Add(m)
		}
		var d model.Duration
		if l.Stock != model.StockCentral {
			d = w.cfg.Fulfilment.PickTime.Sample(w.pick)
		}
		w.k.Schedule(now.Add(d), kPicked, j.id, 0, 0)
	}
	if cr.head == len(cr.queue) {
		cr.queue, cr.head = cr.queue[:0], 0
	} else if cr.head > 1024 && cr.head > len(cr.queue)/2 {
		n := copy(cr.queue, cr.queue[cr.head:])
		cr.queue, cr.head = cr.queue[:n], 0
	}
}

// pickerFree releases the picker holding label id (packed, or its pick
// came to nothing) and gives it the next order.
func (w *world) pickerFree(id int32) {
	if !w.sup.staffed {
		return
	}
	b, ok := w.sup.holding[id]
	if !ok {
		return
	}
	delete(w.sup.holding, id)
	w.sup.crews[b].setBusy(w.k.Now, -1)
	w.startPicks(b)
}

// handleSupply runs the supply side's events.
func (w *world) handleSupply(k *Kernel, ev Event) {
	switch ev.Kind {
	case kArrive:
		if l := w.core.Label(model.LabelID(ev.A)); l != nil && l.State == model.Issued {
			w.toPick(ev.A, false)
		}
	case kStaff:
		w.startPicks(ev.A)
		w.scheduleStaff(ev.A)
	}
}

// lineHaul pays for a central parcel's ride: per parcel, and per wave the
// first time a measured parcel rides it.
func (w *world) lineHaul(e *model.Effect) {
	if !w.labs[e.Slab].measured {
		return
	}
	c := &w.cfg.Supply
	s := &w.sup
	s.parcels++
	w.res.Costs.LineHaul += c.PerParcel
	if l := w.core.Label(e.Label); l != nil {
		w.accs[l.Dest].cost += c.PerParcel
		s.centralTo[l.Dest]++
	}
	if dep := e.At.Add(-e.Delay); dep > s.lastWave {
		s.lastWave = dep
		s.waves++
		s.waveCost += c.PerWave
		w.res.Costs.LineHaul += c.PerWave
	}
}

func (w *world) supplyWarm() {
	for b := range w.sup.crews {
		cr := &w.sup.crews[b]
		cr.setBusy(w.k.Now, 0)
		cr.busyWarm = cr.busyInt
	}
}

// supplyFinish fills the supply results and spreads the wave cost over the
// pickup nodes by the central parcels brought to them. It runs once the
// node results exist, before their FCPO is computed.
func (w *world) supplyFinish() {
	r := w.res
	s := &w.sup
	if s.parcels > 0 {
		for i, n := range s.centralTo {
			r.Nodes[i].Cost += s.waveCost * float64(n) / float64(s.parcels)
		}
	}
	r.Supply = SupplyResult{LineHaulParcels: s.parcels, Waves: s.waves, Staffed: s.staffed}
	r.Supply.SupplyStats = w.core.SupplyTotal()
	for i := range w.net.Nodes {
		nr := SupplyResult{Staffed: s.staffed, SupplyStats: w.core.Supply(model.NodeIndex(i))}
		if w.edge.on {
			nr.CounterStockouts = w.core.Inventory(model.NodeIndex(i), r.End).Stats.CounterStockouts
			r.Supply.CounterStockouts += nr.CounterStockouts
		}
		nr.Orders = nr.sources()
		r.Nodes[i].Supply = nr
	}
	r.Supply.Orders = r.Supply.sources()
	if !s.staffed {
		return
	}
	for b := range s.crews {
		cr := &s.crews[b]
		cr.setBusy(r.End, 0)
		busy := float64(cr.busyInt - cr.busyWarm)
		staffed := w.staffedTime(b, r.WarmupEnd, r.End)
		r.Supply.BusyTime += busy
		r.Supply.StaffedTime += staffed
		cost := staffed / float64(model.Hour) * w.cfg.Fulfilment.Staff.CostPerHour
		r.Costs.Pickers += cost
		if n := w.bases[b].node; n != model.NoNode {
			r.Nodes[n].Cost += cost
			nr := &r.Nodes[n].Supply
			nr.BusyTime, nr.StaffedTime = busy, staffed
			nr.PickJobs, nr.PickWaitMean, nr.PickWaitP90 = cr.wait.N, cr.wait.Mean(), cr.wait.Quantile(0.9)
		}
	}
	r.Supply.PickJobs, r.Supply.PickWaitMean, r.Supply.PickWaitP90 = s.allWait.N, s.allWait.Mean(), s.allWait.Quantile(0.9)
}

func (s *SupplyResult) sources() uint64 {
	return s.CacheHits + s.Central + s.BackStore + s.StockoutsOutOfStock + s.StockoutsCentral
}

// validateSupply checks the staff and the line-haul prices.
func (c *Config) validateSupply() error {
	if c.Supply.PerParcel < 0 || c.Supply.PerWave < 0 {
		return fmt.Errorf("config %q: line-haul costs must be >= 0", c.Name)
	}
	st := c.Fulfilment.Staff
	if st == nil {
		return nil
	}
	if st.Default < 0 || len(st.Nodes) > len(c.Network.Nodes) || st.CostPerHour < 0 {
		return fmt.Errorf("config %q: staff: need a default >= 0, at most one entry per node and a cost >= 0", c.Name)
	}
	for i, shifts := range st.Nodes {
		for _, sh := range shifts {
			if sh.Pickers < 0 || sh.Span.From < 0 || sh.Span.To > model.Day || sh.Span.To <= sh.Span.From {
				return fmt.Errorf("config %q: staff: node %s: need pickers >= 0 and a span within a day", c.Name, c.Network.Nodes[i].ID)
			}
		}
	}
	return nil
}
