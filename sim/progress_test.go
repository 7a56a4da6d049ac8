package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// RunDaily reports every simulated day once, in order, a last partial day
// included, and gives the same result as Run.
func TestRunDailyReportsEachDay(t *testing.T) {
	stay := Dist{Kind: Exponential, Mean: 2 * model.Hour}
	for _, tc := range []struct {
		name    string
		horizon model.Duration
		want    []int
	}{
		{"whole days", 3 * model.Day, []int{1, 2, 3}},
		{"partial last day", 36 * model.Hour, []int{1, 2}},
		{"less than a day", 30 * model.Minute, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := lossConfig(t, 4, 2, stay, 1)
			cfg.Warmup, cfg.Horizon = 0, tc.horizon
			require.Equal(t, len(tc.want), cfg.Days())
			var got []int
			r, err := RunDaily(cfg, 1, nil, func(d int) { got = append(got, d) })
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			plain, err := Run(cfg, 1)
			require.NoError(t, err)
			require.Equal(t, plain, r, "the day callback does not change the run")
		})
	}
}
