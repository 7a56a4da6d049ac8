package fit

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClosedLoopValidation: the scenario fitted from hwsim's feed,
// simulated over the same window, reproduces what the feed shows. Each
// observed value is one period, so it is compared with the prediction
// interval of one replication; with m checks at 95 % the number inside is
// Binomial(m, 0.95) when the fit is right, and the test fails only below
// its 1 % quantile.
// Binom8Floor is Floor for eight checks at 95 %.
func Binom8Floor() int { return (&Validation{Checks: make([]Check, 8), Level: 0.95}).Floor() }

func TestClosedLoopValidation(t *testing.T) {
	r := fitLoop(t, Options{})
	out, err := r.YAML()
	require.NoError(t, err)
	v, err := r.Validate(context.Background(), out, ValidateOptions{Replications: 8})
	require.NoError(t, err)
	byName := map[string]Check{}
	for _, c := range v.Checks {
		byName[c.Metric+"/"+c.Node] = c
		t.Logf("%s %s observed %.4g sim %.4g PI [%.4g, %.4g] inside %v", c.Metric, c.Node, c.Observed, c.Mean, c.PI[0], c.PI[1], c.Inside)
	}
	for _, k := range []string{"orders/", "pickup_success_rate/", "pickup_friction_p50_min/", "pickup_friction_p90_min/", "reroutes/", "occupancy/L1", "occupancy/L2", "occupancy/P1"} {
		require.Contains(t, byName, k)
	}
	m := len(v.Checks)
	floor := v.Floor() // the 1 % quantile of Binomial(m, 0.95)
	assert.Equal(t, 6, Binom8Floor(), "Binomial(8, 0.95): P(X <= 5) = 0.006, P(X <= 6) = 0.057")
	assert.GreaterOrEqual(t, v.Inside, floor, "observed values inside the one-period prediction intervals (of %d)", m)
	for _, k := range []string{"orders/", "pickup_success_rate/", "pickup_friction_p50_min/"} {
		assert.True(t, byName[k].Inside, "%s: observed %.4g outside [%.4g, %.4g]", k, byName[k].Observed, byName[k].PI[0], byName[k].PI[1])
	}

	var buf bytes.Buffer
	require.NoError(t, v.Print(&buf))
	assert.Contains(t, buf.String(), "pickup_friction_p90_min")
	buf.Reset()
	require.NoError(t, v.WriteJSON(&buf))
	var back Validation
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	assert.Equal(t, v.Inside, back.Inside)
}
