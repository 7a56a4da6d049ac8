package results

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every figure left out is named with its reason, in the report too; with
// all the data, nothing is missing.
func TestMissingPlots(t *testing.T) {
	missing, err := MissingPlots(threeScenarios())
	require.NoError(t, err)
	assert.Empty(t, missing)

	run := RunResult{Scenario: "bare", Replications: []Replication{
		{Index: 0, Metrics: map[string]float64{MFCPO: 5}}, {Index: 1, Metrics: map[string]float64{MFCPO: 6}},
	}}
	missing, err = MissingPlots([]RunResult{run})
	require.NoError(t, err)
	var names []string
	for _, m := range missing {
		names = append(names, m.Name)
		assert.NotEmpty(t, m.Title)
		assert.NotEmpty(t, m.Reason)
	}
	assert.Equal(t, []string{"pickup-delay", "courier-wait", "pickup-success-daily", "orders-daily", "locker-occupancy", "courier-utilization",
		"fcpo-by-node", "demand-bare"}, names)
	assert.Equal(t, noTraceReason, missing[4].Reason)
	assert.Equal(t, noTraceReason, missing[5].Reason)
	drawn, err := plotNames([]RunResult{run})
	require.NoError(t, err)
	assert.Equal(t, []string{"key-metrics"}, drawn, "drawn and missing partition the figures")

	b, err := RenderReport([]RunResult{run}, nil)
	require.NoError(t, err)
	html := string(b)
	assert.Contains(t, html, "Not drawn, for lack of data")
	for _, n := range names {
		assert.Contains(t, html, `data-plot="`+n+`"`)
	}
	assert.Equal(t, 2, strings.Count(html, "written without --trace"))

	// a trace of only NaN values is not "no trace"
	run.Replications[0].Trace = []TracePoint{{Hour: 0, Occupancy: math.NaN(), CourierUtilization: math.NaN()}}
	missing, err = MissingPlots([]RunResult{run})
	require.NoError(t, err)
	assert.Contains(t, missing[4].Reason, "no finite value")
}
