package experiment

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// benchScenario runs one replication of a bench scenario per iteration and
// reports parcels (orders) simulated per second and core events per second.
func benchScenario(b *testing.B, path string) {
	s, err := scenarios.Load(path)
	require.NoError(b, err)
	cfg, err := s.Config()
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	var parcels, coreEvents, kernelEvents uint64
	for i := 0; i < b.N; i++ {
		r, err := sim.Run(cfg, 0)
		require.NoError(b, err)
		parcels += r.Parcels
		coreEvents += r.Stats.Events
		kernelEvents += r.KernelEvents
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(parcels)/sec, "parcels/s")
	b.ReportMetric(float64(coreEvents)/sec, "core-events/s")
	b.ReportMetric(float64(kernelEvents)/sec, "kernel-events/s")
}

// BenchmarkLockerDay: scenarios/bench/locker-day.yaml, 50 lockers, 8 000
// orders/day, 30 days. Target >= 500 000 parcels/s on 2 cores.
func BenchmarkLockerDay(b *testing.B) { benchScenario(b, "../scenarios/bench/locker-day.yaml") }

// BenchmarkLockerCity: ten times larger (run with -benchtime 1x).
func BenchmarkLockerCity(b *testing.B) { benchScenario(b, "../scenarios/bench/locker-city.yaml") }

// BenchmarkPilot: one replication of the bundled pilot, the model in full
// (caches and replenishment, the central depot and line haul, finite
// pickers, logit choice with capacity-aware checkout, the demand calendar,
// reroute and return trips by couriers, the drain).
func BenchmarkPilot(b *testing.B) { benchScenario(b, "../scenarios/pilot-5-neighborhoods.yaml") }
