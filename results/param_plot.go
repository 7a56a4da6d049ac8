package results

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxLegend is the number of series a ParamPlot names in its legend; more
// are drawn without one.
const maxLegend = 10

// ParamPlot is one metric against the values of one parameter, drawn like
// every other figure here (size, palette, grid): the parameter's values
// along the x axis, the metric's mean with its 95% CI bar at each, one line
// per series. A sweep draws one per varied parameter, a series per
// combination of the other parameters.
type ParamPlot struct {
	Name   string   // file stem
	Metric string   // catalog name; the y axis is labelled with its MetricDef.Label
	Param  string   // the parameter, the x axis
	Values []string // the parameter's values, in order
	Series []ParamSeries
}

// ParamSeries is one line of a ParamPlot: the metric's statistics at each
// of the plot's Values (a NaN mean leaves the value out), and the legend
// entry, "" for none.
type ParamSeries struct {
	Label string
	Stats []Summary
}

// WriteParamPlot writes p into dir (created if needed) as PNG and SVG and
// returns the paths written.
func WriteParamPlot(dir string, p ParamPlot) ([]string, error) {
	f, err := p.figure()
	if err != nil {
		return nil, err
	}
	return writeFigures(dir, []figure{*f})
}

func (pp ParamPlot) figure() (*figure, error) {
	d := defOf(pp.Metric)
	title := pp.Metric + " vs " + pp.Param
	p := newPlot(title+" (mean, 95% CI)", pp.Param, d.Label())
	n := len(pp.Series)
	named := 0
	for i, s := range pp.Series {
		var ep errPoints
		off := dodge(i, n, 0.2) // keep the CI bars of the series apart
		for x, st := range s.Stats {
			if math.IsNaN(st.Mean) {
				continue
			}
			hw := st.HalfWidth
			if !finite(hw) {
				hw = 0
			}
			lo, hi := clippedErr(pp.Metric, st.Mean, hw)
			ep.XYs = append(ep.XYs, plotter.XY{X: float64(x) + off, Y: st.Mean})
			ep.YErrors = append(ep.YErrors, struct{ Low, High float64 }{lo, hi})
		}
		if len(ep.XYs) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(ep.XYs)
		if err != nil {
			return nil, fmt.Errorf("results: plot %s: %w", pp.Name, err)
		}
		l.LineStyle = lineStyle(i)
		sc.Color, sc.Shape, sc.Radius = scenarioColor(i), draw.CircleGlyph{}, vg.Points(3)
		e, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil, fmt.Errorf("results: plot %s: %w", pp.Name, err)
		}
		e.LineStyle.Color = scenarioColor(i)
		p.Add(l, sc, e)
		if s.Label != "" && n <= maxLegend {
			p.Legend.Add(s.Label, l, sc)
			named++
		}
	}
	p.NominalX(pp.Values...)
	p.X.Min, p.X.Max = -0.5, float64(len(pp.Values))-0.5
	padY(p)
	if named > 0 {
		headroom(p, 0.06*float64(named))
	}
	return plotFigure(pp.Name, title,
		fmt.Sprintf("Mean of %s at each value of %s with its 95%% confidence interval, one line per combination of the other parameters.", pp.Metric, pp.Param), p), nil
}

// dodge is the x offset of series i of n, spread over width, so that error
// bars at the same x stay apart.
func dodge(i, n int, width float64) float64 {
	return width * (float64(i) - float64(n-1)/2) / math.Max(1, float64(n-1))
}
