package sim

import (
	"cmp"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

func TestEventSize(t *testing.T) {
	require.LessOrEqual(t, int(sizeofEvent), 40)
	require.Equal(t, 32, int(sizeofItem), "queue entries (payload inline) must stay 32 bytes: four per two cache lines")
}

func TestQueueOrder(t *testing.T) {
	tests := []struct {
		name string
		at   []model.Instant // pushed in this order; A = index
		want []int32         // expected pop order of A
	}{
		{"empty", nil, nil},
		{"single", []model.Instant{5}, []int32{0}},
		{"ascending", []model.Instant{1, 2, 3}, []int32{0, 1, 2}},
		{"descending", []model.Instant{3, 2, 1}, []int32{2, 1, 0}},
		{"equal times are FIFO", []model.Instant{7, 7, 7, 7, 7, 7}, []int32{0, 1, 2, 3, 4, 5}},
		{"mixed ties", []model.Instant{2, 1, 2, 1, 0, 2}, []int32{4, 1, 3, 0, 2, 5}},
		{"negative instants", []model.Instant{0, -5, 3, -5}, []int32{1, 3, 0, 2}},
		{"extremes", []model.Instant{model.Never, -1 << 63, 0, model.Never}, []int32{1, 2, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Queue
			for i, at := range tt.at {
				q.Push(Event{At: at, Kind: Kind(i), A: int32(i)})
			}
			require.Equal(t, len(tt.at), q.Len())
			var got []int32
			for {
				ev, ok := q.Pop()
				if !ok {
					break
				}
				require.Equal(t, tt.at[ev.A], ev.At)
				require.Equal(t, Kind(ev.A), ev.Kind)
				got = append(got, ev.A)
			}
			require.Equal(t, tt.want, got)
			require.Zero(t, q.Len())
		})
	}
}

// refEvent is an entry of the sort-based reference queue.
type refEvent struct {
	at        model.Instant
	seq       int
	id        int32
	cancelled bool
	popped    bool
}

// TestQueueAgainstReference drives the queue with thousands of random
// push / push-timer / pop / cancel / peek operations and checks every result
// against a trivially correct reference (linear scan for the minimum).
func TestQueueAgainstReference(t *testing.T) {
	tests := []struct {
		name   string
		seed   uint64
		ops    int
		spread int64 // times drawn from [now, now+spread): small spread = many ties
		pPop   float64
	}{
		{"many ties", 1, 20000, 4, 0.45},
		{"few ties", 2, 20000, 1 << 40, 0.45},
		{"growing", 3, 20000, 100, 0.30},
		{"draining", 4, 20000, 100, 0.60},
		{"tiny", 5, 5000, 2, 0.50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(tt.seed, 99))
			var q Queue
			var ref []*refEvent
			var timers []Timer
			var timerRef []*refEvent
			seq := 0
			now := model.Instant(0)
			live := func() int {
				n := 0
				for _, e := range ref {
					if !e.cancelled && !e.popped {
						n++
					}
				}
				return n
			}
			refMin := func() *refEvent {
				var best *refEvent
				for _, e := range ref {
					if e.cancelled || e.popped {
						continue
					}
					if best == nil || e.at < best.at || (e.at == best.at && e.seq < best.seq) {
						best = e
					}
				}
				return best
			}
			for op := 0; op < tt.ops; op++ {
				x := r.Float64()
				switch {
				case x < tt.pPop:
					want := refMin()
					if r.IntN(4) == 0 {
						ev, ok := q.Peek()
						require.Equal(t, want != nil, ok)
						if ok {
							require.Equal(t, want.id, ev.A)
						}
					}
					ev, ok := q.Pop()
					if want == nil {
						require.False(t, ok, "op %d", op)
						continue
					}
					require.True(t, ok, "op %d", op)
					require.Equal(t, want.id, ev.A, "op %d", op)
					require.Equal(t, want.at, ev.At)
					want.popped = true
					now = ev.At
				case x < tt.pPop+0.15 && len(timers) > 0:
					i := r.IntN(len(timers))
					e := timerRef[i]
					wantOK := !e.cancelled && !e.popped
					require.Equal(t, wantOK, q.Active(timers[i]))
					require.Equal(t, wantOK, q.Cancel(timers[i]), "op %d", op)
					e.cancelled = true
					require.False(t, q.Active(timers[i]))
				default:
					seq++
					e := &refEvent{at: now + model.Instant(r.Int64N(tt.spread)), seq: seq, id: int32(seq)}
					ref = append(ref, e)
					ev := Event{At: e.at, A: e.id, B: -e.id, C: uint32(seq)}
					if r.IntN(2) == 0 {
						timers = append(timers, q.PushTimer(ev))
						timerRef = append(timerRef, e)
					} else {
						q.Push(ev)
					}
				}
				require.Equal(t, live(), q.Len(), "op %d", op)
				if op%64 == 0 { // drop finished reference entries now and then
					ref = slices.DeleteFunc(ref, func(e *refEvent) bool { return e.cancelled || e.popped })
				}
			}
			// Drain: the rest must come out in reference order.
			slices.SortFunc(ref, func(a, b *refEvent) int {
				return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq))
			})
			for _, e := range ref {
				if e.cancelled || e.popped {
					continue
				}
				ev, ok := q.Pop()
				require.True(t, ok)
				require.Equal(t, e.id, ev.A)
				require.Equal(t, -e.id, ev.B)
				require.Equal(t, uint32(e.id), ev.C)
			}
			_, ok := q.Pop()
			require.False(t, ok)
			require.Zero(t, q.Len())
		})
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name  string
		run   func(q *Queue, t0, t1 Timer) (cancelOK bool)
		t1    func(q *Queue) Timer
		want  bool
		pops  []int32
		after int // Len after the scenario and Cancel
	}{
		{"pending timer", func(q *Queue, t0, t1 Timer) bool { return q.Cancel(t0) }, nil, true, []int32{1, 2}, 0},
		{"twice", func(q *Queue, t0, t1 Timer) bool { q.Cancel(t0); return q.Cancel(t0) }, nil, false, []int32{1, 2}, 0},
		{"after it fired", func(q *Queue, t0, t1 Timer) bool {
			_, _ = q.Pop()
			return q.Cancel(t0)
		}, nil, false, []int32{1, 2}, 0},
		{"zero timer", func(q *Queue, t0, t1 Timer) bool { return q.Cancel(Timer{}) }, nil, false, []int32{0, 1, 2}, 0},
		{"out-of-range slot (no panic)", func(q *Queue, t0, t1 Timer) bool {
			var other Queue // a Timer only has meaning for its own queue
			var tm Timer
			for range 5 {
				tm = other.PushTimer(Event{})
			}
			return q.Cancel(tm) || q.Active(tm)
		}, nil, false, []int32{0, 1, 2}, 0},
		{"after reset", func(q *Queue, t0, t1 Timer) bool {
			q.Reset()
			q.PushTimer(Event{At: 1, A: 0})
			q.PushTimer(Event{At: 2, A: 1})
			q.PushTimer(Event{At: 3, A: 2})
			return q.Cancel(t0) || q.Cancel(t1)
		}, nil, false, []int32{0, 1, 2}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Queue
			t0 := q.PushTimer(Event{At: 1, A: 0})
			t1 := q.PushTimer(Event{At: 2, A: 1})
			q.Push(Event{At: 3, A: 2})
			require.False(t, t0.IsZero())
			require.True(t, Timer{}.IsZero())
			require.Equal(t, tt.want, tt.run(&q, t0, t1))
			var got []int32
			for {
				ev, ok := q.Pop()
				if !ok {
					break
				}
				got = append(got, ev.A)
			}
			require.Equal(t, tt.pops, got)
			require.Equal(t, tt.after, q.Len())
			require.False(t, q.Cancel(t0))
			require.False(t, q.Cancel(t1))
		})
	}
}

