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
//
// A Timer is 8 bytes (a world keeps several per parcel in flight): its slot
// and the slot's generation when it was issued. A slot's generation moves on
// each time the slot is freed, so a Timer whose event popped, was cancelled
// or was dropped by Reset never matches its slot again (until the
// generation wraps after 2^32 - 1 reuses of that one slot).
type Timer struct {
	slot uint32 // index in Queue.cells
	gen  uint32 // the slot's generation when issued; 0 only in the zero Timer
}

// IsZero reports whether t is the zero Timer.
func (t Timer) IsZero() bool { return t.gen == 0 }

// item is a queued event: 32 bytes, time, order key and payload, so four
// siblings of the heap span two cache lines and moving an event moves all of
// it. key = ord<<32 | slot, where ord is the insertion order (unique among
// queued items) and slot indexes the timer's cell, or is noCell for an event
// that cannot be cancelled. Ordering by (at, key) is ordering by (At,
// insertion order). The payload is packed in two words (kc = Kind | C<<32,
// ab = A | B<<32): a struct of at most four word-sized fields is kept in
// registers by the compiler and copied word by word, whereas a wider one is
// assembled on the stack by narrow stores and copied by 16-byte loads, which
// cannot be store-forwarded (a stall per copy).
type item struct {
	at  model.Instant
	key uint64
	kc  uint64
	ab  uint64
}

// payload returns the event's kind and payload.
func (it *item) payload() (Kind, int32, int32, uint32) {
	return Kind(it.kc), int32(uint32(it.ab)), int32(it.ab >> 32), uint32(it.kc >> 32)
}

// compactShare: Cancel compacts the queue once its stale entries are more
// than 1/compactShare of the live ones. A simulator's cancelled timers (an
// SLA deadline once the parcel is ready, a stage TTL once it moves on) wait
// far out in the far tier, so the bound is the queue's memory: a 6-day
// locker-metro's largest live heap was 274 MB when compacting at stale >
// live, 259 MB at live/2 and 245 MB at live/4, with no change in wall time
// (the compaction is a sequential pass).
const compactShare = 4

// noCell is the slot of an event pushed without a Timer (no real slot gets
// there: that would take 2^32-1 timers queued at once).
const noCell = 1<<32 - 1

// cell is the state of a timer slot: its generation (never 0) and whether
// the timer queued in it was cancelled. The generation moves on when the
// slot is freed.
type cell struct {
	gen       uint32
	cancelled bool
}

// heapBase is the physical index of the heap's root. Children of physical
// index p are 4p-8 .. 4p-5 and its parent is p/4+2, so every family of four
// starts at a multiple of 4: two 64-byte lines when the array is aligned
// (large allocations are page-aligned).
const heapBase = 3

