package results

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClippedCI(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name, metric   string
		lo, hi         float64
		wantLo, wantHi float64
	}{
		{"share below 0 and above 1", MPickupSuccessRate, -0.1, 1.2, 0, 1},
		{"share inside", MLockerOccupancy, 0.2, 0.4, 0.2, 0.4},
		{"share wholly above 1", MOnTimeReadyRate, 1.02, 1.1, 1, 1},
		{"count below 0", MReroutes, -5.4, 45.4, 0, 45.4},
		{"currency below 0", MLostRevenue, -116, 136, 0, 136},
		{"minutes below 0", MPickupFrictionP50, -64, 759, 0, 759},
		{"rsmi below 0", MRSMI, -2, 96, 0, 96},
		{"per-node fcpo", "microstore_fcpo", -1, 3, 0, 3},
		{"per-node rate", MCacheHitRate, -0.2, 0.5, 0, 0.5},
		{"unknown metric kept", "something_else", -3, 4, -3, 4},
		{"no interval", MReroutes, nan, nan, nan, nan},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := ClippedCI(tc.metric, Summary{CI95Low: tc.lo, CI95High: tc.hi})
			if math.IsNaN(tc.wantLo) {
				assert.True(t, math.IsNaN(lo) && math.IsNaN(hi))
				return
			}
			assert.Equal(t, tc.wantLo, lo)
			assert.Equal(t, tc.wantHi, hi)
		})
	}
	lo, hi := Feasible(MCollected)
	assert.Equal(t, 0.0, lo)
	assert.Equal(t, inf, hi)
	// error bars: a bar of half-width 0.05 around 0.98 stops at 1
	below, above := clippedErr(MPickupSuccessRate, 0.98, 0.05)
	assert.InDelta(t, 0.05, below, 1e-12)
	assert.InDelta(t, 0.02, above, 1e-12)
	below, above = clippedErr(MReroutes, 2, 5)
	assert.InDelta(t, 2, below, 1e-12)
	assert.InDelta(t, 5, above, 1e-12)
}

// Tables show the interval clipped to the feasible range, results.json the
// raw one.
func TestTablesClipJSONKeepsRaw(t *testing.T) {
	run := RunResult{Scenario: "s", Horizon: "1d", Warmup: "0s"}
	for i, v := range []float64{1, 0.97, 1, 0.99} {
		run.Replications = append(run.Replications, Replication{Index: i, Metrics: map[string]float64{MPickupSuccessRate: v, MReroutes: float64(i % 2 * 3)}})
	}
	run.Finalize()
	s, ok := run.SummaryOf(MPickupSuccessRate)
	require.True(t, ok)
	require.Greater(t, s.Stats.CI95High, 1.0, "the raw interval crosses 1")
	var buf bytes.Buffer
	require.NoError(t, FormatSummaryTable(&buf, &run))
	assert.Contains(t, buf.String(), "1.000]")
	assert.Contains(t, buf.String(), "[0.0, 4.3]")
	assert.NotContains(t, buf.String(), "[-")
	buf.Reset()
	require.NoError(t, WriteRunJSON(&buf, &run))
	var back RunResult
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	got, _ := back.SummaryOf(MPickupSuccessRate)
	assert.Equal(t, s.Stats.CI95High, got.Stats.CI95High)
	r, _ := back.SummaryOf(MReroutes)
	assert.Negative(t, r.Stats.CI95Low)

	html, err := RenderReport([]RunResult{run}, nil)
	require.NoError(t, err)
	assert.Contains(t, string(html), "1.000]")
}

func breakdownRun() RunResult {
	run := RunResult{Scenario: "costs", Horizon: "2d", Warmup: "0s", Neighborhoods: []NeighborhoodInfo{{Name: "Zeta"}, {Name: "Alpha"}}}
	for i := 0; i < 3; i++ {
		f := float64(i)
		m := map[string]float64{MCourierCost: 100 + f, MFixedCost: 20, MOrderHandlingCost: 10 + f, MRerouteCost: 3,
			MReturnCost: 2, MLateRefundCost: 1, MPickerCost: 40, MLostRevenue: 7 + f, MCollected: 50}
		var total float64
		for _, c := range CostComponents {
			total += m[c]
		}
		m[MTotalCost], m[MFCPO] = total, total/50
		run.Replications = append(run.Replications, Replication{Index: i, Metrics: m,
			PerNode: map[string]map[string]float64{
				"M1": {MMicrostoreOrders: 60, MMicrostoreCollected: 50, MMicrostoreCost: total, MMicrostoreFCPO: total / 50, MFCPO: 9},
				"L1": {MFCPO: 4},
			},
			PerNeighborhood: map[string]map[string]float64{
				"Zeta":  {MOrders: 40, MCollected: 35, MFCPO: 3.5 + f},
				"Alpha": {MOrders: 20, MCollected: 15, MFCPO: 2},
			}})
	}
	run.Finalize()
	return run
}

