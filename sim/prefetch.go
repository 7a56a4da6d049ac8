package sim

import (
	"unsafe"

	"github.com/lockstep-sim/lockstep/internal/prefetch"
	"github.com/lockstep-sim/lockstep/model"
)

// Prefetching hides the memory latency of a large city. Each event reads
// its label, and which label is picked by the event's time, so the labels
// an event stream touches are scattered over all the parcels in flight:
// once their records outgrow the CPU's L2 cache, each event starts with a
// few cache misses in a row (the label, then its chain and its node,
// which the label names). The queue's run already holds the next events in
// order, so while the kernel hands one event to the world, the world
// starts loading the label of the event after next and, from the label
// whose lines it asked for one event ago, the chain entry, node, timer
// cells and label-index entry the next event will write (Kernel.pf).
//
// It never changes what the simulation computes: a prefetch is a hint
// that cannot fault, and the reads on the way (the label index, a label,
// a courier's load) only read. An event scheduled in between runs first
// and the hint is wasted, nothing more.

// prefetcher is what the kernel calls before each event (Kernel.pf).
type prefetcher interface{ prefetch(q *Queue) }

// prefetchLabels is how many label slots the core must hold before the
// world prefetches: at about 500 bytes a parcel (label, chain, the
// world's record and queued events) 8 192 parcels are 4 MB, past the L2
// cache of current CPUs. Below that the records mostly stay in L2, and
// the calls would add instructions (+13 % forced on at locker-day, which
// never holds that many) for no measured gain.
var prefetchLabels = 8192

// prefetchCheck turns prefetching on once the label slots pass
// prefetchLabels (the slab only grows, so it stays on); called hourly.
func (w *world) prefetchCheck() {
	if w.k.pf == nil && len(w.labs) >= prefetchLabels {
		w.k.pf = w
	}
}

// prefetch looks at the next two events in the queue (Queue.upcoming): the
// one after next gets its label loaded (prefetchLabel), the next one, whose
// label was asked for one event ago, its chain and node (prefetchStep).
func (w *world) prefetch(q *Queue) {
	next, after := q.upcoming()
	if next != nil {
		w.prefetchStep(next)
	}
	if after != nil {
		w.prefetchLabel(after)
	}
}

// labelOf returns the label id an event of the world's is about, and its
// slab hint (-1 without one); ok is false for events about no one label.
func labelOf(it *item) (id model.LabelID, slab int32, ok bool) {
	kind, a, _, c := it.payload()
	switch kind {
	case kTimer:
		return model.LabelID(a), int32(c) - 1, true
	case kPickup:
		return model.LabelID(a), int32(c>>1) - 1, true
	case kPicked, kPacked:
		return model.LabelID(a), -1, true
	}
	return 0, 0, false
}

// prefetchLabel starts loading the label of it and the world's record of
// it; for a courier's stop, the label it delivers.
func (w *world) prefetchLabel(it *item) {
	id, slab, ok := labelOf(it)
	if !ok {
		kind, a, b, _ := it.payload()
		if kind != kStop {
			return
		}
		cr := &w.cour[a]
		if int(b) >= len(cr.load) {
			return
		}
		id, slab = model.LabelID(cr.load[b]), -1
	}
	if s := w.core.Prefetch(id, slab); uint(s) < uint(len(w.labs)) {
		prefetch.Line(unsafe.Pointer(&w.labs[s]))
	}
}

// prefetchStep starts loading the chain entry and the node the next step
// on its label will write, and the queue cells of the label's timers,
// which the step may cancel.
func (w *world) prefetchStep(it *item) {
	id, slab, ok := labelOf(it)
	if !ok {
		return
	}
	s := w.core.PrefetchStep(id, slab)
	if uint(s) >= uint(len(w.labs)) {
		return
	}
	cells := w.k.q.cells
	for _, t := range &w.labs[s].timers {
		if t.gen != 0 && int(t.slot) < len(cells) {
			prefetch.Line(unsafe.Pointer(&cells[t.slot]))
		}
	}
}
