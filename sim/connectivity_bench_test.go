package sim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// BenchmarkPilotDrops runs one replication of the pilot per iteration with
// its connectivity drops (random, scheduled and area outages) and without
// them (caches and counter trade kept); the target is drops within 1.5x.
func BenchmarkPilotDrops(b *testing.B) {
	for _, drops := range []bool{true, false} {
		name := "drops"
		if !drops {
			name = "no-drops"
		}
		b.Run(name, func(b *testing.B) {
			s, err := scenarios.Load("../scenarios/pilot-5-neighborhoods.yaml")
			require.NoError(b, err)
			if !drops {
				for i := range s.Nodes {
					s.Nodes[i].Connectivity = scenarios.NodeConnectivity{}
				}
				s.Connectivity.AreaOutages = nil
			}
			cfg, err := s.Config()
			require.NoError(b, err)
			b.ReportAllocs()
			b.ResetTimer()
			var parcels uint64
			for i := 0; i < b.N; i++ {
				r, err := sim.Run(cfg, 0)
				require.NoError(b, err)
				parcels += r.Parcels
			}
			b.ReportMetric(float64(parcels)/b.Elapsed().Seconds(), "parcels/s")
		})
	}
}
