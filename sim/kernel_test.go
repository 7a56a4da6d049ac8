package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// recorder is a Handler that records what it sees and can react via hook.
type recorder struct {
	seen    []Event
	now     []model.Instant
	warm    []bool
	warmEnd []model.Instant // Now at each EndWarmup call
	hook    func(k *Kernel, ev Event)
}

func (r *recorder) Handle(k *Kernel, ev Event) {
	r.seen = append(r.seen, ev)
	r.now = append(r.now, k.Now)
	r.warm = append(r.warm, k.InWarmup())
	if r.hook != nil {
		r.hook(k, ev)
	}
}

func (r *recorder) EndWarmup(k *Kernel) { r.warmEnd = append(r.warmEnd, k.Now) }

func (r *recorder) as() []int32 {
	out := make([]int32, len(r.seen))
	for i, ev := range r.seen {
		out[i] = ev.A
	}
	return out
}

const t0 = model.Instant(1_700_000_000_000)

func TestKernelHorizon(t *testing.T) {
	tests := []struct {
		name    string
		offsets []model.Duration // event i at t0+offsets[i], A = i
		horizon model.Duration
		want    []int32
		end     EndReason
		pending int
	}{
		{"empty queue", nil, model.Hour, []int32{}, EndEmpty, 0},
		{"all inside", []model.Duration{1, 2, 3}, model.Hour, []int32{0, 1, 2}, EndEmpty, 0},
		{"event at horizon runs", []model.Duration{model.Hour}, model.Hour, []int32{0}, EndEmpty, 0},
		{"event after horizon stays", []model.Duration{5, model.Hour + 1, 7}, model.Hour, []int32{0, 2}, EndHorizon, 1},
		{"zero horizon", []model.Duration{0, 1}, 0, []int32{0}, EndHorizon, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKernel(t0, 0, tt.horizon)
			for i, d := range tt.offsets {
				k.Schedule(t0.Add(d), 1, int32(i), 0, 0)
			}
			var r recorder
			st := k.Run(&r)
			require.Equal(t, tt.want, r.as())
			require.Equal(t, tt.end, st.End)
			require.Equal(t, k.Horizon, k.Now, "clock advanced to the horizon")
			require.Equal(t, k.Horizon, st.Now)
			require.Equal(t, tt.pending, k.Pending())
			require.Equal(t, uint64(len(tt.want)), st.Events)
			require.Equal(t, uint64(len(tt.want)), k.Events())
			for _, now := range r.now {
				require.LessOrEqual(t, now, k.Horizon)
			}
		})
	}
}

func TestKernelResumeAfterHorizon(t *testing.T) {
	k := NewKernel(t0, 0, model.Minute)
	k.Schedule(t0.Add(30*model.Second), 1, 1, 0, 0)
	k.Schedule(t0.Add(90*model.Second), 1, 2, 0, 0)
	var r recorder
	require.Equal(t, EndHorizon, k.Run(&r).End)
	require.Equal(t, []int32{1}, r.as())
	k.Horizon = t0.Add(2 * model.Minute)
	st := k.Run(&r)
	require.Equal(t, EndEmpty, st.End)
	require.Equal(t, []int32{1, 2}, r.as())
	require.Equal(t, uint64(2), k.Events())
	require.Equal(t, uint64(1), st.Events)
}

func TestKernelWarmup(t *testing.T) {
	tests := []struct {
		name     string
		warmup   model.Duration
		offsets  []model.Duration
		wantWarm []bool
		calls    int
	}{
		{"boundary between events", 10, []model.Duration{0, 9, 10, 11}, []bool{true, true, false, false}, 1},
		{"no warm-up", 0, []model.Duration{0, 5}, []bool{false, false}, 1},
		{"all in warm-up, ends at horizon", 1000, []model.Duration{1, 2}, []bool{true, true}, 1},
		{"warm-up longer than horizon", 2 * model.Hour, []model.Duration{1}, []bool{true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKernel(t0, tt.warmup, model.Hour)
			require.Equal(t, t0.Add(tt.warmup), k.WarmupEnd)
			for i, d := range tt.offsets {
				k.Schedule(t0.Add(d), 1, int32(i), 0, 0)
			}
			var r recorder
			r.hook = func(k *Kernel, ev Event) {
				// EndWarmup must have been called iff this event is past warm-up.
				if k.Now >= k.WarmupEnd {
					require.Len(t, r.warmEnd, 1)
				} else {
					require.Empty(t, r.warmEnd)
				}
			}
			k.Run(&r)
			require.Equal(t, tt.wantWarm, r.warm)
			require.Len(t, r.warmEnd, tt.calls)
			for _, now := range r.warmEnd {
				require.Equal(t, k.WarmupEnd, now)
			}
			k.Run(&r)
			require.Len(t, r.warmEnd, tt.calls, "EndWarmup is called once per kernel")
		})
	}
}

// warmScheduler schedules an event from EndWarmup; it must run.
type warmScheduler struct{ recorder }

