package hwsim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func loadSim(t testing.TB, path string) *sim.Config {
	t.Helper()
	s, err := scenarios.Load(path)
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	return cfg
}

func TestSmoke(t *testing.T) {
	items, truth, _, err := Generate(Config{Sim: loadSim(t, "../scenarios/examples/offline-serve.yaml")})
	require.NoError(t, err)
	byType := map[wire.Type]int{}
	for _, it := range items {
		if it.Kind != ItemMessage {
			continue
		}
		_, err := wire.Decode(it.Topic, it.Payload)
		require.NoError(t, err, string(it.Payload))
		byType[it.Type]++
	}
	t.Logf("%d items %v counts %+v labels %d", len(items), byType, truth.Counts, len(truth.Labels))
}
