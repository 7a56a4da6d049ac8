package results

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
)

// NeighborhoodMetricSummary is the replication statistics of one
// per-neighborhood metric.
type NeighborhoodMetricSummary struct {
	Neighborhood string  `json:"neighborhood"`
	Metric       string  `json:"metric"`
	Stats        Summary `json:"stats"`
}

type groupSummary struct {
	group, metric string
	stats         Summary
}

// groupSummaries summarises a per-group map of the replications (per node,
// per neighborhood), sorted by group then metric; nil when there is none.
func groupSummaries(reps []Replication, get func(*Replication) map[string]map[string]float64, precision float64) []groupSummary {
	type key struct{ group, metric string }
	vals := map[key][]float64{}
	for i := range reps {
		for g, m := range get(&reps[i]) {
			for k, v := range m {
				if finite(v) {
					vals[key{g, k}] = append(vals[key{g, k}], v)
				}
			}
		}
	}
	keys := make([]key, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].metric < keys[j].metric
	})
	var out []groupSummary
	for _, k := range keys {
		out = append(out, groupSummary{k.group, k.metric, Summarize(vals[k], precision)})
	}
	return out
}

// Feasible is the range a metric's value can take: [0, 1] for shares,
// [0, +Inf) for counts, money amounts, durations, stock and RSMI, and
// (−Inf, +Inf) for a name outside the catalog. Tables and plots clip
// confidence intervals to it; results.json keeps the raw interval.
func Feasible(name string) (lo, hi float64) {
	d, ok := Lookup(name)
	if !ok {
		switch {
		case strings.HasSuffix(name, "_rate") || strings.HasSuffix(name, "_share") || name == "occupancy":
			return 0, 1
		case strings.HasSuffix(name, "_min") || strings.HasSuffix(name, "_cost") || strings.HasSuffix(name, "fcpo") ||
			strings.HasSuffix(name, "rsmi") || strings.HasSuffix(name, "_revenue") || strings.HasSuffix(name, "_orders") ||
			strings.HasSuffix(name, "_collected") || name == "cost" || name == "orders" || name == "collected":
			return 0, math.Inf(1)
		}
		return math.Inf(-1), math.Inf(1)
	}
	if isShare(d) {
		return 0, 1
	}
	switch d.Unit {
	case UnitCount, UnitCurrency, UnitMinutes, UnitHours, UnitUnits, UnitUnitHour, UnitPerM2Day:
		return 0, math.Inf(1)
	}
	return math.Inf(-1), math.Inf(1)
}

// ClippedCI is the 95% CI of s clipped to metric name's feasible range (NaN
// bounds stay NaN).
func ClippedCI(name string, s Summary) (lo, hi float64) {
	flo, fhi := Feasible(name)
	lo, hi = s.CI95Low, s.CI95High
	if !math.IsNaN(lo) {
		lo = math.Min(math.Max(lo, flo), fhi)
	}
	if !math.IsNaN(hi) {
		hi = math.Max(math.Min(hi, fhi), flo)
	}
	return lo, hi
}

// clippedErr is the (below, above) extent of an error bar of half-width hw
// around mean for metric name, clipped to its feasible range.
func clippedErr(name string, mean, hw float64) (below, above float64) {
	flo, fhi := Feasible(name)
	lo, hi := math.Max(mean-hw, flo), math.Min(mean+hw, fhi)
	return math.Max(mean-lo, 0), math.Max(hi-mean, 0)
}

// CostLine is one row of a run's cost breakdown: a component's mean per
// replication with its 95% CI (clipped at 0), and its share of total_cost.
type CostLine struct {
	Metric, Description string
	Stats               Summary
	CILow, CIHigh       float64
	Share               float64 // of the mean total_cost
}