// Queue is a priority queue of events ordered by (At, insertion sequence):
// the earliest event first and, among events with equal At, the one pushed
// first. Entries are 32 bytes, the whole event (time; insertion order and
// timer slot; payload), so a pop reads nothing else; only a timer has a cell
// in a slot table ("cells"), for its cancellation. There are two tiers:
//
//   - the near tier, holding the events with At <= lim, the ones about to
//     run: a sorted run (usually the events of a block of 64 instants or of
//     one instant, popped in O(1) each) and a 4-ary min-heap h for the rest
//     (a small bucket spanning several blocks, pushes earlier than the run's
//     last entry); the top is the smaller of their heads;
//   - the far tier, a radix heap in base 64: an event with At > lim sits in
//     the bucket given by the highest 6-bit digit in which its time differs
//     from lim and the value of that digit (11 levels of 64 buckets). A push
//     there is an append to one of a few hot bucket tails.
//
// When the near tier runs dry, the lowest non-empty bucket is taken. A
// level-0 bucket (a single instant) moves whole into the run and lim becomes
// that instant. A bucket at level l >= 1 with digit d hands out its first
// range of 64^j instants, j in 1..l sized to the bucket's density: the
// widest range expected to hold at most takeMax (256) of its n events if
// they were spread evenly, but at least a block of 64 instants (j = 1) and
// at most the whole bucket (j = l). lim keeps its digits above l, takes d
// at l, then zeros down to j and digits of 63 below (later than the old lim,
// earlier than the bucket's events after the range; for j >= 2 it is then
// lowered to the latest event taken); the range's events become the run,
// sorted by a least-significant-digit radix sort on their j lowest digits,
// stable counting sorts (a bucket is always in insertion order), and the
// rest drop into levels j..l-1. So dense events (many per instant) come out
// a block of 64 instants at a time, and sparse ones (about one per instant
// or fewer, the continuous-time case) a range of a few hundred events at a
// time, not a block holding one event or none. Events in other buckets stay
// put: their highest differing digit does not change. Each event is moved a
// few times at most, by sequential passes, and the heap stays small (it
// holds events scheduled into the current range before the run's last), so
// the cost per event hardly grows with the number pending and the random
// memory accesses of a large heap disappear.
//
// Cancellation is lazy: Cancel marks the timer's cell cancelled in O(1) and
// its entry becomes stale; it is discarded when it reaches the top of the
// heap (or the run). When stale entries are more than a quarter of the live
// ones (compactShare) both tiers are compacted (O(n), so O(1) amortised per
// cancel), which keeps them at most live + live/4 + 1 entries right after
// every Cancel, and the cell table at most as large as the peak number of
// entries.
//
// The zero Queue is ready to use. A Queue is not safe for concurrent use.
type Queue struct {
	run   []item        // near tier: run[rh:] sorted by (at, key), popped from the front
	tmp   []item        // scratch for takeBlock and takeRange, empty between calls
	rh    int           // index of the head of run
	top1  bool          // the entry returned by the last top is run's head (else the heap root)
	h     []item        // near tier: heap of items with at <= lim; h[:heapBase] unused
	cells []cell        // per slot: state of a queued timer
	free  []Timer       // free slots with their next generation (LIFO, so reuse is deterministic)
	ord   uint32        // next insertion order; renumbered when it would wrap
	stale int           // cancelled entries still queued (either tier)
	sink  model.Instant // target of prefetching loads in removeTop
	hole  bool          // the root h[heapBase] was popped and awaits refilling

	lim   model.Instant                    // items with at <= lim go to the near tier, later ones to bk
	far   int                              // items in bk
	lmask uint64                           // bit l set iff dmask[l] != 0
	dmask [radixLevels]uint64              // bit d of dmask[l] set iff bk[l<<radixBits|d] is non-empty
	bk    [radixLevels << radixBits]bucket // far tier, see farIndex
	slab  []item                           // far items, in chunks of chunkLen
	next  []int32                          // per chunk: next chunk of its bucket, or of the free list (+1)
	used  int32                            // chunks of slab handed out so far
	freeC int32                            // first free chunk + 1; 0 = none

	// digit counts of takeRange's radix sort, allocated on first use (as an
	// array inside Queue, 2.8 KB, it made every hold benchmark ~40% slower)
	hist *[radixLevels][1 << radixBits]int32

	cancelled uint64 // successful Cancel calls, ever
	keep      bool   // KeepArrays was called: compactions never shrink the arrays
}

const (
	// The far tier is a radix heap in base 64: an item's level is the
	// highest 6-bit digit in which its time differs from lim, and its bucket
	// within the level is the value of that digit.
	radixBits   = 6
	radixLevels = (64 + radixBits - 1) / radixBits
)

// A far bucket is a list of chunks of chunkLen items in q.slab. Chunks come
// from one free list, so the far tier holds about live + one partial chunk
// per non-empty bucket, however the events spread over the buckets.
type bucket struct {
	head, tail int32 // first and last chunk
	n          int32 // items in the tail chunk
}

const (
	chunkBits = 7
	chunkLen  = 1 << chunkBits
)

// farIndex returns the far bucket of an item at time at > q.lim.
func (q *Queue) farIndex(at model.Instant) int {
	l := uint(bits.Len64(uint64(at^q.lim))-1) / radixBits
	// Digits of the time with its sign bit flipped, so that unsigned digit
	// order is signed time order (only the top level sees the sign bit).
	d := (uint64(at) ^ 1<<63) >> (l * radixBits) & (1<<radixBits - 1)
	return int(l<<radixBits | uint(d))
}

// farPush appends it, with it.at > q.lim, to its far bucket.
func (q *Queue) farPush(it item) {
	i := q.farIndex(it.at)
	b := &q.bk[i]
	l, bit := uint(i)>>radixBits, uint64(1)<<(uint(i)&(1<<radixBits-1))
	if q.dmask[l]&bit == 0 {
		c := q.newChunk()
		b.head, b.tail, b.n = c, c, 0
		q.dmask[l] |= bit
		q.lmask |= 1 << l
	} else if b.n == chunkLen {
		c := q.newChunk()
		q.next[b.tail] = c
		b.tail, b.n = c, 0
	}
	q.slab[int(b.tail)<<chunkBits+int(b.n)] = it
	b.n++
	q.far++
}

