package scenarios

import (
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
)

// Drain follows the measured cohort (orders placed after the warm-up and
// before the horizon) past the horizon: no new orders are placed, the world
// runs on until every measured order has finished or for at most Cap; what
// is still unfinished then is counted as censored.
type Drain struct {
	// Cap is the longest drain (0: none, every order unfinished at the
	// horizon is censored). Default DefaultDrainCap.
	Cap Duration `yaml:"cap"`
}

// DefaultDrainCap is the drain cap when drain.cap is absent: a week, longer
// than any pickup delay, TTL and reroute chain of the bundled scenarios.
const DefaultDrainCap = Duration(7 * model.Day)

// DefaultHandoffTime is couriers.handoff_time when absent.
var DefaultHandoffTime = ConstOrDist{Dist: DistConstant, Mean: Duration(2 * model.Minute)}

// ConstOrDist is a distribution of durations written either as a plain
// duration, a constant ("2m" reads as {dist: constant, mean: 2m}), or as a
// Dist mapping ({dist: lognormal, median: 2m, sigma: 0.5}).
type ConstOrDist Dist

var constOrDistType = reflect.TypeOf(ConstOrDist{})

// Const is the ConstOrDist written as the plain duration d.
func Const(d Duration) ConstOrDist { return ConstOrDist{Dist: DistConstant, Mean: d} }

// UnmarshalYAML implements yaml.Unmarshaler like MeanOrDist's (Parse decodes
// ConstOrDist fields with its own decoder, to place errors in the mapping).
func (m *ConstOrDist) UnmarshalYAML(n *yaml.Node) error {
	var v ConstOrDist
	if err := decodeValue(n, &v); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalYAML writes a constant as its plain duration, any other
// distribution as a mapping of the fields its family uses.
func (m ConstOrDist) MarshalYAML() (any, error) {
	switch m.Dist {
	case DistConstant, "":
		return m.Mean.String(), nil
	case DistExponential:
		return map[string]any{"dist": m.Dist, "mean": m.Mean.String()}, nil
	}
	return MeanOrDist(m).MarshalYAML()
}

var constOrDistForm = durationOrDistForm{func(d Duration) reflect.Value { return reflect.ValueOf(Const(d)) },
	"2m (a constant)", "{dist: lognormal, median: 2m, sigma: 0.5}"}

// cohortDefaults fills drain.cap and couriers.handoff_time.
func (c *checker) cohortDefaults() {
	s := c.s
	if !c.has("drain.cap", s.Drain.Cap != 0) {
		s.Drain.Cap = DefaultDrainCap
	}
	if !c.has("couriers.handoff_time", s.Couriers.HandoffTime.Dist != "") {
		s.Couriers.HandoffTime = DefaultHandoffTime
	}
}

// validateCohort checks drain.cap and couriers.handoff_time.
func (c *checker) validateCohort() {
	s := c.s
	if s.Drain.Cap < 0 {
		c.errf("drain.cap", "must be >= 0 (got %s)", s.Drain.Cap)
	}
	const p = "couriers.handoff_time"
	if c.bad[p] {
		return
	}
	if n, ok := c.pos[p]; ok && deref(n).Kind == yaml.MappingNode {
		c.dist(p, Dist(s.Couriers.HandoffTime))
		return
	}
	if h := s.Couriers.HandoffTime; h.Dist == DistConstant && h.Mean < 0 {
		c.errf(p, "must be >= 0 (got %s)", h.Mean)
	} else if h.Dist != DistConstant {
		c.dist(p, Dist(h)) // built in Go: judged by its fields
	}
}