func TestCancelledNeverPops(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var q Queue
	cancelled := map[int32]bool{}
	var timers []Timer
	for i := range int32(5000) {
		timers = append(timers, q.PushTimer(Event{At: model.Instant(r.IntN(1000)), A: i}))
	}
	for i, tm := range timers {
		if r.IntN(3) > 0 {
			require.True(t, q.Cancel(tm))
			cancelled[int32(i)] = true
		}
	}
	require.Equal(t, 5000-len(cancelled), q.Len())
	n := 0
	for {
		ev, ok := q.Pop()
		if !ok {
			break
		}
		require.False(t, cancelled[ev.A], "cancelled event %d popped", ev.A)
		n++
	}
	require.Equal(t, 5000-len(cancelled), n)
	require.Equal(t, uint64(len(cancelled)), q.Cancelled())
}

// TestMemoryBounded runs long cycles of schedule+cancel (a parcel TTL timer
// cancelled on pickup) beside a fixed background load and checks that the
// heap and the cell table stay bounded by the live count, not by the number
// of cycles.
func TestMemoryBounded(t *testing.T) {
	tests := []struct {
		name       string
		background int
		timers     int // timers kept in flight, cancelled in random order
		cycles     int
	}{
		{"no background", 0, 1, 200000},
		{"one in flight", 1000, 1, 300000},
		{"many in flight", 1000, 500, 300000},
		{"timers only", 0, 2000, 300000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tt.timers)))
			var q Queue
			for i := 0; i < tt.background; i++ {
				q.Push(Event{At: model.Instant(1e12 + i)})
			}
			inflight := make([]Timer, 0, tt.timers)
			now := model.Instant(0)
			live := tt.background + tt.timers
			bound := 4*live + 64
			for c := 0; c < tt.cycles; c++ {
				at := now + model.Instant(r.IntN(1e6))
				inflight = append(inflight, q.PushTimer(Event{At: at}))
				if len(inflight) > tt.timers {
					i := r.IntN(len(inflight))
					require.True(t, q.Cancel(inflight[i]))
					inflight[i] = inflight[len(inflight)-1]
					inflight = inflight[:len(inflight)-1]
				}
				if c%1000 == 0 {
					require.LessOrEqual(t, cap(q.h), bound, "cycle %d", c)
					require.LessOrEqual(t, cap(q.run), bound, "cycle %d", c)
					require.LessOrEqual(t, cap(q.tmp), bound, "cycle %d", c)
					require.LessOrEqual(t, len(q.cells), live+live/compactShare+1, "cycle %d", c)
				}
				now++
			}
			require.Equal(t, live, q.Len())
			require.LessOrEqual(t, cap(q.h), bound)
			require.LessOrEqual(t, len(q.h)-heapBase+len(q.run)-q.rh, live+live/compactShare+1)
		})
	}
}

