package results

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// The power of a check: how many replications it needs so that a worsening
// as large as the metric's tolerance allows is detected.
//
// A check tests, at the two-sided level PowerAlpha, whether a metric moved
// (see Significance). If the true worsening were exactly the allowed one, δ,
// a check with n replications would detect it with probability PowerTarget
// when
//
//	paired:  n ≥ ((t(1−α/2, n−1) + t(power, n−1)) · sd_D / δ)²
//	overlap: n ≥ ((t(1−α/2, n−1)·(s_b + s_n) + t(power, n−1)·√(s_b² + s_n²)) / δ)²
//
// where sd_D is the standard deviation of the paired differences now − base
// and s_b, s_n those of baseline and now (the t-quantile form of the usual
// normal-approximation sample size; for a paired test it gives G*Power's
// n = 34 at δ/sd_D = 0.5 and n = 10 at 1). RequiredReplications finds the
// smallest such n.
//
// Before running, only the baseline's variance σ² is known: the plan assumes
// sd_D = √2·σ (the now and baseline replications vary independently; the
// common random numbers of a paired check only make sd_D smaller) and, for
// the overlap rule, s_b = s_n = σ. After running, the observed spread takes
// over (MetricCheck.RequiredN), and the sequential procedure of lockstep check
// adds replications while a check is inconclusive and needs more.
const (
	// PowerAlpha is the two-sided significance level of every check.
	PowerAlpha = 1 - Confidence
	// PowerTarget is the probability of detecting a worsening of exactly the
	// allowed size that a check is sized for.
	PowerTarget = 0.80
)

// tq is the p-quantile of Student's t with n−1 degrees of freedom.
func tq(p float64, n int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(p)
}

// requiredN returns the smallest n ≥ 2 with n ≥ (k(tA, tB)/delta)², where tA
// and tB are the t quantiles of the level and the power at n−1 degrees of
// freedom; capped at maxReplications.
func requiredN(delta float64, k func(tA, tB float64) float64) int {
	// the normal quantiles give a lower bound (t > z for the same p)
	zA, zB := distuv.UnitNormal.Quantile(1-PowerAlpha/2), distuv.UnitNormal.Quantile(PowerTarget)
	n := 2
	if lb := math.Ceil(math.Pow(k(zA, zB)/delta, 2)); lb > 2 {
		if lb >= maxReplications {
			return maxReplications
		}
		n = int(lb)
	}
	for ; n < maxReplications; n++ {
		if v := k(tq(1-PowerAlpha/2, n), tq(PowerTarget, n)) / delta; v*v <= float64(n) {
			return n
		}
	}
	return maxReplications
}

// RequiredReplications returns how many paired replications a check needs
// to detect a true worsening of delta with PowerTarget power at the two-sided
// level PowerAlpha, when the paired differences have standard deviation
// sdDiff (see the formula above). ok is false when no number of replications
// can: delta ≤ 0 while sdDiff > 0, or inputs that are not finite. A zero
// sdDiff needs the minimum, 2.
func RequiredReplications(sdDiff, delta float64) (n int, ok bool) {
	switch {
	case !finite(sdDiff) || sdDiff < 0 || math.IsNaN(delta):
		return 0, false
	case sdDiff == 0:
		return 2, true
	case !(delta > 0) || math.IsInf(delta, 0):
		return 0, false
	}
	return requiredN(delta, func(tA, tB float64) float64 { return (tA + tB) * sdDiff }), true
}

// requiredOverlap is RequiredReplications for the overlap rule: baseline and
// now with standard deviations sb and sn, judged by non-overlapping CIs.
func requiredOverlap(sb, sn, delta float64) (int, bool) {
	switch {
	case !finite(sb) || !finite(sn) || sb < 0 || sn < 0 || math.IsNaN(delta):
		return 0, false
	case sb == 0 && sn == 0:
		return 2, true
	case !(delta > 0) || math.IsInf(delta, 0):
		return 0, false
	}
	return requiredN(delta, func(tA, tB float64) float64 { return tA*(sb+sn) + tB*math.Hypot(sb, sn) }), true
}

// MetricPlan is the power plan of one checked metric, from the baseline.
type MetricPlan struct {
	Metric string `json:"metric"`
	// Allowed is the worsening the tolerance allows (δ).
	Allowed float64 `json:"allowed"`
	// SD is the baseline's standard deviation (√variance).
	SD float64 `json:"sd"`
	// Required is the replications needed for PowerTarget power at δ (0 when
	// it cannot be estimated, or under the significance rule none).
	Required int `json:"required"`
	// Underpowered: Required is more than the check can run (or infinite).
	Underpowered bool `json:"underpowered"`
	// Note explains Required in one sentence.
	Note string `json:"note"`
}

