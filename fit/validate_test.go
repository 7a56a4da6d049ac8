package fit

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// TestClosedLoopValidation: the scenario fitted from hwsim's feed,
// simulated over the same window, reproduces what the feed shows. Each
// observed value is one period, so it is compared with the prediction
// interval of one replication; with m checks at 95 % the number inside is
// Binomial(m, 0.95) when the fit is right, and the test fails only below
// its 1 % quantile.
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
	floor := 0 // the 1 % quantile of Binomial(m, 0.95)
	for k := 0; k <= m; k++ {
		if (distuv.Binomial{N: float64(m), P: 0.95}).CDF(float64(k)) >= 0.01 {
			floor = k
			break
		}
	}
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
