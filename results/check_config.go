package results

import "fmt"

// ToleranceOverride is a metric's entry in a scenario's checks section: the
// fields given replace those of the metric's UnitTolerance, nil ones keep
// them.
type ToleranceOverride struct {
	Absolute     *float64
	Relative     *float64
	Significance Significance
	Skip         bool
}

// NewCheckConfig builds and validates the configuration of a scenario's
// checks section: the significance rule ("" is the default) and, per listed
// metric, its UnitTolerance with the fields the override gives replaced.
// Errors name the field as checks.significance or checks.metrics.NAME.
func NewCheckConfig(significance string, metrics map[string]ToleranceOverride) (CheckConfig, error) {
	sig, err := ParseSignificance(significance)
	if err != nil {
		return CheckConfig{}, fmt.Errorf("checks.significance: %w", err)
	}
	cfg := CheckConfig{Significance: sig}
	for name, o := range metrics {
		if cfg.Metrics == nil {
			cfg.Metrics = map[string]Tolerance{}
		}
		t := UnitTolerance(name)
		if o.Absolute != nil {
			t.Absolute = *o.Absolute
		}
		if o.Relative != nil {
			t.Relative = *o.Relative
		}
		t.Significance = o.Significance
		t.Skip = o.Skip
		cfg.Metrics[name] = t
	}
	if err := cfg.Validate(); err != nil {
		return CheckConfig{}, err
	}
	return cfg, nil
}

// Unmeasured lists, sorted, the metrics c checks explicitly (listed and not
// skipped) that run did not measure: a checks section naming them is a
// mistake, since no baseline can hold them.
func (c CheckConfig) Unmeasured(run *RunResult) []string {
	var out []string
	for _, name := range sortedKeys(c.Metrics) {
		if _, ok := run.SummaryOf(name); !ok && !c.Metrics[name].Skip {
			out = append(out, name)
		}
	}
	return out
}