func (w *warmScheduler) EndWarmup(k *Kernel) {
	w.recorder.EndWarmup(k)
	k.After(0, 9, 99, 0, 0)
}

func TestKernelWarmupObserverSchedules(t *testing.T) {
	for _, offsets := range [][]model.Duration{{1, 20}, {1}, nil} {
		k := NewKernel(t0, 10, 100)
		for i, d := range offsets {
			k.Schedule(t0.Add(d), 1, int32(i), 0, 0)
		}
		var w warmScheduler
		k.Run(&w)
		require.Contains(t, w.as(), int32(99), "offsets %v", offsets)
		i := len(w.seen) - 1
		if len(offsets) == 2 {
			i = 1
		}
		require.Equal(t, int32(99), w.seen[i].A)
		require.Equal(t, k.WarmupEnd, w.now[i])
	}
}

func TestKernelStop(t *testing.T) {
	tests := []struct {
		name  string
		setup func(k *Kernel, r *recorder)
		want  int
	}{
		{"stop hook", func(k *Kernel, r *recorder) {
			k.Stop = func() bool { return len(r.seen) == 5 }
		}, 5},
		{"halt from handler", func(k *Kernel, r *recorder) {
			r.hook = func(k *Kernel, ev Event) {
				if ev.A == 2 {
					k.Halt()
				}
			}
		}, 3},
		{"stop never true", func(k *Kernel, r *recorder) {
			k.Stop = func() bool { return false }
		}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKernel(t0, 0, model.Hour)
			for i := range 10 {
				k.Schedule(t0.Add(model.Duration(i)), 1, int32(i), 0, 0)
			}
			var r recorder
			tt.setup(k, &r)
			st := k.Run(&r)
			require.Equal(t, uint64(tt.want), st.Events)
			if tt.want < 10 {
				require.Equal(t, EndStopped, st.End)
				require.Equal(t, t0.Add(model.Duration(tt.want-1)), k.Now, "clock stays at the last event")
				require.Equal(t, 10-tt.want, k.Pending())
				k.Stop = nil
				r.hook = nil
				st = k.Run(&r)
				require.Equal(t, EndEmpty, st.End)
				require.Equal(t, uint64(10-tt.want), st.Events)
			}
			require.Len(t, r.seen, 10)
		})
	}
}

func TestKernelPastIsClamped(t *testing.T) {
	k := NewKernel(t0, 0, model.Hour)
	k.Schedule(t0.Add(10), 1, 0, 0, 0)
	var r recorder
	r.hook = func(k *Kernel, ev Event) {
		switch ev.A {
		case 0:
			k.Schedule(k.Now, 1, 1, 0, 0)     // same time: fine
			k.Schedule(k.Now-5, 1, 2, 0, 0)   // past: clamped, runs after A=1
			k.After(-3, 1, 3, 0, 0)           // negative delay: clamped
			k.ScheduleTimer(t0-1, 1, 4, 0, 0) // before Start: clamped
		}
	}
	st := k.Run(&r)
	require.Equal(t, []int32{0, 1, 2, 3, 4}, r.as())
	for _, now := range r.now {
		require.Equal(t, t0.Add(10), now)
	}
	require.Equal(t, uint64(3), k.Clamped)
	require.Equal(t, uint64(3), st.Clamped)
	k2 := NewKernel(t0, 0, model.Hour)
	k2.Schedule(t0-1, 1, 0, 0, 0)
	require.Equal(t, uint64(1), k2.Clamped, "before Start counts too")
}

func TestKernelTimers(t *testing.T) {
	const (
		kindTTL Kind = iota + 1
		kindPickup
	)
	k := NewKernel(t0, 0, model.Day)
	var ttl [4]Timer
	for i := range ttl {
		ttl[i] = k.AfterTimer(6*model.Hour, kindTTL, int32(i), 0, 0)
		if i%2 == 0 {
			k.After(model.Hour*model.Duration(i+1), kindPickup, int32(i), 0, 0)
		}
	}
	fired := map[int32]bool{}
	h := HandlerFunc(func(k *Kernel, ev Event) {
		switch ev.Kind {
		case kindPickup:
			require.True(t, k.Active(ttl[ev.A]))
			require.True(t, k.Cancel(ttl[ev.A]))
			require.False(t, k.Cancel(ttl[ev.A]))
		case kindTTL:
			fired[ev.A] = true
			require.False(t, k.Active(ttl[ev.A]), "a timer is inactive once it fires")
		}
	})
	st := k.Run(h)
	require.Equal(t, map[int32]bool{1: true, 3: true}, fired)
	require.Equal(t, uint64(2), st.Cancelled)
	require.Equal(t, uint64(4), st.Events)
	require.Equal(t, 6, st.MaxQueue)
	require.False(t, k.Cancel(ttl[1]), "fired")
	require.False(t, k.Cancel(Timer{}), "zero")
}

