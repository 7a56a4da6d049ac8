package results

import (
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A parameter plot is drawn like the other figures: standard size, the
// Okabe–Ito palette, the y axis labelled with the metric's MetricDef.Label;
// a NaN mean is left out, and more than maxLegend series go unnamed.
func TestWriteParamPlot(t *testing.T) {
	stats := func(means ...float64) []Summary {
		out := make([]Summary, len(means))
		for i, m := range means {
			out[i] = Summary{Mean: m, HalfWidth: 0.02}
		}
		return out
	}
	dir := t.TempDir()
	pp := ParamPlot{Name: "sweep-fcpo-vs-ttl", Metric: MFCPO, Param: "labels.ttl.ready_for_pickup", Values: []string{"6h", "12h", "24h"},
		Series: []ParamSeries{
			{Label: "couriers.fleet=2", Stats: stats(4.1, 3.9, 3.8)},
			{Label: "couriers.fleet=3", Stats: stats(4.4, math.NaN(), 4.0)},
		}}
	paths, err := WriteParamPlot(dir, pp)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "sweep-fcpo-vs-ttl.png"), filepath.Join(dir, "sweep-fcpo-vs-ttl.svg")}, paths)

	f, err := os.Open(paths[0])
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	w, h := pixels(9, 5.5)
	assert.Equal(t, w, img.Bounds().Dx())
	assert.Equal(t, h, img.Bounds().Dy())

	svgb, err := os.ReadFile(paths[1])
	require.NoError(t, err)
	svg := string(svgb)
	assert.Contains(t, svg, defOf(MFCPO).Label(), "y axis: name (unit)")
	assert.Contains(t, svg, "labels.ttl.ready_for_pickup")
	assert.Contains(t, svg, "couriers.fleet=3", "legend")
	for i := range 2 {
		r, g, b, _ := scenarioColor(i).RGBA()
		assert.Contains(t, svg, fmt.Sprintf("stroke:#%02X%02X%02X", r>>8, g>>8, b>>8), "series %d in the palette", i)
	}

	// many series: drawn, but without a legend
	var many []ParamSeries
	for i := range maxLegend + 1 {
		many = append(many, ParamSeries{Label: fmt.Sprintf("other=%d", i), Stats: stats(1, 2, 3)})
	}
	pp.Name, pp.Series = "many", many
	paths, err = WriteParamPlot(dir, pp)
	require.NoError(t, err)
	svgb, err = os.ReadFile(paths[1])
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(svgb), "other=0"), "no legend beyond %d series", maxLegend)
}

// dodge centres the series on their x and spreads them over width.
func TestDodge(t *testing.T) {
	assert.Equal(t, 0.0, dodge(0, 1, 0.2))
	assert.InDelta(t, -0.1, dodge(0, 2, 0.2), 1e-12)
	assert.InDelta(t, 0.1, dodge(1, 2, 0.2), 1e-12)
	assert.InDelta(t, 0.0, dodge(1, 3, 0.2), 1e-12)
}
