package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// withOperator names L1's operator in base.
func withOperator(op string) string {
	return strings.Replace(base, "    slots: {small: 1, medium: 2, large: 3}\n", "    slots: {small: 1, medium: 2, large: 3}\n    operator: "+op+"\n", 1)
}

func TestOperatorsBuild(t *testing.T) {
	s, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	assert.Equal(t, sim.Operators{}, cfg.Operators, "no operators named, no rule: each node its own operator")

	s, err = Parse("op.yaml", []byte(withOperator("citybox")+"operators:\n  bonus: {per_collected: 0.3, when_friction_p50_below: 2h}\n"))
	require.NoError(t, err)
	assert.Equal(t, BonusPeriodDay, s.Operators.Bonus.Period, "default period")
	cfg, err = s.Config()
	require.NoError(t, err)
	assert.Equal(t, []string{"citybox", ""}, cfg.Operators.Of)
	assert.Equal(t, &sim.BonusRule{PerCollected: 0.3, FrictionP50Below: 2 * model.Hour, Period: sim.BonusDaily}, cfg.Operators.Bonus)

	s, err = Parse("op.yaml", []byte(base+"operators:\n  bonus: {per_collected: 1, when_friction_p50_below: 90m, period: window}\n"))
	require.NoError(t, err)
	cfg, err = s.Config()
	require.NoError(t, err)
	assert.Nil(t, cfg.Operators.Of)
	assert.Equal(t, sim.BonusWindow, cfg.Operators.Bonus.Period)
}

// Each mistake is reported at its file, line and field.
func TestOperatorsBadInput(t *testing.T) {
	tests := []struct {
		name, doc, path, msg string
	}{
		{"operator with a space", withOperator(`"city box"`), "nodes[L1].operator", "letters, digits"},
		{"empty operator", withOperator(`""`), "nodes[L1].operator", "letters, digits"},
		{"operators without a rule", base + "operators: {}\n", "operators.bonus", "required"},
		{"no per_collected", base + "operators:\n  bonus: {when_friction_p50_below: 2h}\n", "operators.bonus.per_collected", "required"},
		{"zero per_collected", base + "operators:\n  bonus: {per_collected: 0, when_friction_p50_below: 2h}\n", "operators.bonus.per_collected", "> 0"},
		{"negative per_collected", base + "operators:\n  bonus: {per_collected: -1, when_friction_p50_below: 2h}\n", "operators.bonus.per_collected", "> 0"},
		{"no target", base + "operators:\n  bonus: {per_collected: 0.3}\n", "operators.bonus.when_friction_p50_below", "required"},
		{"zero target", base + "operators:\n  bonus: {per_collected: 0.3, when_friction_p50_below: 0}\n", "operators.bonus.when_friction_p50_below", "> 0"},
		{"bad period", base + "operators:\n  bonus: {per_collected: 0.3, when_friction_p50_below: 2h, period: week}\n", "operators.bonus.period", "day or window"},
		{"unknown key", base + "operators:\n  bonus: {per_collected: 0.3, when_friction_p50_below: 2h, per_parcel: 1}\n", "operators.bonus.per_parcel", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.doc))
			require.Error(t, err)
			var errs Errors
			require.ErrorAs(t, err, &errs)
			var found bool
			for _, e := range errs {
				if e.Path == tc.path && strings.Contains(e.Msg, tc.msg) {
					found = true
					assert.Positive(t, e.Line, "placed at a line")
					assert.Equal(t, "bad.yaml", e.File)
				}
			}
			assert.True(t, found, "want %s: %s in %v", tc.path, tc.msg, err)
		})
	}
}