func (q *Queue) newChunk() int32 {
	if q.freeC != 0 {
		c := q.freeC - 1
		q.freeC = q.next[c]
		return c
	}
	if int(q.used) == len(q.next) {
		q.next = append(q.next, 0)
		q.slab = append(q.slab, make([]item, chunkLen)...)
	}
	q.used++
	return q.used - 1
}

func (q *Queue) freeChunk(c int32) {
	q.next[c] = q.freeC
	q.freeC = c + 1
}

// takeFar detaches far bucket i and calls f with each of its chunks' items,
// in order; a chunk is freed after f returns, so f may push into the far
// tier. slab and next are the arrays the bucket lives in.
func (q *Queue) takeFar(i int, slab []item, next []int32, free bool, f func([]item)) {
	b := q.bk[i]
	l, d := i>>radixBits, i&(1<<radixBits-1)
	if q.dmask[l] &^= 1 << d; q.dmask[l] == 0 {
		q.lmask &^= 1 << l
	}
	for c := b.head; ; {
		n := int32(chunkLen)
		if c == b.tail {
			n = b.n
		}
		q.far -= int(n)
		f(slab[int(c)<<chunkBits : int(c)<<chunkBits+int(n)])
		nc := next[c]
		if free {
			q.freeChunk(c)
		}
		if c == b.tail {
			break
		}
		c = nc
	}
}

// farBuckets returns the indexes of the non-empty far buckets, lowest first,
// into buf.
func (q *Queue) farBuckets(buf []int) []int {
	for lm := q.lmask; lm != 0; lm &= lm - 1 {
		l := bits.TrailingZeros64(lm)
		for dm := q.dmask[l]; dm != 0; dm &= dm - 1 {
			buf = append(buf, l<<radixBits|bits.TrailingZeros64(dm))
		}
	}
	return buf
}

// clearFar empties the far tier, keeping its memory.
func (q *Queue) clearFar() {
	q.lmask, q.dmask, q.far = 0, [radixLevels]uint64{}, 0
	q.used, q.freeC = 0, 0
}

// Push adds ev to the queue. The event cannot be cancelled.
func (q *Queue) Push(ev Event) {
	q.push(ev.At, ev.Kind, ev.A, ev.B, ev.C, noCell)
}

// PushTimer adds ev to the queue and returns a Timer that can cancel it.
func (q *Queue) PushTimer(ev Event) Timer {
	var t Timer
	if n := len(q.free); n > 0 {
		// the free list carries the slot's generation, so reusing a slot
		// does not read its cell (cold after a bulk drop of stale entries:
		// that read was 3 % of locker-region's profile)
		t = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		t = Timer{slot: uint32(len(q.cells)), gen: 1}
		q.cells = append(q.cells, cell{gen: 1})
		if cap(q.free) < cap(q.cells) {
			// room for every slot to be free at once, so the free list
			// never grows by append: at the end of a run every timer
			// frees its slot, and a 6-day locker-metro's list grew from
			// 675 000 to 930 000 slots then, 14.8 MB of copies while the
			// world was still live (its peak)
			q.free = slices.Grow(q.free, cap(q.cells)-len(q.free))
		}
	}
	q.push(ev.At, ev.Kind, ev.A, ev.B, ev.C, t.slot)
	return t
}

// push takes the event as scalars: an Event, five fields, is spilled to the
// stack by narrow stores and copied by wide loads that cannot be
// store-forwarded.
func (q *Queue) push(at model.Instant, kind Kind, a, b int32, c uint32, s uint32) {
	if len(q.h) < heapBase {
		q.init()
	}
	if q.ord == 1<<32-1 {
		q.renumber()
	}
	it := item{
		at:  at,
		key: uint64(q.ord)<<32 | uint64(s),
		kc:  uint64(kind) | uint64(c)<<32,
		ab:  uint64(uint32(a)) | uint64(uint32(b))<<32,
	}
	q.ord++
	if it.at > q.lim {
		// The usual case: a future event goes to the far tier, an append.
		q.farPush(it)
		return
	}
	if q.hole {
		// The last pop left the root vacant: put the new entry there and
		// sift it down, one pass instead of a removal plus an insertion.
		// This is the common case: a handler schedules the next event.
		q.hole = false
		q.downRoot(it)
		return
	}
	if n := len(q.run); q.rh == n || it.at >= q.run[n-1].at {
		// Its key is the largest queued, so it is last in (at, key) order
		// among the run's entries when its time is not earlier than the
		// last one's: an event for the current instant joins its batch.
		if q.rh == n {
			q.run, q.rh = q.run[:0], 0
		}
		q.run = append(q.run, it)
		return
	}
	q.h = append(q.h, it)
	q.upNew(len(q.h) - 1)
}

