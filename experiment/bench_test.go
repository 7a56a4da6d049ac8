package experiment

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// benchScenario runs one replication of a bench scenario per iteration and
// reports parcels (orders, warm-up included) simulated per second, core and
// kernel events per second, and live-MB: the largest live heap (HeapAlloc
// right after a forced GC) seen at the end of every fifth simulated day and
// of the last, over all iterations. The forced collections run with the
// timer stopped, so they do not count in the rates; what they change is when
// the collector next runs, as a normal collection would.
func benchScenario(b *testing.B, path string) {
	s, err := scenarios.Load(path)
	require.NoError(b, err)
	cfg, err := s.Config()
	require.NoError(b, err)
	days := cfg.Days()
	var (
		ms   runtime.MemStats
		live uint64
	)
	onDay := func(d int) {
		if d%5 != 0 && d != days {
			return
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live = max(live, ms.HeapAlloc)
		b.StartTimer()
	}
	b.ReportAllocs()
	b.ResetTimer()
	var parcels, coreEvents, kernelEvents uint64
	for i := 0; i < b.N; i++ {
		r, err := sim.RunDaily(cfg, 0, nil, onDay)
		require.NoError(b, err)
		parcels += r.Parcels
		coreEvents += r.Stats.Events
		kernelEvents += r.KernelEvents
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(parcels)/sec, "parcels/s")
	b.ReportMetric(float64(coreEvents)/sec, "core-events/s")
	b.ReportMetric(float64(kernelEvents)/sec, "kernel-events/s")
	b.ReportMetric(float64(live)/(1<<20), "live-MB")
}

// BenchmarkLockerDay: scenarios/bench/locker-day.yaml, one district of 50
// lockers, 8 000 orders/day, 30 days (240 000 parcels). Target >= 1 000 000
// parcels/s on 2 cores (issue 17; 500 000 before).
func BenchmarkLockerDay(b *testing.B) { benchScenario(b, "../scenarios/bench/locker-day.yaml") }

// BenchmarkLockerCity: the district ten times (500 lockers, 80 000
// orders/day, 2.4 M parcels; run with -benchtime 1x). Run with LockerDay
// in one invocation to compare the wall times (scripts/bench.sh).
func BenchmarkLockerCity(b *testing.B) { benchScenario(b, "../scenarios/bench/locker-city.yaml") }

// BenchmarkLockerRegion: the district 30 times (1 500 lockers, 240 000
// orders/day, 7.2 M parcels); run with -benchtime 1x.
func BenchmarkLockerRegion(b *testing.B) { benchScenario(b, "../scenarios/bench/locker-region.yaml") }

// BenchmarkLockerMetro: the district 100 times (5 000 lockers, 800 000
// orders/day, 24 M parcels); run with -benchtime 1x. Minutes of wall time
// and much more memory than the others: scripts/bench.sh does not run it;
// its scaling section runs the same scenario through lockstep run.
func BenchmarkLockerMetro(b *testing.B) { benchScenario(b, "../scenarios/bench/locker-metro.yaml") }

// BenchmarkPilot: one replication of the bundled pilot, the model in full
// (caches and replenishment, the central depot and line haul, finite
// pickers, logit choice with capacity-aware checkout, the demand calendar,
// reroute and return trips by couriers, the drain).
func BenchmarkPilot(b *testing.B) { benchScenario(b, "../scenarios/pilot-5-neighborhoods.yaml") }
