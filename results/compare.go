package results

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ScenarioStat is one scenario's summary of a metric.
type ScenarioStat struct {
	Scenario string  `json:"scenario"`
	Stats    Summary `json:"stats"`
}

// ScenarioDiff is one scenario's paired difference against the base.
type ScenarioDiff struct {
	Scenario string     `json:"scenario"`
	Diff     Difference `json:"diff"`
}

// MetricComparison compares every scenario on one metric.
type MetricComparison struct {
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	Better Better `json:"better"`
	// Scenarios holds one entry per run, in run order (entries for runs that
	// did not measure the metric have N = 0).
	Scenarios []ScenarioStat `json:"scenarios"`
	// Differences holds one entry per run after the first: run − base.
	Differences []ScenarioDiff `json:"differences"`
}

// Comparison is the output of CompareRuns: the first run is the base.
type Comparison struct {
	SchemaVersion int      `json:"schema_version"`
	Base          string   `json:"base"`
	Scenarios     []string `json:"scenarios"`
	// Headline is the decision first: key metrics' winners, the parameters
	// that differ, the biggest differences and the nodes behind them, the
	// selection when asked for ([NewHeadline]).
	Headline  *Headline          `json:"headline,omitempty"`
	Seeds     []uint64           `json:"seeds"`
	Precision float64            `json:"precision"`
	Notes     []string           `json:"notes,omitempty"` // caveats (seeds differ, unpaired replications)
	Metrics   []MetricComparison `json:"metrics"`
}

// CompareRuns compares scenarios against the first (the base). For every
// metric measured by any run it reports each scenario's mean and 95% CI and
// the paired difference scenario − base with a verdict ([Compare]).
// Replications are paired by Replication.Index; replications without a
// partner are left out of the difference and noted. When seeds differ the
// pairs are not common-random-number pairs: the paired analysis stays valid
// but loses its variance reduction, and a note says so.
func CompareRuns(runs []RunResult) (Comparison, error) {
	if len(runs) == 0 {
		return Comparison{}, errors.New("results: no runs to compare")
	}
	names := map[string]bool{}
	cmp := Comparison{SchemaVersion: SchemaVersion, Base: runs[0].Scenario}
	for _, r := range runs {
		if names[r.Scenario] {
			return Comparison{}, fmt.Errorf("results: scenario %q appears twice; give runs distinct names", r.Scenario)
		}
		names[r.Scenario] = true
		cmp.Scenarios = append(cmp.Scenarios, r.Scenario)
		cmp.Seeds = append(cmp.Seeds, r.Seed)
	}
	base := &runs[0]
	cmp.Precision = base.precision()
	for _, r := range runs[1:] {
		if r.Seed != base.Seed {
			cmp.Notes = append(cmp.Notes, fmt.Sprintf("%s uses seed %d and %s seed %d: differences are paired by replication but do not share random numbers", r.Scenario, r.Seed, base.Scenario, base.Seed))
		}
		bi, oi := indexSet(base), indexSet(&r)
		if un := unpaired(bi, oi) + unpaired(oi, bi); un > 0 {
			cmp.Notes = append(cmp.Notes, fmt.Sprintf("%s and %s: %d replication(s) without a partner left out of the differences", r.Scenario, base.Scenario, un))
		}
	}
	for _, name := range metricNames(runs) {
		d := defOf(name)
		mc := MetricComparison{Metric: name, Unit: d.Unit, Better: d.Better}
		for i := range runs {
			vals, _ := runs[i].Values(name)
			mc.Scenarios = append(mc.Scenarios, ScenarioStat{Scenario: runs[i].Scenario, Stats: Summarize(vals, cmp.Precision)})
		}
		bv, bidx := base.Values(name)
		for i := 1; i < len(runs); i++ {
			ov, oidx := runs[i].Values(name)
			b, o := pairUp(bv, bidx, ov, oidx)
			mc.Differences = append(mc.Differences, ScenarioDiff{Scenario: runs[i].Scenario, Diff: Compare(b, o, d)})
		}
		cmp.Metrics = append(cmp.Metrics, mc)
	}
	cmp.Headline = NewHeadline(runs, &cmp, nil)
	return cmp, nil
}

