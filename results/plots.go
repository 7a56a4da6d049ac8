package results

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot sizes. At the PNG resolution of 96 dpi a standard figure is 864×528
// pixels, a wide one (key metrics, demand maps) 1152×720.
const (
	PlotDPI = 96
)

var (
	plotW, plotH = 9 * vg.Inch, 5.5 * vg.Inch
	wideW, wideH = 12 * vg.Inch, 7.5 * vg.Inch
)

// PlotFormats are the formats WritePlots writes for every figure.
var PlotFormats = []string{"png", "svg"}

// figure is one chart: a name (file stem), a title and caption for the
// report, a size, and a function that draws it on any canvas.
type figure struct {
	Name    string
	Title   string
	Caption string
	W, H    vg.Length
	draw    func(dc draw.Canvas)
}

func (f figure) render(format string) ([]byte, error) {
	c, err := draw.NewFormattedCanvas(f.W, f.H, format)
	if err != nil {
		return nil, err
	}
	if err := safeDraw(f, draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// safeDraw turns a panic inside gonum/plot (it panics on degenerate input)
// into an error naming the figure.
func safeDraw(f figure, dc draw.Canvas) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("results: drawing %s: %v", f.Name, r)
		}
	}()
	f.draw(dc)
	return nil
}

// WritePlots writes every figure the runs have data for into dir (created
// if needed), each as PNG and SVG, and returns the paths written in a stable
// order. Figures: pickup-delay (ECDF of ready-to-pickup minutes per
// scenario), pickup-success-daily, orders-daily, locker-occupancy, courier-utilization,
// fcpo-by-node, key-metrics (means with 95% CI error bars per scenario) and
// demand-<scenario> (H3 demand heatmap with node markers). MissingPlots says
// which of them were left out and why.
func WritePlots(dir string, runs []RunResult) ([]string, error) {
	figs, _, err := figures(runs)
	if err != nil {
		return nil, err
	}
	return writeFigures(dir, figs)
}

