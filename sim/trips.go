package sim

import (
	"math"
	"math/rand/v2"

	"github.com/lockstep-sim/lockstep/model"
)

// Reroute and return trips by the courier fleet.
//
// A drop refused at a courier's stop (node full, closed or offline) rides on
// with that courier: the core reroutes it, the courier takes it back (1 ms
// later: EvHandoff at the refusing node) and delivers it as its next stop; a
// refused drop the core returns instead (hops exhausted, no target) rides
// home with the courier. Any other reroute (a ready-for-pickup TTL expired,
// or any other rule of the core: EffReroute) waits labels.reroute.delay at
// the node it leaves, then joins the trip queue of the base nearest that
// node; any other return (EffReturn) joins it at once, unless the parcel is
// already where it goes back to. A courier of that base takes the oldest
// trip and every other one queued from the same node, up to batch_size: it
// rides to the node, collects them (one handoff time each), takes them to
// their destinations nearest first (one handoff time each; for a reroute
// the core sees EvArrived there) and rides back to its base. Trips go before
// new batches (a rerouted parcel is late already, and a return frees the
// node), ride only while the shift is open, count as courier busy time, and
// call couriers from other bases like batches do. Nothing on this path
// allocates once the queues have grown to their working size.

// trip is one parcel to move between two nodes.
type trip struct {
	label    int32 // reroute: the label; return: 0 (the core has finished it)
	from, to model.NodeIndex
}

// tripLegs are the phases of a trip, in the B of a kRerouteArrive event.
const (
	tripCollect  int32 = iota // the courier is at the node the parcels leave
	tripDrop                  // the courier is at drop C of its trip
	tripTakeBack              // a courier takes back the parcel its drop was refused
)

// trips is the state of the trip service.
type trips struct {
	queue   [][]trip // per base, FIFO from head; taken entries have from NoNode
	head    []int
	waiting []int    // per base, entries not taken yet
	load    [][]trip // per courier, the parcels of its current trip
	stops   int      // the capacity of a courier's route (courierRoom)
	nearest []int32  // per node, the base whose couriers collect there
	handoff *rand.Rand
	// busy is the courier time spent on trips that ended in the measured
	// window, by kind (reroute, return), shared by parcels.
	busyReroute, busyReturn int64
	depart                  []model.Instant // per courier
	// carrier is 1 + the courier dropping a parcel (0: none) while the core
	// handles the drop, stop the index of that stop; carried is the label
	// it keeps to reroute (0: none).
	carrier int32
	stop    int
	carried model.LabelID
}

func (w *world) tripsInit(st Streams) {
	t := &w.tr
	t.queue = make([][]trip, len(w.bases))
	t.head = make([]int, len(w.bases))
	t.waiting = make([]int, len(w.bases))
	t.load = make([][]trip, len(w.cour)) // each made on the courier's first trip (courierRoom)
	t.depart = make([]model.Instant, len(w.cour))
	t.nearest = make([]int32, len(w.net.Nodes))
	for i := range t.nearest {
		_, t.nearest[i] = w.fulfilFrom(model.NodeIndex(i))
	}
	t.handoff = st.Rand("couriers/handoff")
	// room for every parcel of a batch to be refused max_hops times, so a
	// carried reroute never grows a route
	t.stops = w.cfg.Couriers.BatchSize * (1 + max(w.net.Policy.MaxHops, 0))
}

// courierRoom gives courier ci its route and trip buffers on its first
// dispatch. Idle couriers wait in a stack, so the couriers a base never
// needs at once are never dispatched: a 40 000-courier locker-metro held
// 12.5 MB of buffers made up front for all of them.
func (w *world) courierRoom(ci int32) {
	if c := &w.cour[ci]; cap(c.load) == 0 {
		c.load = make([]int32, 0, w.tr.stops)
		c.dest = make([]model.NodeIndex, 0, w.tr.stops)
	}
	if cap(w.tr.load[ci]) == 0 {
		// a reroute trip's batch is its buffer's capacity (dispatchTrips)
		w.tr.load[ci] = make([]trip, 0, w.cfg.Couriers.BatchSize)
	}
}

// carried reports whether the reroute e is of the parcel a courier is
// dropping; then the courier keeps it and visits its new destination next.
func (w *world) carried(e *model.Effect) bool {
	t := &w.tr
	if t.carrier == 0 {
		return false
	}
	c := &w.cour[t.carrier-1]
	i := t.stop
	if c.load[i] != int32(e.Label) {
		return false
	}
	c.load = append(c.load, 0)
	copy(c.load[i+2:], c.load[i+1:])
	c.load[i+1] = int32(e.Label)
	c.dest = append(c.dest, 0)
	copy(c.dest[i+2:], c.dest[i+1:])
	c.dest[i+1] = e.To
	t.carried = e.Label
	return true
}

