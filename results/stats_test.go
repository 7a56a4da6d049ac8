package results

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// pairedSample draws n replications of a base and an other scenario that share
// a common random component (common random numbers): base_i = mu + c_i + e_i,
// other_i = mu + effect + c_i + e'_i with c ~ N(0, shared²), e ~ N(0, own²).
func pairedSample(seed uint64, n int, mu, effect, shared, own float64) (base, other []float64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	for range n {
		c := rng.NormFloat64() * shared
		base = append(base, mu+c+rng.NormFloat64()*own)
		other = append(other, mu+effect+c+rng.NormFloat64()*own)
	}
	return base, other
}

func TestSummarizeKnownSample(t *testing.T) {
	s := Summarize([]float64{2, 4, 4, 4, 5, 5, 7, 9}, 0.05)
	// mean 5, s = sqrt(32/7), t(0.975, 7) = 2.364624252, h = t·s/√8.
	const tq = 2.364624252
	sd := math.Sqrt(32.0 / 7)
	hw := tq * sd / math.Sqrt(8)
	assert.Equal(t, 8, s.N)
	assert.InDelta(t, 5, s.Mean, 1e-12)
	assert.InDelta(t, 2.138090, s.StdDev, 1e-6)
	assert.InDelta(t, 1.787488, s.HalfWidth, 1e-4)
	assert.InDelta(t, hw, s.HalfWidth, 1e-8)
	assert.InDelta(t, 5-hw, s.CI95Low, 1e-8)
	assert.InDelta(t, 5+hw, s.CI95High, 1e-8)
	assert.InDelta(t, hw/5, s.RelHalfWidth, 1e-8)
	assert.False(t, s.PrecisionMet)
	assert.Equal(t, 0.05, s.Precision)
	assert.InDelta(t, tq, TQuantile(8), 1e-8)
}

func TestSummarizeEdgeCases(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name      string
		values    []float64
		precision float64
		mean, hw  float64
		rel       float64
		met       bool
		needed    int
	}{
		{"empty", nil, 0.05, nan, nan, nan, false, 0},
		{"one replication has no CI", []float64{3}, 0.05, 3, nan, nan, false, 0},
		{"constant sample", []float64{4, 4, 4}, 0.05, 4, 0, 0, true, 3},
		{"zero mean with spread", []float64{-1, 1, -1, 1}, 0.05, 0, 1.8374, math.Inf(1), false, 0},
		{"no target", []float64{1, 2, 3}, 0, 2, 2.4841, 1.242, true, 3},
		{"tight sample meets target", []float64{100, 101, 99, 100, 100}, 0.05, 100, 0.8780, 0.00878, true, 5},
		{"all zero", []float64{0, 0}, 0.05, 0, 0, 0, true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize(tc.values, tc.precision)
			assert.Equal(t, len(tc.values), s.N)
			assertFloat(t, tc.mean, s.Mean, 1e-9, "mean")
			assertFloat(t, tc.hw, s.HalfWidth, 1e-3, "half-width")
			assertFloat(t, tc.rel, s.RelHalfWidth, 1e-3, "relative half-width")
			assert.Equal(t, tc.met, s.PrecisionMet)
			assert.Equal(t, tc.needed, s.ReplicationsNeeded)
			if s.N < 2 {
				assert.True(t, math.IsNaN(s.CI95Low) && math.IsNaN(s.CI95High) && math.IsNaN(s.StdDev))
			}
		})
	}
}

func assertFloat(t *testing.T, want, got, tol float64, what string) {
	t.Helper()
	switch {
	case math.IsNaN(want):
		assert.True(t, math.IsNaN(got), "%s: want NaN, got %v", what, got)
	case math.IsInf(want, 0):
		assert.Equal(t, want, got, what)
	default:
		assert.InDelta(t, want, got, tol, what)
	}
}

