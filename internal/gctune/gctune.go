// Package gctune keeps the garbage collector's headroom in proportion to a
// large live heap.
//
// Go's default, GOGC=100, lets the heap grow to twice what was live after
// the last collection before it collects again. For a small heap that
// headroom is a few megabytes and buys fewer collections. A simulator's
// heap is different when the city is large: nearly all of it is the
// parcels in flight, which stay live, so at 300 MB live the default lets
// the process hold 600 MB while the slabs grow and their old copies wait
// for the next cycle. Peak RSS then follows the headroom, not the model.
//
// A Tuner lowers GOGC after each collection so that the headroom is
// Floor bytes, but never less than Min % of the live heap nor more than
// Max % (the default 100):
//
//	stop := gctune.Default.Start() // in main, before any work
//	defer stop()
//
// With the Default tuner a heap below 16 MiB keeps GOGC=100; at 64 MiB
// live it collects at 25 % headroom (16 MiB), and from 160 MiB live on at
// 10 %. In a run the allocation after the slabs have grown is small
// (the event loop allocates nothing), so a tight headroom costs few extra
// collections; on a machine with a core to spare (one replication on two
// cores) their marking runs beside the simulation and costs no wall time.
// Setting the GOGC or GOMEMLIMIT environment variable leaves the collector
// to the user: Start then does nothing. The collector's pace never changes
// what a run computes, only when memory is reclaimed.
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// A Tuner sets GOGC from the live heap after every collection.
type Tuner struct {
	Floor uint64 // headroom in bytes that a heap of any size may keep
	Min   int    // lowest GOGC (% of the live heap) it sets
	Max   int    // highest GOGC it sets: small heaps run at this
}

// Default is the tuner lockstep's command runs with: 16 MiB of headroom,
// GOGC between 10 and 100.
var Default = Tuner{Floor: 16 << 20, Min: 10, Max: 100}

// Percent is the GOGC value for a live heap of live bytes: the headroom
// Floor as a share of live, rounded up, within [Min, Max].
func (t Tuner) Percent(live uint64) int {
	p := t.Max
	if live > 0 && t.Floor/live < uint64(t.Max) {
		p = int((t.Floor*100 + live - 1) / live)
	}
	return min(max(p, t.Min), t.Max)
}

// Start adapts GOGC after every garbage collection until the returned
// function is called, which puts back the GOGC in force before. It does
// nothing, and returns a no-op, when the GOGC or GOMEMLIMIT environment
// variable is set.
func (t Tuner) Start() (stop func()) {
	if userSet() {
		return func() {}
	}
	return t.start(nil)
}

// userSet reports whether the user chose the collector's settings.
func userSet() bool {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	return gogc || limit
}

// start is Start with a hook called with each GOGC it sets (for tests).
func (t Tuner) start(set func(int)) (stop func()) {
	r := &run{t: t, set: set, cur: t.Max}
	r.before = debug.SetGCPercent(t.Max)
	r.sample[0].Name = "/gc/heap/live:bytes"
	r.arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.stopped.Store(true)
			r.mu.Lock()
			defer r.mu.Unlock()
			debug.SetGCPercent(r.before)
		})
	}
}

// run is one started tuner. A sentinel object, unreachable as soon as it
// is made, has a finalizer; the collector runs it after the cycle that
// found the sentinel dead, and the finalizer arms a new one: a callback
// after every collection, on the finalizer goroutine.
type run struct {
	t       Tuner
	set     func(int)
	before  int
	stopped atomic.Bool
	mu      sync.Mutex // orders adjust against stop
	cur     int
	sample  [1]metrics.Sample
}

type sentinel struct{ r *run }

func (r *run) arm() {
	runtime.SetFinalizer(&sentinel{r}, func(s *sentinel) {
		if s.r.stopped.Load() {
			return
		}
		s.r.adjust()
		s.r.arm()
	})
}

// adjust sets GOGC for the live heap the last collection marked.
func (r *run) adjust() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped.Load() {
		return
	}
	metrics.Read(r.sample[:])
	if r.sample[0].Value.Kind() != metrics.KindUint64 {
		return // the runtime does not report it: leave GOGC as it is
	}
	p := r.t.Percent(r.sample[0].Value.Uint64())
	if p != r.cur {
		debug.SetGCPercent(p)
		r.cur = p
	}
	if r.set != nil {
		r.set(p)
	}
}
