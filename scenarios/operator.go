package scenarios

import (
	"regexp"

	"github.com/lockstep-sim/lockstep/sim"
)

// Operators is the operators section: the bonus rule for the nodes'
// operators (nodes[].operator names them; a node without one is its own
// operator, named by its id). See docs/scenario.md, "Operators and bonuses".
type Operators struct {
	Bonus *Bonus `yaml:"bonus"`
}

// Bonus pays an operator PerCollected per parcel collected at its nodes in
// each period (Period: a local day, by the day the parcel was made ready,
// or the whole measured window) in which the Kaplan–Meier median of its
// pickup friction (ready notification to verified pickup, parcels not
// collected censored) is below WhenFrictionP50Below.
type Bonus struct {
	PerCollected         float64  `yaml:"per_collected"`
	WhenFrictionP50Below Duration `yaml:"when_friction_p50_below"`
	Period               string   `yaml:"period"`
}

// Bonus periods (operators.bonus.period).
const (
	BonusPeriodDay    = "day"
	BonusPeriodWindow = "window"
)

var operatorName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (c *checker) operatorDefaults() {
	if o := c.s.Operators; o != nil && o.Bonus != nil && o.Bonus.Period == "" && !c.has("operators.bonus.period", false) {
		o.Bonus.Period = BonusPeriodDay
	}
}

func (c *checker) validateOperators() {
	s := c.s
	labels := c.nodeLabels()
	for i, n := range s.Nodes {
		p := elemPath("nodes", labels[i]) + ".operator"
		if c.has(p, n.Operator != "") && !operatorName.MatchString(n.Operator) {
			c.errf(p, "must be a name of letters, digits, '.', '_' or '-' starting with a letter or digit (got %q)", n.Operator)
		}
	}
	o := s.Operators
	if o == nil {
		return
	}
	b := o.Bonus
	if b == nil {
		c.errf("operators.bonus", "required (the operators section holds the bonus rule: {per_collected, when_friction_p50_below, period})")
		return
	}
	if !c.has("operators.bonus.per_collected", b.PerCollected != 0) {
		c.errf("operators.bonus.per_collected", "required (the bonus per collected parcel, in the scenario's currency)")
	} else {
		c.positive("operators.bonus.per_collected", b.PerCollected)
	}
	if !c.has("operators.bonus.when_friction_p50_below", b.WhenFrictionP50Below != 0) {
		c.errf("operators.bonus.when_friction_p50_below", "required (the friction median an operator must beat, e.g. 2h)")
	} else {
		c.positive("operators.bonus.when_friction_p50_below", float64(b.WhenFrictionP50Below))
	}
	switch b.Period {
	case BonusPeriodDay, BonusPeriodWindow:
	default:
		c.errf("operators.bonus.period", "must be day or window (got %q)", b.Period)
	}
}

// operatorsConfig is the simulator's operators: each node's (nil when no
// node names one) and the bonus rule.
func (s *Scenario) operatorsConfig() sim.Operators {
	var out sim.Operators
	for i, n := range s.Nodes {
		if n.Operator != "" {
			if out.Of == nil {
				out.Of = make([]string, len(s.Nodes))
			}
			out.Of[i] = n.Operator
		}
	}
	if s.Operators != nil && s.Operators.Bonus != nil {
		b := s.Operators.Bonus
		r := &sim.BonusRule{PerCollected: b.PerCollected, FrictionP50Below: b.WhenFrictionP50Below.Model()}
		if b.Period == BonusPeriodWindow {
			r.Period = sim.BonusWindow
		}
		out.Bonus = r
	}
	return out
}
