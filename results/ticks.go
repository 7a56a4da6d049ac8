package results

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// cleanTicks are gonum's default tick positions with labels that carry no
// spurious decimals: every label of an axis gets the fewest decimals that
// show all of them exactly ("0, 2.5, 5, 7.5, 10" rather than "0.00, 2.50,
// 5.00, 7.50, 10.00"; "0, 50, 100" rather than "0.0, 50.0, 100.0"). Labels
// gonum writes in exponent form (very large or small magnitudes) are kept.
type cleanTicks struct{}

func (cleanTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	return cleanLabels(ticks)
}

// cleanLabels rewrites the labels of ticks with the fewest decimals (at most
// 6) that show every labelled value exactly.
func cleanLabels(ticks []plot.Tick) []plot.Tick {
	dec := 0
	for _, t := range ticks {
		if t.Label == "" {
			continue
		}
		if a := math.Abs(t.Value); a > 1e-12 && (a >= 1e7 || a < 1e-4) {
			return ticks // gonum's exponent form
		}
		for dec < 6 {
			s := math.Pow10(dec) * t.Value
			if math.Abs(s-math.Round(s)) <= 1e-9*math.Max(1, math.Abs(s)) {
				break
			}
			dec++
		}
	}
	out := make([]plot.Tick, len(ticks))
	for i, t := range ticks {
		out[i] = t
		if t.Label != "" {
			v := t.Value
			if math.Abs(v) < 0.5*math.Pow10(-dec) || math.Abs(v) <= 1e-12 {
				v = 0 // no "-0"
			}
			out[i].Label = strconv.FormatFloat(v, 'f', dec, 64)
		}
	}
	return out
}
