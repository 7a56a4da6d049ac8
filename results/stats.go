package results

import (
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the two-sided confidence level of every interval in this package.
const Confidence = 0.95

// DefaultPrecision is the default target for the relative half-width of a
// metric's 95% CI (half-width / |mean|): 5%.
const DefaultPrecision = 0.05

// maxReplications caps ReplicationsNeeded so a near-zero mean cannot ask for
// an absurd number.
const maxReplications = 1_000_000

// Summary describes a sample of one metric over replications.
//
// The interval is mean ± t(0.975, N−1)·s/√N (Student t, s the unbiased standard
// deviation). With N < 2 there is no interval: StdDev, CI95Low, CI95High,
// HalfWidth and RelHalfWidth are NaN (null in JSON), PrecisionMet is false and
// ReplicationsNeeded is 0 ("cannot be estimated").
//
// RelHalfWidth is HalfWidth/|Mean| (+Inf, written as null, when the mean is 0
// and the half-width is not). PrecisionMet reports RelHalfWidth ≤ Precision; a
// zero half-width always meets it. When it is not met, ReplicationsNeeded is the
// smallest n ≥ N for which t(0.975, n−1)·s/√n ≤ Precision·|Mean| (the
// iterative t-based rule, assuming mean and s stay as estimated); it is N when
// the precision is met and 0 when it cannot be estimated (zero mean).
// Precision ≤ 0 means "no target": PrecisionMet is true whenever N ≥ 2.
type Summary struct {
	N                  int     `json:"n"`
	Mean               float64 `json:"mean"`
	StdDev             float64 `json:"stddev"`
	CI95Low            float64 `json:"ci95_low"`
	CI95High           float64 `json:"ci95_high"`
	HalfWidth          float64 `json:"half_width"`
	RelHalfWidth       float64 `json:"rel_half_width"`
	Precision          float64 `json:"precision"`
	PrecisionMet       bool    `json:"precision_met"`
	ReplicationsNeeded int     `json:"replications_needed"`
}

// MarshalJSON writes non-finite fields as null.
func (s Summary) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// UnmarshalJSON reads null as NaN.
func (s *Summary) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, s) }

// TQuantile returns the 97.5% quantile of Student's t with n−1 degrees of
// freedom (the multiplier of a two-sided 95% CI on n observations), NaN for n < 2.
func TQuantile(n int) float64 {
	if n < 2 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-Confidence)/2)
}

// Summarize computes the mean and Student-t 95% CI of values and checks the
// relative half-width against precision (e.g. 0.05 for ±5%). See [Summary]
// for the N < 2 and zero-mean cases. NaN values propagate: callers leave
// unmeasured replications out rather than passing NaN.
func Summarize(values []float64, precision float64) Summary {
	nan := math.NaN()
	s := Summary{N: len(values), Mean: nan, StdDev: nan, CI95Low: nan, CI95High: nan,
		HalfWidth: nan, RelHalfWidth: nan, Precision: precision}
	if s.N == 0 {
		return s
	}
	if s.N == 1 {
		s.Mean = values[0]
		return s
	}
	s.Mean, s.StdDev = stat.MeanStdDev(values, nil)
	if s.StdDev < 1e-12*math.Abs(s.Mean) { // all equal up to rounding
		s.StdDev = 0
	}
	s.HalfWidth = TQuantile(s.N) * s.StdDev / math.Sqrt(float64(s.N))
	s.CI95Low, s.CI95High = s.Mean-s.HalfWidth, s.Mean+s.HalfWidth
	switch {
	case s.HalfWidth == 0:
		s.RelHalfWidth = 0
	case s.Mean == 0:
		s.RelHalfWidth = math.Inf(1)
	default:
		s.RelHalfWidth = s.HalfWidth / math.Abs(s.Mean)
	}
	if precision <= 0 || s.RelHalfWidth <= precision {
		s.PrecisionMet = true
		s.ReplicationsNeeded = s.N
		return s
	}
	s.ReplicationsNeeded = ReplicationsNeeded(s.N, s.Mean, s.StdDev, precision)
	return s
}