// writeFigures renders figs into dir (created if needed) in every
// PlotFormats format and returns the paths written, in order.
func writeFigures(dir string, figs []figure) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range figs {
		for _, format := range PlotFormats {
			b, err := f.render(format)
			if err != nil {
				return paths, err
			}
			p := filepath.Join(dir, f.Name+"."+format)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return paths, err
			}
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// MissingPlot is a figure WritePlots leaves out for lack of data.
type MissingPlot struct {
	Name   string // file stem it would have had
	Title  string
	Reason string // why it is absent, and how to get it when the user can
}

// MissingPlots lists, in figure order, the figures WritePlots leaves out
// for runs and why.
func MissingPlots(runs []RunResult) ([]MissingPlot, error) {
	_, missing, err := figures(runs)
	return missing, err
}

// Trace figures and the reason they are absent without a trace.
const (
	occupancyFigure   = "locker-occupancy"
	utilizationFigure = "courier-utilization"
	noTraceReason     = "the results hold no hourly trace: they were written without --trace. " +
		"Run or compare with --trace or --report (which records it), then regenerate the report."
)

func figures(runs []RunResult) ([]figure, []MissingPlot, error) {
	if len(runs) == 0 {
		return nil, nil, errors.New("results: no runs to plot")
	}
	var figs []figure
	var missing []MissingPlot
	add := func(f *figure, name, title string, why func() string) {
		if f != nil {
			figs = append(figs, *f)
			return
		}
		missing = append(missing, MissingPlot{Name: name, Title: title, Reason: why()})
	}
	add(pickupDelayFigure(runs), "pickup-delay", "Ready-to-pickup time", func() string {
		return "no parcel was collected after the warm-up in any replication, so there is no ready-to-pickup time to plot."
	})
	add(courierWaitFigure(runs), "courier-wait", "Courier wait", func() string {
		return "the results hold no courier-wait histogram (written before it existed, or no parcel was handed to a courier)."
	})
	add(dailySuccessFigure(runs), "pickup-success-daily", "Pickup success within SLA per day", func() string {
		return "no replication has a day with orders after the warm-up."
	})
	add(dailyOrdersFigure(runs), "orders-daily", "Orders per day", func() string {
		return "no replication has a daily point after the warm-up."
	})
	traceWhy := func() string {
		for _, r := range runs {
			for _, rep := range r.Replications {
				if len(rep.Trace) > 0 {
					return "the hourly trace holds no finite value to plot."
				}
			}
		}
		return noTraceReason
	}
	add(traceFigure(runs, occupancyFigure, "Locker occupancy over time",
		"Mean occupied share of locker slots per simulated hour from the start (the warm-up included, to help choose it, and the drain after the horizon, right of the dashed line), averaged over replications.",
		"occupied share of slots", func(p TracePoint) float64 { return p.Occupancy }),
		occupancyFigure, "Locker occupancy over time", traceWhy)
	add(traceFigure(runs, utilizationFigure, "Courier utilisation over time",
		"Share of courier time spent on tasks per simulated hour from the start (warm-up and drain included), averaged over replications.",
		"utilisation", func(p TracePoint) float64 { return p.CourierUtilization }),
		utilizationFigure, "Courier utilisation over time", traceWhy)
	add(fcpoFigure(runs), "fcpo-by-node", "Fulfilment cost per collected order (FCPO), by pickup node", func() string {
		return "no node had a parcel collected after the warm-up, so no node has an FCPO."
	})
	if f := microstoreFCPOFigure(runs); f != nil { // networks with microstores only (breakdown.go)
		figs = append(figs, *f)
	}
	add(keyMetricsFigure(runs), "key-metrics", "Key metrics across scenarios", func() string {
		return "none of the key metrics was measured."
	})
	used := map[string]bool{}
	for i := range runs {
		f, err := demandFigure(&runs[i])
		if err != nil {
			return nil, nil, err
		}
		name := "demand-" + slug(runs[i].Scenario)
		if f != nil {
			for used[f.Name] { // two scenario names with the same slug
				f.Name += "-" + fmt.Sprint(i)
			}
			used[f.Name] = true
			name = f.Name
		}
		add(f, name, "Demand heatmap — "+runs[i].Scenario, func() string {
			return runs[i].Scenario + " reports no orders by H3 cell."
		})
	}
	return figs, missing, nil
}

// scenarioColors is the Okabe–Ito palette (distinguishable with colour
// vision deficiency), one colour per scenario.
var scenarioColors = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, color.RGBA{0xD5, 0x5E, 0x00, 0xff}, color.RGBA{0x00, 0x9E, 0x73, 0xff},
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, color.RGBA{0xE6, 0x9F, 0x00, 0xff}, color.RGBA{0x56, 0xB4, 0xE9, 0xff},
	color.RGBA{0x00, 0x00, 0x00, 0xff}, color.RGBA{0xF0, 0xE4, 0x42, 0xff},
}

func scenarioColor(i int) color.Color { return scenarioColors[i%len(scenarioColors)] }

var scenarioDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}}

func lineStyle(i int) draw.LineStyle {
	return draw.LineStyle{Color: scenarioColor(i), Width: vg.Points(1.6), Dashes: scenarioDashes[(i/len(scenarioColors)+i)%len(scenarioDashes)]}
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Tick.Marker, p.Y.Tick.Marker = cleanTicks{}, cleanTicks{}
	p.Legend.Top = true
	p.Add(&plotter.Grid{Vertical: draw.LineStyle{Color: color.Gray{0xe0}, Width: vg.Points(0.5)},
		Horizontal: draw.LineStyle{Color: color.Gray{0xe0}, Width: vg.Points(0.5)}})
	return p
}

func plotFigure(name, title, caption string, p *plot.Plot) *figure {
	return &figure{Name: name, Title: title, Caption: caption, W: plotW, H: plotH, draw: func(dc draw.Canvas) { p.Draw(dc) }}
}

