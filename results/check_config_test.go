package results

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A checks section starts every listed metric from its unit's default
// tolerance and replaces only the fields it gives; errors name the field.
func TestNewCheckConfig(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		name    string
		sig     string
		metrics map[string]ToleranceOverride
		want    CheckConfig
		err     string
	}{
		{name: "empty", want: CheckConfig{Significance: SignificancePaired}},
		{name: "rule only", sig: "overlap", want: CheckConfig{Significance: SignificanceOverlap}},
		{name: "relative replaces, absolute kept", metrics: map[string]ToleranceOverride{MReroutes: {Relative: f(0.2)}},
			want: CheckConfig{Significance: SignificancePaired, Metrics: map[string]Tolerance{MReroutes: {Relative: 0.2, Absolute: 1}}}},
		{name: "absolute on a share", metrics: map[string]ToleranceOverride{MPickupSuccessRate: {Absolute: f(0.02), Significance: SignificanceNone}},
			want: CheckConfig{Significance: SignificancePaired, Metrics: map[string]Tolerance{MPickupSuccessRate: {Absolute: 0.02, Significance: SignificanceNone}}}},
		{name: "skip keeps the default", metrics: map[string]ToleranceOverride{MFCPO: {Skip: true}},
			want: CheckConfig{Significance: SignificancePaired, Metrics: map[string]Tolerance{MFCPO: {Relative: 0.05, Skip: true}}}},
		{name: "bad rule", sig: "maybe", err: "checks.significance: significance must be paired, overlap or none"},
		{name: "unknown metric", metrics: map[string]ToleranceOverride{"fcpoo": {Relative: f(0.1)}}, err: `checks.metrics.fcpoo: unknown metric (did you mean "fcpo"?)`},
		{name: "neutral metric", metrics: map[string]ToleranceOverride{MOrders: {Relative: f(0.1)}}, err: "checks.metrics.orders: orders is neutral"},
		{name: "negative", metrics: map[string]ToleranceOverride{MReturns: {Absolute: f(-1)}}, err: "checks.metrics.returns.absolute: must be a finite number >= 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := NewCheckConfig(c.sig, c.metrics)
			if c.err != "" {
				assert.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, cfg)
		})
	}
}

// Unmeasured names the listed, unskipped metrics a run lacks, sorted.
func TestUnmeasured(t *testing.T) {
	run := synthRun("s", 1, 3, 1, scenarioEffect{})
	for _, rep := range run.Replications {
		delete(rep.Metrics, MConflicts)
		delete(rep.Metrics, MStockouts)
	}
	run.Finalize()
	_, ok := run.SummaryOf(MConflicts)
	require.False(t, ok)
	cfg := CheckConfig{Metrics: map[string]Tolerance{
		MStockouts: {Relative: 0.1}, MConflicts: {Relative: 0.1}, MOversells: {Skip: true}, MFCPO: {Relative: 0.1},
	}}
	_, ok = run.SummaryOf(MFCPO)
	require.True(t, ok)
	assert.Equal(t, []string{MConflicts, MStockouts}, cfg.Unmeasured(&run))
	assert.Empty(t, CheckConfig{}.Unmeasured(&run))
}
