package results

import (
	"errors"
	"fmt"
	"github.com/lockstep-sim/lockstep/internal/suggest"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Significance is the statistical rule a worsening must also pass before a
// check fails, on top of its tolerance.
type Significance string

// Significance rules.
const (
	// SignificancePaired (the default): the 95% CI of the paired difference
	// now − baseline (replication i against replication i: the same seed gives
	// common random numbers) lies entirely on the bad side of zero.
	SignificancePaired Significance = "paired"
	// SignificanceOverlap: the 95% CIs of baseline and now do not overlap, now
	// on the bad side. Coarser than paired; for runs that do not share seeds.
	SignificanceOverlap Significance = "overlap"
	// SignificanceNone: the tolerance alone decides.
	SignificanceNone Significance = "none"
)

// DefaultSignificance is the rule used when none is configured.
const DefaultSignificance = SignificancePaired

// ParseSignificance accepts "paired", "overlap" or "none" ("" gives the default).
func ParseSignificance(s string) (Significance, error) {
	switch Significance(s) {
	case "":
		return DefaultSignificance, nil
	case SignificancePaired, SignificanceOverlap, SignificanceNone:
		return Significance(s), nil
	}
	return "", fmt.Errorf("significance must be paired, overlap or none (got %q)", s)
}

// Tolerance is how far a metric may move in its bad direction before a check
// fails: the allowed worsening is max(Absolute, Relative × |baseline mean|),
// in the metric's unit. A worsening beyond it fails only if it is also
// statistically significant under the Significance rule.
type Tolerance struct {
	Absolute float64 `json:"absolute"` // metric units (0.01 on a share is one percentage point)
	Relative float64 `json:"relative"` // share of |baseline mean| (0.05 for 5%)
	// Significance overrides CheckConfig.Significance for this metric ("" inherits).
	Significance Significance `json:"significance,omitempty"`
	// Skip reports the metric without checking it.
	Skip bool `json:"skip,omitempty"`
}

// Allowed is the worsening allowed against a baseline mean.
func (t Tolerance) Allowed(baseMean float64) float64 {
	return math.Max(t.Absolute, t.Relative*math.Abs(baseMean))
}

// String is "±0.01", "10%", "10% (min 1)".
func (t Tolerance) String() string {
	switch {
	case t.Skip:
		return "skip"
	case t.Relative > 0 && t.Absolute > 0:
		return fmtShortPct(t.Relative) + " (min " + fmtShort(t.Absolute) + ")"
	case t.Relative > 0:
		return fmtShortPct(t.Relative)
	}
	return "±" + fmtShort(t.Absolute)
}

// fmtShort is v with at most 4 significant digits and no trailing zeros.
func fmtShort(v float64) string {
	if math.Abs(v) >= 1e4 && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func fmtShortPct(v float64) string { return fmtShort(100*v) + "%" }

// DefaultCheckedMetrics are the SLA metrics checked when a scenario's checks
// section says nothing: what a same-day customer and the finance team notice.
// Other directional metrics are reported but only checked when listed in
// checks.metrics; neutral metrics are never checked.
var DefaultCheckedMetrics = []string{
	MPickupSuccessRate, MOnTimeReadyRate, MReroutes, MReturns, MCancelled, MRefunds, MFCPO, MPickupFrictionP90,
}

// UnitTolerance is the default tolerance of a metric by its unit:
//
//	share (rates)        ±0.01 absolute (one percentage point)
//	count                10% of the baseline, at least 1
//	currency             5% of the baseline
//	minutes              5% of the baseline, at least 5 min
//	anything else        10% of the baseline
func UnitTolerance(metric string) Tolerance {
	d := defOf(metric)
	switch {
	case isShare(d):
		return Tolerance{Absolute: 0.01}
	case d.Unit == UnitCount:
		return Tolerance{Relative: 0.10, Absolute: 1}
	case d.Unit == UnitCurrency:
		return Tolerance{Relative: 0.05}
	case d.Unit == UnitMinutes:
		return Tolerance{Relative: 0.05, Absolute: 5}
	}
	return Tolerance{Relative: 0.10}
}

// CheckConfig says which metrics a check judges and how.
type CheckConfig struct {
	// Significance is the rule for every metric without its own ("" = paired).
	Significance Significance
	// Metrics replaces the default tolerance of a metric, adds a metric that is
	// not checked by default, or (Skip) stops checking one. Metrics not
	// listed: DefaultCheckedMetrics with UnitTolerance, the others reported only.
	Metrics map[string]Tolerance
	// MaxReplications caps the replications a check compares (0: as many as
	// the baseline holds). A metric whose power needs more is underpowered.
	MaxReplications int
}

// Validate checks metric names (they must be directional catalog metrics) and
// tolerances; errors name the metric as checks.metrics.NAME.
func (c CheckConfig) Validate() error {
	var errs []error
	if _, err := ParseSignificance(string(c.Significance)); err != nil {
		errs = append(errs, fmt.Errorf("checks.significance: %w", err))
	}
	for _, name := range sortedKeys(c.Metrics) {
		t := c.Metrics[name]
		p := "checks.metrics." + name
		d, ok := Lookup(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: unknown metric%s", p, suggestMetric(name)))
			continue
		case d.Better == Neutral && !t.Skip:
			errs = append(errs, fmt.Errorf("%s: %s is neutral (neither higher nor lower is better); it is reported but cannot be checked", p, name))
		}
		if !(t.Absolute >= 0) || math.IsInf(t.Absolute, 0) {
			errs = append(errs, fmt.Errorf("%s.absolute: must be a finite number >= 0 (got %v)", p, t.Absolute))
		}
		if !(t.Relative >= 0) || math.IsInf(t.Relative, 0) {
			errs = append(errs, fmt.Errorf("%s.relative: must be >= 0 (got %v)", p, t.Relative))
		}
		if _, err := ParseSignificance(string(t.Significance)); err != nil {
			errs = append(errs, fmt.Errorf("%s.significance: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

func suggestMetric(name string) string {
	best, bestD := "", 4
	var names []string
	for _, d := range Catalog {
		names = append(names, d.Name)
		if dist := suggest.Distance(name, d.Name); dist < bestD {
			best, bestD = d.Name, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// Tolerance returns the tolerance metric is checked with and whether it is
// checked at all.
func (c CheckConfig) Tolerance(metric string) (Tolerance, bool) {
	d := defOf(metric)
	if d.Better == Neutral {
		return Tolerance{}, false
	}
	t, listed := c.Metrics[metric]
	if !listed {
		for _, m := range DefaultCheckedMetrics {
			if m == metric {
				t, listed = UnitTolerance(metric), true
			}
		}
	}
	if !listed || t.Skip {
		return t, false
	}
	if t.Significance == "" {
		t.Significance = c.Significance
	}
	if t.Significance == "" {
		t.Significance = DefaultSignificance
	}
	return t, true
}

// CheckStatus is the outcome of one metric's check.
type CheckStatus string

// Statuses.
const (
	StatusPass CheckStatus = "PASS"
	StatusFail CheckStatus = "FAIL"
	// StatusInconclusive: the change is beyond the tolerance but not
	// significant; more replications (or a wider tolerance) would decide.
	StatusInconclusive CheckStatus = "INCONCLUSIVE"
	StatusInfo         CheckStatus = "INFO" // reported, not checked (neutral, not configured or skipped)
)

// MetricCheck is one metric of one scenario, baseline against now.
type MetricCheck struct {
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	Better Better `json:"better"`
	N      int    `json:"n"`
	// Baseline and Now are the means; the CIs are Student-t 95%.
	Baseline     float64 `json:"baseline"`
	BaselineLow  float64 `json:"baseline_ci95_low"`
	BaselineHigh float64 `json:"baseline_ci95_high"`
	Now          float64 `json:"now"`
	NowLow       float64 `json:"now_ci95_low"`
	NowHigh      float64 `json:"now_ci95_high"`
	Delta        float64 `json:"delta"`     // Now − Baseline
	RelDelta     float64 `json:"rel_delta"` // Delta / |Baseline| (NaN when the baseline is 0)
	// DiffLow and DiffHigh bound the 95% CI of the mean paired difference
	// now − baseline (NaN with fewer than two pairs).
	DiffLow  float64 `json:"diff_ci95_low"`
	DiffHigh float64 `json:"diff_ci95_high"`
	// Worsening is Delta in the bad direction (> 0 means worse).
	Worsening float64 `json:"worsening"`
	// Allowed is the worsening the tolerance allows (NaN when not checked).
	Allowed      float64      `json:"allowed"`
	Tolerance    string       `json:"tolerance"` // as configured, e.g. "10% (min 1)"; "" when not checked
	Significance Significance `json:"significance,omitempty"`
	// Significant reports whether the worsening passes the significance rule
	// (true under "none" and when the rule cannot be evaluated, n < 2).
	Significant bool        `json:"significant"`
	Status      CheckStatus `json:"status"`
	// Reason explains the status in one sentence, with the numbers.
	Reason string `json:"reason"`
	// PlannedN is the replications the baseline's variance says this check
	// needs for PowerTarget power at the allowed worsening (0: unknown or
	// not applicable); RequiredN the same from the observed spread of the
	// change (the plan while it cannot be estimated). Underpowered: a PASS or
	// INCONCLUSIVE check compared fewer than RequiredN replications (or no
	// number would do). PowerNote says it in a sentence.
	PlannedN     int    `json:"planned_n"`
	RequiredN    int    `json:"required_n"`
	Underpowered bool   `json:"underpowered"`
	PowerNote    string `json:"power_note,omitempty"`
}

// CheckReport is one scenario's check.
type CheckReport struct {
	Scenario string   `json:"scenario"`
	Notes    []string `json:"notes,omitempty"`
	// Replications is how many replications were compared (pairs), out of
	// at most MaxReplications; Stages lists the replications after each
	// stage of a sequential check (set by lockstep check).
	Replications    int           `json:"replications"`
	MaxReplications int           `json:"max_replications"`
	Stages          []int         `json:"stages,omitempty"`
	Metrics         []MetricCheck `json:"metrics"`
	// Error, when set, is why the scenario could not be checked (bad input:
	// missing or mismatched baseline); Metrics is then empty.
	Error string `json:"error,omitempty"`
}

// Failures lists the failed checks.
func (r *CheckReport) Failures() []MetricCheck { return r.withStatus(StatusFail) }

// Inconclusive lists the inconclusive checks.
func (r *CheckReport) Inconclusive() []MetricCheck { return r.withStatus(StatusInconclusive) }

func (r *CheckReport) withStatus(st CheckStatus) []MetricCheck {
	var out []MetricCheck
	for _, m := range r.Metrics {
		if m.Status == st {
			out = append(out, m)
		}
	}
	return out
}

// Underpowered lists the checked metrics whose power is short.
func (r *CheckReport) Underpowered() []MetricCheck {
	var out []MetricCheck
	for _, m := range r.Metrics {
		if m.Underpowered && m.Status != StatusInfo {
			out = append(out, m)
		}
	}
	return out
}

// Passed reports whether the scenario was checked and every checked metric
// passed: none failed and none is inconclusive.
func (r *CheckReport) Passed() bool {
	return r.Error == "" && len(r.Failures()) == 0 && len(r.Inconclusive()) == 0
}

// Counts returns how many metrics passed, failed, were inconclusive and were
// only reported.
func (r *CheckReport) Counts() (pass, fail, inconclusive, info int) {
	for _, m := range r.Metrics {
		switch m.Status {
		case StatusPass:
			pass++
		case StatusFail:
			fail++
		case StatusInconclusive:
			inconclusive++
		default:
			info++
		}
	}
	return pass, fail, inconclusive, info
}

// Summary is one line per failed or inconclusive check ("scenario metric:
// STATUS: reason"), or "scenario: all N checks passed".
func (r *CheckReport) Summary() string {
	if r.Error != "" {
		return r.Scenario + ": " + r.Error
	}
	f := append(r.Failures(), r.Inconclusive()...)
	if len(f) == 0 {
		pass, _, _, _ := r.Counts()
		return fmt.Sprintf("%s: all %d checks passed", r.Scenario, pass)
	}
	lines := make([]string, len(f))
	for i, m := range f {
		lines[i] = r.Scenario + " " + m.Metric + ": " + string(m.Status) + ": " + m.Reason
	}
	return strings.Join(lines, "\n")
}

// MismatchError says a baseline does not fit the run it is checked against
// (another seed, replication count, horizon, warm-up or metric set): the
// numbers cannot be compared, and the baseline has to be regenerated if the
// change is intended.
type MismatchError struct {
	Scenario string
	Problems []string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("baseline of %s does not match this run: %s", e.Scenario, strings.Join(e.Problems, "; "))
}

// Check compares a finalized run with its baseline, metric by metric, over
// the run's replications: replication i against the baseline's replication
// i (the same seed gives common random numbers), so the run may have fewer
// replications than the baseline holds, not more.
//
// A checked metric fails when its mean moved in the bad direction (by the
// catalog's Better) by more than its tolerance allows AND the move is
// significant under the metric's rule (see Significance). A move beyond the
// tolerance that is not significant is StatusInconclusive, never a pass.
// Unchanged code and scenario give identical numbers (same seed), so they
// always pass. Metrics not checked are reported with StatusInfo. Each checked
// metric carries its power (PlannedN, RequiredN, Underpowered; see
// check_power.go).
//
// A baseline of another scenario, seed, horizon, warm-up or metric set, or
// with fewer replications than the run, is a *MismatchError; nodes that
// differ are only noted (a removed locker is a design change whose effect
// the check judges).
func Check(base *Baseline, now *RunResult, cfg CheckConfig) (*CheckReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &CheckReport{Scenario: now.Scenario, Replications: len(now.Replications), MaxReplications: cfg.capOf(base)}
	var problems []string
	mismatch := func(what string, b, n any) {
		problems = append(problems, fmt.Sprintf("%s %v in the baseline, %v now", what, b, n))
	}
	if base.Scenario != now.Scenario {
		mismatch("scenario", base.Scenario, now.Scenario)
	}
	if base.Seed != now.Seed {
		mismatch("seed", base.Seed, now.Seed)
	}
	if base.Replications < len(now.Replications) {
		problems = append(problems, fmt.Sprintf("the baseline holds %d replications, %d now (a check pairs replication i with the baseline's, so it can compare at most as many as the baseline holds)",
			base.Replications, len(now.Replications)))
	}
	if base.Horizon != now.Horizon {
		mismatch("horizon", base.Horizon, now.Horizon)
	}
	if base.Warmup != now.Warmup {
		mismatch("warm-up", base.Warmup, now.Warmup)
	}
	nowBase := NewBaseline(now)
	if gone, added := diffNames(metricList(base), metricList(nowBase)); len(gone)+len(added) > 0 {
		var parts []string
		if len(gone) > 0 {
			parts = append(parts, "no longer measured: "+strings.Join(gone, ", "))
		}
		if len(added) > 0 {
			parts = append(parts, "new: "+strings.Join(added, ", "))
		}
		problems = append(problems, "metrics differ ("+strings.Join(parts, "; ")+")")
	}
	for name := range cfg.Metrics {
		if t, ok := cfg.Metrics[name]; ok && !t.Skip {
			if _, measured := nowBase.Metric(name); !measured {
				problems = append(problems, fmt.Sprintf("checks.metrics.%s: the scenario does not measure %s", name, name))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, &MismatchError{Scenario: now.Scenario, Problems: problems}
	}
	if note := base.LegacyNote(); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	if gone, added := diffNames(base.Nodes, nowBase.Nodes); len(gone)+len(added) > 0 {
		var parts []string
		if len(gone) > 0 {
			parts = append(parts, "removed "+strings.Join(gone, ", "))
		}
		if len(added) > 0 {
			parts = append(parts, "added "+strings.Join(added, ", "))
		}
		rep.Notes = append(rep.Notes, "nodes differ from the baseline: "+strings.Join(parts, "; "))
	}
	for _, nm := range nowBase.Metrics {
		full, _ := base.Metric(nm.Metric)
		bm := full.prefix(len(now.Replications))
		if bm.N != nm.N {
			return nil, &MismatchError{Scenario: now.Scenario, Problems: []string{
				fmt.Sprintf("%s measured in %d of the first %d replications in the baseline, %d now", nm.Metric, bm.N, len(now.Replications), nm.N)}}
		}
		rep.Metrics = append(rep.Metrics, checkMetric(full, bm, nm, cfg, rep.MaxReplications))
	}
	return rep, nil
}

// prefix is m over its first n replications (m itself when it has no more).
func (m BaselineMetric) prefix(n int) BaselineMetric {
	if n >= len(m.Values) {
		return m
	}
	out := m
	out.Values = append(floats(nil), m.Values[:n]...)
	var vals []float64
	for _, v := range out.Values {
		if finite(v) {
			vals = append(vals, v)
		}
	}
	s := Summarize(vals, 0)
	out.N, out.Mean, out.CI95Low, out.CI95High, out.Variance = s.N, s.Mean, s.CI95Low, s.CI95High, s.StdDev*s.StdDev
	return out
}

func metricList(b *Baseline) []string {
	out := make([]string, len(b.Metrics))
	for i, m := range b.Metrics {
		out[i] = m.Metric
	}
	return out
}

// diffNames returns the names only in a and only in b, sorted.
func diffNames(a, b []string) (onlyA, onlyB []string) {
	in := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	for _, x := range a {
		if !mb[x] {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !ma[x] {
			onlyB = append(onlyB, x)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB
}

// checkMetric judges metric nm of a run against bm, the baseline over the
// same replications; full is the whole baseline metric (its variance sizes
// the plan) and limit the most replications the check may run.
func checkMetric(full, bm, nm BaselineMetric, cfg CheckConfig, limit int) MetricCheck {
	d := defOf(nm.Metric)
	nan := math.NaN()
	mc := MetricCheck{Metric: nm.Metric, Unit: d.Unit, Better: d.Better, N: nm.N,
		Baseline: bm.Mean, BaselineLow: bm.CI95Low, BaselineHigh: bm.CI95High,
		Now: nm.Mean, NowLow: nm.CI95Low, NowHigh: nm.CI95High,
		Delta: nm.Mean - bm.Mean, RelDelta: nan, DiffLow: nan, DiffHigh: nan, Allowed: nan}
	if bm.Mean != 0 {
		mc.RelDelta = mc.Delta / math.Abs(bm.Mean)
	}
	var pb, pn []float64
	for i := range min(len(bm.Values), len(nm.Values)) {
		if finite(bm.Values[i]) && finite(nm.Values[i]) {
			pb, pn = append(pb, bm.Values[i]), append(pn, nm.Values[i])
		}
	}
	diff := Compare(pb, pn, d)
	mc.DiffLow, mc.DiffHigh = diff.CI95Low, diff.CI95High
	switch d.Better {
	case HigherIsBetter:
		mc.Worsening = -mc.Delta
	case LowerIsBetter:
		mc.Worsening = mc.Delta
	}
	tol, checked := cfg.Tolerance(nm.Metric)
	if !checked {
		mc.Status = StatusInfo
		switch {
		case d.Better == Neutral:
			mc.Reason = "neutral metric: reported, not checked"
		case tol.Skip:
			mc.Reason = "skipped in checks.metrics"
		default:
			mc.Reason = "not checked (add it to checks.metrics to check it)"
		}
		return mc
	}
	mc.Tolerance, mc.Significance = tol.String(), tol.Significance
	mc.Allowed = tol.Allowed(bm.Mean)
	sigNote := ""
	mc.Significant, sigNote = significant(mc, tol.Significance, len(pb))
	sd := math.Sqrt(full.Variance)
	mc.PlannedN, _, _ = powerOf(tol.Significance, sd*math.Sqrt2, sd, sd, mc.Allowed, limit, limit, "the baseline's variance")
	if diff.N >= 2 && finite(diff.StdDev) {
		sn := math.NaN()
		if s := Summarize(pn, 0); s.N >= 2 {
			sn = s.StdDev
		}
		sb := math.Sqrt(bm.Variance)
		mc.RequiredN, mc.Underpowered, mc.PowerNote = powerOf(tol.Significance, diff.StdDev, sb, sn, mc.Allowed, mc.N, limit,
			fmt.Sprintf("the spread observed over %d replications", diff.N))
	} else {
		mc.RequiredN, mc.Underpowered, mc.PowerNote = powerOf(tol.Significance, sd*math.Sqrt2, sd, sd, mc.Allowed, mc.N, limit, "the baseline's variance")
	}
	move := describeMove(mc)
	switch {
	case !(mc.Worsening > mc.Allowed):
		mc.Status = StatusPass
		if mc.Worsening > 0 {
			mc.Reason = fmt.Sprintf("%s, within the tolerance %s (allowed %s)", move, mc.Tolerance, fmtShort(mc.Allowed))
		} else if mc.Delta == 0 {
			mc.Reason = "unchanged"
		} else {
			mc.Reason = move + ": better"
		}
	case !mc.Significant:
		mc.Status = StatusInconclusive
		mc.Reason = fmt.Sprintf("%s, beyond the tolerance %s (allowed %s) but not significant: %s; %s", move, mc.Tolerance, fmtShort(mc.Allowed), sigNote, mc.PowerNote)
	default:
		mc.Status = StatusFail
		mc.Reason = fmt.Sprintf("%s, beyond the tolerance %s (allowed worsening %s); %s", move, mc.Tolerance, fmtShort(mc.Allowed), sigNote)
		// detected: the power it would have needed no longer matters
		mc.Underpowered, mc.PowerNote = false, strings.TrimPrefix(mc.PowerNote, "underpowered: ")
	}
	return mc
}

// describeMove is "0.873 → 0.701 (−0.172, −19.7%, worse)".
func describeMove(mc MetricCheck) string {
	dir := "worse"
	if mc.Worsening <= 0 {
		dir = "better"
	}
	rel := ""
	if finite(mc.RelDelta) {
		rel = ", " + fmtSignedPct(mc.RelDelta)
	}
	return fmt.Sprintf("%s → %s (%s%s, %s)", fmtNum(mc.Baseline), fmtNum(mc.Now), fmtSigned(mc.Delta, decimals(mc.Delta)), rel, dir)
}

func fmtSignedPct(v float64) string {
	s := fmtPct(v)
	if v >= 0 {
		return "+" + s
	}
	return s
}

// significant applies the rule to a worsening and says why.
func significant(mc MetricCheck, rule Significance, pairs int) (bool, string) {
	bad := func(lo, hi float64) bool { // an interval entirely on the bad side of zero
		if mc.Better == HigherIsBetter {
			return hi < 0
		}
		return lo > 0
	}
	switch rule {
	case SignificanceNone:
		return true, "significance rule none"
	case SignificanceOverlap:
		if mc.N < 2 || !finite(mc.BaselineLow) || !finite(mc.NowLow) {
			return true, "n < 2: no CIs, the tolerance alone decides"
		}
		nb := "[" + fmtNum(mc.NowLow) + ", " + fmtNum(mc.NowHigh) + "]"
		bb := "[" + fmtNum(mc.BaselineLow) + ", " + fmtNum(mc.BaselineHigh) + "]"
		var apart bool
		if mc.Better == HigherIsBetter {
			apart = mc.NowHigh < mc.BaselineLow
		} else {
			apart = mc.NowLow > mc.BaselineHigh
		}
		if apart {
			return true, fmt.Sprintf("95%% CIs do not overlap (now %s, baseline %s)", nb, bb)
		}
		return false, fmt.Sprintf("95%% CIs overlap (now %s, baseline %s)", nb, bb)
	}
	if pairs < 2 || math.IsNaN(mc.DiffLow) {
		return true, "fewer than 2 paired replications: the tolerance alone decides"
	}
	ci := "[" + fmtSigned(mc.DiffLow, decimals(mc.DiffLow)) + ", " + fmtSigned(mc.DiffHigh, decimals(mc.DiffHigh)) + "]"
	if bad(mc.DiffLow, mc.DiffHigh) {
		return true, fmt.Sprintf("paired 95%% CI of the change %s excludes 0", ci)
	}
	return false, fmt.Sprintf("paired 95%% CI of the change %s includes 0", ci)
}