func pickupDelayFigure(runs []RunResult) *figure {
	return ecdfFigure(runs, func(r *Replication) Histogram { return r.PickupDelay }, "pickup-delay", "Ready-to-pickup time",
		"minutes from ready notification to verified pickup", "share of parcels collected",
		"Empirical distribution (ECDF) of the minutes from the ready-for-pickup notification to the verified pickup, all replications pooled.")
}

// ecdfFigure draws the pooled ECDF of a histogram of minutes per scenario.
func ecdfFigure(runs []RunResult, get func(*Replication) Histogram, name, title, xlabel, ylabel, caption string) *figure {
	hists := make([]Histogram, len(runs))
	var all Histogram
	for i, r := range runs {
		for j := range r.Replications {
			if err := hists[i].Merge(get(&r.Replications[j])); err != nil {
				return nil
			}
		}
		if hists[i].Total() > 0 {
			if err := all.Merge(hists[i]); err != nil {
				return nil
			}
		}
	}
	if all.Total() == 0 {
		return nil
	}
	xmax := math.Max(all.Quantile(0.99)*1.05, all.BinWidth)
	p := newPlot(title, xlabel, ylabel)
	p.Y.Min, p.Y.Max, p.X.Min, p.X.Max = 0, 1, 0, xmax
	for i, h := range hists {
		if h.Total() == 0 {
			continue
		}
		xs, ys := h.CDF()
		var pts plotter.XYs
		for j := range xs {
			if xs[j] > xmax {
				break
			}
			pts = append(pts, plotter.XY{X: xs[j], Y: ys[j]})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil
		}
		l.LineStyle = lineStyle(i)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (p50 %s, p90 %s min)", runs[i].Scenario, fmtDec(h.Quantile(0.5), 0), fmtDec(h.Quantile(0.9), 0)), l)
	}
	p.Legend.Top = false // the lower right of an ECDF is empty
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), vg.Points(20)
	return plotFigure(name, title, caption, p)
}

// dailyMetric is the catalog metric each daily figure plots (its CI bars
// are clipped to the metric's feasible range).
var dailyMetric = map[string]string{"pickup-success-daily": MPickupSuccessRate, "orders-daily": MOrders}

// meanCI returns the mean and 95% half-width (0 for fewer than two values).
func meanCI(v []float64) (mean, hw float64) {
	s := Summarize(v, 0)
	hw = s.HalfWidth
	if !finite(hw) {
		hw = 0
	}
	return s.Mean, hw
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

func dailySuccessFigure(runs []RunResult) *figure {
	return dailyFigure(runs, "pickup-success-daily", "Pickup success within SLA per day", "pickup_success_rate (share)",
		"Share of each day's orders collected within the SLA: mean over replications with 95% confidence intervals clipped to [0, 1].",
		func(d DailyPoint) float64 { return d.PickupSuccessRate })
}

// dailyFigure plots value of the daily points per day after the warm-up:
// mean over replications with 95% CI bars, one line per scenario.
func dailyFigure(runs []RunResult, name, title, ylabel, caption string, value func(DailyPoint) float64) *figure {
	p := newPlot(title, "day after warm-up", ylabel)
	any := false
	for i, r := range runs {
		byDay := map[int][]float64{}
		for _, rep := range r.Replications {
			for _, d := range rep.Daily {
				if v := value(d); finite(v) {
					byDay[d.Day] = append(byDay[d.Day], v)
				}
			}
		}
		if len(byDay) == 0 {
			continue
		}
		any = true
		days := make([]int, 0, len(byDay))
		for d := range byDay {
			days = append(days, d)
		}
		sort.Ints(days)
		var ep errPoints
		off := dodge(i, len(runs), 0.15) // keep error bars apart
		for _, d := range days {
			m, hw := meanCI(byDay[d])
			lo, hi := clippedErr(dailyMetric[name], m, hw)
			ep.XYs = append(ep.XYs, plotter.XY{X: float64(d) + off, Y: m})
			ep.YErrors = append(ep.YErrors, struct{ Low, High float64 }{lo, hi})
		}
		l, s, err := plotter.NewLinePoints(ep.XYs)
		if err != nil {
			return nil
		}
		l.LineStyle = lineStyle(i)
		s.Color = scenarioColor(i)
		e, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil
		}
		e.LineStyle.Color = scenarioColor(i)
		p.Add(l, s, e)
		p.Legend.Add(r.Scenario, l, s)
	}
	if !any {
		return nil
	}
	p.X.Tick.Marker = integerTicks{}
	p.X.Min, p.X.Max = p.X.Min-0.3, p.X.Max+0.3
	headroom(p, 0.3)
	return plotFigure(name, title, caption, p)
}

