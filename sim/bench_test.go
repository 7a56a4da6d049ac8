package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lockstep-sim/lockstep/model"
)

// holdDelays returns a ring of exponential delays with mean 1 s (1000 ms),
// drawn before the timer starts so the benchmarks measure the queue.
func holdDelays() []model.Duration { return expDelays(1000) }

// expDelays returns a ring of exponential delays with the given mean in
// milliseconds, rounded down to the clock's millisecond.
func expDelays(mean float64) []model.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]model.Duration, 1<<16)
	for i := range d {
		d[i] = model.Duration(r.ExpFloat64() * mean)
	}
	return d
}

var holdSizes = []int{1e3, 1e5, 1e6}

// holdRegimes are the delay distributions of BenchmarkHold.
var holdRegimes = []struct {
	name string
	mean float64 // ms
}{
	// ties: mean 1 s on the millisecond clock. With N pending, about N/2000
	// events share each instant (25 at N=1e5), like the simulator's bursts
	// of same-instant events; the queue exploits them.
	{"ties", 1000},
	// sparse: mean 1 h, so practically every event has an instant of its
	// own (N/7.2e6 per instant): the continuous-time classic hold model.
	{"sparse", 3_600_000},
}

// BenchmarkHold is the hold model: N pending events; each operation pops the
// earliest and schedules one at now + Exp(mean), for each regime of
// holdRegimes (Hold/ties/N=1e5, Hold/sparse/N=1e5, ...).
func BenchmarkHold(b *testing.B) {
	for _, rg := range holdRegimes {
		delays := expDelays(rg.mean)
		for _, n := range holdSizes {
			b.Run(fmt.Sprintf("%s/N=1e%d", rg.name, int(math.Round(math.Log10(float64(n))))), func(b *testing.B) {
				benchHold(b, delays, n)
			})
		}
	}
}

func benchHold(b *testing.B, delays []model.Duration, n int) {
	var q Queue
	for i := 0; i < n; i++ {
		q.Push(Event{At: model.Instant(delays[i&(len(delays)-1)]) * 10, A: int32(i)})
	}
	// warm up to the steady state
	for i := 0; i < 2*n; i++ {
		ev, _ := q.Pop()
		ev.At = ev.At.Add(delays[i&(len(delays)-1)])
		q.Push(ev)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev, _ := q.Pop()
		ev.At = ev.At.Add(delays[i&(len(delays)-1)])
		q.Push(ev)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkScheduleCancel measures a cancellable timer that is cancelled
// before it fires (a parcel TTL cancelled on pickup), beside 1e5 background
// events. One op = PushTimer + Cancel.
func BenchmarkScheduleCancel(b *testing.B) {
	delays := holdDelays()
	var q Queue
	for i := 0; i < 1e5; i++ {
		q.Push(Event{At: model.Instant(delays[i&(len(delays)-1)]) * 100})
	}
	for i := 0; i < 4e5; i++ { // let the heap reach its steady size (stale <= live)
		q.Cancel(q.PushTimer(Event{At: model.Instant(delays[i&(len(delays)-1)]) * 100}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := q.PushTimer(Event{At: model.Instant(delays[i&(len(delays)-1)]) * 100})
		q.Cancel(t)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// holdWorld is a Handler for the hold model inside the full run loop: each
// event schedules its successor at Now + Exp(mean 1 s); every eighth event
// also arms a TTL timer and cancels the previous one.
type holdWorld struct {
	delays []model.Duration
	i      int
	ttl    Timer
}

func (w *holdWorld) Handle(k *Kernel, ev Event) {
	w.i++
	k.After(w.delays[w.i&(len(w.delays)-1)], ev.Kind, ev.A, 0, 0)
	if w.i&7 == 0 {
		k.Cancel(w.ttl)
		w.ttl = k.AfterTimer(6*model.Hour, 2, ev.A, 0, 0)
	}
}

// BenchmarkKernelRun measures Kernel.Run (handler dispatch, horizon and stop
// checks, statistics) over the hold model with 1e5 pending events. One op is
// one executed event.
func BenchmarkKernelRun(b *testing.B) {
	delays := holdDelays()
	k := NewKernel(0, 0, model.Duration(model.Never))
	for i := 0; i < 1e5; i++ {
		k.Schedule(model.Instant(delays[i&(len(delays)-1)])*10, 1, int32(i), 0, 0)
	}
	w := &holdWorld{delays: delays}
	var n int
	k.Stop = func() bool { n++; return n >= 2e6 }
	k.Run(w) // reach the steady state
	n = 0
	k.Stop = func() bool { n++; return n >= b.N }
	b.ReportAllocs()
	b.ResetTimer()
	st := k.Run(w)
	b.StopTimer()
	if st.Events != uint64(b.N) {
		b.Fatalf("ran %d events, want %d", st.Events, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
