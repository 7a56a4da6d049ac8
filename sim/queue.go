package sim

import (
	"math/bits"
	"slices"
	"unsafe"

	"github.com/lockstep-sim/lockstep/model"
)

// Kind identifies what an event means. The kernel attaches no meaning to it;
// the world defines its own constants.
type Kind uint16

// Event is one scheduled occurrence. It is a small value type without
// pointers (24 bytes), so scheduling one allocates nothing. A, B and C are
// payload whose meaning depends on Kind (a label slot, a node index, a
// generation number for a stale check, ...).
type Event struct {
	At   model.Instant
	Kind Kind
	A, B int32
	C    uint32
}

// Timer identifies a cancellable event scheduled with PushTimer. The zero
// Timer is "no timer": cancelling it is a no-op that returns false. A Timer
// only has meaning for the Queue (or Kernel) that issued it.
type Timer struct {
	slot uint32 // index in Queue.cells
	seq  uint64 // sequence number of the event; 0 for the zero Timer
}

// IsZero reports whether t is the zero Timer.
func (t Timer) IsZero() bool { return t.seq == 0 }

// item is a heap entry: 16 bytes, so four siblings share one cache line.
// key = ord<<32 | slot, where ord is the insertion order (unique among
// queued items) and slot indexes the event's cell. Ordering by (at, key) is
// ordering by (At, insertion order).
type item struct {
	at  model.Instant
	key uint64
}

// cell holds the payload of a queued event, indexed by slot.
type cell struct {
	seq       uint64 // sequence number of the event in this cell; 0 = free
	kind      Kind
	cancelled bool
	a, b      int32
	c         uint32
}

// heapBase is the physical index of the heap's root. Children of physical
// index p are 4p-8 .. 4p-5 and its parent is p/4+2, so every family of four
// starts at a multiple of 4: one 64-byte line when the array is aligned
// (large allocations are page-aligned).
const heapBase = 3

// Queue is a priority queue of events ordered by (At, insertion sequence):
// the earliest event first and, among events with equal At, the one pushed
// first. It is a 4-ary min-heap of 16-byte keys; payloads live in a slot
// table ("cells") beside it.
//
// Cancellation is lazy: Cancel marks the event's cell cancelled in O(1) and
// the heap entry becomes stale; it is discarded when it reaches the top. When
// stale entries outnumber live ones the heap is compacted in place (O(n), so
// O(1) amortised per cancel), which keeps the heap at most 2*live+1 entries
// right after every Cancel, and the cell table at most as large as the heap.
//
// The zero Queue is ready to use. A Queue is not safe for concurrent use.
type Queue struct {
	h     []item        // h[:heapBase] unused
	cells []cell        // payload per slot
	free  []uint32      // free slots (LIFO, so reuse is deterministic)
	seq   uint64        // last event sequence number handed out (never reset)
	ord   uint32        // next insertion order; renumbered when it would wrap
	stale int           // cancelled entries still in h
	sink  model.Instant // target of prefetching loads in removeTop
	hole  bool          // the root h[heapBase] was popped and awaits refilling

	cancelled uint64 // successful Cancel calls, ever
}

// Push adds ev to the queue. The event cannot be cancelled.
func (q *Queue) Push(ev Event) {
	q.push(ev)
}

// PushTimer adds ev to the queue and returns a Timer that can cancel it.
func (q *Queue) PushTimer(ev Event) Timer {
	s := q.push(ev)
	return Timer{slot: s, seq: q.seq}
}

func (q *Queue) push(ev Event) uint32 {
	if len(q.h) < heapBase {
		q.h = append(q.h[:0], make([]item, heapBase, 64)...)
	}
	if q.ord == 1<<32-1 {
		q.renumber()
	}
	q.seq++
	var s uint32
	if n := len(q.free); n > 0 {
		s = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		s = uint32(len(q.cells))
		q.cells = append(q.cells, cell{})
	}
	q.cells[s] = cell{seq: q.seq, kind: ev.Kind, a: ev.A, b: ev.B, c: ev.C}
	it := item{at: ev.At, key: uint64(q.ord)<<32 | uint64(s)}
	q.ord++
	if q.hole {
		// The last pop left the root vacant: put the new entry there and
		// sift it down, one pass instead of a removal plus an insertion.
		// This is the common case: a handler schedules the next event.
		q.hole = false
		q.downRoot(it)
		return s
	}
	q.h = append(q.h, it)
	q.upNew(len(q.h) - 1)
	return s
}

