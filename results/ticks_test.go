package results

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/plot"
)

func labels(ticks []plot.Tick) []string {
	var out []string
	for _, t := range ticks {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

// Axis labels carry the fewest decimals that show every label of the axis
// exactly: no decimals gonum adds for nothing, none lost.
func TestCleanTicks(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []plot.Tick
		want []string
	}{
		{"step 2.5 (gonum: 0.00 2.50 ...)", []plot.Tick{{Value: 0, Label: "0.00"}, {Value: 2.5, Label: "2.50"}, {Value: 1.25},
			{Value: 5, Label: "5.00"}, {Value: 10, Label: "10.00"}}, []string{"0.0", "2.5", "5.0", "10.0"}},
		{"whole numbers", []plot.Tick{{Value: 0, Label: "0.0"}, {Value: 50, Label: "50.0"}, {Value: 100, Label: "100.0"}}, []string{"0", "50", "100"}},
		{"shares", []plot.Tick{{Value: 0.8, Label: "0.800"}, {Value: 0.85, Label: "0.850"}, {Value: 0.9, Label: "0.900"}}, []string{"0.80", "0.85", "0.90"}},
		{"float noise", []plot.Tick{{Value: 0.1 + 0.2, Label: "0.30000000000000004"}, {Value: 0.6, Label: "0.6"}}, []string{"0.3", "0.6"}},
		{"negative zero", []plot.Tick{{Value: -1e-17, Label: "-0.0"}, {Value: 1, Label: "1.0"}}, []string{"0", "1"}},
		{"exponent form kept", []plot.Tick{{Value: 1e8, Label: "1e+08"}, {Value: 2e8, Label: "2e+08"}}, []string{"1e+08", "2e+08"}},
	} {
		assert.Equal(t, c.want, labels(cleanLabels(c.in)), c.name)
	}
	// on gonum's own ticks the labels keep their values
	for _, r := range [][2]float64{{0, 10}, {0, 1}, {0.81, 0.93}, {0, 1150}, {-3, 3}, {0, 0.004}} {
		for _, tk := range (cleanTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			v, err := strconv.ParseFloat(tk.Label, 64)
			assert.NoError(t, err)
			assert.InDelta(t, tk.Value, v, 1e-9, "%v: label %q", r, tk.Label)
		}
	}
}