// carryOn ends a drop at node here. A parcel the core rerouted is handed
// back to the courier 1 ms later, so that the feed's delivery and hand-off
// scans of the parcel are ordered by time (the twin releases same-instant
// scans hand-off first); it returns the least time to the courier's next
// stop (0 when nothing was taken back), which must come after that.
func (w *world) carryOn(here model.NodeIndex) model.Duration {
	t := &w.tr
	t.carrier = 0
	id := t.carried
	if id == 0 {
		return 0
	}
	t.carried = 0
	w.k.Schedule(w.k.Now+1, kRerouteArrive, int32(id), tripTakeBack, uint32(here))
	return 2
}

// handoffTime draws one courier handoff (service) time at a stop.
func (w *world) handoffTime() model.Duration {
	return w.cfg.Couriers.HandoffTime.Sample(w.tr.handoff)
}

// tripsWaiting is the number of trips queued at base bi.
func (w *world) tripsWaiting(bi int32) int { return w.tr.waiting[bi] }

// waiting reports whether base bi has parcels or trips waiting for a courier.
func (w *world) waiting(bi int32) bool {
	b := &w.bases[bi]
	return b.head < len(b.queue) || w.tripsWaiting(bi) > 0
}

// couriersNeeded is the number of couriers base bi's waiting work needs:
// one per batch of parcels and one per trip.
func (w *world) couriersNeeded(bi int32) int {
	b := &w.bases[bi]
	batch := w.cfg.Couriers.BatchSize
	return (len(b.queue)-b.head+batch-1)/batch + w.tripsWaiting(bi)
}

// queueTrip adds a trip to the queue of the base that serves its pickup node
// and returns that base.
func (w *world) queueTrip(tr trip) int32 {
	bi := w.tr.nearest[tr.from]
	w.tr.queue[bi] = append(w.tr.queue[bi], tr)
	w.tr.waiting[bi]++
	return bi
}

// rerouteReady: a rerouted parcel (label id, leaving node from) is ready for
// a courier to collect.
func (w *world) rerouteReady(id int32, from model.NodeIndex) {
	l := w.core.Label(model.LabelID(id))
	if l == nil || l.State != model.Rerouting {
		return
	}
	w.dispatch(w.queueTrip(trip{label: id, from: from, to: l.Dest}))
}

// returnTrip queues the ride of a returned parcel from the node it was
// returned at back to the node that fulfilled it (the hub when none). It is
// called from apply, so the dispatch is deferred to step.
func (w *world) returnTrip(e *model.Effect) {
	if e.Node == model.NoNode || e.Node == e.To || w.tr.carrier != 0 {
		return // already there, or on the courier that brings it home
	}
	bi := w.queueTrip(trip{from: e.Node, to: e.To})
	if b := &w.bases[bi]; !b.queued {
		b.queued = true
		w.pending = append(w.pending, bi)
	}
}

// tripLive reports whether a queued trip still has a parcel to move.
func (w *world) tripLive(tr *trip) bool {
	if tr.from == model.NoNode {
		return false
	}
	if tr.label == 0 {
		return true
	}
	l := w.core.Label(model.LabelID(tr.label))
	return l != nil && l.State == model.Rerouting // not cancelled or moved on meanwhile
}

// dispatchTrips sends idle couriers of base bi out on its queued trips, each
// with the oldest trip and the others waiting at the same node.
func (w *world) dispatchTrips(bi int32) {
	t := &w.tr
	b := &w.bases[bi]
	q := t.queue[bi]
	for t.head[bi] < len(q) && len(b.idle) > 0 {
		tr := &q[t.head[bi]]
		t.head[bi]++
		if tr.from == model.NoNode {
			continue // taken with an earlier trip
		}
		t.waiting[bi]--
		if !w.tripLive(tr) {
			continue
		}
		ci := b.idle[len(b.idle)-1]
		b.idle = b.idle[:len(b.idle)-1]
		w.courierRoom(ci)
		ld := append(t.load[ci][:0], *tr)
		d := w.handoffTime()
		for j := t.head[bi]; j < len(q) && len(ld) < cap(ld); j++ {
			if o := &q[j]; o.from == tr.from {
				t.waiting[bi]--
				if w.tripLive(o) {
					ld = append(ld, *o)
					d += w.handoffTime()
				}
				o.from = model.NoNode
			}
		}
		t.load[ci] = ld
		t.depart[ci] = w.k.Now
		w.setBusy(1)
		w.k.Schedule(w.k.Now.Add(w.travel(b.pos, w.pos[tr.from])+d), kRerouteArrive, ci, tripCollect, 0)
	}
	if t.head[bi] == len(q) {
		t.queue[bi], t.head[bi] = q[:0], 0
	}
}