// integerTicks labels whole numbers only.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	step := math.Max(1, math.Ceil((max-min)/12))
	for v := math.Ceil(min); v <= max; v += step {
		t = append(t, plot.Tick{Value: v, Label: fmt.Sprint(int(v))})
	}
	return t
}

func traceFigure(runs []RunResult, name, title, caption, ylabel string, get func(TracePoint) float64) *figure {
	p := newPlot(title, "hours since the start (warm-up included)", ylabel)
	any := false
	for i, r := range runs {
		byHour := map[float64][]float64{}
		for _, rep := range r.Replications {
			for _, tp := range rep.Trace {
				if v := get(tp); finite(v) {
					byHour[tp.Hour] = append(byHour[tp.Hour], v)
				}
			}
		}
		if len(byHour) == 0 {
			continue
		}
		any = true
		hours := make([]float64, 0, len(byHour))
		for h := range byHour {
			hours = append(hours, h)
		}
		sort.Float64s(hours)
		pts := make(plotter.XYs, len(hours))
		for j, h := range hours {
			pts[j] = plotter.XY{X: h, Y: stat.Mean(byHour[h], nil)}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil
		}
		l.LineStyle = lineStyle(i)
		p.Add(l)
		p.Legend.Add(r.Scenario, l)
	}
	if !any {
		return nil
	}
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, 1) * 1.2 // room for the legend
	// the drain, if any, is right of the horizon line
	horizonLine(p, runs)
	return plotFigure(name, title, caption, p)
}

func fcpoFigure(runs []RunResult) *figure {
	return nodeBarsFigure(runs, MFCPO, "fcpo-by-node", "Fulfilment cost per collected order (FCPO), by pickup node", "pickup node",
		"FCPO of each pickup node: its cost (fixed, its parcels' variable costs, couriers by parcels brought) over the orders collected there, mean over replications; whiskers are 95% confidence intervals clipped at 0. Lost revenue is not a cost.")
}

// nodeBarsFigure draws per-node metric as bars per node and scenario with
// 95% CI whiskers (clipped to its feasible range); nil when no node has it.
func nodeBarsFigure(runs []RunResult, metric, name, title, xlabel, caption string) *figure {
	nodeSet := map[string]bool{}
	for _, r := range runs {
		for _, rep := range r.Replications {
			for node, m := range rep.PerNode {
				if v, ok := m[metric]; ok && finite(v) {
					nodeSet[node] = true
				}
			}
		}
	}
	if len(nodeSet) == 0 {
		return nil
	}
	nodes := nodesByImportanceRuns(runs, nodeSet) // busiest first, as in the report's tables
	p := newPlot(title, xlabel, metric+" (currency)")
	n := float64(len(runs))
	group := 0.8 // share of a node's slot taken by its bars
	// bar width in canvas units: approximate data width / nodes
	barW := vg.Length(float64(plotW-vg.Inch) / float64(len(nodes)+1) * group / n)
	for i, r := range runs {
		vals := make(plotter.Values, len(nodes))
		var ep errPoints
		off := -group/2 + group/n*(float64(i)+0.5)
		for j, node := range nodes {
			var v []float64
			for _, rep := range r.Replications {
				if x, ok := rep.PerNode[node][metric]; ok && finite(x) {
					v = append(v, x)
				}
			}
			m, hw := meanCI(v)
			if !finite(m) {
				m = 0
			}
			vals[j] = m
			lo, hi := clippedErr(metric, m, hw)
			ep.XYs = append(ep.XYs, plotter.XY{X: float64(j) + off, Y: m})
			ep.YErrors = append(ep.YErrors, struct{ Low, High float64 }{lo, hi})
		}
		b, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil
		}
		b.XMin = off
		b.Color = scenarioColor(i)
		b.LineStyle.Width = 0
		e, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil
		}
		p.Add(b, e)
		p.Legend.Add(r.Scenario, b)
	}
	p.NominalX(nodes...)
	p.X.Min, p.X.Max = -0.6, float64(len(nodes))-0.4
	p.Y.Min = 0
	headroom(p, 0.25)
	return plotFigure(name, title, caption, p)
}

