package fit

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Sample is a set of durations (in hours) for a distribution fit: exact
// observations, interval-censored ones (known to lie in (a, b]: a pickup
// at a node's opening instant, the customer came while it was closed) and
// right-censored ones (still waiting at c: the window ended, or the parcel
// left the node).
type Sample struct {
	Events    []float64
	Intervals [][2]float64
	Censored  []float64
	// Known, if set, is a component of known distribution in the sample
	// (subscribers, whose behaviour the network states and the feed cannot
	// tell apart): the fit is then of the other component.
	Known *Known
}

// Known is a mixture component whose distribution and never-come share are
// given: a share Share of the sample follows it.
type Known struct {
	Share float64
	Dist  continuous
	Q     float64
}

// N is the number of observations of every kind.
func (s *Sample) N() int { return len(s.Events) + len(s.Intervals) + len(s.Censored) }

// Families are the candidate families, in the order ties are broken.
var Families = []string{"exponential", "lognormal", "gamma", "weibull"}

// continuous is what the fit needs of a distuv distribution.
type continuous interface {
	LogProb(float64) float64
	CDF(float64) float64
	Survival(float64) float64
	Mean() float64
	Quantile(float64) float64
}

// dist builds family's distribution from unconstrained parameters.
func dist(family string, th []float64) continuous {
	switch family {
	case "exponential":
		return distuv.Exponential{Rate: math.Exp(-th[0])}
	case "lognormal":
		return distuv.LogNormal{Mu: th[0], Sigma: math.Exp(th[1])}
	case "gamma":
		return distuv.Gamma{Alpha: math.Exp(th[0]), Beta: math.Exp(-th[1])}
	default: // weibull
		return distuv.Weibull{K: math.Exp(th[0]), Lambda: math.Exp(th[1])}
	}
}

// DistFit is a fitted family, possibly with a cure share (the share that
// never has the event: customers who never come).
type DistFit struct {
	Family string
	Dist   continuous
	theta  []float64
	Cure   bool    // fitted with a cure share
	Q      float64 // the cure share (no-show), when Cure
	QSE    float64 // its standard error (observed information)
	LogLik float64
	AIC    float64
	Mean   float64 // hours, of those who come
	MeanSE float64
	KSD    float64 // Kolmogorov–Smirnov distance between Kaplan–Meier and the fit
	KSP    float64 // its asymptotic p-value (conservative with estimated parameters)
	NEvent int     // exact and interval observations (the KS sample size)
}

const minLog = -700.0

func safeLog(x float64) float64 {
	if x <= 0 || math.IsNaN(x) {
		return minLog
	}
	return math.Max(math.Log(x), minLog)
}

// negLL is the negative log-likelihood of the sample under family with
// parameters th (and, with cure, logit q as the last).
func negLL(s *Sample, family string, cure bool, th []float64) float64 {
	np := len(th)
	q := 0.0
	if cure {
		np--
		q = 1 / (1 + math.Exp(-th[np]))
	}
	for _, v := range th {
		if math.Abs(v) > 50 {
			return math.Inf(1)
		}
	}
	d := dist(family, th[:np])
	if k := s.Known; k != nil {
		return -knownLL(s, d, q, k)
	}
	ll := 0.0
	l1q := math.Log1p(-q)
	for _, t := range s.Events {
		ll += l1q + math.Max(d.LogProb(t), minLog)
	}
	for _, iv := range s.Intervals {
		ll += l1q + safeLog(d.CDF(iv[1])-d.CDF(iv[0]))
	}
	for _, c := range s.Censored {
		ll += safeLog(q + (1-q)*d.Survival(c))
	}
	if math.IsNaN(ll) {
		return math.Inf(1)
	}
	return -ll
}

// knownLL is the log-likelihood of a sample whose share k.Share follows
// the known component and the rest d with never-come share q.
func knownLL(s *Sample, d continuous, q float64, k *Known) float64 {
	a, b := (1-k.Share)*(1-q), k.Share*(1-k.Q)
	ll := 0.0
	for _, t := range s.Events {
		ll += safeLog(a*math.Exp(d.LogProb(t)) + b*math.Exp(k.Dist.LogProb(t)))
	}
	for _, iv := range s.Intervals {
		ll += safeLog(a*(d.CDF(iv[1])-d.CDF(iv[0])) + b*(k.Dist.CDF(iv[1])-k.Dist.CDF(iv[0])))
	}
	for _, c := range s.Censored {
		ll += safeLog((1-k.Share)*(q+(1-q)*d.Survival(c)) + k.Share*(k.Q+(1-k.Q)*k.Dist.Survival(c)))
	}
	if math.IsNaN(ll) {
		return math.Inf(-1)
	}
	return ll
}