func TestReplicationsNeeded(t *testing.T) {
	tests := []struct {
		name                string
		have                int
		mean, sd, precision float64
	}{
		{"textbook sample", 8, 5, math.Sqrt(32.0 / 7), 0.05},
		{"small spread", 10, 100, 3, 0.01},
		{"already enough", 50, 100, 1, 0.05},
		{"tiny sample, loose target", 2, 10, 1, 0.2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := ReplicationsNeeded(tc.have, tc.mean, tc.sd, tc.precision)
			target := tc.precision * math.Abs(tc.mean)
			hw := func(n int) float64 { return TQuantile(n) * tc.sd / math.Sqrt(float64(n)) }
			require.GreaterOrEqual(t, n, tc.have)
			assert.LessOrEqual(t, hw(n), target, "n=%d must reach the target", n)
			if n > tc.have && n > 2 {
				assert.Greater(t, hw(n-1), target, "n=%d is not the smallest", n)
			}
			// brute force from the bottom agrees
			want := max(tc.have, 2)
			for hw(want) > target {
				want++
			}
			assert.Equal(t, want, n)
		})
	}
	// the closed-form n·(h/h*)² is the same order but ignores t's shrinking.
	s := Summarize([]float64{2, 4, 4, 4, 5, 5, 7, 9}, 0.05)
	closed := int(math.Ceil(8 * math.Pow(s.RelHalfWidth/0.05, 2)))
	assert.Less(t, s.ReplicationsNeeded, closed)
	assert.Greater(t, s.ReplicationsNeeded, closed/2)
	assert.Equal(t, 0, ReplicationsNeeded(5, 0, 1, 0.05), "zero mean cannot be estimated")
	assert.Equal(t, 0, ReplicationsNeeded(5, 1, math.NaN(), 0.05))
}

func TestCompareKnownDifference(t *testing.T) {
	d := Compare([]float64{1, 2, 3, 4}, []float64{2, 3.5, 4, 6}, MetricDef{Better: HigherIsBetter})
	// differences {1, 1.5, 1, 2}: mean 1.375, s = sqrt(0.6875/3), t(0.975,3) = 3.182446305
	hw := 3.182446305 * math.Sqrt(0.6875/3) / 2
	assert.Equal(t, 4, d.N)
	assert.InDelta(t, 1.375, d.Mean, 1e-12)
	assert.InDelta(t, hw, d.HalfWidth, 1e-6)
	assert.InDelta(t, 1.375-hw, d.CI95Low, 1e-6)
	assert.InDelta(t, 1.375/2.5, d.RelChange, 1e-12)
	assert.Equal(t, VerdictBetter, d.Verdict)
}

func TestCompareVerdicts(t *testing.T) {
	up := []float64{10, 11, 12, 13, 14}
	upMore := []float64{12, 13.1, 13.9, 15.2, 16}
	noisy := []float64{11, 10, 13, 12, 14.5}
	tests := []struct {
		name        string
		base, other []float64
		better      Better
		want        Verdict
	}{
		{"higher is better, went up", up, upMore, HigherIsBetter, VerdictBetter},
		{"higher is better, went down", upMore, up, HigherIsBetter, VerdictWorse},
		{"lower is better, went down", upMore, up, LowerIsBetter, VerdictBetter},
		{"lower is better, went up", up, upMore, LowerIsBetter, VerdictWorse},
		{"noise straddles zero", up, noisy, HigherIsBetter, VerdictNoSignificant},
		{"noise straddles zero, lower", up, noisy, LowerIsBetter, VerdictNoSignificant},
		{"identical", up, up, LowerIsBetter, VerdictNoSignificant},
		{"neutral metric", up, upMore, Neutral, VerdictNotApplicable},
		{"one pair", []float64{1}, []float64{5}, HigherIsBetter, VerdictInsufficientData},
		{"no pairs", nil, nil, LowerIsBetter, VerdictInsufficientData},
		{"constant shift is significant", []float64{1, 2, 3}, []float64{2, 3, 4}, HigherIsBetter, VerdictBetter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(tc.base, tc.other, MetricDef{Name: "m", Better: tc.better})
			assert.Equal(t, tc.want, d.Verdict, "diff %+v", d)
		})
	}
}

