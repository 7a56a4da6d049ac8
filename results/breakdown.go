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
// [0, +Inf) for counts, money amounts, durations, stock and RSMI. A name
// outside the catalog (per-node and per-microstore metrics) is judged by its
// suffix (_rate, _share: shares; _min, _cost, fcpo, rsmi, _revenue,
// _orders, _collected, and cost, occupancy — mean parcels held —, arrivals,
// refused: non-negative); anything else is unbounded. Tables and plots clip
// confidence intervals to it; results.json keeps the raw interval.
func Feasible(name string) (lo, hi float64) {
	d, ok := Lookup(name)
	if !ok {
		switch {
		case strings.HasSuffix(name, "_rate") || strings.HasSuffix(name, "_share"):
			return 0, 1
		case strings.HasSuffix(name, "_min") || strings.HasSuffix(name, "_cost") || strings.HasSuffix(name, "fcpo") ||
			strings.HasSuffix(name, "rsmi") || strings.HasSuffix(name, "_revenue") || strings.HasSuffix(name, "_orders") ||
			strings.HasSuffix(name, "_collected") || name == "cost" || name == "occupancy" || name == "arrivals" || name == "refused":
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
// total_cost or none of its components (results written before them).
func CostBreakdown(run *RunResult) (lines []CostLine, ok bool) {
	totals, _ := run.Values(MTotalCost)
	if len(totals) == 0 {
		return nil, false
	}
	components := false
	for _, c := range CostComponents {
		if v, _ := run.Values(c); len(v) > 0 {
			components = true
			break
		}
	}
	if !components { // written before the breakdown existed
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
		share := fmtPct(l.Share)
		if l.Metric == MLostRevenue {
			share = "not a cost"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", l.Metric, fmtDec(st.Mean, dec), fmtDec(st.HalfWidth, dec), fmtCI(l.CILow, l.CIHigh, dec), share)
	}
	if s, ok := run.SummaryOf(MFCPO); ok {
		st := s.Stats
		dec := statDecimals(st.Mean, st.HalfWidth)
		lo, hi := ClippedCI(MFCPO, st)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\n", MFCPO, fmtDec(st.Mean, dec), fmtDec(st.HalfWidth, dec), fmtCI(lo, hi, dec))
	}
	return flushTrimmed(w, tw, &buf)
}

// NeighborhoodMetrics are the per-neighborhood metrics of tables, in
// column order.
var NeighborhoodMetrics = []string{MOrders, MCollected, MPickupSuccessRate, MPickupFrictionP50, MPickupFrictionP90, "cost", MFCPO, MLostRevenue}

// MicrostoreMetrics are the columns of the microstore tables: the
// fulfilling node's view (the pickup nodes it serves), then the node's own
// FCPO and RSMI as a pickup node.
var MicrostoreMetrics = []string{MMicrostoreOrders, MMicrostoreCollected, MMicrostoreCost, MMicrostoreFCPO, MMicrostoreRSMI, MMicrostoreLostRev, MFCPO, MRSMI}

// groupTable is a table of per-group metrics (neighborhoods, microstores):
// one row per group, mean ± 95% half-width per metric ("–" when not
// measured).
type groupTable struct {
	Metrics []string
	Columns []groupColumn // for HTML: a short label, the metric name in its title
	Rows    []groupRow
}

type groupColumn struct{ Metric, Label string }

// columnLabel is a short header for a per-group metric in HTML tables.
var columnLabel = map[string]string{
	MMicrostoreOrders: "orders", MMicrostoreCollected: "collected", MMicrostoreCost: "cost",
	MMicrostoreFCPO: "FCPO", MMicrostoreRSMI: "RSMI", MMicrostoreLostRev: "lost revenue",
	MFCPO: "FCPO", MRSMI: "RSMI", MPickupSuccessRate: "pickup success", MPickupFrictionP50: "friction p50 (min)",
	MPickupFrictionP90: "friction p90 (min)", MLostRevenue: "lost revenue",
}

type groupRow struct {
	Name   string
	Values []string
}

func makeGroupTable(sums []groupSummary, groups, metrics []string) groupTable {
	idx := map[[2]string]Summary{}
	for _, s := range sums {
		idx[[2]string{s.group, s.metric}] = s.stats
	}
	t := groupTable{Metrics: metrics}
	for _, m := range metrics {
		h := columnLabel[m]
		if h == "" {
			h = m
		}
		t.Columns = append(t.Columns, groupColumn{m, h})
	}
	for _, g := range groups {
		row := groupRow{Name: g}
		for _, m := range metrics {
			v := "–"
			if st, ok := idx[[2]string{g, m}]; ok {
				dec := statDecimals(st.Mean, st.HalfWidth)
				v = fmtDec(st.Mean, dec)
				if finite(st.HalfWidth) {
					v += " ± " + fmtDec(st.HalfWidth, dec)
				}
			}
			row.Values = append(row.Values, v)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// neighborhoodTable is run's per-neighborhood table (scenario order when
// the run records its neighborhoods); ok is false without them.
func neighborhoodTable(run *RunResult) (groupTable, bool) {
	sums := make([]groupSummary, 0, len(run.PerNeighborhoodSummary))
	seen := map[string]bool{}
	for _, s := range run.PerNeighborhoodSummary {
		sums = append(sums, groupSummary{s.Neighborhood, s.Metric, s.Stats})
		seen[s.Neighborhood] = true
	}
	if len(sums) == 0 {
		return groupTable{}, false
	}
	var groups []string
	for _, nb := range run.Neighborhoods {
		if seen[nb.Name] {
			groups = append(groups, nb.Name)
			delete(seen, nb.Name)
		}
	}
	groups = append(groups, sortedKeys(seen)...)
	return makeGroupTable(sums, groups, NeighborhoodMetrics), true
}

// microstoreTable is run's per-microstore table (nodes with
// microstore_orders); ok is false without microstores.
func microstoreTable(run *RunResult) (groupTable, bool) {
	var sums []groupSummary
	ms := map[string]bool{}
	for _, s := range run.PerNodeSummary {
		sums = append(sums, groupSummary{s.Node, s.Metric, s.Stats})
		if s.Metric == MMicrostoreOrders {
			ms[s.Node] = true
		}
	}
	if len(ms) == 0 {
		return groupTable{}, false
	}
	return makeGroupTable(sums, sortedKeys(ms), MicrostoreMetrics), true
}

func formatGroupTable(w io.Writer, title, first string, t groupTable) error {
	fmt.Fprintln(w, title)
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, first)
	for _, m := range t.Metrics {
		fmt.Fprint(tw, "\t"+m)
	}
	fmt.Fprintln(tw, "\t")
	for _, r := range t.Rows {
		fmt.Fprint(tw, r.Name)
		for _, v := range r.Values {
			fmt.Fprint(tw, "\t"+v)
		}
		fmt.Fprintln(tw, "\t")
	}
	return flushTrimmed(w, tw, &buf)
}

var breakdownTmpl = template.Must(template.New("breakdown").Parse(`<div class="breakdown" data-scenario="{{.Scenario}}">
{{if .Costs}}<h4>Cost breakdown</h4>
<p class="muted">Mean per replication with the 95% CI (clipped at 0). <code>total_cost</code> is the sum of the components above it; FCPO = <code>total_cost</code> / <code>collected</code>, over the orders placed in the measured window. Lost revenue (refunds of orders that never reached their customer) is not a cost.</p>
<table class="costs">
<thead><tr><th class="l">component</th><th>mean</th><th>± 95%</th><th>95% CI</th><th>share of total</th></tr></thead>
<tbody>
{{range .Costs}}<tr><td class="l" title="{{.Description}}">{{if .Strong}}<strong>{{.Metric}}</strong>{{else}}{{.Metric}}{{end}}</td><td>{{.Mean}}</td><td>{{.HalfWidth}}</td><td>{{.CI}}</td><td>{{.Share}}</td></tr>
{{end}}</tbody>
</table>
{{end}}{{with .Microstores}}<h4>By microstore (fulfilling node)</h4>
<p class="muted">A microstore serves itself and the pickup nodes nearer to it than to any other microstore (the nodes whose orders it fulfils); the last two columns are the microstore's own as a pickup node. Mean ± 95% half-width; hover a header for the metric's name in results.json.</p>
<div style="overflow-x:auto"><table class="microstores">
<thead><tr><th class="l" rowspan="2">microstore</th><th colspan="6">the pickup nodes it serves</th><th colspan="2">itself as a pickup node</th></tr>
<tr>{{range .Columns}}<th title="{{.Metric}}">{{.Label}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><td class="l">{{.Name}}</td>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}{{with .Neighborhoods}}<h4>By neighborhood</h4>
<p class="muted">Each neighborhood's orders (placed in the measured window) and their outcomes; cost is its share of the nodes' costs (a pickup node's cost shared by the orders sent to it), FCPO that cost over its collected orders. Mean ± 95% half-width; hover a header for the metric's name in results.json.</p>
<div style="overflow-x:auto"><table class="neighborhoods">
<thead><tr><th class="l">neighborhood</th>{{range .Columns}}<th title="{{.Metric}}">{{.Label}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><td class="l">{{.Name}}</td>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}</div>
`))

type costRow struct {
	Metric, Description, Mean, HalfWidth, CI, Share string
	Strong                                          bool
}

// BreakdownHTML is a self-contained HTML fragment for report.html with
// run's cost breakdown, its microstores and its neighborhoods (each table
// only when the run has it; empty when it has none). It uses the report's
// table styles.
func BreakdownHTML(run *RunResult) template.HTML {
	data := struct {
		Scenario                   string
		Costs                      []costRow
		Microstores, Neighborhoods *groupTable
	}{Scenario: run.Scenario}
	if lines, ok := CostBreakdown(run); ok {
		for _, l := range lines {
			st := l.Stats
			dec := statDecimals(st.Mean, st.HalfWidth)
			share := fmtPct(l.Share)
			if l.Metric == MLostRevenue {
				share = "not a cost"
			}
			data.Costs = append(data.Costs, costRow{Metric: l.Metric, Description: l.Description, Mean: fmtDec(st.Mean, dec),
				HalfWidth: fmtDec(st.HalfWidth, dec), CI: fmtCI(l.CILow, l.CIHigh, dec), Share: share, Strong: l.Metric == MTotalCost})
		}
	}
	if t, ok := microstoreTable(run); ok {
		data.Microstores = &t
	}
	if t, ok := neighborhoodTable(run); ok {
		data.Neighborhoods = &t
	}
	if data.Costs == nil && data.Microstores == nil && data.Neighborhoods == nil {
		return ""
	}
	var b bytes.Buffer
	if err := breakdownTmpl.Execute(&b, data); err != nil {
		// a static template on a buffer: only a bug gets here
		return template.HTML("<p class=\"note\">breakdown not rendered: " + template.HTMLEscapeString(err.Error()) + "</p>")
	}
	return template.HTML(b.String()) // built by html/template
}

// fmtClippedCI formats the 95% CI of st for metric name, clipped to the
// metric's feasible range (tables; results.json keeps the raw interval).
func fmtClippedCI(name string, st Summary, dec int) string {
	lo, hi := ClippedCI(name, st)
	return fmtCI(lo, hi, dec)
}

// costSection follows the summary table with the cost breakdown, after a
// blank line, when the run has a total_cost.
func costSection(w io.Writer, run *RunResult) error {
	if _, ok := CostBreakdown(run); ok {
		fmt.Fprintln(w)
		if err := FormatCostBreakdown(w, run); err != nil {
			return err
		}
	}
	if t, ok := microstoreTable(run); ok {
		fmt.Fprintln(w)
		if err := formatGroupTable(w, "by microstore (the pickup nodes it serves; fcpo, rsmi: its own as a pickup node), mean ± 95%", "microstore", t); err != nil {
			return err
		}
	}
	if t, ok := neighborhoodTable(run); ok {
		fmt.Fprintln(w)
		return formatGroupTable(w, "by neighborhood (its orders; cost: its share of the nodes' costs), mean ± 95%", "neighborhood", t)
	}
	return nil
}

// microstoreFCPOFigure is FCPO by microstore (the fulfilling node, over the
// pickup nodes it serves); nil without microstores.
func microstoreFCPOFigure(runs []RunResult) *figure {
	return nodeBarsFigure(runs, MMicrostoreFCPO, "fcpo-by-microstore", "Fulfilment cost per collected order (FCPO), by microstore", "microstore",
		"FCPO of each microstore over the pickup nodes it serves (itself and the nodes nearer to it than to any other microstore): their costs over the orders collected there, mean over replications; whiskers are 95% confidence intervals clipped at 0.")
}