// Active reports whether t is still pending: issued by this queue, not yet
// popped and not cancelled.
func (q *Queue) Active(t Timer) bool {
	if t.seq == 0 || int(t.slot) >= len(q.cells) {
		return false
	}
	c := &q.cells[t.slot]
	return c.seq == t.seq && !c.cancelled
}

// Cancel removes the event of t from the queue. It returns false, and does
// nothing, if t is the zero Timer or its event already popped or was
// cancelled before.
func (q *Queue) Cancel(t Timer) bool {
	if !q.Active(t) {
		return false
	}
	q.cells[t.slot].cancelled = true
	q.cancelled++
	q.stale++
	if q.stale > q.Len() {
		q.compact()
	}
	return true
}

// Pop removes and returns the earliest live event. ok is false when the
// queue holds no live event.
func (q *Queue) Pop() (ev Event, ok bool) {
	if q.top() == nil {
		return Event{}, false
	}
	return q.popLive(), true
}

// Peek returns the earliest live event without removing it. ok is false when
// the queue holds no live event. Stale entries found on top are discarded.
func (q *Queue) Peek() (ev Event, ok bool) {
	it := q.top()
	if it == nil {
		return Event{}, false
	}
	c := &q.cells[uint32(it.key)]
	return Event{At: it.at, Kind: c.kind, A: c.a, B: c.b, C: c.c}, true
}

// Len returns the number of live (pending, not cancelled) events.
func (q *Queue) Len() int {
	n := len(q.h) - heapBase - q.stale
	if q.hole {
		n--
	}
	return max(n, 0)
}

// Cancelled returns how many events were cancelled over the queue's life.
func (q *Queue) Cancelled() uint64 { return q.cancelled }

// Reset empties the queue and keeps its memory for reuse. Sequence numbers
// keep increasing across Reset, so Timers issued before it stay inactive.
func (q *Queue) Reset() {
	if len(q.h) > heapBase {
		q.h = q.h[:heapBase]
	}
	q.hole = false
	clear(q.cells)
	q.cells = q.cells[:0]
	q.free = q.free[:0]
	q.stale = 0
	q.ord = 0
}

// top returns a pointer to the heap entry of the earliest live event,
// discarding stale entries on top, or nil if there is none. The pointer is
// valid until the next mutation of q.
func (q *Queue) top() *item {
	q.fill()
	for len(q.h) > heapBase {
		it := &q.h[heapBase]
		s := uint32(it.key)
		if !q.cells[s].cancelled {
			return it
		}
		q.removeTop()
		q.freeCell(s)
		q.stale--
	}
	return nil
}

// popLive removes the top entry, which the caller has checked with top to be
// live, and returns its event. The root is left vacant (q.hole) so that the
// next push can fill it directly.
func (q *Queue) popLive() Event {
	it := q.h[heapBase]
	q.hole = true
	s := uint32(it.key)
	c := &q.cells[s]
	ev := Event{At: it.at, Kind: c.kind, A: c.a, B: c.b, C: c.c}
	q.freeCell(s)
	return ev
}

// fill removes a vacant root left by popLive.
func (q *Queue) fill() {
	if q.hole {
		q.hole = false
		q.removeTop()
	}
}

func (q *Queue) freeCell(s uint32) {
	q.cells[s] = cell{}
	q.free = append(q.free, s)
}

// lessBit reports a < b in (at, key) order as 0 or 1, without branches: it
// is the borrow out of the 128-bit subtraction (at, key) - (at, key), with
// at's sign bit flipped so signed order becomes unsigned order. Picking the
// smallest of four children this way avoids the branch mispredictions that
// otherwise dominate the cost of a heap.
func lessBit(a, b *item) int {
	const sign = 1 << 63
	_, borrow := bits.Sub64(a.key, b.key, 0)
	_, borrow = bits.Sub64(uint64(a.at)^sign, uint64(b.at)^sign, borrow)
	return int(borrow)
}

func less(a, b *item) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// upNew sifts up the entry at physical index p, which has the largest key in
// the heap, so comparing at alone is enough: equal at stays below.
func (q *Queue) upNew(p int) {
	h := q.h
	it := h[p]
	for p > heapBase {
		par := p>>2 + 2
		if it.at >= h[par].at {
			break
		}
		h[p] = h[par]
		p = par
	}
	h[p] = it
}