// CostBreakdown returns the components of total_cost (CostComponents) with
// the total, then lost revenue, from run's replications: a component a
// replication did not report is 0 there. ok is false when the run has no
// total_cost.
func CostBreakdown(run *RunResult) (lines []CostLine, ok bool) {
	totals, _ := run.Values(MTotalCost)
	if len(totals) == 0 {
		return nil, false
	}
	var mean float64
	for _, v := range totals {
		mean += v / float64(len(totals))
	}
	line := func(name string) CostLine {
		var vals []float64
		for _, rep := range run.Replications {
			if _, has := rep.Metrics[MTotalCost]; !has {
				continue
			}
			v := rep.Metrics[name] // 0 when absent
			if !finite(v) {
				v = 0
			}
			vals = append(vals, v)
		}
		s := Summarize(vals, run.precision())
		lo, hi := ClippedCI(name, s)
		l := CostLine{Metric: name, Description: defOf(name).Description, Stats: s, CILow: lo, CIHigh: hi, Share: math.NaN()}
		if mean != 0 {
			l.Share = s.Mean / mean
		}
		return l
	}
	for _, c := range CostComponents {
		lines = append(lines, line(c))
	}
	lines = append(lines, line(MTotalCost), line(MLostRevenue))
	return lines, true
}

// FormatCostBreakdown writes run's cost breakdown as an aligned text table:
// component, mean ± 95% half-width, CI clipped at 0, share of total_cost;
// then the total, FCPO and lost revenue (not a cost). Nothing is written
// when the run has no total_cost.
func FormatCostBreakdown(w io.Writer, run *RunResult) error {
	lines, ok := CostBreakdown(run)
	if !ok {
		return nil
	}
	fmt.Fprintf(w, "cost breakdown (%s): total_cost = the sum; fcpo = total_cost / collected; lost_revenue is not a cost\n", run.Scenario)
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "component\tmean\t± 95%\t95% CI\tshare\t")
	for _, l := range lines {
		st := l.Stats
		dec := statDecimals(st.Mean, st.HalfWidth)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", l.Metric, fmtDec(st.Mean, dec), fmtDec(st.HalfWidth, dec), fmtCI(l.CILow, l.CIHigh, dec), fmtPct(l.Share))
	}
	if s, ok := run.SummaryOf(MFCPO); ok {
		st := s.Stats
		dec := statDecimals(st.Mean, st.HalfWidth)
		lo, hi := ClippedCI(MFCPO, st)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\n", MFCPO, fmtDec(st.Mean, dec), fmtDec(st.HalfWidth, dec), fmtCI(lo, hi, dec))
	}
	return flushTrimmed(w, tw, &buf)
}

var costBreakdownTmpl = template.Must(template.New("costs").Parse(`<section class="cost-breakdown">
<h3>Cost breakdown — {{.Scenario}}</h3>
<p>Mean per replication with 95 % CI (clipped at 0). <code>total_cost</code> is the sum of the components; FCPO = <code>total_cost</code> / <code>collected</code> over the orders placed in the measured window. Lost revenue (refunds of orders that never reached their customer) is reported apart and is not a cost.</p>
<table><thead><tr><th class="l">component</th><th>mean</th><th>± 95 %</th><th>95 % CI</th><th>share of total</th></tr></thead><tbody>
{{range .Rows}}<tr{{if .Strong}} class="total"{{end}}><td class="l" title="{{.Description}}">{{.Metric}}</td><td>{{.Mean}}</td><td>{{.HalfWidth}}</td><td>{{.CI}}</td><td>{{.Share}}</td></tr>
{{end}}</tbody></table>
</section>
`))

// CostBreakdownHTML is the cost breakdown of run as a self-contained HTML
// section (a heading, a sentence defining FCPO, a table using the report's
// table styles), for report.html; empty when the run has no total_cost.
func CostBreakdownHTML(run *RunResult) (template.HTML, error) {
	lines, ok := CostBreakdown(run)
	if !ok {
		return "", nil
	}
	type row struct {
		Metric, Description, Mean, HalfWidth, CI, Share string
		Strong                                          bool
	}
	data := struct {
		Scenario string
		Rows     []row
	}{Scenario: run.Scenario}
	for _, l := range lines {
		st := l.Stats
		dec := statDecimals(st.Mean, st.HalfWidth)
		share := fmtPct(l.Share)
		if l.Metric == MLostRevenue {
			share = "not a cost"
		}
		data.Rows = append(data.Rows, row{Metric: l.Metric, Description: l.Description, Mean: fmtDec(st.Mean, dec),
			HalfWidth: fmtDec(st.HalfWidth, dec), CI: fmtCI(l.CILow, l.CIHigh, dec), Share: share, Strong: l.Metric == MTotalCost})
	}
	var b bytes.Buffer
	if err := costBreakdownTmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("results: cost breakdown: %w", err)
	}
	return template.HTML(b.String()), nil //nolint:gosec // built by html/template
}
