package sweep

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peakLiveHeap runs sw with Run (work file, sweep.json/csv, plots) while
// a sampler forces a GC every few milliseconds and records the largest live
// heap (HeapAlloc right after a GC): unlike RSS or HeapInuse it does not
// depend on when the collector happens to run. progress, if set, is called
// after every work item.
func peakLiveHeap(t *testing.T, sw *Sweep, progress func(done, total int)) uint64 {
	t.Helper()
	var (
		mu   sync.Mutex
		peak uint64
	)
	sample := func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapAlloc)
		mu.Unlock()
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	out, err := Run(context.Background(), sw, t.TempDir(), Options{Workers: 2, Progress: progress})
	sample() // after the plots, in case the run was shorter than a tick
	close(stop)
	<-done
	require.NoError(t, err)
	require.Len(t, out.Plot, sw.Info.Points)
	mu.Lock()
	defer mu.Unlock()
	return peak
}

// Results stream to disk: the peak live heap of a 200-point sweep is that of a
// 4-point one plus a little (the plotted metric per point and larger plots),
// not one simulation's worth per point or item. The bound is generous (the
// peak varies by a few MiB with when the sampler lands, e.g. during plot
// rendering): it catches keeping per-run state (~60 KiB per point or more),
// not small per-point records. A control run that keeps
// 2.5 MiB per work item (about one quickstart simulation's live heap) must
// exceed the same bound, so the measurement itself is known to see growth.
// 1-2 s on two cores (about 12 s with -race).
func TestSweepMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 230 short simulations")
	}
	ttl := func(n int) Vary {
		v := Vary{Path: "labels.ttl.ready_for_pickup"}
		for i := 1; i <= n; i++ {
			v.Values = append(v.Values, fmt.Sprintf("%dh", i))
		}
		return v
	}
	fleet := Vary{Path: "couriers.fleet", Values: []string{"2", "3"}}
	small := quickSweep(t, 1, fleet, ttl(2))
	large := quickSweep(t, 1, fleet, ttl(100))
	require.Equal(t, 4, small.Info.Points)
	require.Equal(t, 200, large.Info.Points)

	// the small sweep is over in a few ticks: take its largest of three runs
	var base uint64
	for range 3 {
		base = max(base, peakLiveHeap(t, small, nil))
	}
	const slack = 12 << 20 // observed spread of the peak: about 5 MiB
	got := peakLiveHeap(t, large, nil)
	t.Logf("peak live heap: %d points %.1f MiB, %d points %.1f MiB", small.Info.Points, float64(base)/(1<<20), large.Info.Points, float64(got)/(1<<20))
	assert.Less(t, got, base+slack, "a 50x larger grid must not grow the live heap by %d MiB", slack>>20)

	// control: 20 items each keeping 2.5 MiB (50 MiB in all) exceed the bound
	var kept [][]byte
	leaky := quickSweep(t, 5, fleet, ttl(2))
	leak := peakLiveHeap(t, leaky, func(done, total int) { kept = append(kept, make([]byte, 5<<19)) })
	require.Len(t, kept, leaky.Info.Items())
	t.Logf("control keeping 2.5 MiB per item: %.1f MiB", float64(leak)/(1<<20))
	assert.Greater(t, leak, base+slack, "the measurement sees memory kept per item")
	runtime.KeepAlive(kept)
}