// TestMemoryShrinksAfterPeak checks that a past peak does not pin the heap's
// memory for the rest of a run.
func TestMemoryShrinksAfterPeak(t *testing.T) {
	var q Queue
	var timers []Timer
	for i := range 100000 {
		timers = append(timers, q.PushTimer(Event{At: model.Instant(i)}))
	}
	for _, tm := range timers[10:] {
		require.True(t, q.Cancel(tm))
	}
	require.Equal(t, 10, q.Len())
	require.Less(t, cap(q.h), 4096)
	require.Less(t, cap(q.run), 4096)
	require.Less(t, cap(q.tmp), 4096)
}

// TestRenumber forces the 32-bit insertion counter to wrap and checks that
// FIFO order among equal times survives.
func TestRenumber(t *testing.T) {
	var q Queue
	q.Push(Event{At: 5, A: -1})
	q.ord = 1<<32 - 50
	for i := range int32(200) {
		q.Push(Event{At: model.Instant(10 + i%3), A: i})
	}
	require.Less(t, q.ord, uint32(1000), "counter renumbered")
	ev, _ := q.Pop()
	require.Equal(t, int32(-1), ev.A)
	for at := model.Instant(10); at < 13; at++ {
		for i := int32(at - 10); i < 200; i += 3 {
			ev, ok := q.Pop()
			require.True(t, ok)
			require.Equal(t, at, ev.At)
			require.Equal(t, i, ev.A, "FIFO among At=%d", at)
		}
	}
}

func TestQueueReset(t *testing.T) {
	var q Queue
	for i := range 100 {
		q.PushTimer(Event{At: model.Instant(100 - i)})
	}
	q.Reset()
	require.Zero(t, q.Len())
	_, ok := q.Pop()
	require.False(t, ok)
	q.Push(Event{At: 3, A: 3})
	q.Push(Event{At: 1, A: 1})
	ev, ok := q.Pop()
	require.True(t, ok)
	require.Equal(t, int32(1), ev.A)
	require.Equal(t, 1, q.Len())
}

