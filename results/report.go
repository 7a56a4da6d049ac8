package results

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
)

// ReportFile is the name of the report WriteReport writes.
const ReportFile = "report.html"

// WriteReport writes dir/report.html: one self-contained page (inline CSS,
// plots embedded as base64 PNG data URIs, no scripts, fonts or links to
// fetch) with the scenario overview, each scenario's summary table with 95%
// CIs and precision flags, per-node tables, the comparison against the first
// scenario when there is more than one (cmp may be nil: it is computed), and
// every plot of WritePlots with a caption; a plot left out for lack of data
// is named with the reason (MissingPlots). The same inputs give the same
// bytes.
func WriteReport(dir string, runs []RunResult, cmp *Comparison) (string, error) {
	b, err := RenderReport(runs, cmp)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, ReportFile)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// RenderReport returns the HTML WriteReport writes.
func RenderReport(runs []RunResult, cmp *Comparison) ([]byte, error) {
	if len(runs) == 0 {
		return nil, errors.New("results: no runs to report")
	}
	if cmp == nil && len(runs) > 1 {
		c, err := CompareRuns(runs)
		if err != nil {
			return nil, err
		}
		cmp = &c
	}
	data := reportData{}
	names := make([]string, len(runs))
	for i := range runs {
		r := &runs[i]
		names[i] = r.Scenario
		data.Scenarios = append(data.Scenarios, scenarioView{Name: r.Scenario, Description: r.Description, Seed: r.Seed,
			Horizon: r.Horizon, Warmup: r.Warmup, Replications: len(r.Replications), Precision: fmtPct(r.precision()), Nodes: len(r.Nodes)})
		data.Summaries = append(data.Summaries, summaryView(r))
		if nt, ok := nodeView(r); ok {
			data.NodeTables = append(data.NodeTables, nt)
		}
	}
	data.Title = "lockstep report — " + strings.Join(names, " vs ")
	if len(runs) > 1 && cmp != nil {
		cv := compareView(cmp)
		data.Comparison = &cv
		if cmp.Headline != nil {
			data.Decision = decisionView(cmp)
		}
	}
	figs, missing, err := figures(runs)
	if err != nil {
		return nil, err
	}
	data.Missing = missing
	for _, f := range figs {
		png, err := f.render("png")
		if err != nil {
			return nil, err
		}
		data.Plots = append(data.Plots, plotView{ID: "plot-" + f.Name, Title: f.Title, Caption: f.Caption, File: f.Name,
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("results: rendering report: %w", err)
	}
	return buf.Bytes(), nil
}

type reportData struct {
	Title      string
	Decision   *decisionData
	Scenarios  []scenarioView
	Summaries  []summaryTable
	NodeTables []nodeTable
	Comparison *comparisonView
	Plots      []plotView
	Missing    []MissingPlot
}

type scenarioView struct {
	Name, Description, Horizon, Warmup, Precision string
	Seed                                          uint64
	Replications, Nodes                           int
}

type summaryTable struct {
	Scenario string
	Rows     []summaryRow
	// Breakdown: the cost breakdown, neighborhoods and microstores
	// (breakdown.go, BreakdownHTML).
	Breakdown template.HTML
}

type summaryRow struct {
	Metric, Description, Arrow, Unit, Mean, HalfWidth, CI, Rel, Precision string
	N                                                                     int
	OK                                                                    bool
}

type nodeTable struct {
	Scenario string
	Metrics  []string
	Rows     []nodeRow
}

type nodeRow struct {
	Node, Kind string
	Values     []string
}

type comparisonView struct {
	Base  string
	Notes []string
	Rows  []compareRow
}

type compareRow struct {
	First                            bool // first row of a metric
	Span                             int  // rows of the metric
	Metric, Description, Arrow, Unit string
	Scenario, Mean, CI, Diff, DiffCI string
	N                                int
	Verdict, VerdictClass            string
}

type plotView struct {
	ID, Title, Caption, File string
	Src                      template.URL
}

func summaryView(r *RunResult) summaryTable {
	sum := r.Summary
	if len(sum) == 0 {
		c := *r
		c.Finalize()
		sum = c.Summary
	}
	t := summaryTable{Scenario: r.Scenario}
	for _, s := range sum {
		st := s.Stats
		dec := statDecimals(st.Mean, st.HalfWidth)
		t.Rows = append(t.Rows, summaryRow{Metric: s.Metric, Description: defOf(s.Metric).Description, Arrow: s.Better.Arrow(),
			Unit: s.Unit, N: st.N, Mean: fmtDec(st.Mean, dec), HalfWidth: fmtDec(st.HalfWidth, dec),
			CI: fmtClippedCI(s.Metric, st, dec), Rel: fmtPct(st.RelHalfWidth), Precision: precisionNote(st), OK: st.PrecisionMet})
	}
	t.Breakdown = BreakdownHTML(r)
	return t
}

func nodeView(r *RunResult) (nodeTable, bool) {
	metrics := map[string]bool{}
	nodes := map[string]bool{}
	for _, s := range r.PerNodeSummary {
		metrics[s.Metric] = true
		nodes[s.Node] = true
	}
	if len(nodes) == 0 {
		c := *r
		c.Finalize()
		if len(c.PerNodeSummary) == 0 {
			return nodeTable{}, false
		}
		return nodeView(&c)
	}
	kind := map[string]string{}
	for _, n := range r.Nodes {
		kind[n.ID] = n.Kind
	}
	t := nodeTable{Scenario: r.Scenario, Metrics: nodeMetricOrder(metrics)}
	idx := map[[2]string]Summary{}
	for _, s := range r.PerNodeSummary {
		idx[[2]string{s.Node, s.Metric}] = s.Stats
	}
	for _, n := range nodesByImportance(r, nodes) {
		row := nodeRow{Node: n, Kind: kind[n]}
		for _, m := range t.Metrics {
			st, ok := idx[[2]string{n, m}]
			v := "–"
			if ok {
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
	return t, true
}

func compareView(cmp *Comparison) comparisonView {
	v := comparisonView{Base: cmp.Base, Notes: cmp.Notes}
	for _, m := range cmp.Metrics {
		for i, s := range m.Scenarios {
			st := s.Stats
			dec := statDecimals(st.Mean, st.HalfWidth)
			mean := fmtDec(st.Mean, dec)
			if finite(st.HalfWidth) {
				mean += " ± " + fmtDec(st.HalfWidth, dec)
			}
			row := compareRow{First: i == 0, Span: len(m.Scenarios), Metric: m.Metric, Description: defOf(m.Metric).Description,
				Arrow: m.Better.Arrow(), Unit: m.Unit, Scenario: s.Scenario, N: st.N, Mean: mean, CI: fmtClippedCI(m.Metric, st, dec)}
			if i == 0 {
				row.Verdict, row.VerdictClass = "base", "base"
			} else {
				d := m.Differences[i-1].Diff
				dd := statDecimals(d.Mean, d.HalfWidth)
				row.Diff, row.DiffCI = fmtSigned(d.Mean, dd), fmtCI(d.CI95Low, d.CI95High, dd)
				if finite(d.RelChange) {
					row.Diff += " (" + fmtSigned(100*d.RelChange, 1) + "%)"
				}
				row.Verdict = strings.ReplaceAll(string(d.Verdict), "_", " ")
				row.VerdictClass = "v-" + strings.ReplaceAll(strings.ReplaceAll(string(d.Verdict), "/", ""), "_", "-")
			}
			v.Rows = append(v.Rows, row)
		}
	}
	return v
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).Parse(reportHTML))

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root { --ink:#1d2733; --muted:#5b6776; --line:#d8dee6; --band:#f4f6f8; --good:#0b7a3e; --bad:#b42318; --accent:#0072b2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: var(--ink); background: #fff; }
header { background: #102a5c; color: #fff; padding: 22px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c8d4ea; }
nav { padding: 8px 32px; background: var(--band); border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); margin-right: 18px; text-decoration: none; font-weight: 600; }
main { padding: 8px 32px 40px; max-width: 1400px; }
.tw { max-width: 100%; overflow-x: auto; margin: 8px 0 16px; }
.tw table { margin: 0; }
td.wrap { white-space: normal; min-width: 12em; max-width: 36em; overflow-wrap: anywhere; }
section#decision { background: #f7fafc; border: 1px solid var(--line); border-radius: 6px; padding: 4px 18px 12px; margin-top: 18px; }
section#decision h2 { margin-top: 14px; }
.warn { background: #fdecea; border-left: 4px solid var(--bad); padding: 6px 10px; margin: 6px 0; font-weight: 600; }
.selection { background: #e8f4ec; border-left: 4px solid var(--good); padding: 6px 10px; margin: 6px 0; }
.cibar { position: relative; width: 140px; height: 14px; display: inline-block; vertical-align: middle; background: var(--band); border-radius: 3px; }
.cibar .ci { position: absolute; top: 6px; height: 2px; background: var(--ink); }
.cibar .pt { position: absolute; top: 3px; width: 8px; height: 8px; margin-left: -4px; border-radius: 50%; }
.cibar .lo, .cibar .hi { position: absolute; top: 3px; width: 1px; height: 8px; background: var(--ink); }
.sig { color: var(--good); font-weight: 600; }
.nsig { color: var(--muted); }
.nodes-why td.up { color: var(--bad); }
.nodes-why td.down { color: var(--good); }
h2 { border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 34px; }
h3 { margin: 24px 0 8px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; white-space: nowrap; }
td.l.wrap, td.wrap { text-align: left; }
th { background: var(--band); position: sticky; top: 0; }
td.l, th.l { text-align: left; }
tbody tr:hover { background: #eef4fb; }
.ok { color: var(--good); font-weight: 600; }
.miss { color: var(--bad); font-weight: 600; }
.v-better { color: #fff; background: var(--good); border-radius: 4px; padding: 1px 6px; }
.v-worse { color: #fff; background: var(--bad); border-radius: 4px; padding: 1px 6px; }
.v-no-significant-difference { color: var(--muted); }
.v-na, .v-insufficient-data, .base { color: var(--muted); font-style: italic; }
.muted { color: var(--muted); }
.note { background: #fff7e6; border-left: 4px solid #e69f00; padding: 6px 10px; margin: 6px 0; }
.missing ul { list-style: none; padding: 0; }
figure { margin: 18px 0 30px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); max-width: 900px; margin-top: 6px; }
.arrow { color: var(--muted); padding-left: 4px; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p>{{len .Scenarios}} scenario{{if gt (len .Scenarios) 1}}s{{end}}; 95% confidence intervals from Student t over replications{{if .Comparison}}; differences paired by replication (common random numbers){{end}}.</p>
</header>
<nav>{{if .Decision}}<a href="#decision">Decision</a>{{end}}<a href="#scenarios">Scenarios</a><a href="#summary">Summary</a>{{if .Comparison}}<a href="#comparison">Comparison</a>{{end}}{{if .NodeTables}}<a href="#nodes">Nodes</a>{{end}}<a href="#plots">Plots</a></nav>
<main>
{{with .Decision}}
<section id="decision">
<h2>Decision</h2>
{{range .Warnings}}<p class="warn">Warning: {{.}}</p>
{{end}}{{if .Selection}}<p class="selection"><strong>Selection on {{.SelectionMetric}}:</strong> {{.Selection}}</p>
<div class="tw"><table class="selection-designs">
<thead><tr><th class="l">scenario</th><th>mean</th><th>replications used</th><th>simulated</th><th class="l">outcome</th></tr></thead>
<tbody>
{{range .SelectionRows}}<tr><td class="l">{{if .Best}}<strong>{{.Scenario}}</strong>{{else}}{{.Scenario}}{{end}}</td><td>{{.Mean}}</td><td>{{.Used}}</td><td>{{.Simulated}}</td><td class="l">{{.State}}</td></tr>
{{end}}</tbody>
</table></div>
{{end}}<p class="muted">The winner of each key metric has the best mean in the metric’s direction (↑ higher, ↓ lower is better); its lead over the runner-up is a paired difference over replications with common random numbers, significant when its 95% CI excludes zero. Bars: each scenario’s mean (dot, in the scenario’s plot colour) and 95% CI, clipped to the metric’s feasible range.</p>
<div class="tw"><table class="verdicts">
<thead><tr><th class="l">key metric</th><th class="l">unit</th><th class="l">winner</th><th>lead over runner-up</th><th>95% CI</th><th class="l">significance</th><th class="l">scenarios (mean, 95% CI)</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td class="l" title="{{.Description}}"><strong>{{.Metric}}</strong><span class="arrow">{{.Arrow}}</span></td><td class="l">{{.Unit}}</td><td class="l">{{.Winner}}</td><td>{{.Lead}}{{if .RunnerUp}}<br><span class="muted">vs {{.RunnerUp}}</span>{{end}}</td><td>{{.CI}}</td><td class="l"><span class="{{.SigClass}}">{{.Significance}}</span></td><td class="l">{{range .Bars}}<div title="{{.Title}}"><span class="cibar">{{if .HasCI}}<span class="ci" style="{{.CIStyle}}"></span><span class="lo" style="{{.LoStyle}}"></span><span class="hi" style="{{.HiStyle}}"></span>{{end}}<span class="pt" style="{{.PtStyle}}"></span></span> <span class="muted">{{.Label}}</span></div>{{end}}</td></tr>
{{end}}</tbody>
</table></div>
{{if .ParamsKnown}}<h3>Parameters that differ</h3>
{{if .Params}}<div class="tw"><table class="params">
<thead><tr><th class="l">parameter (YAML path)</th>{{range .Scenarios}}<th class="l">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Params}}<tr><td class="l"><code>{{.Path}}</code></td>{{range .Values}}<td class="l wrap">{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{else}}<p class="muted">None: the scenario files set the same values.</p>
{{end}}{{end}}{{range .Biggest}}<h3>{{.Scenario}} vs {{$.Decision.Base}}: biggest differences</h3>
{{if .Metrics}}<ul>
{{range .Metrics}}<li><strong>{{.Metric}}</strong> {{.Diff}} {{.CI}} <span class="{{.Class}}">{{.Verdict}}</span></li>
{{end}}</ul>
{{else}}<p class="muted">No significant difference.</p>
{{end}}{{if .Nodes}}<div class="tw"><table class="nodes-why">
<thead><tr><th class="l">node</th><th class="l">kind</th><th>refused</th><th>rerouted away</th><th>returned</th></tr></thead>
<tbody>
{{range .Nodes}}<tr><td class="l">{{.Node}}</td><td class="l">{{.Kind}}</td><td class="{{.RefusedClass}}">{{.Refused}}</td><td class="{{.ReroutesClass}}">{{.Reroutes}}</td><td class="{{.ReturnsClass}}">{{.Returns}}</td></tr>
{{end}}</tbody>
</table></div>
<p class="muted">Per replication, {{$.Decision.Base}} → {{.Scenario}} (difference), nodes in order of the size of the change.</p>
{{end}}{{end}}</section>
{{end}}
<section id="scenarios">
<h2>Scenarios</h2>
<div class="tw"><table class="scenarios">
<thead><tr><th class="l">scenario</th><th class="l">description</th><th>seed</th><th>horizon</th><th>warm-up</th><th>replications</th><th>nodes</th><th>precision target</th></tr></thead>
<tbody>
{{range .Scenarios}}<tr><td class="l"><strong>{{.Name}}</strong></td><td class="l wrap">{{.Description}}</td><td>{{.Seed}}</td><td>{{.Horizon}}</td><td>{{.Warmup}}</td><td>{{.Replications}}</td><td>{{.Nodes}}</td><td>±{{.Precision}}</td></tr>
{{end}}</tbody>
</table></div>
</section>

<section id="summary">
<h2>Summary</h2>
<p class="muted">Mean over replications with the 95% confidence interval. “rel ±” is the half-width relative to the mean; precision “ok” means it is within the target, “need N” estimates the replications that would reach it. ↑ higher is better, ↓ lower is better, · neutral.</p>
{{range .Summaries}}
<h3>{{.Scenario}}</h3>
<div class="tw"><table class="summary" data-scenario="{{.Scenario}}">
<thead><tr><th class="l">metric</th><th class="l">unit</th><th>n</th><th>mean</th><th>± 95%</th><th>95% CI</th><th>rel ±</th><th>precision</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td class="l" title="{{.Description}}">{{.Metric}}<span class="arrow">{{.Arrow}}</span></td><td class="l">{{.Unit}}</td><td>{{.N}}</td><td>{{.Mean}}</td><td>{{.HalfWidth}}</td><td>{{.CI}}</td><td>{{.Rel}}</td><td class="{{if .OK}}ok{{else}}miss{{end}}">{{.Precision}}</td></tr>
{{end}}</tbody>
</table></div>
{{.Breakdown}}
{{end}}
</section>
{{with .Comparison}}
<section id="comparison">
<h2>Comparison</h2>
<p class="muted">Base scenario <strong>{{.Base}}</strong>. Δ is scenario − base, computed on paired replications; the verdict is “better” or “worse” when the 95% CI of Δ excludes zero, in the metric’s direction.</p>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}<div class="tw"><table class="comparison">
<thead><tr><th class="l">metric</th><th class="l">scenario</th><th>n</th><th>mean ± 95%</th><th>95% CI</th><th>Δ vs base</th><th>Δ 95% CI</th><th class="l">verdict</th></tr></thead>
<tbody>
{{range .Rows}}<tr>{{if .First}}<td class="l" rowspan="{{.Span}}" title="{{.Description}}"><strong>{{.Metric}}</strong><span class="arrow">{{.Arrow}}</span><br><span class="muted">{{.Unit}}</span></td>{{end}}<td class="l">{{.Scenario}}</td><td>{{.N}}</td><td>{{.Mean}}</td><td>{{.CI}}</td><td>{{.Diff}}</td><td>{{.DiffCI}}</td><td class="l"><span class="{{.VerdictClass}}">{{.Verdict}}</span></td></tr>
{{end}}</tbody>
</table></div>
</section>
{{end}}
{{if .NodeTables}}
<section id="nodes">
<h2>Nodes</h2>
<p class="muted">Per-node metrics: mean ± 95% half-width over replications.</p>
{{range .NodeTables}}
<h3>{{.Scenario}}</h3>
<div class="tw"><table class="nodes">
<thead><tr><th class="l">node</th><th class="l">kind</th>{{range .Metrics}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><td class="l">{{.Node}}</td><td class="l">{{.Kind}}</td>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}
</section>
{{end}}
<section id="plots">
<h2>Plots</h2>
{{if .Missing}}<div class="missing">
<p class="muted">Not drawn, for lack of data:</p>
<ul>
{{range .Missing}}<li class="note" data-plot="{{.Name}}"><strong>{{.Title}}</strong> ({{.Name}}.png): {{.Reason}}</li>
{{end}}</ul>
</div>
{{end}}{{range $i, $p := .Plots}}
<figure id="{{$p.ID}}">
<h3>Figure {{inc $i}}. {{$p.Title}}</h3>
<img src="{{$p.Src}}" alt="{{$p.Title}}">
<figcaption>{{$p.Caption}} <span class="muted">({{$p.File}}.png / .svg)</span></figcaption>
</figure>
{{end}}
</section>
</main>
</body>
</html>
`