// CheckPlan says how many replications a check starts with.
type CheckPlan struct {
	// Replications is the first stage: the most any checked metric needs,
	// at least floor, at most Cap (and at least 2 when Cap allows).
	Replications int `json:"replications"`
	// Cap is the most replications the check may run: the baseline's,
	// or CheckConfig.MaxReplications when smaller.
	Cap     int          `json:"cap"`
	Metrics []MetricPlan `json:"metrics"`
}

// capOf is how many replications a check of base under c may run.
func (c CheckConfig) capOf(base *Baseline) int {
	if c.MaxReplications > 0 && c.MaxReplications < base.Replications {
		return c.MaxReplications
	}
	return base.Replications
}

// PlanCheck sizes a check of base before it runs: for each checked metric
// the replications needed, from the baseline's variance, to detect a
// worsening of the allowed size with PowerTarget power (see the formula at
// the top of this file). floor is the fewest replications to start with
// (lockstep check passes the scenario's replications).
func PlanCheck(base *Baseline, cfg CheckConfig, floor int) CheckPlan {
	return plan(base, cfg, floor, cfg.capOf(base))
}

// PlanBaseline sizes a baseline from a first run of it, pilot: for each
// metric the scenario checks, the replications a later check needs (as
// PlanCheck), so the baseline holds at least that many, at least floor and
// at most maxReplications. lockstep baseline extends the pilot run to
// Replications (and plans again with the larger sample).
func PlanBaseline(pilot *Baseline, cfg CheckConfig, floor, maxReplications int) CheckPlan {
	return plan(pilot, cfg, floor, maxReplications)
}

func plan(base *Baseline, cfg CheckConfig, floor, limit int) CheckPlan {
	p := CheckPlan{Cap: limit}
	need := 0
	for _, bm := range base.Metrics {
		tol, checked := cfg.Tolerance(bm.Metric)
		if !checked {
			continue
		}
		mp := MetricPlan{Metric: bm.Metric, Allowed: tol.Allowed(bm.Mean), SD: math.Sqrt(bm.Variance)}
		mp.Required, mp.Underpowered, mp.Note = powerOf(tol.Significance, mp.SD*math.Sqrt2, mp.SD, mp.SD, mp.Allowed, p.Cap, p.Cap,
			"the baseline's variance")
		switch {
		case mp.Underpowered:
			need = p.Cap
		case mp.Required > need:
			need = mp.Required
		}
		p.Metrics = append(p.Metrics, mp)
	}
	p.Replications = min(max(need, floor, 2), p.Cap)
	return p
}

// powerOf is the required replications under rule (sdDiff for paired, sb and
// sn for overlap), whether that is more than have (or no number suffices),
// and a sentence saying so; from names where the spread came from, limit is
// the most replications that can run.
func powerOf(rule Significance, sdDiff, sb, sn, allowed float64, have, limit int, from string) (int, bool, string) {
	var n int
	var ok bool
	switch rule {
	case SignificanceNone:
		return 0, false, "significance rule none: the tolerance alone decides, no power to compute"
	case SignificanceOverlap:
		n, ok = requiredOverlap(sb, sn, allowed)
	default:
		n, ok = RequiredReplications(sdDiff, allowed)
	}
	what := fmt.Sprintf("detecting a worsening of %s (the allowed) with %.0f%% power at the %.0f%% level",
		fmtShort(allowed), 100*PowerTarget, 100*PowerAlpha)
	switch {
	case !ok && !finite(sdDiff+sb+sn):
		return 0, false, "power unknown: fewer than 2 values to estimate the spread from"
	case !ok:
		return 0, true, fmt.Sprintf("underpowered: %s cannot be done (%s gives a spread but the tolerance allows nothing); widen the tolerance", what, from)
	case n > have && have == limit:
		return n, true, fmt.Sprintf("underpowered: %s needs %d replications (from %s), at most %d can run", what, n, from, limit)
	case n > have:
		return n, true, fmt.Sprintf("underpowered: %s needs %d replications (from %s), %d compared (at most %d can run)", what, n, from, have, limit)
	}
	return n, false, fmt.Sprintf("%s needs %d replications (from %s)", what, n, from)
}

// NextReplications is the sequential step of a check: after a stage of n
// replications, while some PASS or INCONCLUSIVE check is short of power
// (MetricCheck.RequiredN, from the observed spread, is more than n) and
// n < limit, the next stage grows to the most such a check needs, at least
// by half, at most to limit. An inconclusive check whose need is unknown
// grows by half. It returns 0 when the check should stop: every check is
// decided with the power it needs (or failed), or limit is reached.
func (r *CheckReport) NextReplications(limit int) int {
	n := r.Replications
	if n >= limit {
		return 0
	}
	next := 0
	for _, m := range r.Metrics {
		switch {
		case m.Status != StatusPass && m.Status != StatusInconclusive:
		case m.RequiredN > n:
			next = max(next, m.RequiredN, n+(n+1)/2)
		case m.RequiredN == 0 && m.Status == StatusInconclusive:
			next = max(next, n+(n+1)/2)
		}
	}
	if next == 0 {
		return 0
	}
	return min(next, limit)
}