// TestTimerGenerations: a Timer names its slot and the slot's generation,
// so a Timer whose event popped, was cancelled, or was queued before a Reset
// never cancels the later timer that reuses its slot (8-byte Timers must not
// bring back the ABA problem a 64-bit sequence number avoided).
func TestTimerGenerations(t *testing.T) {
	var q Queue
	old := q.PushTimer(Event{At: 1, A: 1})
	_, ok := q.Pop()
	require.True(t, ok)
	reused := q.PushTimer(Event{At: 2, A: 2})
	require.Equal(t, old.slot, reused.slot, "the freed slot is reused")
	require.False(t, q.Active(old), "popped")
	require.False(t, q.Cancel(old), "a popped timer cannot cancel its slot's next timer")
	require.True(t, q.Active(reused))

	require.True(t, q.Cancel(reused))
	for q.Len() > 0 {
		q.Pop()
	}
	again := q.PushTimer(Event{At: 3, A: 3})
	require.False(t, q.Cancel(reused), "cancelled and dropped")
	require.True(t, q.Active(again))

	before := q.PushTimer(Event{At: 4, A: 4})
	q.Reset()
	after := q.PushTimer(Event{At: 5, A: 5})
	require.False(t, q.Active(again), "queued before Reset")
	require.False(t, q.Active(before), "queued before Reset")
	require.False(t, q.Cancel(again))
	require.False(t, q.Cancel(before))
	require.True(t, q.Active(after))
	ev, ok := q.Pop()
	require.True(t, ok)
	require.Equal(t, int32(5), ev.A)

	// generations skip 0, the zero Timer's
	require.Equal(t, uint32(1), nextGen(1<<32-1))
	require.True(t, Timer{}.IsZero())
	require.False(t, q.Active(Timer{}))
}

func ExampleQueue() {
	var q Queue
	q.Push(Event{At: 20, A: 1})
	ttl := q.PushTimer(Event{At: 10, A: 2}) // e.g. a parcel's TTL
	q.Push(Event{At: 20, A: 3})             // same time as A=1: runs after it
	q.Cancel(ttl)                           // picked up in time
	for q.Len() > 0 {
		ev, _ := q.Pop()
		fmt.Println(ev.At, ev.A)
	}
	// Output:
	// 1970-01-01T00:00:00.020Z 1
	// 1970-01-01T00:00:00.020Z 3
}

// TestVacantRoot covers the operations that meet a root left vacant by Pop
// (it is refilled by the next push, or removed first by everything else).
func TestVacantRoot(t *testing.T) {
	tests := []struct {
		name string
		then func(q *Queue, timers []Timer)
	}{
		{"compaction", func(q *Queue, timers []Timer) {
			for _, tm := range timers[1:90] {
				q.Cancel(tm)
			}
		}},
		{"renumber", func(q *Queue, timers []Timer) {
			q.ord = 1<<32 - 1
			q.Push(Event{At: 1000, A: 1000})
		}},
		{"peek", func(q *Queue, timers []Timer) {
			ev, ok := q.Peek()
			require.True(t, ok)
			require.Equal(t, int32(1), ev.A)
		}},
		{"reset", func(q *Queue, timers []Timer) {
			q.Reset()
			require.Zero(t, q.Len())
			q.Push(Event{At: 1, A: 1})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Queue
			var timers []Timer
			for i := range int32(100) {
				timers = append(timers, q.PushTimer(Event{At: model.Instant(i / 2), A: i}))
			}
			ev, _ := q.Pop()
			require.Equal(t, int32(0), ev.A)
			require.Equal(t, 99, q.Len())
			tt.then(&q, timers)
			n := q.Len()
			prev := int32(0)
			for range n {
				ev, ok := q.Pop()
				require.True(t, ok)
				require.Greater(t, ev.A, prev)
				prev = ev.A
			}
			_, ok := q.Pop()
			require.False(t, ok)
		})
	}
}

