package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lockstep-sim/lockstep/model"
)

// DistKind selects a duration distribution.
type DistKind uint8

// Distribution kinds.
const (
	Constant DistKind = iota
	Exponential
	LogNormal
	Uniform
	Empirical
)

// Dist is a distribution of durations. Sample draws from an explicit
// generator; the formulas are the textbook ones (the tests check them against
// gonum's distuv CDFs), written inline so sampling allocates nothing.
type Dist struct {
	Kind      DistKind
	Mean      model.Duration // constant, exponential
	Median    model.Duration // lognormal
	Sigma     float64        // lognormal: sigma of the underlying normal
	Min, Max  model.Duration // uniform
	Quantiles []model.Duration
}

// Sample draws one duration (never negative).
func (d *Dist) Sample(r *rand.Rand) model.Duration {
	var v float64
	switch d.Kind {
	case Constant:
		return d.Mean
	case Exponential:
		v = r.ExpFloat64() * float64(d.Mean)
	case LogNormal:
		v = float64(d.Median) * math.Exp(d.Sigma*r.NormFloat64())
	case Uniform:
		v = float64(d.Min) + r.Float64()*float64(d.Max-d.Min)
	case Empirical:
		q := d.Quantiles
		if len(q) == 0 {
			return 0
		}
		if len(q) == 1 {
			return q[0]
		}
		u := r.Float64() * float64(len(q)-1)
		i := int(u)
		if i >= len(q)-1 {
			return q[len(q)-1]
		}
		f := u - float64(i)
		v = float64(q[i]) + f*float64(q[i+1]-q[i])
	}
	if v < 0 {
		return 0
	}
	return model.Duration(v + 0.5)
}

// MeanDuration is the distribution's mean.
func (d *Dist) MeanDuration() model.Duration {
	switch d.Kind {
	case Constant, Exponential:
		return d.Mean
	case LogNormal:
		return model.Duration(float64(d.Median) * math.Exp(d.Sigma*d.Sigma/2))
	case Uniform:
		return (d.Min + d.Max) / 2
	case Empirical:
		q := d.Quantiles
		if len(q) < 2 {
			if len(q) == 1 {
				return q[0]
			}
			return 0
		}
		var s float64
		for i := 0; i+1 < len(q); i++ {
			s += float64(q[i]+q[i+1]) / 2
		}
		return model.Duration(s / float64(len(q)-1))
	}
	return 0
}

// PositiveMean reports whether d's mean is > 0 (for a valid d; unlike
// MeanDuration it cannot overflow).
func (d *Dist) PositiveMean() bool {
	switch d.Kind {
	case Constant, Exponential:
		return d.Mean > 0
	case LogNormal:
		return d.Median > 0
	case Uniform:
		return d.Max > 0
	case Empirical:
		return len(d.Quantiles) > 0 && d.Quantiles[len(d.Quantiles)-1] > 0
	}
	return false
}

// Validate reports parameters Sample cannot use.
func (d *Dist) Validate() error {
	switch d.Kind {
	case Constant, Exponential:
		if d.Mean < 0 {
			return fmt.Errorf("mean must be >= 0")
		}
	case LogNormal:
		if d.Median <= 0 || d.Sigma <= 0 {
			return fmt.Errorf("lognormal needs median > 0 and sigma > 0")
		}
	case Uniform:
		if d.Min < 0 || d.Max < d.Min {
			return fmt.Errorf("uniform needs 0 <= min <= max")
		}
	case Empirical:
		if len(d.Quantiles) < 2 {
			return fmt.Errorf("empirical needs at least 2 quantiles")
		}
		for i := 1; i < len(d.Quantiles); i++ {
			if d.Quantiles[i] < d.Quantiles[i-1] {
				return fmt.Errorf("empirical quantiles must not decrease")
			}
		}
	default:
		return fmt.Errorf("unknown distribution kind %d", d.Kind)
	}
	return nil
}
