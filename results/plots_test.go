package results

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
)

// pixels is the PNG size of a figure of w×h inches at PlotDPI.
func pixels(wIn, hIn float64) (int, int) {
	return int(wIn*PlotDPI + 0.5), int(hIn*PlotDPI + 0.5)
}

func TestWritePlots(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("LOCKSTEP_PLOT_DIR"); d != "" { // keep them for a look
		dir = d
	}
	runs := threeScenarios()
	paths, err := WritePlots(dir, runs)
	require.NoError(t, err)

	std, wide := [2]float64{9, 5.5}, [2]float64{12, 7.5}
	want := map[string][2]float64{
		"pickup-delay": std, "courier-wait": std, "pickup-success-daily": std, "orders-daily": std, "locker-occupancy": std, "courier-utilization": std,
		"fcpo-by-node": std, "key-metrics": wide, "demand-ttl-6h": wide, "demand-ttl-12h": wide, "demand-more-lockers": wide,
	}
	require.Len(t, paths, 2*len(want), "%v", paths)
	names, err := plotNames(runs)
	require.NoError(t, err)
	assert.Len(t, names, len(want))
	for name, size := range want {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, name+".png"))
			require.NoError(t, err)
			defer f.Close()
			img, err := png.Decode(f)
			require.NoError(t, err)
			w, h := pixels(size[0], size[1])
			assert.Equal(t, w, img.Bounds().Dx())
			assert.Equal(t, h, img.Bounds().Dy())
			assert.Greater(t, distinctColors(img), 20, "not blank")

			svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
			require.NoError(t, err)
			assert.Equal(t, "svg", xmlRoot(t, svg))
		})
	}
}

func xmlRoot(t *testing.T, b []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	return root
}

func TestPlotsDeterministic(t *testing.T) {
	runs := threeScenarios()[:2]
	a, b := t.TempDir(), t.TempDir()
	pa, err := WritePlots(a, runs)
	require.NoError(t, err)
	_, err = WritePlots(b, runs)
	require.NoError(t, err)
	for _, p := range pa {
		x, _ := os.ReadFile(p)
		y, _ := os.ReadFile(filepath.Join(b, filepath.Base(p)))
		assert.True(t, bytes.Equal(x, y), "%s differs between two renders", filepath.Base(p))
	}
}

func TestPlotsSkipMissingData(t *testing.T) {
	run := RunResult{Scenario: "bare", Replications: []Replication{
		{Index: 0, Metrics: map[string]float64{MFCPO: 5}}, {Index: 1, Metrics: map[string]float64{MFCPO: 6}},
	}}
	names, err := plotNames([]RunResult{run})
	require.NoError(t, err)
	assert.Equal(t, []string{"key-metrics"}, names)
	_, err = WritePlots(t.TempDir(), nil)
	assert.Error(t, err)

	run.Replications[0].DemandByCell = map[string]float64{"zzz": 1}
	_, err = WritePlots(t.TempDir(), []RunResult{run})
	assert.ErrorContains(t, err, "not a valid H3 cell")
}

func TestMeanDemand(t *testing.T) {
	run := synthRun("d", 3, 2, 1, scenarioEffect{})
	cells, err := run.MeanDemand()
	require.NoError(t, err)
	assert.Greater(t, len(cells), 40, "five nodes × 19 cells, some shared")
	for _, c := range cells {
		assert.True(t, strings.HasPrefix(c.Cell, "881f1"), "Berlin res-8 cell, got %s", c.Cell)
		assert.GreaterOrEqual(t, c.Orders, 0.0)
	}
}

// plotNames lists the file stems WritePlots writes for runs.
func plotNames(runs []RunResult) ([]string, error) {
	figs, _, err := figures(runs)
	names := make([]string, len(figs))
	for i, f := range figs {
		names[i] = f.Name
	}
	return names, err
}

// The horizon is read as the simulator writes it, and marked on the trace
// plots only when a trace goes on into the drain.
func TestHorizonLine(t *testing.T) {
	for s, want := range map[string]float64{"30d": 720, "1d12h": 36, "36h": 36, "90m": 1.5} {
		h, ok := horizonHours(s)
		require.True(t, ok, s)
		assert.InDelta(t, want, h, 1e-9, s)
	}
	for _, s := range []string{"", "3x", "d", "30d garbage"} {
		_, ok := horizonHours(s)
		assert.False(t, ok, s)
	}
	runs := threeScenarios() // 8d horizon, traces within it
	p := plot.New()
	p.Y.Min, p.Y.Max = 0, 1
	assert.False(t, horizonLine(p, runs), "no drain, no line")
	runs[0].Replications[0].Trace = append(runs[0].Replications[0].Trace, TracePoint{Hour: 8*24 + 3})
	assert.True(t, horizonLine(p, runs))
}
