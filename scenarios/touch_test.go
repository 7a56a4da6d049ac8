package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// withTouch is base with a touch section.
func withTouch(touch string) string { return base + "touch:\n" + touch }

func TestTouchKeysBad(t *testing.T) {
	win := "  windows:\n    share: 50%\n    keep: 80%\n"
	tests := []struct {
		name, touch, path, msg string
	}{
		{"empty section", "  rewards: {}  # <-\n", "touch", "empty: give windows, rewards or both"},
		{"no share", "  windows:\n    keep: 80%  # <-\n", "touch.windows.share", "required"},
		{"no keep", "  windows:\n    share: 50%  # <-\n", "touch.windows.keep", "required"},
		{"share above 1", "  windows:\n    share: 150%  # <-\n    keep: 80%\n", "touch.windows.share", "between 0 and 1"},
		{"zero slot", win + "    slot: 0s  # <-\n", "touch.windows.slot", "must be > 0"},
		{"range shorter than a slot", win + "    slot: 3h\n    hours: \"08:00-10:00\"  # <-\n", "touch.windows.hours", "shorter than one slot"},
		{"ahead before min lead", win + "    min_lead: 5h\n    ahead: 2h  # <-\n", "touch.windows.ahead", "must be >= min_lead"},
		{"negative per window", win + "    per_window: -1  # <-\n", "touch.windows.per_window", "must be >= 0"},
		{"later windows preferred", win + "    beta_per_hour: 0.2  # <-\n", "touch.windows.beta_per_hour", "must be <= 0"},
		{"bad miss", win + "    miss: {dist: gamma, mean: 2h}  # <-\n", "touch.windows.miss.dist", "must be exponential"},
		{"unknown key", win + "    kep: 80%  # <-\n", "touch.windows.kep", "unknown field"},
		{"quick without within", "  rewards:\n    quick: {amount: 1}  # <-\n    elasticity: 0.4\n", "touch.rewards.quick.within", "required, > 0"},
		{"quick without amount", "  rewards:\n    quick: {within: 4h}  # <-\n    elasticity: 0.4\n", "touch.rewards.quick.amount", "must be > 0"},
		{"no elasticity", "  rewards:\n    quick: {amount: 1, within: 4h}  # <-\n", "touch.rewards.elasticity", "required with a reward"},
		{"negative elasticity", "  rewards:\n    quick: {amount: 1, within: 4h}\n    elasticity: -1  # <-\n", "touch.rewards.elasticity", "must be >= 0"},
		{"elasticity without reward", win + "  rewards:\n    elasticity: 1  # <-\n", "touch.rewards.elasticity", "unused"},
		{"off-peak without windows", "  rewards:\n    off_peak: {amount: 1, hours: \"20:00-22:00\"}  # <-\n    elasticity: 1\n", "touch.rewards.off_peak", "needs touch.windows"},
		{"off-peak without hours", win + "  rewards:\n    off_peak: {amount: 1}  # <-\n    elasticity: 1\n", "touch.rewards.off_peak.hours", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := withTouch(tt.touch)
			_, found := parseErrorAt(t, doc, tt.path)
			assert.Contains(t, found.Msg, tt.msg)
			assert.Equal(t, "bad.yaml", found.File)
			assert.Equal(t, markedLine(t, doc), found.Line, "%v", found)
		})
	}
}

func TestTouchKeysBuild(t *testing.T) {
	s, err := Parse("ok.yaml", []byte(withTouch(`  windows:
    share: 60%
    slot: 1h
    hours: ["08:00-12:00", "16:00-22:00"]
    min_lead: 4h
    ahead: 30h
    per_window: 12
    deliver_lead: 3h
    beta_per_hour: -0.1
    keep: 75%
    miss: {dist: constant, mean: 90m}
  rewards:
    quick: {amount: 1, within: 4h}
    off_peak: {amount: 0.5, hours: "20:00-22:00"}
    elasticity: 0.4
`)))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	assert.Equal(t, &model.Touch{RewardWithin: 4 * model.Hour, RewardAmount: 1, OffPeakReward: 0.5,
		OffPeak: model.Hours{{From: 20 * model.Hour, To: 22 * model.Hour}}}, cfg.Network.Policy.Touch)
	assert.Equal(t, &sim.Touch{Share: 0.6, Slot: model.Hour,
		Hours:   model.Hours{{From: 8 * model.Hour, To: 12 * model.Hour}, {From: 16 * model.Hour, To: 22 * model.Hour}},
		MinLead: 4 * model.Hour, Ahead: 30 * model.Hour, PerWindow: 12, DeliverLead: 3 * model.Hour, BetaPerHour: -0.1,
		Keep: 0.75, Miss: sim.Dist{Kind: sim.Constant, Mean: 90 * model.Minute}, Elasticity: 0.4}, cfg.Touch)

	// defaults
	d, err := Parse("ok.yaml", []byte(withTouch("  windows: {share: 50%, keep: 80%}\n")))
	require.NoError(t, err)
	dc, err := d.Config()
	require.NoError(t, err)
	assert.Equal(t, &model.Touch{}, dc.Network.Policy.Touch)
	assert.Equal(t, &sim.Touch{Share: 0.5, Slot: 2 * model.Hour, Hours: model.Hours{{From: 8 * model.Hour, To: 22 * model.Hour}},
		MinLead: 3 * model.Hour, Ahead: 48 * model.Hour, DeliverLead: 2 * model.Hour, BetaPerHour: -0.05,
		Keep: 0.8, Miss: sim.Dist{Kind: sim.Exponential, Mean: 3 * model.Hour}}, dc.Touch)

	// absent: off
	n, err := Parse("ok.yaml", []byte(base))
	require.NoError(t, err)
	nc, err := n.Config()
	require.NoError(t, err)
	assert.Nil(t, nc.Touch)
	assert.Nil(t, nc.Network.Policy.Touch)
}