// tripPos is where a trip's parcel is dropped: its destination node, or the
// hub's position for a return to a hub.
func (w *world) tripPos(n model.NodeIndex) point {
	if n == model.NoNode {
		return w.bases[0].pos
	}
	return w.pos[n]
}

// tripLeg runs a kRerouteArrive event: a courier's arrival on a trip (A
// courier, B leg, C drop index), or a courier taking back a refused parcel
// (A label, C node).
func (w *world) tripLeg(ev Event) {
	k := w.k
	if ev.B == tripTakeBack {
		if l := w.core.Label(model.LabelID(ev.A)); l != nil && l.State == model.Rerouting {
			w.step(&model.Event{Type: model.EvHandoff, At: k.Now, Label: l.ID, Node: model.NodeIndex(ev.C)})
		}
		return
	}
	ci := ev.A
	t := &w.tr
	ld := t.load[ci]
	if ev.B == tripCollect {
		from := ld[0].from
		n := 0
		for _, tr := range ld {
			if tr.label != 0 {
				l := w.core.Label(model.LabelID(tr.label))
				if l == nil || l.State != model.Rerouting {
					continue // cancelled or moved on while the courier rode out
				}
				tr.to = l.Dest
				w.step(&model.Event{Type: model.EvHandoff, At: k.Now, Label: l.ID, Node: from})
			}
			ld[n] = tr
			n++
		}
		ld = ld[:n]
		if w.pk != nil {
			w.boxCollect(ci, from, len(ld))
		}
		// drops nearest first from the pickup node
		at := w.pos[from]
		for i := range ld {
			best, bj := math.Inf(1), i
			for j := i; j < len(ld); j++ {
				if d := dist2(at, w.tripPos(ld[j].to)); d < best {
					best, bj = d, j
				}
			}
			ld[i], ld[bj] = ld[bj], ld[i]
			at = w.tripPos(ld[i].to)
		}
		t.load[ci] = ld
		if len(ld) == 0 {
			w.tripHome(ci, w.pos[from])
			return
		}
		w.k.Schedule(k.Now.Add(w.travel(w.pos[from], w.tripPos(ld[0].to))+w.handoffTime()), kRerouteArrive, ci, tripDrop, 0)
		return
	}
	i := int(ev.C)
	tr := &ld[i]
	if tr.label != 0 {
		if l := w.core.Label(model.LabelID(tr.label)); l != nil && l.State == model.InTransit && l.Dest == tr.to {
			w.step(&model.Event{Type: model.EvArrived, At: k.Now, Label: l.ID, Node: tr.to})
		}
	}
	if w.pk != nil {
		w.boxCollect(ci, tr.to, len(ld)-i-1)
	}
	here := w.tripPos(tr.to)
	if i+1 < len(ld) {
		w.k.Schedule(k.Now.Add(w.travel(here, w.tripPos(ld[i+1].to))+w.handoffTime()), kRerouteArrive, ci, tripDrop, uint32(i+1))
		return
	}
	w.tripHome(ci, here)
}

// tripHome sends courier ci back to its base from p, and books the trip's
// courier time, shared by its parcels' kinds, when it ends in the measured
// window.
func (w *world) tripHome(ci int32, p point) {
	k := w.k
	t := &w.tr
	back := w.travel(p, w.bases[w.cour[ci].base].pos)
	if end := k.Now.Add(back); end > k.WarmupEnd && end <= w.co.horizon && len(t.load[ci]) > 0 {
		d := int64(end - t.depart[ci])
		reroutes := int64(0)
		for _, tr := range t.load[ci] {
			if tr.label != 0 {
				reroutes++
			}
		}
		n := int64(len(t.load[ci]))
		t.busyReroute += d * reroutes / n
		t.busyReturn += d * (n - reroutes) / n
	}
	t.load[ci] = t.load[ci][:0]
	k.Schedule(k.Now.Add(back), kBack, ci, 0, 0)
}