// start gives initial parameters from the observed (uncensored) values.
func start(s *Sample, family string) []float64 {
	var xs []float64
	xs = append(xs, s.Events...)
	for _, iv := range s.Intervals {
		xs = append(xs, iv[1])
	}
	var logs []float64
	for _, x := range xs {
		logs = append(logs, math.Log(math.Max(x, 1e-6)))
	}
	m, v := stat.MeanVariance(xs, nil)
	lm, lv := stat.MeanVariance(logs, nil)
	if !(m > 0) {
		m = 1
	}
	if !(v > 0) {
		v = m * m
	}
	if !(lv > 0) {
		lv = 1
	}
	switch family {
	case "exponential":
		return []float64{math.Log(m)}
	case "lognormal":
		return []float64{lm, 0.5 * math.Log(lv)}
	case "gamma":
		return []float64{math.Log(m * m / v), math.Log(v / m)}
	default:
		return []float64{0.2, math.Log(m)}
	}
}

// FitFamily fits one family by maximum likelihood (Nelder–Mead on
// log-parameters; deterministic), with its standard errors from the
// numerical Hessian.
func FitFamily(s *Sample, family string, cure bool) (*DistFit, bool) {
	x0 := start(s, family)
	if cure {
		q0 := float64(len(s.Censored)) / float64(max(s.N(), 1)) / 2
		q0 = math.Min(math.Max(q0, 0.005), 0.9)
		x0 = append(x0, math.Log(q0/(1-q0)))
	}
	f := func(th []float64) float64 { return negLL(s, family, cure, th) }
	best, bestF := x0, f(x0)
	// restarts from the previous optimum: Nelder–Mead can stall
	for range 4 {
		x, fx := nelderMead(f, best, 4000)
		improved := fx < bestF-1e-9
		if fx < bestF {
			best, bestF = x, fx
		}
		if !improved {
			break
		}
	}
	if math.IsInf(bestF, 0) || math.IsNaN(bestF) {
		return nil, false
	}
	np := len(best)
	if cure {
		np--
	}
	df := &DistFit{Family: family, theta: best[:np:np], Cure: cure, Dist: dist(family, best[:np:np]), LogLik: -bestF}
	k := float64(len(best))
	df.AIC = 2*k + 2*bestF
	df.Mean = df.Dist.Mean()
	if cure {
		df.Q = 1 / (1 + math.Exp(-best[np]))
	}
	// standard errors: inverse of the observed information
	n := len(best)
	h := mat.NewSymDense(n, nil)
	fd.Hessian(h, f, best, nil)
	var cov mat.Dense
	df.MeanSE, df.QSE = math.NaN(), math.NaN()
	if err := cov.Inverse(h); err == nil {
		g := make([]float64, n)
		fd.Gradient(g, func(th []float64) float64 { return dist(family, th[:np]).Mean() }, best, nil)
		v := 0.0
		for i := range n {
			for j := range n {
				v += g[i] * cov.At(i, j) * g[j]
			}
		}
		if v >= 0 {
			df.MeanSE = math.Sqrt(v)
		}
		if cure && cov.At(np, np) >= 0 {
			df.QSE = df.Q * (1 - df.Q) * math.Sqrt(cov.At(np, np))
		}
	}
	df.KSD, df.KSP, df.NEvent = ksCheck(s, df)
	return df, true
}

// ChooseFamily fits every candidate family and returns them sorted by AIC
// (best first; ties in Families order), except that a family with fewer
// parameters within 2 AIC units of the best goes first.
func ChooseFamily(s *Sample, cure bool) []*DistFit {
	var fits []*DistFit
	for _, f := range Families {
		if df, ok := FitFamily(s, f, cure); ok {
			fits = append(fits, df)
		}
	}
	sort.SliceStable(fits, func(i, j int) bool { return fits[i].AIC < fits[j].AIC })
	// parsimony: a family with fewer parameters within 2 AIC units of the
	// best is as well supported (Burnham & Anderson); the exponential is
	// the Weibull and the gamma with shape 1
	for i, f := range fits {
		if i > 0 && len(f.theta) < len(fits[0].theta) && f.AIC-fits[0].AIC < 2 {
			fits = append([]*DistFit{f}, append(fits[:i:i], fits[i+1:]...)...)
			break
		}
	}
	return fits
}

