package sweep

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/lockstep-sim/lockstep/results"
)

// maxSeries is the number of lines (combinations of the other parameters)
// drawn with a legend in a sweep plot; more are drawn without one.
const maxSeries = 10

var sweepColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xff, 0x7f, 0x0e, 0xff}, color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff}, color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
}

// PlotName is the file stem of the plot of metric against parameter path.
func PlotName(metric, path string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(path) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '*':
			b.WriteString("all")
		default:
			b.WriteByte('-')
		}
	}
	return "sweep-" + metric + "-vs-" + strings.Trim(b.String(), "-")
}

type errXYs struct {
	plotter.XYs
	plotter.YErrors
}

// WritePlots plots the chosen metric against each varied parameter,
// with 95% CI bars, one line per combination of the other parameters, as
// PNG and SVG in dir. It returns the files written.
func WritePlots(dir string, info Info, pts []PlotPoint) ([]string, error) {
	var files []string
	d, _ := results.Lookup(info.Metric)
	for j, param := range info.Parameters {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s vs %s", info.Metric, param.Path)
		p.Title.TextStyle.Font.Size = vg.Points(14)
		p.X.Label.Text = param.Path
		ylabel := info.Metric
		if d.Unit != "" {
			ylabel += " (" + d.Unit + ")"
		}
		p.Y.Label.Text = ylabel + ", mean with 95% CI"
		p.Legend.Top = true
		p.Add(&plotter.Grid{Vertical: draw.LineStyle{Color: color.Gray{0xe0}, Width: vg.Points(0.5)},
			Horizontal: draw.LineStyle{Color: color.Gray{0xe0}, Width: vg.Points(0.5)}})
		// series: the other parameters' values, in grid order
		var keys []string
		series := map[string]*errXYs{}
		pos := map[string]int{}
		for i, v := range param.Values {
			pos[v] = i
		}
		for _, pt := range pts {
			var other []string
			for k, v := range pt.Values {
				if k != j {
					other = append(other, info.Parameters[k].Path+"="+v)
				}
			}
			key := strings.Join(other, ", ")
			s := series[key]
			if s == nil {
				s = &errXYs{}
				series[key] = s
				keys = append(keys, key)
			}
			if math.IsNaN(pt.Stats.Mean) {
				continue
			}
			hw := pt.Stats.HalfWidth
			if math.IsNaN(hw) || math.IsInf(hw, 0) {
				hw = 0
			}
			s.XYs = append(s.XYs, plotter.XY{X: float64(pos[pt.Values[j]]), Y: pt.Stats.Mean})
			s.YErrors = append(s.YErrors, struct{ Low, High float64 }{hw, hw})
		}
		n := len(keys)
		for si, key := range keys {
			s := series[key]
			if len(s.XYs) == 0 {
				continue
			}
			// spread the series a little so their CI bars do not overlap
			off := 0.0
			if n > 1 {
				off = 0.2 * (float64(si)/float64(n-1) - 0.5)
			}
			for i := range s.XYs {
				s.XYs[i].X += off
			}
			c := sweepColors[si%len(sweepColors)]
			l, sc, err := plotter.NewLinePoints(s.XYs)
			if err != nil {
				return files, fmt.Errorf("plot %s: %w", param.Path, err)
			}
			l.Color, l.Width = c, vg.Points(1.5)
			sc.Color, sc.Shape, sc.Radius = c, draw.CircleGlyph{}, vg.Points(3)
			e, err := plotter.NewYErrorBars(s)
			if err != nil {
				return files, fmt.Errorf("plot %s: %w", param.Path, err)
			}
			e.LineStyle.Color, e.LineStyle.Width = c, vg.Points(1.2)
			p.Add(l, sc, e)
			if key != "" && n <= maxSeries {
				p.Legend.Add(key, l, sc)
			}
		}
		p.NominalX(param.Values...)
		p.X.Min, p.X.Max = -0.5, float64(len(param.Values))-0.5
		lo, hi := p.Y.Min, p.Y.Max
		span := hi - lo
		if span == 0 {
			span = math.Max(math.Abs(hi)*0.1, 1)
		}
		p.Y.Min, p.Y.Max = lo-0.1*span, hi+0.1*span+0.06*span*float64(min(n, maxSeries))
		name := PlotName(info.Metric, param.Path)
		for _, format := range results.PlotFormats {
			b, err := renderPlot(p, format)
			if err != nil {
				return files, fmt.Errorf("plot %s: %w", name, err)
			}
			path := filepath.Join(dir, name+"."+format)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

func renderPlot(p *plot.Plot, format string) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // gonum/plot panics on degenerate input
			err = fmt.Errorf("drawing: %v", r)
		}
	}()
	c, err := draw.NewFormattedCanvas(9*vg.Inch, 5.5*vg.Inch, format)
	if err != nil {
		return nil, err
	}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
