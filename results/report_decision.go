package results

import (
	"fmt"
	"html/template"
	"image/color"
	"math"
	"sort"
	"strings"
)

// decisionData is the report's first section: the headline.
type decisionData struct {
	Base            string
	Scenarios       []string
	Warnings        []string
	Selection       string
	SelectionMetric string
	SelectionRows   []selectionRow
	Rows            []verdictRow
	ParamsKnown     bool
	Params          []ParamDiff
	Biggest         []biggestView
}

type selectionRow struct {
	Scenario, Mean, State string
	Used, Simulated       int
	Best                  bool
}

type verdictRow struct {
	Metric, Description, Arrow, Unit string
	Winner, Lead, RunnerUp, CI       string
	Significance, SigClass           string
	Bars                             []ciBar
}

// ciBar is one scenario's mean and CI on a metric's common scale, positions
// in percent of the bar's width.
type ciBar struct {
	Title, Label                       string
	HasCI                              bool
	CIStyle, LoStyle, HiStyle, PtStyle template.CSS
}

type biggestView struct {
	Scenario string
	Metrics  []changeView
	Nodes    []nodeWhyView
}

type changeView struct{ Metric, Diff, CI, Verdict, Class string }

type nodeWhyView struct {
	Node, Kind                                string
	Refused, Reroutes, Returns                string
	RefusedClass, ReroutesClass, ReturnsClass string
}

func decisionView(cmp *Comparison) *decisionData {
	h := cmp.Headline
	d := &decisionData{Base: cmp.Base, Scenarios: cmp.Scenarios, Warnings: h.Warnings,
		ParamsKnown: h.Parameters != nil, Params: h.Parameters}
	if s := h.Selection; s != nil {
		d.Selection, d.SelectionMetric = s.Statement, s.Metric
		for _, ds := range s.Designs {
			row := selectionRow{Scenario: ds.Scenario, Mean: fmtNum(ds.Mean) + " " + s.Unit, Used: ds.Used, Simulated: ds.Simulated,
				Best: ds.Scenario == s.Best, State: "selected"}
			switch {
			case ds.EliminatedAt > 0:
				row.State = fmt.Sprintf("eliminated at n = %d by %s", ds.EliminatedAt, ds.EliminatedBy)
			case !row.Best:
				row.State = "still in contention at the cap"
			}
			d.SelectionRows = append(d.SelectionRows, row)
		}
	}
	for i := range d.Params {
		p := &d.Params[i]
		vals := make([]string, len(p.Values))
		for j, v := range p.Values {
			vals[j] = paramValue(v)
		}
		p.Values = vals
	}
	for _, m := range h.KeyMetrics {
		winner, lead, ci, sig := winnerCells(m)
		row := verdictRow{Metric: m.Metric, Description: defOf(m.Metric).Description, Arrow: m.Better.Arrow(), Unit: m.Unit,
			Winner: winner, Lead: lead, CI: ci, Significance: sig, SigClass: "nsig"}
		if m.Significant {
			row.SigClass = "sig"
		}
		if m.Winner != "" && m.Better != Neutral {
			// the runner-up on a line of its own keeps the column narrow
			row.Lead, row.RunnerUp = strings.TrimSuffix(lead, " vs "+m.RunnerUp), m.RunnerUp
		}
		if mc, ok := cmp.Metric(m.Metric); ok {
			row.Bars = ciBars(mc)
		}
		d.Rows = append(d.Rows, row)
	}
	for _, b := range h.Biggest {
		bv := biggestView{Scenario: b.Scenario}
		for _, m := range b.Metrics {
			dd := m.Diff
			dec := statDecimals(dd.Mean, dd.HalfWidth)
			diff := fmtSigned(dd.Mean, dec)
			if finite(dd.RelChange) {
				diff += " (" + fmtSigned(100*dd.RelChange, 1) + "%)"
			}
			bv.Metrics = append(bv.Metrics, changeView{Metric: m.Metric, Diff: diff, CI: fmtCI(dd.CI95Low, dd.CI95High, dec),
				Verdict: strings.ReplaceAll(string(m.Verdict), "_", " "), Class: "v-" + strings.ReplaceAll(strings.ReplaceAll(string(m.Verdict), "/", ""), "_", "-")})
		}
		for _, n := range b.Nodes {
			cell := func(c NodeChange) (string, string) {
				cls := ""
				switch {
				case c.Diff > 0:
					cls = "up"
				case c.Diff < 0:
					cls = "down"
				}
				return fmt.Sprintf("%s → %s (%s)", fmtDec(c.Base, 1), fmtDec(c.Scenario, 1), fmtSigned(c.Diff, 1)), cls
			}
			v := nodeWhyView{Node: n.Node, Kind: n.Kind}
			v.Refused, v.RefusedClass = cell(n.Refused)
			v.Reroutes, v.ReroutesClass = cell(n.Reroutes)
			v.Returns, v.ReturnsClass = cell(n.Returns)
			bv.Nodes = append(bv.Nodes, v)
		}
		d.Biggest = append(d.Biggest, bv)
	}
	return d
}