// init allocates the heap's unused prefix (out of line: its temporary
// would bloat push's frame).
//
//go:noinline
func (q *Queue) init() {
	q.h = append(q.h[:0], make([]item, heapBase, 64)...)
}

// Active reports whether t is still pending: issued by this queue, not yet
// popped and not cancelled.
func (q *Queue) Active(t Timer) bool {
	if t.gen == 0 || int(t.slot) >= len(q.cells) {
		return false
	}
	c := &q.cells[t.slot]
	return c.gen == t.gen && !c.cancelled
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
	if compactShare*q.stale > q.Len() {
		q.compact()
	}
	return true
}

// Pop removes and returns the earliest live event. ok is false when the
// queue holds no live event.
func (q *Queue) Pop() (Event, bool) {
	// The event travels as scalars: a struct of five fields lives in memory,
	// and copying one assembled by narrow stores with wide loads defeats
	// store forwarding (a stall of a dozen cycles per copy).
	at, kind, a, b, c, ok := q.pop()
	return Event{At: at, Kind: kind, A: a, B: b, C: c}, ok
}

// pop is Pop with the event as scalars.
func (q *Queue) pop() (model.Instant, Kind, int32, int32, uint32, bool) {
	if q.top() == nil {
		return 0, 0, 0, 0, 0, false
	}
	at, kind, a, b, c := q.popLive()
	return at, kind, a, b, c, true
}

// Peek returns the earliest live event without removing it. ok is false when
// the queue holds no live event. Stale entries found on top are discarded.
func (q *Queue) Peek() (ev Event, ok bool) {
	it := q.top()
	if it == nil {
		return Event{}, false
	}
	kind, a, b, c := it.payload()
	return Event{At: it.at, Kind: kind, A: a, B: b, C: c}, true
}

// Len returns the number of live (pending, not cancelled) events.
func (q *Queue) Len() int {
	n := len(q.h) - heapBase + len(q.run) - q.rh + q.far - q.stale
	if q.hole {
		n--
	}
	return max(n, 0)
}

// Cancelled returns how many events were cancelled over the queue's life.
func (q *Queue) Cancelled() uint64 { return q.cancelled }

// Reset empties the queue and keeps its memory for reuse. Every slot's
// generation moves on, so Timers issued before it stay inactive.
func (q *Queue) Reset() {
	if len(q.h) > heapBase {
		q.h = q.h[:heapBase]
	}
	q.hole = false
	q.run, q.rh = q.run[:0], 0
	q.clearFar()
	q.lim = 0
	q.free = q.free[:0]
	for i := len(q.cells) - 1; i >= 0; i-- { // slot 0 is handed out first
		q.cells[i] = cell{gen: nextGen(q.cells[i].gen)}
		q.free = append(q.free, Timer{slot: uint32(i), gen: q.cells[i].gen})
	}
	q.stale = 0
	q.ord = 0
}

// top returns a pointer to the heap entry of the earliest live event,
// discarding stale entries on top, or nil if there is none. The pointer is
// valid until the next mutation of q.
func (q *Queue) top() *item {
	q.fill()
	for {
		var it *item
		if q.rh < len(q.run) {
			it, q.top1 = &q.run[q.rh], true
			if len(q.h) > heapBase && less(&q.h[heapBase], it) {
				it, q.top1 = &q.h[heapBase], false
			}
		} else if len(q.h) > heapBase {
			it, q.top1 = &q.h[heapBase], false
		} else if !q.refill() {
			return nil
		} else {
			continue
		}
		if !q.stale1(it) {
			return it
		}
		s := uint32(it.key)
		if q.top1 {
			q.rh++
		} else {
			q.removeTop()
		}
		q.freeCell(s)
		q.stale--
	}
}