// The breakdown's components sum to total_cost; lost revenue follows it and
// is no share of it; the tables list microstores and neighborhoods (in
// scenario order) and the report carries them.
func TestCostBreakdown(t *testing.T) {
	run := breakdownRun()
	lines, ok := CostBreakdown(&run)
	require.True(t, ok)
	require.Len(t, lines, len(CostComponents)+2)
	var sum, shares float64
	for _, l := range lines[:len(CostComponents)] {
		sum += l.Stats.Mean
		shares += l.Share
		assert.GreaterOrEqual(t, l.CILow, 0.0, l.Metric)
	}
	total := lines[len(CostComponents)]
	require.Equal(t, MTotalCost, total.Metric)
	assert.InDelta(t, total.Stats.Mean, sum, 1e-9)
	assert.InDelta(t, 1, shares, 1e-12)
	assert.Equal(t, MLostRevenue, lines[len(lines)-1].Metric)
	assert.InDelta(t, 8, lines[len(lines)-1].Stats.Mean, 1e-12)
	assert.Equal(t, 0.0, lines[5].Stats.StdDev, "restock_cost, absent, is 0 in every replication")

	var buf bytes.Buffer
	require.NoError(t, FormatSummaryTable(&buf, &run))
	out := buf.String()
	for _, want := range []string{"cost breakdown (costs)", "not a cost", "by microstore", "microstore_fcpo", "by neighborhood"} {
		assert.Contains(t, out, want)
	}
	assert.Less(t, strings.Index(out, "\nZeta"), strings.Index(out, "\nAlpha"), "neighborhoods in scenario order")
	assert.NotContains(t, out, "\nL1 ", "a locker is no microstore")

	html := string(BreakdownHTML(&run))
	for _, want := range []string{`class="costs"`, `class="microstores"`, `class="neighborhoods"`, "<strong>total_cost</strong>"} {
		assert.Contains(t, html, want)
	}
	page, err := RenderReport([]RunResult{run}, nil)
	require.NoError(t, err)
	assert.Contains(t, string(page), `class="costs"`)

	// results written before the breakdown: no breakdown, no claim
	old := RunResult{Scenario: "old", Replications: []Replication{{Metrics: map[string]float64{MTotalCost: 5}}}}
	_, ok = CostBreakdown(&old)
	assert.False(t, ok)
	assert.Empty(t, BreakdownHTML(&old))
}

func TestPerNeighborhoodSummary(t *testing.T) {
	run := breakdownRun()
	var got []string
	for _, s := range run.PerNeighborhoodSummary {
		got = append(got, s.Neighborhood+"/"+s.Metric)
		if s.Neighborhood == "Zeta" && s.Metric == MFCPO {
			assert.InDelta(t, 4.5, s.Stats.Mean, 1e-12)
			assert.Equal(t, 3, s.Stats.N)
		}
	}
	assert.Equal(t, []string{"Alpha/collected", "Alpha/fcpo", "Alpha/orders", "Zeta/collected", "Zeta/fcpo", "Zeta/orders"}, got)
	var buf bytes.Buffer
	require.NoError(t, WriteRunJSON(&buf, &run))
	back, err := ReadRunJSON(&buf)
	require.NoError(t, err)
	assert.Equal(t, run.PerNeighborhoodSummary, back.PerNeighborhoodSummary)
	assert.Equal(t, run.Replications[1].PerNeighborhood, back.Replications[1].PerNeighborhood)
}

// FCPO by microstore is drawn when a run has microstores, and is not
// reported missing when none has.
func TestMicrostoreFCPOFigure(t *testing.T) {
	figs, missing, err := figures([]RunResult{breakdownRun()})
	require.NoError(t, err)
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	assert.Contains(t, names, "fcpo-by-microstore")
	figs, missing, err = figures(threeScenarios())
	require.NoError(t, err)
	for _, f := range figs {
		assert.NotEqual(t, "fcpo-by-microstore", f.Name)
	}
	for _, m := range missing {
		assert.NotEqual(t, "fcpo-by-microstore", m.Name)
	}
}
