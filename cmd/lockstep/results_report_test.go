package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// run --report records the hourly trace, so the occupancy and utilisation
// plots are drawn without --trace; the report regenerated from results
// without a trace names those plots and says why they are absent.
func TestRunReportDrawsTracePlots(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, _, errOut := lockstep(t, "run", "../../scenarios/quickstart.yaml", "--replications", "2", "--out", out, "--report", "--quiet")
	require.Equal(t, exitOK, code, errOut)
	require.Empty(t, errOut, "--quiet")
	for _, f := range []string{"results.json", "report.html", "plots/locker-occupancy.png", "plots/courier-utilization.png",
		"plots/locker-occupancy.svg", "plots/courier-utilization.svg"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	require.Contains(t, string(b), `"trace": [`, "--report implies --trace")

	// without --trace or --report: no trace, and report says what is missing
	bare := filepath.Join(t.TempDir(), "bare")
	code, _, errOut = lockstep(t, "run", "../../scenarios/quickstart.yaml", "--replications", "2", "--out", bare, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = lockstep(t, "report", bare)
	require.Equal(t, exitOK, code, errOut)
	for _, name := range []string{"locker-occupancy", "courier-utilization"} {
		require.NoFileExists(t, filepath.Join(bare, "plots", name+".png"))
		require.Contains(t, errOut, "note: plot "+name+" not drawn: the results hold no hourly trace")
	}
	html, err := os.ReadFile(filepath.Join(bare, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(html), "Not drawn, for lack of data")
	for _, name := range []string{"locker-occupancy", "courier-utilization"} {
		require.Contains(t, string(html), `data-plot="`+name+`"`)
		require.NotContains(t, string(html), `id="plot-`+name+`"`)
	}
	require.Equal(t, 2, strings.Count(string(html), "written without --trace"))
}