// ReplicationsNeeded returns the smallest n ≥ have (and ≥ 2) with
// t(0.975, n−1)·sd/√n ≤ precision·|mean|, capped at 1,000,000; 0 when it cannot
// be estimated (zero mean, non-positive precision or non-finite inputs).
//
// The closed-form first guess n* = ceil(have·(h/h*)²) under-estimates for small
// samples because t shrinks as n grows less than the formula assumes; the
// search starts from the normal-quantile bound and walks up until the t-based
// half-width fits.
func ReplicationsNeeded(have int, mean, sd, precision float64) int {
	target := precision * math.Abs(mean)
	if !(target > 0) || !finite(target) || !finite(sd) || sd < 0 {
		return 0
	}
	n := max(have, 2)
	if sd == 0 {
		return n
	}
	z := distuv.UnitNormal.Quantile(1 - (1-Confidence)/2)
	if lb := math.Ceil(math.Pow(z*sd/target, 2)); lb > float64(n) {
		if lb >= maxReplications {
			return maxReplications
		}
		n = int(lb)
	}
	for ; n < maxReplications; n++ {
		if TQuantile(n)*sd/math.Sqrt(float64(n)) <= target {
			return n
		}
	}
	return maxReplications
}

// Verdict is the outcome of comparing a scenario against the base on one metric.
type Verdict string

// Verdicts.
const (
	VerdictBetter           Verdict = "better"
	VerdictWorse            Verdict = "worse"
	VerdictNoSignificant    Verdict = "no_significant_difference"
	VerdictNotApplicable    Verdict = "n/a"               // neutral metric: reported, not judged
	VerdictInsufficientData Verdict = "insufficient_data" // fewer than 2 pairs
)

// Symbol is a short marker for text tables.
func (v Verdict) Symbol() string {
	switch v {
	case VerdictBetter:
		return "better"
	case VerdictWorse:
		return "WORSE"
	case VerdictNoSignificant:
		return "~"
	case VerdictInsufficientData:
		return "?"
	}
	return "n/a"
}

// Difference is the paired difference other − base of one metric.
type Difference struct {
	N         int     `json:"n"` // pairs
	Mean      float64 `json:"mean"`
	StdDev    float64 `json:"stddev"`
	CI95Low   float64 `json:"ci95_low"`
	CI95High  float64 `json:"ci95_high"`
	HalfWidth float64 `json:"half_width"`
	// RelChange is Mean / |base mean| (NaN when the base mean is 0).
	RelChange float64 `json:"rel_change"`
	Verdict   Verdict `json:"verdict"`
}

// MarshalJSON writes non-finite fields as null.
func (d Difference) MarshalJSON() ([]byte, error) { return marshalFinite(d) }

// UnmarshalJSON reads null as NaN.
func (d *Difference) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, d) }

// Compare analyses paired differences d_i = other_i − base_i: replication i of
// both scenarios used the same seeds (common random numbers), so the
// difference's variance excludes most of the shared noise. Pairs are taken up
// to the shorter slice. The verdict uses the metric's direction: when the
// 95% CI of the mean difference excludes zero, the change is Better or Worse;
// otherwise NoSignificantDifference. Neutral metrics get "n/a", fewer than two
// pairs "insufficient_data".
func Compare(base, other []float64, def MetricDef) Difference {
	n := min(len(base), len(other))
	d := make([]float64, n)
	for i := range d {
		d[i] = other[i] - base[i]
	}
	s := Summarize(d, 0)
	diff := Difference{N: n, Mean: s.Mean, StdDev: s.StdDev, CI95Low: s.CI95Low,
		CI95High: s.CI95High, HalfWidth: s.HalfWidth, RelChange: math.NaN()}
	if n > 0 {
		if bm := stat.Mean(base[:n], nil); bm != 0 {
			diff.RelChange = s.Mean / math.Abs(bm)
		}
	}
	diff.Verdict = verdict(diff, def.Better)
	return diff
}

func verdict(d Difference, b Better) Verdict {
	switch {
	case b == Neutral:
		return VerdictNotApplicable
	case d.N < 2 || math.IsNaN(d.CI95Low) || math.IsNaN(d.CI95High):
		return VerdictInsufficientData
	case d.CI95Low > 0 || d.CI95High < 0:
		up := d.Mean > 0
		if up == (b == HigherIsBetter) {
			return VerdictBetter
		}
		return VerdictWorse
	}
	return VerdictNoSignificant
}