// km is a Kaplan–Meier estimate: event times and the estimate of
// P(T <= t) just after each.
type km struct {
	t, f []float64
}

// kaplanMeier estimates P(T <= t) from exact events and right-censored
// observations; an interval (a, b] enters as censored at a (it is known to
// be later than a; placing it at b would put the mass of a closed night on
// the opening instant).
func kaplanMeier(s *Sample) km {
	type ob struct {
		t     float64
		event bool
	}
	var obs []ob
	for _, t := range s.Events {
		obs = append(obs, ob{t, true})
	}
	for _, iv := range s.Intervals {
		obs = append(obs, ob{iv[0], false})
	}
	for _, c := range s.Censored {
		obs = append(obs, ob{c, false})
	}
	// events before censorings at the same time (the usual convention)
	sort.Slice(obs, func(i, j int) bool {
		if obs[i].t != obs[j].t {
			return obs[i].t < obs[j].t
		}
		return obs[i].event && !obs[j].event
	})
	var out km
	surv := 1.0
	atRisk := len(obs)
	for i := 0; i < len(obs); {
		j, d := i, 0
		for j < len(obs) && obs[j].t == obs[i].t {
			if obs[j].event {
				d++
			}
			j++
		}
		if d > 0 {
			surv *= 1 - float64(d)/float64(atRisk)
			out.t = append(out.t, obs[i].t)
			out.f = append(out.f, 1-surv)
		}
		atRisk -= j - i
		i = j
	}
	return out
}

// ksCheck is the Kolmogorov–Smirnov distance between the Kaplan–Meier
// estimate and the fitted P(T <= t) = (1 - q) F(t), over the observed event
// times, with the asymptotic p-value for the number of events. Parameters
// estimated from the same data make the p-value conservative (a fit passes
// more easily than the nominal level says: Lilliefors); censoring makes
// the effective sample smaller than the count of events near the tail.
func ksCheck(s *Sample, df *DistFit) (d, p float64, n int) {
	k := kaplanMeier(s)
	n = len(s.Events)
	prev := 0.0
	for i, t := range k.t {
		g := (1 - df.Q) * df.Dist.CDF(t)
		if kn := s.Known; kn != nil {
			g = (1-kn.Share)*g + kn.Share*(1-kn.Q)*kn.Dist.CDF(t)
		}
		d = math.Max(d, math.Max(math.Abs(k.f[i]-g), math.Abs(prev-g)))
		prev = k.f[i]
	}
	return d, ksP(d, n), n
}

// ksP is the asymptotic Kolmogorov p-value with Stephens' small-sample
// correction.
func ksP(d float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	sn := math.Sqrt(float64(n))
	l := (sn + 0.12 + 0.11/sn) * d
	if l < 0.2 {
		return 1
	}
	sum := 0.0
	for j := 1; j <= 100; j++ {
		term := 2 * math.Pow(-1, float64(j-1)) * math.Exp(-2*float64(j*j)*l*l)
		sum += term
		if math.Abs(term) < 1e-12 {
			break
		}
	}
	return math.Min(math.Max(sum, 0), 1)
}

// empiricalQuantiles is the Kaplan–Meier estimate of the distribution of
// those who come (divided by 1 - q), at n+1 equally spaced probabilities
// 0, 1/n, ..., 1. Beyond the follow-up (the estimate never reaches a
// probability: every parcel left or the window ended before) the tail
// family's quantiles stand in (at 0.999 for the last), so the written
// distribution does not end where the observation did; with no tail family
// the largest event time does.
func empiricalQuantiles(s *Sample, q float64, n int, tail continuous) []float64 {
	k := kaplanMeier(s)
	out := make([]float64, n+1)
	if len(k.t) == 0 {
		return out
	}
	for i := range out {
		p := float64(i) / float64(n)
		j := sort.Search(len(k.f), func(j int) bool { return k.f[j] >= p*(1-q)-1e-12 })
		switch {
		case j < len(k.f) && i < n:
			out[i] = k.t[j]
		case tail != nil:
			out[i] = tail.Quantile(math.Min(p, 0.999))
		default:
			out[i] = k.t[len(k.t)-1]
		}
		if i > 0 && out[i] < out[i-1] {
			out[i] = out[i-1]
		}
	}
	return out
}