// TestQueueTiersAgainstReference drives the two tiers (near heap, radix far
// tier) with time patterns that stress them: many equal times, far-future
// outliers, huge gaps, negative times, cancellation of far-future timers and
// Reset reuse, against a sort-based reference.
func TestQueueTiersAgainstReference(t *testing.T) {
	type draw func(r *rand.Rand, now model.Instant) model.Instant
	tests := []struct {
		name string
		at   draw
	}{
		{"equal times", func(r *rand.Rand, now model.Instant) model.Instant { return now + model.Instant(r.IntN(2)) }},
		{"hold", func(r *rand.Rand, now model.Instant) model.Instant {
			return now + model.Instant(r.ExpFloat64()*1000)
		}},
		{"far outliers", func(r *rand.Rand, now model.Instant) model.Instant {
			switch r.IntN(20) {
			case 0:
				return model.Never
			case 1:
				return now + 1<<50 + model.Instant(r.IntN(3))
			}
			return now + model.Instant(r.IntN(100))
		}},
		{"huge gaps", func(r *rand.Rand, now model.Instant) model.Instant {
			return now + model.Instant(r.Int64N(1<<uint(r.IntN(62))))
		}},
		{"negative times", func(r *rand.Rand, now model.Instant) model.Instant {
			return -1<<62 + now/2 + model.Instant(r.Int64N(1<<40))
		}},
		{"before lim", func(r *rand.Rand, now model.Instant) model.Instant { // not monotone
			return now + model.Instant(r.IntN(200)) - 100
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(len(tt.name))))
			var q Queue
			for round := range 3 { // Reset reuse
				type ref struct {
					at  model.Instant
					id  int32
					tm  Timer
					off bool
				}
				var pending []*ref
				now := model.Instant(r.Int64N(1 << 40))
				id := int32(0)
				for op := range 20000 {
					switch x := r.IntN(100); {
					case x < 45 && len(pending) > 0:
						i := 0
						for j, e := range pending {
							if e.at < pending[i].at || (e.at == pending[i].at && e.id < pending[i].id) {
								i = j
							}
						}
						want := pending[i]
						pending = slices.Delete(pending, i, i+1)
						ev, ok := q.Pop()
						require.True(t, ok, "round %d op %d", round, op)
						require.Equal(t, want.id, ev.A, "round %d op %d", round, op)
						require.Equal(t, want.at, ev.At)
						require.False(t, q.Active(want.tm))
						now = ev.At
					case x < 60 && len(pending) > 0:
						i := r.IntN(len(pending))
						e := pending[i]
						if e.tm.IsZero() {
							continue
						}
						require.True(t, q.Cancel(e.tm))
						require.False(t, q.Cancel(e.tm))
						pending = slices.Delete(pending, i, i+1)
					default:
						id++
						e := &ref{at: max(tt.at(r, now), -1<<63), id: id}
						if r.IntN(2) == 0 {
							e.tm = q.PushTimer(Event{At: e.at, A: id})
						} else {
							q.Push(Event{At: e.at, A: id})
						}
						pending = append(pending, e)
					}
					require.Equal(t, len(pending), q.Len())
				}
				if round == 2 {
					slices.SortFunc(pending, func(a, b *ref) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
					for _, e := range pending {
						ev, ok := q.Pop()
						require.True(t, ok)
						require.Equal(t, e.id, ev.A)
					}
					_, ok := q.Pop()
					require.False(t, ok)
				}
				q.Reset()
				require.Zero(t, q.Len())
				for _, e := range pending {
					require.False(t, q.Active(e.tm), "timer survives Reset")
				}
			}
		})
	}
}

// TestFarTierMemoryBounded cancels far-future timers in a long hold run and
// checks that the far tier's slab stays proportional to the live count.
func TestFarTierMemoryBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var q Queue
	const live = 2000
	for i := range live {
		q.Push(Event{At: model.Instant(r.IntN(1000)), A: int32(i)})
	}
	maxSlab := 0
	for i := range 400000 {
		ev, ok := q.Pop()
		require.True(t, ok)
		// a far-future TTL, cancelled at once, and the next hold event
		q.Cancel(q.PushTimer(Event{At: ev.At + 1<<40 + model.Instant(i)}))
		ev.At += model.Instant(r.ExpFloat64() * 1000)
		q.Push(ev)
		maxSlab = max(maxSlab, len(q.slab))
	}
	require.Equal(t, live, q.Len())
	require.LessOrEqual(t, maxSlab, 4*(live+live/compactShare+1+len(q.bk)/8*chunkLen))
	require.LessOrEqual(t, len(q.cells), live+live/compactShare+1)
}

// TestFarTierShrinksAfterPeak checks that a past peak in the far tier does
// not pin memory.
func TestFarTierShrinksAfterPeak(t *testing.T) {
	var q Queue
	var timers []Timer
	for i := range 200000 {
		timers = append(timers, q.PushTimer(Event{At: model.Instant(1e9 + i*1000)}))
	}
	for _, tm := range timers[10:] {
		require.True(t, q.Cancel(tm))
	}
	require.Equal(t, 10, q.Len())
	require.Less(t, len(q.slab), 200000/4)
	for i := range 10 {
		ev, ok := q.Pop()
		require.True(t, ok)
		require.Equal(t, model.Instant(1e9+i*1000), ev.At)
	}
}

