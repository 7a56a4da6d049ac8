package sim_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// Prefetching is a hint and never changes a result: each scenario run with
// it on from the first hour (threshold 0) and with it off gives the same
// Result. Between them the scenarios have every kind of event it looks at:
// timers and pickups with slab hints, picks and packs found by the index,
// courier stops, TTL reroutes, reusable boxes and pickup windows.
func TestPrefetchNeverChangesAResult(t *testing.T) {
	for _, path := range []string{
		"../scenarios/quickstart.yaml",
		"../scenarios/pilot-5-neighborhoods.yaml",
		"../scenarios/examples/reusable-packaging.yaml",
		"../scenarios/examples/pickup-windows.yaml",
	} {
		t.Run(path, func(t *testing.T) {
			s, err := scenarios.Load(path)
			require.NoError(t, err)
			cfg, err := s.Config()
			require.NoError(t, err)
			cfg.Horizon = min(cfg.Horizon, 4*model.Day)
			run := func(labels int) *sim.Result {
				defer sim.SetPrefetchLabels(labels)()
				r, err := sim.Run(cfg, 1)
				require.NoError(t, err)
				return r
			}
			off, on := run(math.MaxInt), run(0)
			require.Positive(t, on.Parcels)
			require.Equal(t, off, on)
		})
	}
}
