package results

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// CheckTotals counts the metrics of several reports.
type CheckTotals struct {
	Scenarios, Errors, Pass, Fail, Inconclusive, Info int
	// Underpowered counts the checked metrics whose power is short.
	Underpowered int
}

// Totals adds up reports.
func Totals(reports []CheckReport) CheckTotals {
	var t CheckTotals
	for i := range reports {
		t.Scenarios++
		if reports[i].Error != "" {
			t.Errors++
			continue
		}
		p, f, u, n := reports[i].Counts()
		t.Pass += p
		t.Fail += f
		t.Inconclusive += u
		t.Info += n
		t.Underpowered += len(reports[i].Underpowered())
	}
	return t
}

func (t CheckTotals) String() string {
	s := fmt.Sprintf("%d checks passed, %d failed, %d inconclusive, %d reported only, over %d scenarios", t.Pass, t.Fail, t.Inconclusive, t.Info, t.Scenarios)
	if t.Underpowered > 0 {
		s += fmt.Sprintf("; %d underpowered", t.Underpowered)
	}
	if t.Errors > 0 {
		s += fmt.Sprintf("; %d scenarios could not be checked", t.Errors)
	}
	return s
}

func fmtDelta(mc MetricCheck) string {
	s := fmtSigned(mc.Delta, decimals(mc.Delta))
	if finite(mc.RelDelta) && mc.Delta != 0 {
		s += " (" + fmtSignedPct(mc.RelDelta) + ")"
	}
	return s
}

func fmtTolerance(mc MetricCheck) string {
	if mc.Status == StatusInfo {
		return "–"
	}
	return mc.Tolerance
}

// fmtPower is the power column: "n/needed", e.g. "40/37", the replications
// compared and those the observed spread needs, then the plan from the
// baseline's variance when it differs ("100/2 (plan 93)"), and
// "underpowered" when the check could not run what it needs; "–" when not
// checked or under the rule none, "?" when the need is unknown, "∞" when no
// number suffices.
func fmtPower(mc MetricCheck) string {
	if mc.Status == StatusInfo || mc.Significance == SignificanceNone {
		return "–"
	}
	need := fmt.Sprint(mc.RequiredN)
	switch {
	case mc.RequiredN == 0 && mc.Underpowered:
		need = "∞"
	case mc.RequiredN == 0:
		need = "?"
	}
	s := fmt.Sprintf("%d/%s", mc.N, need)
	if mc.PlannedN != mc.RequiredN && mc.PlannedN > 0 {
		s += fmt.Sprintf(" (plan %d)", mc.PlannedN)
	}
	if mc.Underpowered {
		s += " underpowered"
	}
	return s
}