func indexSet(r *RunResult) map[int]bool {
	m := map[int]bool{}
	for _, rep := range r.Replications {
		m[rep.Index] = true
	}
	return m
}

func unpaired(a, b map[int]bool) int {
	n := 0
	for k := range a {
		if !b[k] {
			n++
		}
	}
	return n
}

// pairUp keeps the values whose replication index occurs in both samples, in
// base order.
func pairUp(bv []float64, bidx []int, ov []float64, oidx []int) (b, o []float64) {
	pos := make(map[int]int, len(oidx))
	for i, idx := range oidx {
		pos[idx] = i
	}
	for i, idx := range bidx {
		if j, ok := pos[idx]; ok {
			b = append(b, bv[i])
			o = append(o, ov[j])
		}
	}
	return b, o
}

// Metric returns the comparison of one metric.
func (c *Comparison) Metric(name string) (MetricComparison, bool) {
	for _, m := range c.Metrics {
		if m.Metric == name {
			return m, true
		}
	}
	return MetricComparison{}, false
}

// WriteCompareJSON writes cmp as indented JSON (non-finite numbers as null).
func WriteCompareJSON(w io.Writer, cmp *Comparison) error { return writeJSON(w, cmp) }

// CompareCSVHeader is the header row of WriteCompareCSV.
var CompareCSVHeader = []string{"metric", "unit", "better", "scenario", "n", "mean", "stddev", "ci95_low", "ci95_high",
	"half_width", "rel_half_width", "precision_met", "replications_needed",
	"diff_n", "diff_mean", "diff_ci95_low", "diff_ci95_high", "diff_rel_change", "verdict"}

