package sweep

import (
	"fmt"
	"math"
	"strings"

	"github.com/lockstep-sim/lockstep/results"
)

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

// paramPlot is the plot of the chosen metric against parameter j: one
// series per combination of the other parameters, in grid order.
func paramPlot(info Info, pts []PlotPoint, j int) results.ParamPlot {
	param := info.Parameters[j]
	pp := results.ParamPlot{Name: PlotName(info.Metric, param.Path), Metric: info.Metric, Param: param.Path, Values: param.Values}
	pos := make(map[string]int, len(param.Values))
	for i, v := range param.Values {
		pos[v] = i
	}
	series := map[string]int{}
	for _, pt := range pts {
		var other []string
		for k, v := range pt.Values {
			if k != j {
				other = append(other, info.Parameters[k].Path+"="+v)
			}
		}
		key := strings.Join(other, ", ")
		s, ok := series[key]
		if !ok {
			s = len(pp.Series)
			series[key] = s
			stats := make([]results.Summary, len(param.Values))
			for i := range stats {
				stats[i].Mean = math.NaN() // every value is filled in a full grid
			}
			pp.Series = append(pp.Series, results.ParamSeries{Label: key, Stats: stats})
		}
		pp.Series[s].Stats[pos[pt.Values[j]]] = pt.Stats
	}
	return pp
}

// WritePlots plots the chosen metric against each varied parameter, with
// 95% CI bars, one line per combination of the other parameters, as PNG and
// SVG in dir. It returns the files written.
func WritePlots(dir string, info Info, pts []PlotPoint) ([]string, error) {
	var files []string
	for j, param := range info.Parameters {
		written, err := results.WriteParamPlot(dir, paramPlot(info, pts, j))
		files = append(files, written...)
		if err != nil {
			return files, fmt.Errorf("plot %s: %w", param.Path, err)
		}
	}
	return files, nil
}