// TestKeepArraysNeverShrinks: after KeepArrays the same past peak is
// compacted where it lies (no array is made smaller, none is allocated),
// and the events pop as they do from a queue that shrank.
func TestKeepArraysNeverShrinks(t *testing.T) {
	var shrunk, kept Queue
	kept.KeepArrays()
	var ts, tk []Timer
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 200000 {
		ev := Event{At: model.Instant(1e9 + r.IntN(1e8)), A: int32(i)}
		ts = append(ts, shrunk.PushTimer(ev))
		tk = append(tk, kept.PushTimer(ev))
		if i%7 == 0 { // some near the front too
			shrunk.Push(Event{At: model.Instant(i), A: -int32(i)})
			kept.Push(Event{At: model.Instant(i), A: -int32(i)})
		}
	}
	slab, h := cap(kept.slab), cap(kept.h)
	for i := 10; i < len(ts); i++ {
		require.Equal(t, shrunk.Cancel(ts[i]), kept.Cancel(tk[i]))
	}
	require.Less(t, cap(shrunk.slab), slab/4, "without KeepArrays the past peak is released")
	require.Equal(t, slab, cap(kept.slab), "the far tier's slab stays")
	require.GreaterOrEqual(t, cap(kept.h), h)
	require.Equal(t, shrunk.Len(), kept.Len())
	for shrunk.Len() > 0 {
		a, _ := shrunk.Pop()
		b, ok := kept.Pop()
		require.True(t, ok)
		require.Equal(t, a, b)
	}
	_, ok := kept.Pop()
	require.False(t, ok)
}

// TestQueueDigitBoundaries checks the far tier's splits at a bucket's lowest
// possible time: times on and next to multiples of powers of 64 (bucket
// bases at every level), around 0 and next to both ends of int64, pushed,
// cancelled and popped in random interleavings against a sort-based
// reference, with payloads at the extremes of their types.
func TestQueueDigitBoundaries(t *testing.T) {
	origins := []struct {
		name string
		at   model.Instant
	}{
		{"zero", 0},
		{"negative", -1 << 40},
		{"max", model.Never - 1<<20},
		{"min", -1 << 63},
	}
	for _, o := range origins {
		t.Run(o.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(17, uint64(o.at)))
			draw := func(now model.Instant) model.Instant {
				l := r.IntN(11)
				step := int64(1) << (6 * l)
				k := int64(r.IntN(4))
				d := int64(r.IntN(3)) - 1 // on a multiple, or next to one
				at := now
				switch r.IntN(8) {
				case 0:
					return model.Never
				case 1:
					return -1 << 63
				case 2:
					return now // the current instant
				}
				if r.IntN(3) == 0 {
					d = r.Int64N(step) // anywhere in the step
				}
				if l < 10 && step*k+step <= int64(model.Never-now) {
					at = (now &^ model.Instant(step-1)) + model.Instant(step*k+d)
				}
				return min(max(at, -1<<63), model.Never)
			}
			type ref struct {
				ev  Event
				seq int
				tm  Timer
			}
			var q Queue
			var pending []*ref
			now := o.at
			seq := 0
			for op := range 30000 {
				switch x := r.IntN(100); {
				case x < 40 && len(pending) > 0:
					i := 0
					for j, e := range pending {
						if e.ev.At < pending[i].ev.At || (e.ev.At == pending[i].ev.At && e.seq < pending[i].seq) {
							i = j
						}
					}
					want := pending[i]
					pending = slices.Delete(pending, i, i+1)
					if r.IntN(4) == 0 {
						ev, ok := q.Peek()
						require.True(t, ok)
						require.Equal(t, want.ev, ev, "op %d", op)
					}
					ev, ok := q.Pop()
					require.True(t, ok, "op %d", op)
					require.Equal(t, want.ev, ev, "op %d", op)
					require.False(t, q.Active(want.tm))
					now = max(now, ev.At)
				case x < 55 && len(pending) > 0:
					i := r.IntN(len(pending))
					if e := pending[i]; !e.tm.IsZero() {
						require.True(t, q.Cancel(e.tm))
						require.False(t, q.Active(e.tm))
						pending = slices.Delete(pending, i, i+1)
					}
				default:
					seq++
					ev := Event{
						At:   draw(now),
						Kind: Kind(r.Uint32()),
						A:    int32(r.Uint32()),
						B:    []int32{-1, -1 << 31, 1<<31 - 1, int32(seq)}[r.IntN(4)],
						C:    []uint32{0, 1<<32 - 1, uint32(seq)}[r.IntN(3)],
					}
					e := &ref{ev: ev, seq: seq}
					if r.IntN(2) == 0 {
						e.tm = q.PushTimer(ev)
					} else {
						q.Push(ev)
					}
					pending = append(pending, e)
				}
				require.Equal(t, len(pending), q.Len(), "op %d", op)
			}
			slices.SortFunc(pending, func(a, b *ref) int { return cmp.Or(cmp.Compare(a.ev.At, b.ev.At), cmp.Compare(a.seq, b.seq)) })
			for _, e := range pending {
				ev, ok := q.Pop()
				require.True(t, ok)
				require.Equal(t, e.ev, ev)
			}
			_, ok := q.Pop()
			require.False(t, ok)
		})
	}
}

