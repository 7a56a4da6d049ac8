package results

import (
	"image/color"
	"regexp"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// courierWaitFigure is the pooled ECDF of the minutes from packed to the
// handoff to a courier (issue 13, cohort).
func courierWaitFigure(runs []RunResult) *figure {
	return ecdfFigure(runs, func(r *Replication) Histogram { return r.CourierWait }, "courier-wait", "Courier wait",
		"minutes from packed to the handoff to a courier", "share of parcels handed to a courier",
		"Empirical distribution (ECDF) of the minutes from packed to the handoff to a courier at the fulfilling node, all replications pooled: "+
			"the wait for a free courier (including the night for parcels packed after the shift).")
}

var durationPart = regexp.MustCompile(`(\d+(?:\.\d+)?)(d|h|m|s)`)

// horizonHours reads a horizon written as the simulator writes durations
// ("30d", "1d12h", "36h"); ok is false for anything else.
func horizonHours(s string) (h float64, ok bool) {
	parts := durationPart.FindAllStringSubmatch(s, -1)
	n := 0
	for _, p := range parts {
		n += len(p[0])
		v, err := strconv.ParseFloat(p[1], 64)
		if err != nil {
			return 0, false
		}
		h += v * map[string]float64{"d": 24, "h": 1, "m": 1.0 / 60, "s": 1.0 / 3600}[p[2]]
	}
	return h, len(parts) > 0 && n == len(s)
}

// horizonLine marks the horizon on a trace plot with a dashed vertical line
// when some trace goes on into the drain after it (the first run's horizon;
// compared runs share it in practice). It reports whether it drew one.
func horizonLine(p *plot.Plot, runs []RunResult) bool {
	h, ok := horizonHours(runs[0].Horizon)
	if !ok {
		return false
	}
	drain := false
	for _, r := range runs {
		for _, rep := range r.Replications {
			if n := len(rep.Trace); n > 0 && rep.Trace[n-1].Hour >= h {
				drain = true
			}
		}
	}
	if !drain {
		return false
	}
	l, err := plotter.NewLine(plotter.XYs{{X: h, Y: p.Y.Min}, {X: h, Y: p.Y.Max}})
	if err != nil {
		return false
	}
	l.LineStyle.Color = color.Gray{0x60}
	l.LineStyle.Width = vg.Points(1)
	l.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	p.Legend.Add("horizon (drain to the right)", l)
	return true
}