// removeTop deletes the root. It moves the hole left by the root down to a
// leaf along the path of smallest children, then sifts the former last entry
// up from there (Floyd's bottom-up deletion): the last entry nearly always
// belongs near the bottom, so this saves a comparison per level.
func (q *Queue) removeTop() {
	n := len(q.h) - 1
	h := q.h[:n]
	last := q.h[n]
	q.h = h
	if n == heapBase {
		return
	}
	p := heapBase
	for {
		c := 4*p - 8
		if c+3 < n {
			kids := h[c : c+4 : c+4]
			// Touch the four cache lines of the grandchildren (contiguous)
			// so that their loads overlap with this level's comparisons;
			// Go has no prefetch instruction, plain loads do the job.
			if g := 4*c - 8; g+15 < n {
				gk := h[g : g+16 : g+16]
				q.sink += gk[0].at ^ gk[4].at ^ gk[8].at ^ gk[12].at
			}
			m1 := lessBit(&kids[1], &kids[0])     // 0 or 1
			m2 := 2 + lessBit(&kids[3], &kids[2]) // 2 or 3
			m := m1 ^ ((m1 ^ m2) & -lessBit(&kids[m2], &kids[m1]))
			h[p] = kids[m]
			p = c + m
			continue
		}
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < n; j++ {
			if less(&h[j], &h[m]) {
				m = j
			}
		}
		h[p] = h[m]
		p = m
		break // a partial family only occurs at the last level
	}
	for p > heapBase {
		par := p>>2 + 2
		if !less(&last, &h[par]) {
			break
		}
		h[p] = h[par]
		p = par
	}
	h[p] = last
}

// downRoot places it at the (vacant) root and sifts it down.
func (q *Queue) downRoot(it item) {
	h := q.h
	n := len(h)
	p := heapBase
	for {
		c := 4*p - 8
		if c+3 < n {
			kids := h[c : c+4 : c+4]
			if g := 4*c - 8; g+15 < n {
				gk := h[g : g+16 : g+16]
				q.sink += gk[0].at ^ gk[4].at ^ gk[8].at ^ gk[12].at
			}
			m1 := lessBit(&kids[1], &kids[0])
			m2 := 2 + lessBit(&kids[3], &kids[2])
			m := m1 ^ ((m1 ^ m2) & -lessBit(&kids[m2], &kids[m1]))
			if !less(&kids[m], &it) {
				break
			}
			h[p] = kids[m]
			p = c + m
			continue
		}
		if c < n {
			m := c
			for j := c + 1; j < n; j++ {
				if less(&h[j], &h[m]) {
					m = j
				}
			}
			if less(&h[m], &it) {
				h[p] = h[m]
				p = m
			}
		}
		break
	}
	h[p] = it
}

// down sifts h[p] down (used by heapify).
func (q *Queue) down(p int) {
	h := q.h
	n := len(h)
	it := h[p]
	for {
		c := 4*p - 8
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if less(&h[j], &h[m]) {
				m = j
			}
		}
		if !less(&h[m], &it) {
			break
		}
		h[p] = h[m]
		p = m
	}
	h[p] = it
}

func (q *Queue) heapify() {
	last := len(q.h) - 1
	if last <= heapBase {
		return
	}
	for p := last>>2 + 2; p >= heapBase; p-- {
		q.down(p)
	}
}

// compact drops every stale entry and rebuilds the heap in O(n). If the heap's
// backing array has become much larger than needed it is reallocated, so a
// past peak does not pin memory for the rest of a long run. The cell table
// is not shrunk (Timers refer to slots); it never exceeds the peak number of
// heap entries, itself at most 2*peak live + 1.
func (q *Queue) compact() {
	q.fill()
	h := q.h[:heapBase]
	for _, it := range q.h[heapBase:] {
		if s := uint32(it.key); q.cells[s].cancelled {
			q.freeCell(s)
		} else {
			h = append(h, it)
		}
	}
	if c := cap(h); c > 1024 && c > 4*len(h) {
		h = append(make([]item, 0, 2*len(h)), h...)
	}
	q.h = h
	q.stale = 0
	q.heapify()
}

// renumber reassigns insertion orders 0..n-1 to the queued entries, keeping
// their relative order, when the 32-bit order counter is about to wrap (once
// every 4 billion pushes). A sorted array is a valid heap.
func (q *Queue) renumber() {
	q.fill()
	live := q.h[heapBase:]
	slices.SortFunc(live, func(a, b item) int {
		if less(&a, &b) {
			return -1
		}
		if less(&b, &a) {
			return 1
		}
		return 0
	})
	for i := range live {
		live[i].key = uint64(i)<<32 | live[i].key&(1<<32-1)
	}
	q.ord = uint32(len(live))
}

const (
	sizeofEvent = unsafe.Sizeof(Event{})
	sizeofItem  = unsafe.Sizeof(item{})
)
