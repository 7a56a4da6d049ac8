package hwsim

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// hwsim sends each order's pickup window (the touch layer) in real
// instants, its sla_deadline the window's opening, and the core's rewards
// with the picked_up state; every message validates against its schema;
// without a touch section there is neither.
func TestOrderWindows(t *testing.T) {
	_, schemas := compileSchemas(t)
	for _, tc := range []struct {
		path     string
		windowed bool
	}{{"../scenarios/examples/pickup-windows.yaml", true}, {"../scenarios/quickstart.yaml", false}} {
		cfg := loadSim(t, tc.path)
		cfg.Warmup, cfg.Horizon = 0, model.Day
		items, _ := generate(t, Config{Sim: cfg})
		orders, windowed, rewards := 0, 0, 0
		for _, it := range messages(items) {
			env, err := wire.Decode(it.Topic, it.Payload)
			require.NoError(t, err)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(it.Payload))
			require.NoError(t, err)
			require.NoError(t, schemas[it.Type].Validate(inst), string(it.Payload))
			if b, ok := env.Body.(wire.LabelState); ok && b.Reward != nil {
				require.Equal(t, wire.LabelPickedUp, b.State)
				rewards++
			}
			if it.Type != wire.TypeOrder {
				continue
			}
			orders++
			o := env.Body.(wire.Order)
			if o.Window == nil {
				continue
			}
			windowed++
			assert.Equal(t, o.Window.Opens, o.SLADeadline, "due when the window opens")
			assert.Greater(t, o.Window.Closes, o.Window.Opens)
			assert.GreaterOrEqual(t, o.Window.Opens, o.PlacedAt.Add(3*model.Hour), "min_lead 3h")
		}
		require.Positive(t, orders)
		if tc.windowed {
			assert.Positive(t, windowed, tc.path)
			assert.Positive(t, rewards, tc.path)
		} else {
			assert.Zero(t, windowed, tc.path)
			assert.Zero(t, rewards, tc.path)
		}
	}
}