func TestCommonRandomNumbersNarrowTheInterval(t *testing.T) {
	// With a large shared component, the paired half-width is far below the
	// independent-samples (Welch) one on the same data.
	base, other := pairedSample(1, 20, 100, 2, 10, 1)
	paired, welch := Compare(base, other, MetricDef{}).HalfWidth, welchHalfWidth(base, other)
	assert.Less(t, paired, welch/3, "paired %v welch %v", paired, welch)
	d := Compare(base, other, MetricDef{Better: HigherIsBetter})
	assert.Equal(t, VerdictBetter, d.Verdict)
	assert.InDelta(t, 2, d.Mean, 3*d.HalfWidth)
	assert.True(t, math.IsNaN(Compare([]float64{1}, []float64{2}, MetricDef{}).HalfWidth))
}

// welchHalfWidth is the 95% CI half-width of mean(other) − mean(base)
// treating the samples as independent (Welch's t with Satterthwaite degrees
// of freedom): what the comparison would cost without common random numbers.
func welchHalfWidth(base, other []float64) float64 {
	if len(base) < 2 || len(other) < 2 {
		return math.NaN()
	}
	vb := stat.Variance(base, nil) / float64(len(base))
	vo := stat.Variance(other, nil) / float64(len(other))
	se2 := vb + vo
	if se2 == 0 {
		return 0
	}
	df := se2 * se2 / (vb*vb/float64(len(base)-1) + vo*vo/float64(len(other)-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - (1-Confidence)/2)
	return t * math.Sqrt(se2)
}

func TestSummaryJSONNullForNonFinite(t *testing.T) {
	s := Summarize([]float64{7}, 0.05)
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"n":1,"mean":7,"stddev":null,"ci95_low":null,"ci95_high":null,"half_width":null,
		"rel_half_width":null,"precision":0.05,"precision_met":false,"replications_needed":0}`, string(b))
	var back Summary
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, 7.0, back.Mean)
	assert.True(t, math.IsNaN(back.HalfWidth))
	assert.Error(t, json.Unmarshal([]byte(`{"n":1,"bogus":2}`), &back))

	d := Compare([]float64{1, 1}, []float64{1, 1}, MetricDef{})
	b, err = json.Marshal(d)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"rel_change":0`)
	d = Compare([]float64{0, 0}, []float64{1, 2}, MetricDef{})
	b, err = json.Marshal(d)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"rel_change":null`)
}

func TestBetterText(t *testing.T) {
	for _, b := range []Better{Neutral, HigherIsBetter, LowerIsBetter} {
		txt, err := b.MarshalText()
		require.NoError(t, err)
		var back Better
		require.NoError(t, back.UnmarshalText(txt))
		assert.Equal(t, b, back)
	}
	var b Better
	assert.Error(t, b.UnmarshalText([]byte("up")))
	_, err := Better(7).MarshalText()
	assert.Error(t, err)
}

func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Catalog {
		assert.False(t, seen[d.Name], "duplicate %s", d.Name)
		seen[d.Name] = true
		assert.NotEmpty(t, d.Unit, d.Name)
		assert.NotEmpty(t, d.Description, d.Name)
	}
	assert.Len(t, Catalog, 89) // 28 + ttl 8 + choice 1 + replenish 8 + supply 13 + cohort 7 + operators 1 + touch 8 + cost breakdown 8 + packaging 7
	for name, want := range map[string]Better{
		MOrders: Neutral, MPickupSuccessRate: HigherIsBetter, MFCPO: LowerIsBetter, MRSMI: HigherIsBetter,
		MCourierUtilization: Neutral, MDriftIntegral: LowerIsBetter, MRejectedEvents: LowerIsBetter,
	} {
		d, ok := Lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, want, d.Better, name)
	}
	_, ok := Lookup("nope")
	assert.False(t, ok)
}
