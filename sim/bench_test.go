package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lockstep-sim/lockstep/model"
)

// holdDelays returns a ring of exponential delays with mean 1 s (1000 ms),
// drawn before the timer starts so the benchmarks measure the queue.
func holdDelays() []model.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]model.Duration, 1<<16)
	for i := range d {
		d[i] = model.Duration(r.ExpFloat64() * 1000)
	}
	return d
}

var holdSizes = []int{1e3, 1e5, 1e6}

// BenchmarkHold is the classic hold model: N pending events; each operation
// pops the earliest and schedules one at now + Exp(mean 1 s).
func BenchmarkHold(b *testing.B) {
	delays := holdDelays()
	for _, n := range holdSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
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
		})
	}
}
