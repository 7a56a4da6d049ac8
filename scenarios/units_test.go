package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want model.Duration
		err  string
	}{
		{"45m", 45 * model.Minute, ""},
		{"24h", 24 * model.Hour, ""},
		{"7d", 7 * model.Day, ""},
		{"1h30m", 90 * model.Minute, ""},
		{"90s", 90 * model.Second, ""},
		{"3d12h", 84 * model.Hour, ""},
		{"500ms", 500, ""},
		{"1.5h", 90 * model.Minute, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"45x", 0, `unknown unit "x"`},
		{"90", 0, "missing unit"},
		{"-5m", 0, "must not be negative"},
		{"h", 0, "expected a number"},
		{"", 0, "empty value"},
		{"1..5h", 0, "bad number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Model())
		})
	}
}

func TestParseClockTime(t *testing.T) {
	tests := []struct {
		in   string
		want ClockTime
		ok   bool
	}{
		{"14:00", Clock(14, 0), true},
		{"07:30", Clock(7, 30), true},
		{"7:30", Clock(7, 30), true},
		{"24:00", Clock(24, 0), true},
		{"00:00", 0, true},
		{"12:00:30", Clock(12, 0) + ClockTime(30*model.Second), true},
		{"24:01", 0, false},
		{"25:00", 0, false},
		{"12:60", 0, false},
		{"12", 0, false},
		{"12:5", 0, false},
		{"noon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClockTime(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, "07:30", Clock(7, 30).String())
}

func TestParseFraction(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{"0.2", 0.2, ""},
		{"20%", 0.2, ""},
		{"0", 0, ""},
		{"100%", 1, ""},
		{"1", 1, ""},
		{"2.5%", 0.025, ""},
		{"120%", 0, "must be between 0 and 1"},
		{"20", 0, "write 20% for a percentage"},
		{"-1%", 0, "must be between 0 and 1"},
		{"lots", 0, "must be a share"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFraction(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.want, float64(got), 1e-12)
		})
	}
}

func TestHours(t *testing.T) {
	tests := []struct {
		yaml string
		want string
		err  string
	}{
		{`"24h"`, "24h", ""},
		{`"08:00-20:00"`, "08:00-20:00", ""},
		{`["14:00-20:00", "07:00-12:00"]`, "07:00-12:00,14:00-20:00", ""},
		{`"22:00-24:00"`, "22:00-24:00", ""},
		{`"20:00-08:00"`, "", "end must be after start"},
		{`["08:00-12:00", "11:00-13:00"]`, "", "overlap"},
		{`"8-20"`, "", "invalid clock time"},
		{`"all day"`, "", `want "HH:MM-HH:MM" or "24h"`},
		{`{from: 1}`, "", "must be hours like"},
		{`[]`, "", "at least one range"},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			var h Hours
			err := yaml.Unmarshal([]byte(tt.yaml), &h)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, h.String())
		})
	}
	h := MustHours("07:00-12:00,14:00-20:00")
	assert.True(t, h.Open(Clock(7, 0)))
	assert.False(t, h.Open(Clock(12, 0)))
	assert.True(t, h.Open(Clock(19, 59)))
	assert.False(t, h.Open(Clock(20, 0)))
	assert.True(t, AllDay.Open(Clock(23, 59)))
}

// The unit types also work with plain yaml.Unmarshal, and round-trip.
func TestUnitsRoundTrip(t *testing.T) {
	type T struct {
		D  Duration  `yaml:"d"`
		C  ClockTime `yaml:"c"`
		F  Fraction  `yaml:"f"`
		H  Hours     `yaml:"h"`
		Dt Date      `yaml:"dt"`
	}
	in := T{Duration(90 * model.Minute), Clock(14, 0), 0.25, MustHours("08:00-20:00"), DefaultStart}
	out, err := yaml.Marshal(in)
	require.NoError(t, err)
	assert.Equal(t, "d: 1h30m\nc: \"14:00\"\nf: 25%\nh: 08:00-20:00\ndt: \"2026-03-02\"\n", string(out))
	var back T
	require.NoError(t, yaml.Unmarshal(out, &back))
	assert.Equal(t, in, back)
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{"a.yaml", 3, 7, "nodes[L3].slots.medium", "must be > 0 (got 0)"}, "a.yaml:3:7: nodes[L3].slots.medium: must be > 0 (got 0)"},
		{Error{"", 0, 0, "name", "required"}, "name: required"},
		{Error{"a.yaml", 2, 0, "", "invalid YAML: x"}, "a.yaml:2: invalid YAML: x"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.e.Error())
	}
}