// ciBarRange is the range a metric's values can take, from its unit:
// shares lie in [0,1]; every other catalog unit (counts, money, minutes,
// hours, stock units) is non-negative.
func ciBarRange(unit string) (lo, hi float64) {
	if unit == UnitShare {
		return 0, 1
	}
	return 0, math.Inf(1)
}

// ciBarClip clips a confidence interval to the feasible range of unit (the
// Student-t interval of a share near 1 can reach past 1).
func ciBarClip(lo, hi float64, unit string) (float64, float64) {
	flo, fhi := ciBarRange(unit)
	return math.Min(math.Max(lo, flo), fhi), math.Max(math.Min(hi, fhi), flo)
}

// ciBars places every scenario's mean and clipped CI of a metric on one
// scale.
func ciBars(mc MetricComparison) []ciBar {
	type iv struct{ m, lo, hi float64 }
	ivs := make([]iv, len(mc.Scenarios))
	smin, smax := math.Inf(1), math.Inf(-1)
	for i, s := range mc.Scenarios {
		st := s.Stats
		lo, hi := st.CI95Low, st.CI95High
		if finite(lo) && finite(hi) {
			lo, hi = ciBarClip(lo, hi, mc.Unit)
		} else {
			lo, hi = st.Mean, st.Mean
		}
		ivs[i] = iv{st.Mean, lo, hi}
		if finite(lo) {
			smin = math.Min(smin, lo)
			smax = math.Max(smax, hi)
		}
	}
	if !(smax >= smin) {
		return nil
	}
	pad := 0.05 * (smax - smin)
	if pad == 0 {
		pad = math.Max(math.Abs(smax)*0.05, 1e-9)
	}
	flo, fhi := ciBarRange(mc.Unit)
	smin, smax = math.Max(smin-pad, flo), math.Min(smax+pad, fhi)
	if smax <= smin {
		smax = smin + 1e-9
	}
	pos := func(v float64) float64 { return 100 * (v - smin) / (smax - smin) }
	var out []ciBar
	for i, s := range mc.Scenarios {
		v := ivs[i]
		if !finite(v.m) {
			continue
		}
		st := s.Stats
		dec := statDecimals(st.Mean, st.HalfWidth)
		b := ciBar{Label: s.Scenario + " " + fmtDec(v.m, dec), HasCI: v.hi > v.lo,
			Title: fmt.Sprintf("%s: %s, 95%% CI %s", s.Scenario, fmtDec(v.m, dec), fmtCI(v.lo, v.hi, dec))}
		r, g, bl, _ := scenarioColor(i).RGBA()
		col := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff}
		b.PtStyle = template.CSS(fmt.Sprintf("left:%.2f%%;background:#%02x%02x%02x", pos(v.m), col.R, col.G, col.B))
		if b.HasCI {
			b.CIStyle = template.CSS(fmt.Sprintf("left:%.2f%%;width:%.2f%%", pos(v.lo), pos(v.hi)-pos(v.lo)))
			b.LoStyle = template.CSS(fmt.Sprintf("left:%.2f%%", pos(v.lo)))
			b.HiStyle = template.CSS(fmt.Sprintf("left:%.2f%%", pos(v.hi)))
		}
		out = append(out, b)
	}
	return out
}

// nodeMetricPriority orders the per-node table's columns: volumes, then why
// parcels did not stay, then money and time; other metrics follow by name.
var nodeMetricPriority = []string{"orders", "collected", "arrivals", "refused", "reroutes", "returns", MFCPO, "cost",
	"occupancy", MDwellMeanMin, MDwellP90Min}

func nodeMetricOrder(metrics map[string]bool) []string {
	var out []string
	for _, m := range nodeMetricPriority {
		if metrics[m] {
			out = append(out, m)
		}
	}
	prio := map[string]bool{}
	for _, m := range nodeMetricPriority {
		prio[m] = true
	}
	for _, m := range sortedKeys(metrics) {
		if !prio[m] {
			out = append(out, m)
		}
	}
	return out
}

// nodesByImportanceRuns is nodesByImportance over several runs.
func nodesByImportanceRuns(runs []RunResult, nodes map[string]bool) []string {
	all := RunResult{}
	for _, r := range runs {
		all.Replications = append(all.Replications, r.Replications...)
	}
	return nodesByImportance(&all, nodes)
}

// nodesByImportance orders nodes by the parcels they handled (mean orders
// plus arrivals per replication), the busiest first, ties by id.
func nodesByImportance(r *RunResult, nodes map[string]bool) []string {
	weight := map[string]float64{}
	for _, rep := range r.Replications {
		for n, m := range rep.PerNode {
			for _, k := range []string{"orders", "arrivals"} {
				if v, ok := m[k]; ok && finite(v) {
					weight[n] += v
				}
			}
		}
	}
	out := sortedKeys(nodes)
	sort.SliceStable(out, func(a, b int) bool { return weight[out[a]] > weight[out[b]] })
	return out
}
