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
	Scenarios, Errors, Pass, Fail, Info int
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
		p, f, n := reports[i].Counts()
		t.Pass += p
		t.Fail += f
		t.Info += n
	}
	return t
}

func (t CheckTotals) String() string {
	s := fmt.Sprintf("%d checks passed, %d failed, %d reported only, over %d scenarios", t.Pass, t.Fail, t.Info, t.Scenarios)
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

// FormatCheckTable writes an aligned text table of reports: scenario, metric,
// direction, baseline mean, current mean, delta (and relative delta),
// tolerance and PASS/FAIL/INFO, then one line per failure with its reason,
// and a totals line.
func FormatCheckTable(w io.Writer, reports []CheckReport) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\t\tbaseline\tnow\tdelta\ttolerance\tstatus\t")
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t–\t\t\t\t\t\tERROR\t\n", r.Scenario)
			continue
		}
		for _, m := range r.Metrics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, m.Metric, m.Better.Arrow(),
				fmtNum(m.Baseline), fmtNum(m.Now), fmtDelta(m), fmtTolerance(m), m.Status)
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
		for _, m := range r.Failures() {
			fmt.Fprintf(w, "FAIL %s %s: %s\n", r.Scenario, m.Metric, m.Reason)
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
	default:
		b.WriteString("### ✅ lockstep check: no SLA regression\n\n")
	}
	b.WriteString(t.String() + ".\n\n")
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(r.Scenario), mdEscape(r.Error))
		}
	}
	if t.Fail > 0 {
		b.WriteString("| scenario | metric | baseline | now | delta | tolerance | why |\n|---|---|--:|--:|--:|---|---|\n")
		for _, r := range reports {
			for _, m := range r.Failures() {
				fmt.Fprintf(&b, "| %s | `%s` %s | %s | %s | %s | %s | %s |\n", mdEscape(r.Scenario), m.Metric, m.Better.Arrow(),
					fmtNum(m.Baseline), fmtNum(m.Now), fmtDelta(m), mdEscape(m.Tolerance), mdEscape(m.Reason))
			}
		}
		b.WriteString("\n")
	}
	for _, r := range reports {
		if r.Error != "" {
			continue
		}
		p, f, n := r.Counts()
		fmt.Fprintf(&b, "<details><summary>%s: %d passed, %d failed, %d reported only</summary>\n\n", mdEscape(r.Scenario), p, f, n)
		for _, note := range r.Notes {
			fmt.Fprintf(&b, "_note: %s_\n\n", mdEscape(note))
		}
		b.WriteString("| metric | baseline | now | delta | tolerance | status |\n|---|--:|--:|--:|---|---|\n")
		for _, m := range r.Metrics {
			status := string(m.Status)
			if m.Status == StatusFail {
				status = "**FAIL**"
			}
			fmt.Fprintf(&b, "| `%s` %s | %s | %s | %s | %s | %s |\n", m.Metric, m.Better.Arrow(), fmtNum(m.Baseline),
				fmtNum(m.Now), fmtDelta(m), mdEscape(fmtTolerance(m)), status)
		}
		b.WriteString("\n</details>\n\n")
	}
	b.WriteString("↑ higher is better, ↓ lower is better, · neutral (never fails). Baselines: `lockstep baseline`; tolerances: the scenario's `checks:` section.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