// checkChunks verifies that every chunk handed out is either in exactly one
// far bucket's list or on the free list, and that the bucket sizes add up to
// the far count.
func checkChunks(t *testing.T, q *Queue) {
	t.Helper()
	seen := make([]bool, q.used)
	far := 0
	var buf [len(q.bk)]int
	for _, i := range q.farBuckets(buf[:0]) {
		b := q.bk[i]
		for c := b.head; ; c = q.next[c] {
			require.False(t, seen[c], "chunk %d twice", c)
			seen[c] = true
			if c == b.tail {
				far += int(b.n)
				break
			}
			far += chunkLen
		}
	}
	for c := q.freeC; c != 0; c = q.next[c-1] {
		require.False(t, seen[c-1], "free chunk %d in use", c-1)
		seen[c-1] = true
	}
	require.NotContains(t, seen, false, "chunk leaked")
	require.Equal(t, q.far, far)
}

// TestCompactFarInPlace cancels most of the timers of far buckets spanning
// many chunks, so that compaction keeps a few entries scattered over each
// chunk list, and checks the order of the survivors and the chunk lists.
func TestCompactFarInPlace(t *testing.T) {
	for _, keepEvery := range []int{1000, 7, 3, 2} {
		t.Run(fmt.Sprint(keepEvery), func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, uint64(keepEvery)))
			var q Queue
			q.Push(Event{At: 1, A: -1})
			type ref struct {
				at model.Instant
				id int32
				tm Timer
			}
			var all []ref
			for i := range int32(5000) {
				at := model.Instant(1<<20 + r.IntN(1<<14)) // few buckets, many chunks each
				all = append(all, ref{at, i, q.PushTimer(Event{At: at, A: i})})
			}
			ev, _ := q.Pop() // moves lim, so the rest is in the far tier
			require.Equal(t, int32(-1), ev.A)
			var kept []ref
			for _, i := range r.Perm(len(all)) {
				if i%keepEvery == 0 {
					continue
				}
				require.True(t, q.Cancel(all[i].tm))
			}
			for i, e := range all {
				if i%keepEvery == 0 {
					kept = append(kept, e)
				}
			}
			checkChunks(t, &q)
			require.Equal(t, len(kept), q.Len())
			require.LessOrEqual(t, q.far, 2*len(kept)+1)
			slices.SortFunc(kept, func(a, b ref) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
			for _, e := range kept {
				ev, ok := q.Pop()
				require.True(t, ok)
				require.Equal(t, e.id, ev.A)
				require.Equal(t, e.at, ev.At)
			}
			_, ok := q.Pop()
			require.False(t, ok)
			checkChunks(t, &q)
		})
	}
}

// refHeap is a reference priority queue of (at, seq) for the hold tests.
type refItem struct {
	at  model.Instant
	seq int32
}

type refHeap []refItem

