package scenarios

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// drain.cap: 7d by default, 0 written is no drain, anything else as written.
func TestDrainCap(t *testing.T) {
	for _, tt := range []struct {
		extra string
		want  model.Duration
	}{
		{"", 7 * model.Day},
		{"drain: {cap: 0}\n", 0},
		{"drain:\n  cap: 36h\n", 36 * model.Hour},
	} {
		s, err := Parse("t.yaml", []byte(base+tt.extra))
		require.NoError(t, err, tt.extra)
		cfg, err := s.Config()
		require.NoError(t, err)
		assert.Equal(t, tt.want, cfg.Drain, tt.extra)
	}
}

// couriers.handoff_time: a plain duration is a constant (today's numbers),
// a mapping any distribution.
func TestHandoffTimeForms(t *testing.T) {
	m := model.Minute
	for _, tt := range []struct {
		yaml string
		want sim.Dist
	}{
		{"", sim.Dist{Kind: sim.Constant, Mean: 2 * m}},
		{"  handoff_time: 90s\n", sim.Dist{Kind: sim.Constant, Mean: 90 * model.Second}},
		{"  handoff_time: 0\n", sim.Dist{Kind: sim.Constant}},
		{"  handoff_time: {dist: exponential, mean: 3m}\n", sim.Dist{Kind: sim.Exponential, Mean: 3 * m}},
		{"  handoff_time: {dist: lognormal, median: 2m, sigma: 0.5}\n", sim.Dist{Kind: sim.LogNormal, Median: 2 * m, Sigma: 0.5}},
		{"  handoff_time: {dist: uniform, min: 1m, max: 3m}\n", sim.Dist{Kind: sim.Uniform, Min: m, Max: 3 * m}},
	} {
		s, err := Parse("t.yaml", []byte(base+tt.yaml))
		require.NoError(t, err, tt.yaml)
		cfg, err := s.Config()
		require.NoError(t, err)
		assert.Equal(t, tt.want, cfg.Couriers.HandoffTime, tt.yaml)
		// it writes back as it reads
		out, err := yaml.Marshal(s.Couriers.HandoffTime)
		require.NoError(t, err)
		var back ConstOrDist
		require.NoError(t, yaml.Unmarshal(out, &back))
		assert.Equal(t, s.Couriers.HandoffTime, back, string(out))
	}
}

// Bad values name the file, line and key.
func TestCohortBadInputs(t *testing.T) {
	for _, tt := range []struct {
		extra, path, msg string
	}{
		{"drain: {cap: -1h}  # <-\n", "drain.cap", ""},
		{"drain: {cap: 3}  # <-\n", "drain.cap", "unit"},
		{"drain: {cap: 1d, until: 2d}  # <-\n", "drain.until", "unknown field"},
		{"  handoff_time: fast  # <-\n", "couriers.handoff_time", "or write a distribution"},
		{"  handoff_time: [1m]  # <-\n", "couriers.handoff_time", "must be a duration"},
		{"  handoff_time: {dist: lognormal, median: 2m}  # <-\n", "couriers.handoff_time.sigma", "required"},
		{"  handoff_time: {dist: constant, mean: 2m, sigma: 1}  # <-\n", "couriers.handoff_time.sigma", "not used"},
	} {
		t.Run(tt.extra, func(t *testing.T) {
			doc := base + tt.extra
			_, err := Parse("bad.yaml", []byte(doc))
			var errs Errors
			require.True(t, errors.As(err, &errs), "error is not Errors: %v", err)
			var found *Error
			for i := range errs {
				if errs[i].Path == tt.path {
					found = &errs[i]
				}
			}
			require.NotNil(t, found, "no error for %s in:\n%v", tt.path, err)
			assert.Equal(t, strings.Count(base, "\n")+1, found.Line)
			assert.Contains(t, found.Msg, tt.msg)
		})
	}
}