func TestKernelDeterministic(t *testing.T) {
	run := func() []Event {
		k := NewKernel(t0, model.Minute, model.Hour)
		rng := NewStreams(42, 3).Rand("arrivals")
		var out []Event
		var timers []Timer
		h := HandlerFunc(func(k *Kernel, ev Event) {
			out = append(out, ev)
			if ev.Kind == 1 {
				k.After(model.Duration(rng.IntN(60_000)), 1, ev.A+1, 0, 0)
				timers = append(timers, k.AfterTimer(model.Duration(rng.IntN(120_000)), 2, ev.A, 0, 0))
				if rng.IntN(2) == 0 {
					k.Cancel(timers[rng.IntN(len(timers))])
				}
			}
		})
		k.Schedule(t0, 1, 0, 0, 0)
		k.Run(h)
		return out
	}
	a, b := run(), run()
	require.Greater(t, len(a), 50)
	require.Equal(t, a, b)
}

func TestEndReasonString(t *testing.T) {
	for r, s := range map[EndReason]string{EndEmpty: "empty", EndHorizon: "horizon", EndStopped: "stopped", 0: "unknown"} {
		require.Equal(t, s, r.String())
	}
}

// peekRecorder is a prefetcher that records what Queue.upcoming shows it:
// the next event and the one after (zero Events for nil).
type peekRecorder struct{ next, after []Event }

func asEvent(it *item) Event {
	if it == nil {
		return Event{}
	}
	kind, a, b, c := it.payload()
	return Event{At: it.at, Kind: kind, A: a, B: b, C: c}
}

func (p *peekRecorder) prefetch(q *Queue) {
	n, a := q.upcoming()
	p.next, p.after = append(p.next, asEvent(n)), append(p.after, asEvent(a))
}

// The kernel calls its prefetcher before each event, and it is shown as
// next the event handed over next, unless the handler schedules one
// earlier in between or cancels it; and as after next, the event after
// that, unless something scheduled in between or a cancelled entry comes
// first: the prefetches aim at the right events. The handler schedules
// like the simulated city does, mostly far ahead (a label's next step),
// sometimes within the instant's block (a timer that fires soon), and
// cancels timers, so the queue's run, its heap and stale entries all take
// part.
func TestKernelPrefetchSeesTheNextEvents(t *testing.T) {
	k := NewKernel(t0, 0, model.Day)
	rec := &peekRecorder{}
	k.pf = rec
	rng := NewStreams(9, 1).Rand("gaps")
	var (
		got    []Event
		timers []Timer
		timerC []uint32
		gone   = map[uint32]bool{} // C of the cancelled timers
		seq    uint32              // C of the next event scheduled: unique
		by     = []int{-1}         // by[C]: the index in got of the event that scheduled it
	)
	schedule := func(d model.Duration, kind Kind, a, b int32, timer bool) {
		seq++
		by = append(by, len(got)-1)
		if timer {
			timers, timerC = append(timers, k.AfterTimer(d, kind, a, b, seq)), append(timerC, seq)
		} else {
			k.After(d, kind, a, b, seq)
		}
	}
	for i := range 2000 {
		seq++
		by = append(by, -1)
		k.Schedule(t0.Add(model.Duration(rng.IntN(int(model.Hour)))), 1, int32(i), 0, seq)
	}
	cancels := 0
	k.Run(HandlerFunc(func(k *Kernel, ev Event) {
		got = append(got, ev)
		if ev.Kind != 1 || ev.B > 8 {
			return
		}
		schedule(model.Duration(1+rng.IntN(int(model.Hour))), 1, ev.A, ev.B+1, false)
		if rng.IntN(8) == 0 {
			schedule(model.Duration(rng.IntN(50)), 2, ev.A, 0, true)
		}
		if len(timers) > 0 && rng.IntN(16) == 0 {
			if j := rng.IntN(len(timers)); k.Cancel(timers[j]) {
				gone[timerC[j]] = true
				cancels++
			}
		}
	}))
	require.Greater(t, len(got), 15000)
	require.Positive(t, cancels)
	require.Len(t, rec.next, len(got))
	hits, afterHits, dry := 0, 0, 0
	for i := 0; i+1 < len(got); i++ {
		switch shown := rec.next[i]; {
		case shown == got[i+1]:
			hits++
		case shown == Event{}:
			dry++ // the near tier was empty: the next comes from the far tier
		case by[got[i+1].C] != i && !gone[shown.C]:
			t.Errorf("event %d: shown %+v as next, ran %+v, which was queued already", i+1, shown, got[i+1])
		}
		if i+2 < len(got) && rec.after[i] == got[i+2] {
			afterHits++
		}
	}
	t.Logf("%d events: next shown right %d times (near tier empty %d), after next %d", len(got), hits, dry, afterHits)
	require.Greater(t, hits, len(got)*3/4, "shown as next: mostly the next event")
	require.Greater(t, afterHits, len(got)/2, "shown as after next: often the event after next")
}