func (h refHeap) Len() int { return len(h) }
func (h refHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h refHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)   { *h = append(*h, x.(refItem)) }
func (h *refHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TestQueueRangesAgainstReference runs hold models whose density ranges
// from many events per instant to one per several blocks, so that the far
// tier hands out blocks of 64 instants, wider ranges (2 to several digits,
// split off a bucket or the whole bucket) sorted by the multi-pass radix
// sort, and a few events sorted by insertion; times on multiples of 64^k
// (passes skipped because all events share a digit) and ties at one instant
// (stable passes keep insertion order); pushes earlier than the run's last
// entry, timers cancelled at random, around zero and near the ends of int64.
// The pop order is checked against a reference heap on (At, insertion).
func TestQueueRangesAgainstReference(t *testing.T) {
	type regime struct {
		name  string
		n     int
		mean  float64
		grain model.Instant // times are rounded down to a multiple of grain
	}
	regimes := []regime{
		{"dense", 2000, 100, 1},
		{"ties", 3000, 1000, 1},
		{"minute", 1000, 60000, 1},
		{"sparse", 3000, 3.6e6, 1},
		{"very sparse", 300, 1e12, 1},
		{"sparse grain 64", 3000, 3.6e6, 64},
		{"sparse grain 4096", 3000, 3.6e8, 4096},
		{"sparse grain 1000", 5000, 3.6e6, 1000},
		{"small", 12, 3.6e6, 1},
	}
	origins := []model.Instant{0, -1 << 40, -1<<63 + 1<<20, model.Never - 1<<50}
	for _, rg := range regimes {
		for oi, origin := range origins {
			t.Run(fmt.Sprintf("%s/origin=%d", rg.name, oi), func(t *testing.T) {
				r := rand.New(rand.NewPCG(23, uint64(oi)<<8|uint64(len(rg.name))))
				var q Queue
				var ref refHeap
				timers := map[int32]Timer{}
				gone := map[int32]bool{}
				seq := int32(0)
				draw := func(now model.Instant) model.Instant {
					d := model.Instant(r.ExpFloat64() * rg.mean)
					if r.IntN(50) == 0 {
						d = model.Instant(r.IntN(100)) // into the current range
					}
					at := now + d
					if at < now { // overflow near the top
						at = model.Never
					}
					return max(at-(at-origin)%rg.grain, now)
				}
				push := func(now model.Instant) {
					seq++
					at := draw(now)
					ev := Event{At: at, A: seq, B: int32(at), C: uint32(at >> 32)}
					if r.IntN(3) == 0 {
						timers[seq] = q.PushTimer(ev)
					} else {
						q.Push(ev)
					}
					heap.Push(&ref, refItem{at: at, seq: seq})
				}
				for range rg.n {
					push(origin)
				}
				live := rg.n
				for op := range 40 * rg.n {
					if r.IntN(8) == 0 && len(timers) > 0 {
						// cancel a random pending timer
						for id, tm := range timers {
							require.True(t, q.Cancel(tm))
							delete(timers, id)
							gone[id] = true
							live--
							break
						}
					}
					for len(ref) > 0 && gone[ref[0].seq] {
						heap.Pop(&ref)
					}
					if len(ref) == 0 {
						break
					}
					want := heap.Pop(&ref).(refItem)
					ev, ok := q.Pop()
					require.True(t, ok, "op %d", op)
					require.Equal(t, want.seq, ev.A, "op %d", op)
					require.Equal(t, want.at, ev.At, "op %d", op)
					require.Equal(t, Event{At: want.at, A: want.seq, B: int32(want.at), C: uint32(want.at >> 32)}, ev)
					delete(timers, ev.A)
					live--
					for k := r.IntN(3); k > 0 && live < rg.n; k-- { // keep about n pending
						push(ev.At)
						live++
					}
					require.Equal(t, live, q.Len(), "op %d", op)
				}
				checkChunks(t, &q)
			})
		}
	}
}

// Popping every timer of a queue frees every cell at once (the end of a
// run), and the free list has room for them from the start: no append
// grows it, so nothing is allocated.
func TestFreeCellsNeverGrowTheFreeList(t *testing.T) {
	var q Queue
	for i := range 20000 {
		q.PushTimer(Event{At: model.Instant(i * 7 % 20011)})
	}
	require.GreaterOrEqual(t, cap(q.free), len(q.cells))
	allocs := testing.AllocsPerRun(1, func() {
		for {
			if _, ok := q.Pop(); !ok {
				break
			}
		}
	})
	require.Zero(t, allocs)
	require.Len(t, q.free, 20000)
}