// upcoming returns the entries of the next two events as far as the queue
// knows them without work: the earlier of the run's head and the heap's
// least entry (its root, or after a pop the least of the root's children),
// then the run's entry after the one taken (the run's head, if the
// root came first). Either may be nil, a cancelled timer's, or come after
// an event pushed later. It changes nothing: prefetching (prefetch.go)
// reads it.
func (q *Queue) upcoming() (next, after *item) {
	r := q.rh
	if r < len(q.run) {
		next = &q.run[r]
		r++
	}
	var root *item
	if !q.hole {
		if len(q.h) > heapBase {
			root = &q.h[heapBase]
		}
	} else {
		// the root was popped and awaits refilling: the heap's earliest is
		// the least of its children
		for c := 4*heapBase - 8; c <= 4*heapBase-5 && c < len(q.h); c++ {
			if root == nil || less(&q.h[c], root) {
				root = &q.h[c]
			}
		}
	}
	if root != nil && (next == nil || less(root, next)) {
		next = root
		r--
	}
	if r < len(q.run) {
		after = &q.run[r]
	}
	return next, after
}

// popLive removes the top entry, which the caller has checked with top to be
// live (with no mutation since), and returns its event. If it is the heap's
// root, the root is left vacant (q.hole) so that the next push can fill it
// directly.
func (q *Queue) popLive() (model.Instant, Kind, int32, int32, uint32) {
	var it item
	if q.top1 {
		it = q.run[q.rh]
		q.rh++
	} else {
		it = q.h[heapBase]
		q.hole = true
	}
	if s := uint32(it.key); s != noCell {
		q.freeCell(s)
	}
	kind, a, b, c := it.payload()
	return it.at, kind, a, b, c
}

// stale1 reports whether it is the entry of a cancelled timer.
func (q *Queue) stale1(it *item) bool {
	s := uint32(it.key)
	return s != noCell && q.cells[s].cancelled
}

// fill removes a vacant root left by popLive.
func (q *Queue) fill() {
	if q.hole {
		q.hole = false
		q.removeTop()
	}
}

func (q *Queue) freeCell(s uint32) {
	g := nextGen(q.cells[s].gen)
	q.cells[s] = cell{gen: g}
	q.free = append(q.free, Timer{slot: s, gen: g})
}