// KeyMetrics are the metrics of the key-metrics chart, in panel order.
var KeyMetrics = []string{MPickupSuccessRate, MOnTimeReadyRate, MFCPO, MPickupFrictionP90,
	MRefundAmount, MRSMI, MCourierUtilization, MLockerOccupancy}

func keyMetricsFigure(runs []RunResult) *figure {
	var panels []*plot.Plot
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Scenario
	}
	for _, name := range KeyMetrics {
		d := defOf(name)
		p := newPlot(d.Name+" "+d.Better.Arrow(), "", d.Unit)
		p.Title.TextStyle.Font.Size = vg.Points(11)
		got := false
		for i := range runs {
			v, _ := runs[i].Values(name)
			if len(v) == 0 {
				continue
			}
			got = true
			m, hw := meanCI(v)
			lo, hi := clippedErr(name, m, hw)
			ep := errPoints{XYs: plotter.XYs{{X: float64(i), Y: m}}, YErrors: plotter.YErrors{{Low: lo, High: hi}}}
			s, err := plotter.NewScatter(ep.XYs)
			if err != nil {
				return nil
			}
			s.Color = scenarioColor(i)
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(4)
			e, err := plotter.NewYErrorBars(ep)
			if err != nil {
				return nil
			}
			e.LineStyle.Color = scenarioColor(i)
			e.LineStyle.Width = vg.Points(1.5)
			p.Add(e, s)
		}
		if !got {
			continue
		}
		p.NominalX(names...)
		p.X.Min, p.X.Max = -0.5, float64(len(runs))-0.5
		p.X.Tick.Label.Rotation = 0.35
		p.X.Tick.Label.XAlign = draw.XRight
		padY(p)
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil
	}
	cols := min(4, len(panels))
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range cols {
			if k := r*cols + c; k < len(panels) {
				grid[r][c] = panels[k]
			}
		}
	}
	h := wideH * vg.Length(rows) / 2
	return &figure{Name: "key-metrics", Title: "Key metrics across scenarios",
		Caption: "Mean of each key metric per scenario with its 95% confidence interval (Student t over replications), clipped to the metric's feasible range (shares in [0, 1], costs and counts ≥ 0). ↑ higher is better, ↓ lower is better.",
		W:       wideW, H: h, draw: func(dc draw.Canvas) {
			tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(18), PadY: vg.Points(18),
				PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(8)}
			canvases := plot.Align(grid, tiles, dc)
			for r := range grid {
				for c := range grid[r] {
					if grid[r][c] != nil {
						grid[r][c].Draw(canvases[r][c])
					}
				}
			}
		}}
}

// headroom raises the top of the y axis by share of the range, room for a
// legend at the top.
func headroom(p *plot.Plot, share float64) {
	p.Y.Max += share * (p.Y.Max - p.Y.Min)
}

// padY widens a degenerate or tight y range so error bars are visible.
func padY(p *plot.Plot) {
	lo, hi := p.Y.Min, p.Y.Max
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(hi)*0.1, 1)
	}
	p.Y.Min, p.Y.Max = lo-0.15*span, hi+0.15*span
}