// FormatCheckTable writes an aligned text table of reports: scenario, metric,
// direction, baseline mean, current mean, delta (and relative delta),
// tolerance, power (replications compared / needed) and
// PASS/FAIL/INCONCLUSIVE/INFO, then one line per failure, inconclusive and
// underpowered check with its reason, and a totals line.
func FormatCheckTable(w io.Writer, reports []CheckReport) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\t\tbaseline\tnow\tdelta\ttolerance\tn/needed\tstatus\t")
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t–\t\t\t\t\t\t\tERROR\t\n", r.Scenario)
			continue
		}
		for _, m := range r.Metrics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, m.Metric, m.Better.Arrow(),
				fmtNum(m.Baseline), fmtNum(m.Now), fmtDelta(m), fmtTolerance(m), fmtPower(m), m.Status)
		}
	}
	if err := flushTrimmed(w, tw, &buf); err != nil {
		return err
	}
	for _, r := range reports {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note: %s: %s\n", r.Scenario, n)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "ERROR %s: %s\n", r.Scenario, r.Error)
		}
		if r.Error == "" {
			fmt.Fprintf(w, "%s: %s\n", r.Scenario, describeStages(r))
		}
		for _, m := range r.Failures() {
			fmt.Fprintf(w, "FAIL %s %s: %s\n", r.Scenario, m.Metric, m.Reason)
		}
		for _, m := range r.Inconclusive() {
			fmt.Fprintf(w, "INCONCLUSIVE %s %s: %s\n", r.Scenario, m.Metric, m.Reason)
		}
		for _, m := range r.Underpowered() {
			if m.Status != StatusInconclusive { // its reason says it already
				fmt.Fprintf(w, "UNDERPOWERED %s %s (%s): %s\n", r.Scenario, m.Metric, m.Status, m.PowerNote)
			}
		}
	}
	_, err := fmt.Fprintln(w, Totals(reports))
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteCheckMarkdown writes reports as Markdown for a pull-request comment: a
// verdict line, the failures with their reasons, then every metric in a
// collapsed table per scenario.
func WriteCheckMarkdown(w io.Writer, reports []CheckReport) error {
	t := Totals(reports)
	var b strings.Builder
	switch {
	case t.Errors > 0:
		b.WriteString("### ⚠️ lockstep check: could not check every scenario\n\n")
	case t.Fail > 0:
		fmt.Fprintf(&b, "### ❌ lockstep check: %d SLA regression(s)\n\n", t.Fail)
	case t.Inconclusive > 0:
		fmt.Fprintf(&b, "### ❔ lockstep check: %d inconclusive check(s): worse beyond the tolerance, not significant\n\n", t.Inconclusive)
	default:
		b.WriteString("### ✅ lockstep check: no SLA regression\n\n")
	}
	b.WriteString(t.String() + ".\n\n")
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(r.Scenario), mdEscape(r.Error))
		}
	}
	if t.Fail+t.Inconclusive > 0 {
		b.WriteString("| scenario | metric | baseline | now | delta | tolerance | n/needed | status | why |\n|---|---|--:|--:|--:|---|--:|---|---|\n")
		for _, r := range reports {
			for _, m := range append(r.Failures(), r.Inconclusive()...) {
				fmt.Fprintf(&b, "| %s | `%s` %s | %s | %s | %s | %s | %s | **%s** | %s |\n", mdEscape(r.Scenario), m.Metric, m.Better.Arrow(),
					fmtNum(m.Baseline), fmtNum(m.Now), fmtDelta(m), mdEscape(m.Tolerance), fmtPower(m), m.Status, mdEscape(m.Reason))
			}
		}
		b.WriteString("\n")
	}
	for _, r := range reports {
		for _, m := range r.Underpowered() {
			if m.Status != StatusInconclusive {
				fmt.Fprintf(&b, "- _underpowered_ **%s** `%s` (%s): %s\n", mdEscape(r.Scenario), m.Metric, m.Status, mdEscape(m.PowerNote))
			}
		}
	}
	if t.Underpowered > 0 {
		b.WriteString("\n")
	}
	for _, r := range reports {
		if r.Error != "" {
			continue
		}
		p, f, u, n := r.Counts()
		fmt.Fprintf(&b, "<details><summary>%s: %d passed, %d failed, %d inconclusive, %d reported only (%s)</summary>\n\n",
			mdEscape(r.Scenario), p, f, u, n, describeStages(r))
		for _, note := range r.Notes {
			fmt.Fprintf(&b, "_note: %s_\n\n", mdEscape(note))
		}
		b.WriteString("| metric | baseline | now | delta | tolerance | n/needed | status |\n|---|--:|--:|--:|---|--:|---|\n")
		for _, m := range r.Metrics {
			status := string(m.Status)
			if m.Status == StatusFail || m.Status == StatusInconclusive {
				status = "**" + status + "**"
			}
			fmt.Fprintf(&b, "| `%s` %s | %s | %s | %s | %s | %s | %s |\n", m.Metric, m.Better.Arrow(), fmtNum(m.Baseline),
				fmtNum(m.Now), fmtDelta(m), mdEscape(fmtTolerance(m)), fmtPower(m), status)
		}
		b.WriteString("\n</details>\n\n")
	}
	b.WriteString("↑ higher is better, ↓ lower is better, · neutral (never fails). INCONCLUSIVE: worse beyond the tolerance but not significant. " +
		"n/needed: replications compared / needed to detect the allowed worsening with 80% power at the 5% level. " +
		"Baselines: `lockstep baseline`; tolerances: the scenario's `checks:` section.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// describeStages is "compared 40 of the baseline's 120 replications (stages
// 20, 40)".
func describeStages(r CheckReport) string {
	s := fmt.Sprintf("compared %d replications (at most %d)", r.Replications, r.MaxReplications)
	if len(r.Stages) > 1 {
		parts := make([]string, len(r.Stages))
		for i, n := range r.Stages {
			parts[i] = fmt.Sprint(n)
		}
		s += " in " + fmt.Sprint(len(r.Stages)) + " stages: " + strings.Join(parts, ", ")
	}
	return s
}
