package fit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// censoredSample draws n delays from d, a share q of which never happen,
// observed until a uniform censoring time in [0, maxC] hours.
func censoredSample(d distuv.Rander, q float64, n int, maxC float64, rng *rand.Rand) *Sample {
	s := &Sample{}
	for range n {
		c := rng.Float64() * maxC
		if rng.Float64() < q {
			s.Censored = append(s.Censored, c)
			continue
		}
		if t := d.Rand(); t <= c {
			s.Events = append(s.Events, t)
		} else {
			s.Censored = append(s.Censored, c)
		}
	}
	return s
}

// TestFitFamilyCensoredMixture: the mixture fit recovers each family's mean
// and the never-come share within three standard errors (observed
// information) from heavily censored data, picks the true family by AIC,
// while the naive mean of the observed delays (censored ones dropped) is
// far off: censoring is handled, not ignored.
func TestFitFamilyCensoredMixture(t *testing.T) {
	src := rand.NewPCG(1, 2)
	cases := []struct {
		name string
		d    interface {
			distuv.Rander
			Mean() float64
		}
	}{
		{"exponential", distuv.Exponential{Rate: 1.0 / 6, Src: src}},
		{"lognormal", distuv.LogNormal{Mu: math.Log(4), Sigma: 0.9, Src: src}},
		{"gamma", distuv.Gamma{Alpha: 3, Beta: 0.5, Src: src}},
		{"weibull", distuv.Weibull{K: 2.2, Lambda: 7, Src: src}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := censoredSample(tc.d, 0.08, 4000, 30, rand.New(rand.NewPCG(3, 4)))
			fits := ChooseFamily(s, true)
			require.NotEmpty(t, fits)
			best := fits[0]
			assert.Equal(t, tc.name, best.Family, "AIC picks the family that generated the data")
			assert.InDelta(t, tc.d.Mean(), best.Mean, 3*best.MeanSE, "mean")
			assert.InDelta(t, 0.08, best.Q, 3*best.QSE, "never-come share")
			assert.Greater(t, best.KSP, KSLevel, "KS check passes for the true family")
			naive := 0.0
			for _, e := range s.Events {
				naive += e
			}
			naive /= float64(len(s.Events))
			assert.Greater(t, math.Abs(naive-tc.d.Mean()), 5*best.MeanSE, "dropping censored parcels would bias the mean")
		})
	}
}

// TestKSRejectsWrongFamily: a bimodal delay fails the KS check of every
// family, so the written distribution is the empirical one.
func TestKSRejectsWrongFamily(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := &Sample{}
	for range 3000 {
		if rng.Float64() < 0.5 {
			s.Events = append(s.Events, 0.5+rng.Float64()*0.2)
		} else {
			s.Events = append(s.Events, 20+rng.Float64())
		}
	}
	fits := ChooseFamily(s, false)
	require.NotEmpty(t, fits)
	for _, f := range fits {
		assert.Less(t, f.KSP, KSLevel, f.Family)
	}
	q := empiricalQuantiles(s, 0, 20, nil)
	assert.InDelta(t, 0.5, q[0], 0.01)
	assert.InDelta(t, 21, q[20], 0.01)
	assert.Less(t, q[9], 1.0)
	assert.Greater(t, q[11], 19.0)
}

// TestFitFamilyKnownComponent: a sample in which a known share follows a
// known distribution (subscribers): the fit recovers the other customers'
// mean and never-come share, which the pooled fit would not.
func TestFitFamilyKnownComponent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cust := distuv.Exponential{Rate: 1.0 / 8, Src: rand.NewPCG(9, 10)}
	sub := distuv.Exponential{Rate: 1.0 / 3, Src: rand.NewPCG(11, 12)}
	a := censoredSample(cust, 0.03, 5100, 40, rng)
	b := censoredSample(sub, 0.01, 900, 40, rng)
	pooled := &Sample{Events: append(a.Events, b.Events...), Censored: append(a.Censored, b.Censored...)}
	withKnown := *pooled
	withKnown.Known = &Known{Share: 0.15, Dist: distuv.Exponential{Rate: 1.0 / 3}, Q: 0.01}
	f, ok := FitFamily(&withKnown, "exponential", true)
	require.True(t, ok)
	assert.InDelta(t, 8, f.Mean, 3*f.MeanSE, "the other customers' mean")
	assert.InDelta(t, 0.03, f.Q, 3*f.QSE, "their never-come share")
	p, ok := FitFamily(pooled, "exponential", true)
	require.True(t, ok)
	assert.Greater(t, math.Abs(p.Mean-8), 3*p.MeanSE, "pooling subscribers in would bias the mean")
}

// TestChooseFamilyParsimony: on exponential data the Weibull and the gamma
// (which contain it) fit about as well; within 2 AIC units the exponential
// is chosen.
func TestChooseFamilyParsimony(t *testing.T) {
	s := censoredSample(distuv.Exponential{Rate: 0.25, Src: rand.NewPCG(13, 14)}, 0, 3000, 20, rand.New(rand.NewPCG(15, 16)))
	fits := ChooseFamily(s, false)
	require.NotEmpty(t, fits)
	best := fits[0]
	assert.Equal(t, "exponential", best.Family)
	for _, f := range fits[1:] {
		assert.True(t, f.AIC > best.AIC || best.AIC-f.AIC < 2, "%s AIC %.2f vs exponential %.2f", f.Family, f.AIC, best.AIC)
	}
}