// WriteCompareCSV writes one row per metric and scenario. The base rows leave
// the diff columns empty; non-finite numbers are empty cells. Numbers use the
// shortest representation that reads back exactly.
func WriteCompareCSV(w io.Writer, cmp *Comparison) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CompareCSVHeader); err != nil {
		return err
	}
	for _, m := range cmp.Metrics {
		for i, s := range m.Scenarios {
			st := s.Stats
			row := []string{m.Metric, m.Unit, m.Better.String(), s.Scenario, strconv.Itoa(st.N),
				csvNum(st.Mean), csvNum(st.StdDev), csvNum(st.CI95Low), csvNum(st.CI95High),
				csvNum(st.HalfWidth), csvNum(st.RelHalfWidth), strconv.FormatBool(st.PrecisionMet), strconv.Itoa(st.ReplicationsNeeded)}
			if i == 0 {
				row = append(row, "", "", "", "", "", "")
			} else {
				d := m.Differences[i-1].Diff
				row = append(row, strconv.Itoa(d.N), csvNum(d.Mean), csvNum(d.CI95Low), csvNum(d.CI95High), csvNum(d.RelChange), string(d.Verdict))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvNum(v float64) string {
	if !finite(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// decimals picks how many decimals show about four significant digits of v.
func decimals(v float64) int {
	a := math.Abs(v)
	if a == 0 || !finite(a) {
		return 2
	}
	d := 3 - int(math.Floor(math.Log10(a)))
	return min(max(d, 0), 6)
}

// fmtNum formats v for humans ("–" for NaN).
func fmtNum(v float64) string { return fmtDec(v, decimals(v)) }

func fmtDec(v float64, dec int) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	}
	a := math.Abs(v)
	if a != 0 && (a >= 1e7 || a < 1e-4) {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// statDecimals picks the decimals for a mean shown with its half-width: two
// significant digits of the half-width (the usual convention), or about four
// of the mean when there is no half-width.
func statDecimals(mean, hw float64) int {
	if finite(hw) && hw != 0 {
		return max(decimals(hw)-2, 0)
	}
	return decimals(mean)
}

func fmtSigned(v float64, dec int) string {
	s := fmtDec(v, dec)
	if finite(v) && v >= 0 {
		return "+" + s
	}
	return s
}

func fmtCI(lo, hi float64, dec int) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return "–"
	}
	return "[" + fmtDec(lo, dec) + ", " + fmtDec(hi, dec) + "]"
}

func fmtPct(v float64) string {
	if !finite(v) {
		return "–"
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

// precisionNote is "ok", "need 37" or "n<2".
func precisionNote(s Summary) string {
	switch {
	case s.N < 2:
		return "n<2"
	case s.PrecisionMet:
		return "ok"
	case s.ReplicationsNeeded > 0:
		return "need " + strconv.Itoa(s.ReplicationsNeeded)
	}
	return "not met"
}

// FormatSummaryTable writes an aligned text table of run's summary: metric,
// direction, unit, n, mean ± 95% half-width, CI, relative half-width and the
// precision check ("ok", "need N" replications, or "n<2"). It uses
// run.Summary, computing it first if empty.
func FormatSummaryTable(w io.Writer, run *RunResult) error {
	sum := run.Summary
	if len(sum) == 0 && len(run.Replications) > 0 {
		c := *run
		c.Finalize()
		sum = c.Summary
	}
	fmt.Fprintf(w, "scenario %s  seed %d  horizon %s  warm-up %s  replications %d  precision target ±%s\n",
		run.Scenario, run.Seed, run.Horizon, run.Warmup, len(run.Replications), fmtPct(run.precision()))
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\t\tunit\tn\tmean\t± 95%\t95% CI\trel ±\tprecision\t")
	for _, s := range sum {
		st := s.Stats
		dec := statDecimals(st.Mean, st.HalfWidth)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", s.Metric, s.Better.Arrow(), s.Unit, st.N,
			fmtDec(st.Mean, dec), fmtDec(st.HalfWidth, dec), fmtClippedCI(s.Metric, st, dec), fmtPct(st.RelHalfWidth), precisionNote(st))
	}
	if err := flushTrimmed(w, tw, &buf); err != nil {
		return err
	}
	return costSection(w, run) // breakdown.go
}

// FormatCompareTable writes cmp's headline ([FormatHeadline]), then an aligned text table of cmp: per metric one row
// per scenario with mean ± half-width and CI, and for the non-base scenarios
// the paired difference, its CI and the verdict.
func FormatCompareTable(w io.Writer, cmp *Comparison) error {
	if cmp.Headline != nil {
		if err := FormatHeadline(w, cmp); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "base %s; differences are scenario − base, paired by replication; 95%% CIs\n", cmp.Base)
	for _, n := range cmp.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\t\tscenario\tn\tmean ± 95%\t95% CI\tΔ vs base\tΔ 95% CI\tverdict\t")
	for _, m := range cmp.Metrics {
		for i, s := range m.Scenarios {
			name, arrow := m.Metric, m.Better.Arrow()
			if i > 0 {
				name, arrow = "", ""
			}
			st := s.Stats
			dec := statDecimals(st.Mean, st.HalfWidth)
			mean := fmtDec(st.Mean, dec)
			if finite(st.HalfWidth) {
				mean += " ± " + fmtDec(st.HalfWidth, dec)
			}
			dcol, dci, verdict := "", "", ""
			if i > 0 {
				d := m.Differences[i-1].Diff
				dd := statDecimals(d.Mean, d.HalfWidth)
				dcol, dci, verdict = fmtSigned(d.Mean, dd), fmtCI(d.CI95Low, d.CI95High, dd), d.Verdict.Symbol()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", name, arrow, s.Scenario, st.N, mean,
				fmtClippedCI(m.Metric, st, dec), dcol, dci, verdict)
		}
	}
	return flushTrimmed(w, tw, &buf)
}

// flushTrimmed flushes tw into buf and copies buf to w without trailing
// blanks on any line.
func flushTrimmed(w io.Writer, tw *tabwriter.Writer, buf *bytes.Buffer) error {
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	var out strings.Builder
	for _, l := range lines {
		nl := strings.HasSuffix(l, "\n")
		out.WriteString(strings.TrimRight(l, " \n"))
		if nl {
			out.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// slug makes a scenario name safe for file names.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "scenario"
	}
	return b.String()
}