// nextGen is the generation after g (0 is skipped: it marks the zero Timer).
func nextGen(g uint32) uint32 {
	if g++; g == 0 {
		g = 1
	}
	return g
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
			// Touch the grandchildren (contiguous: four families, the first
			// of the two cache lines of each) so that their loads overlap
			// with this level's comparisons; Go has no prefetch
			// instruction, plain loads do the job.
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

// refill moves the next events of the far tier into the near tier, which
// the caller has checked to be empty (and without a vacant root). It reports
// whether the near tier now holds an entry (live or stale).
func (q *Queue) refill() bool {
	for q.lmask != 0 {
		l := bits.TrailingZeros64(q.lmask)
		i := l<<radixBits | bits.TrailingZeros64(q.dmask[l])
		if l == 0 {
			// A level-0 bucket holds a single instant, in insertion order:
			// it moves whole into the run. That instant becomes lim, which
			// keeps the other buckets valid: their times differ from it in
			// the same digit as before.
			bk := q.bk[i]
			q.lim = q.slab[int(bk.head)<<chunkBits].at
			r := q.run[:0]
			q.takeFar(i, q.slab, q.next, true, func(b []item) { r = append(r, b...) })
			q.run, q.rh = r, 0
			q.toRun()
		} else {
			q.takeRange(i, l)
		}
		if len(q.run) > 0 || len(q.h) > heapBase {
			return true
		}
	}
	return false
}

// takeMax is the number of events that the far tier aims to hand out at a
// time (see takeRange).
const takeMax = 256

// takeRange moves the first range of far bucket i, at level l >= 1, into
// the run. The range is the bucket's first sub-range of 64^j instants (its
// digits j..l-1 zero), j in 1..l chosen as the widest one expected to hold
// at most takeMax events if the bucket's n events were spread evenly (j = l:
// the whole bucket), and at least a block of 64 instants (j = 1). So the far
// tier hands out a block of 64 instants when events are dense (many share
// an instant) and a wider range when they are sparse, instead of a block
// holding one event or none. lim becomes the range's last instant (lim's
// digits above l, the bucket's digit at l, zeros down to j, then digits of
// 63), later than the old lim and earlier than the bucket's events after the
// range; for j >= 2 it is then lowered to the latest live event taken, so
// that a wide range does not pull later pushes into the near tier. Any lim
// within the range keeps every other bucket valid: an event's highest digit
// differing from it is the same as from the range's end. The bucket's events
// after the range drop to levels j..l-1.
//
// The taken events are sorted by a least-significant-digit radix sort on
// their j lowest digits: a bucket is always in insertion order (it is empty
// when a split fills it, and pushes append to it) and each counting-sort
// pass is stable, so equal times keep insertion order. A pass over a digit
// that all the events share is skipped, and a few events are sorted by
// insertion instead.
func (q *Queue) takeRange(i, l int) {
	b := q.bk[i]
	n := int(b.n)
	for c := b.head; c != b.tail; c = q.next[c] {
		n += chunkLen
	}
	j := l
	for j > 1 && n>>(uint(l-j)*radixBits) > takeMax {
		j--
	}
	sh := uint(l) * radixBits
	u := uint64(q.lim) ^ 1<<63
	end := model.Instant((u&(^uint64(0)<<(sh+radixBits)) | uint64(i&(1<<radixBits-1))<<sh | (1<<(uint(j)*radixBits) - 1)) ^ 1<<63)
	q.lim = end
	if j == 1 {
		if l == 1 {
			q.takeBlock1(i)
		} else {
			q.takeBlock(i, end)
		}
		return
	}
	// Gather the range's live events into t, pushing the bucket's later
	// events back, and count the digits of the live ones.
	if q.hist == nil {
		q.hist = new([radixLevels][1 << radixBits]int32)
	}
	hist := q.hist
	clear(hist[:j])
	t := q.tmp[:0]
	if j == l {
		t = slices.Grow(t, n) // the whole bucket: one allocation, not doublings
	}
	sorted, hi := true, model.Instant(-1<<63)
	small := n <= 16
	q.takeFar(i, q.slab, q.next, true, func(b []item) {
		for k := range b {
			it := &b[k]
			if it.at > end {
				q.farPush(*it)
				continue
			}
			if q.stale1(it) {
				q.freeCell(uint32(it.key))
				q.stale--
				continue
			}
			if !small {
				u := uint64(it.at)
				for p := range hist[:j] {
					hist[p][u>>(uint(p)*radixBits)&(1<<radixBits-1)]++
				}
			}
			sorted = sorted && it.at >= hi
			hi = max(hi, it.at)
			t = append(t, *it)
		}
	})
	if len(t) == 0 {
		q.tmp = t
		return
	}
	q.lim = hi
	switch {
	case sorted:
	case small:
		// Stable insertion sort on at (equal times keep insertion order).
		for k := 1; k < len(t); k++ {
			it := t[k]
			m := k
			for m > 0 && t[m-1].at > it.at {
				t[m] = t[m-1]
				m--
			}
			t[m] = it
		}
	default:
		o := slices.Grow(q.run[:0], len(t))[:len(t)]
		live := int32(len(t))
		for p := range hist[:j] {
			cnt := &hist[p]
			s := uint(p) * radixBits
			if cnt[uint64(hi)>>s&(1<<radixBits-1)] == live {
				continue // every event has the same digit p
			}
			pos := int32(0)
			for d, c := range cnt {
				cnt[d] = pos
				pos += c
			}
			for _, it := range t {
				d := uint64(it.at) >> s & (1<<radixBits - 1)
				o[cnt[d]] = it
				cnt[d]++
			}
			t, o = o, t
		}
		q.tmp = o[:0]
		q.run, q.rh = t, 0
		return
	}
	q.run, q.rh, q.tmp = t, 0, q.run[:0]
}

// takeBlock moves the entries of far bucket i with at <= lim, one block of
// 64 instants, into the run, sorted by (at, key), and pushes the others back
// into the far tier (relative to lim, the block's last instant), dropping
// stale entries. A bucket's entries are in insertion order (a bucket is
// empty when a split fills it, and pushes append to it), so a stable
// counting sort on the lowest digit of at sorts the block.
func (q *Queue) takeBlock(i int, lim model.Instant) {
	var cnt [1 << radixBits]int32
	t := q.tmp[:0]
	sorted, prev := true, model.Instant(-1<<63)
	q.takeFar(i, q.slab, q.next, true, func(b []item) {
		for _, it := range b {
			if it.at > lim {
				q.farPush(it)
				continue
			}
			if q.stale1(&it) {
				q.freeCell(uint32(it.key))
				q.stale--
				continue
			}
			cnt[it.at&(1<<radixBits-1)]++
			sorted = sorted && it.at >= prev
			prev = it.at
			t = append(t, it)
		}
	})
	if sorted {
		q.run, q.tmp = t, q.run[:0]
		q.rh = 0
		return
	}
	var pos [1 << radixBits]int32
	n := int32(0)
	for d, c := range cnt {
		pos[d] = n
		n += c
	}
	r := slices.Grow(q.run[:0], len(t))[:len(t)]
	for _, it := range t {
		d := it.at & (1<<radixBits - 1)
		r[pos[d]] = it
		pos[d]++
	}
	q.run, q.rh, q.tmp = r, 0, t[:0]
}

// takeBlock1 is takeBlock for a level-1 bucket, a single block: its entries
// are counted in a first pass over its chunks and scattered straight into the
// run in a second one.
func (q *Queue) takeBlock1(i int) {
	b := q.bk[i]
	slab, next := q.slab, q.next
	var pos [1 << radixBits]int32
	for c := b.head; ; c = next[c] {
		m := int32(chunkLen)
		if c == b.tail {
			m = b.n
		}
		for k := range slab[int(c)<<chunkBits : int(c)<<chunkBits+int(m)] {
			it := &slab[int(c)<<chunkBits+k]
			if !q.stale1(it) {
				pos[it.at&(1<<radixBits-1)]++
			}
		}
		if c == b.tail {
			break
		}
	}
	live := int32(0)
	for d, c := range pos {
		pos[d] = live
		live += c
	}
	r := slices.Grow(q.run[:0], int(live))[:live]
	q.takeFar(i, slab, next, true, func(b []item) {
		for k := range b {
			it := &b[k]
			if q.stale1(it) {
				q.freeCell(uint32(it.key))
				q.stale--
				continue
			}
			d := it.at & (1<<radixBits - 1)
			r[pos[d]] = *it
			pos[d]++
		}
	})
	q.run, q.rh = r, 0
}

// toRun drops the cancelled entries of the run, just filled from the far
// tier. Usually it holds the events of one instant, already in insertion
// order, so the events of a busy instant pop in O(1) each; otherwise (a small
// bucket spanning several times) its entries move to the heap, which the
// caller has checked to be empty. Only a timer's entry has a cell to read.
func (q *Queue) toRun() {
	r := q.run
	k := 0
	sorted := true
	for _, it := range r {
		if q.stale1(&it) {
			q.freeCell(uint32(it.key))
			q.stale--
			continue
		}
		if k > 0 && less(&it, &r[k-1]) {
			sorted = false
		}
		r[k] = it
		k++
	}
	r = r[:k]
	if !sorted {
		q.h = append(q.h, r...)
		q.heapify()
		r = r[:0]
	}
	q.run = r
}

func cmpItem(a, b item) int {
	if less(&a, &b) {
		return -1
	}
	if less(&b, &a) {
		return 1
	}
	return 0
}

// KeepArrays tells the queue that it is about to be dropped, as the world's
// drain past the horizon empties it and the world is freed right after:
// from then on a compaction drops stale entries where they are and never
// moves the live ones into smaller arrays. Those arrays would be allocated
// beside everything still live, when the heap is at its largest, only to
// be freed with it (9 MB of a 6-day locker-metro's end). The order of the
// events does not change, only where they are kept.
func (q *Queue) KeepArrays() { q.keep = true }

// compact drops every stale entry from both tiers and rebuilds the heap in
// O(n). Arrays that have become much larger than needed are reallocated, so a
// past peak does not pin memory for the rest of a long run (not after
// KeepArrays). The cell table is not shrunk (Timers refer to slots); it
// never exceeds the peak number of queued timer entries, itself at most
// peak live + peak live/4 + 1.
func (q *Queue) compact() {
	q.fill()
	keep := func(b []item) []item {
		k := 0
		for _, it := range b {
			if q.stale1(&it) {
				q.freeCell(uint32(it.key))
			} else {
				b[k] = it
				k++
			}
		}
		b = b[:k]
		if c := cap(b); !q.keep && c > 1024 && c > 4*k {
			b = append(make([]item, 0, 2*k), b...)
		}
		return b
	}
	q.run = keep(q.run[:copy(q.run, q.run[q.rh:])])
	q.rh = 0
	if !q.keep && cap(q.tmp) > 1024 && cap(q.tmp) > 4*len(q.run) {
		q.tmp = nil
	}
	h := keep(q.h[heapBase:])
	q.h = q.h[:heapBase+len(h)]
	if c := cap(q.h); !q.keep && c > 1024 && c > 4*len(q.h) {
		q.h = append(make([]item, 0, 2*len(q.h)), q.h...)
	}
	// Compact each far bucket within its chunks, or, if the slab is much
	// larger than needed (a past peak), re-push the live far items into a
	// fresh one.
	live := q.far - q.stale + (len(q.h) - heapBase) + len(q.run) // upper bound on live far items
	slab, next := q.slab, q.next
	shrink := !q.keep && len(q.next) > 64 && len(q.next) > 4*(live>>chunkBits+len(q.bk)/8)
	var buf [len(q.bk)]int
	buckets := q.farBuckets(buf[:0])
	if shrink {
		// sized for the live items and a partial chunk per bucket, so the
		// re-push never grows it: at the end of a run, when the drain
		// shrinks the slab, growing it by append copied a 6-day
		// locker-metro's far tier five times over (25 MB) beside the world
		n := live>>chunkBits + len(buckets) + 1
		q.slab, q.next, q.used, q.freeC = make([]item, 0, n<<chunkBits), make([]int32, 0, n), 0, 0
	}
	for _, i := range buckets {
		if !shrink {
			q.compactBucket(i)
			continue
		}
		q.takeFar(i, slab, next, false, func(b []item) {
			for _, it := range b {
				if q.stale1(&it) {
					q.freeCell(uint32(it.key))
				} else {
					q.farPush(it)
				}
			}
		})
	}
	q.stale = 0
	q.heapify()
}

// compactBucket drops the stale entries of far bucket i, moving the live
// ones forward within its chunks (they keep their order and their bucket,
// since lim does not change) and freeing the chunks left empty.
func (q *Queue) compactBucket(i int) {
	b := &q.bk[i]
	slab, next := q.slab, q.next
	tail := b.tail
	w, k := b.head, 0 // write chunk, entries kept
	for c := b.head; ; c = next[c] {
		n := int32(chunkLen)
		if c == tail {
			n = b.n
		}
		for _, it := range slab[int(c)<<chunkBits : int(c)<<chunkBits+int(n)] {
			if q.stale1(&it) {
				q.freeCell(uint32(it.key))
				q.far--
				continue
			}
			if k > 0 && k&(chunkLen-1) == 0 {
				w = next[w] // never past c: no more kept than read
			}
			slab[int(w)<<chunkBits+k&(chunkLen-1)] = it
			k++
		}
		if c == tail {
			break
		}
	}
	// Free the chunks after w (all of them if nothing was kept).
	c := next[w]
	if k == 0 {
		c = b.head
		l, d := i>>radixBits, i&(1<<radixBits-1)
		if q.dmask[l] &^= 1 << d; q.dmask[l] == 0 {
			q.lmask &^= 1 << l
		}
	} else {
		b.tail, b.n = w, int32((k-1)&(chunkLen-1)+1)
	}
	if k == 0 || w != tail {
		for {
			nc := next[c]
			q.freeChunk(c)
			if c == tail {
				break
			}
			c = nc
		}
	}
}

// renumber reassigns insertion orders 0..n-1 to the queued entries, keeping
// their relative order, when the 32-bit order counter is about to wrap (once
// every 4 billion pushes). A sorted array is a valid heap.
func (q *Queue) renumber() {
	q.fill()
	q.h = append(q.h, q.run[q.rh:]...)
	q.run, q.rh = q.run[:0], 0
	nh := len(q.h) - heapBase
	var buf [len(q.bk)]int
	for _, i := range q.farBuckets(buf[:0]) {
		q.takeFar(i, q.slab, q.next, true, func(b []item) { q.h = append(q.h, b...) })
	}
	q.clearFar()
	all := q.h[heapBase:]
	slices.SortFunc(all, cmpItem)
	for i := range all {
		all[i].key = uint64(i)<<32 | all[i].key&(1<<32-1)
	}
	q.ord = uint32(len(all))
	// The nh earliest entries are the former heap entries (at <= lim < the
	// far ones); the rest go back to the far tier.
	for _, it := range all[nh:] {
		q.farPush(it)
	}
	q.h = q.h[:heapBase+nh]
}

const (
	sizeofEvent = unsafe.Sizeof(Event{})
	sizeofItem  = unsafe.Sizeof(item{})
)
