package results

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func headlineRun(name, horizon string, fcpo, success []float64, refused map[string][]float64) RunResult {
	r := RunResult{Scenario: name, Seed: 1, Horizon: horizon, Warmup: "1d",
		Nodes: []NodeInfo{{ID: "L1", Kind: "locker"}, {ID: "L2", Kind: "locker"}}}
	for i := range fcpo {
		rep := Replication{Index: i, Metrics: map[string]float64{MFCPO: fcpo[i], MPickupSuccessRate: success[i]},
			PerNode: map[string]map[string]float64{}}
		for node, v := range refused {
			rep.PerNode[node] = map[string]float64{nodeRefused: v[i], nodeReroutes: v[i], nodeReturns: 0, "orders": 10 * v[i]}
		}
		r.Replications = append(r.Replications, rep)
	}
	r.Finalize()
	return r
}

func TestHeadline(t *testing.T) {
	base := headlineRun("base", "7d", []float64{10, 11, 12, 11}, []float64{0.90, 0.92, 0.91, 0.90},
		map[string][]float64{"L1": {1, 1, 1, 1}, "L2": {0, 0, 0, 0}})
	cheap := headlineRun("cheap", "7d", []float64{9, 10, 11, 10}, []float64{0.90, 0.93, 0.90, 0.91},
		map[string][]float64{"L1": {1, 1, 1, 1}, "L2": {5, 6, 5, 6}})
	longer := headlineRun("longer", "14d", []float64{12, 13, 14, 13}, []float64{0.8, 0.85, 0.82, 0.81},
		map[string][]float64{"L1": {3, 3, 3, 3}, "L2": {0, 0, 0, 0}})
	cmp, err := CompareRuns([]RunResult{base, cheap, longer})
	require.NoError(t, err)
	h := cmp.Headline
	require.NotNil(t, h)
	require.Len(t, h.Warnings, 1)
	assert.Contains(t, h.Warnings[0], "horizons differ: base 7d, longer 14d")

	byMetric := map[string]MetricWinner{}
	for _, m := range h.KeyMetrics {
		byMetric[m.Metric] = m
	}
	f := byMetric[MFCPO]
	assert.Equal(t, "cheap", f.Winner, "lower FCPO wins")
	assert.Equal(t, "base", f.RunnerUp)
	assert.InDelta(t, -1, f.Diff.Mean, 1e-12, "winner − runner-up, paired")
	assert.True(t, f.Significant, "a constant paired difference is significant")
	s := byMetric[MPickupSuccessRate]
	assert.False(t, s.Significant, "base and cheap differ by noise on success")

	require.Len(t, h.Biggest, 2)
	assert.Equal(t, "cheap", h.Biggest[0].Scenario)
	require.Len(t, h.Biggest[0].Nodes, 1, "only L2 changed")
	assert.Equal(t, "L2", h.Biggest[0].Nodes[0].Node)
	assert.InDelta(t, 5.5, h.Biggest[0].Nodes[0].Refused.Diff, 1e-12)
	assert.Equal(t, "L1", h.Biggest[1].Nodes[0].Node)

	var out bytes.Buffer
	h.Parameters = []ParamDiff{{Path: "couriers.fleet", Values: []string{"3", "", "2"}}}
	require.NoError(t, FormatCompareTable(&out, &cmp))
	text := out.String()
	assert.True(t, strings.HasPrefix(text, "DECISION"), "the headline comes first")
	assert.Contains(t, text, "WARNING: horizons differ")
	assert.Contains(t, text, "couriers.fleet: 3 | (default) | 2")
	assert.Less(t, strings.Index(text, "DECISION"), strings.Index(text, "base base; differences"))
}

func TestReportNodesByImportance(t *testing.T) {
	r := headlineRun("base", "7d", []float64{10, 11}, []float64{0.9, 0.9},
		map[string][]float64{"A1": {1, 1}, "Z9": {8, 9}})
	nt, ok := nodeView(&r)
	require.True(t, ok)
	require.Len(t, nt.Rows, 2)
	assert.Equal(t, "Z9", nt.Rows[0].Node, "the busiest node first, not alphabetical")
	assert.Equal(t, []string{"orders", "refused", "reroutes", "returns"}, nt.Metrics, "columns by importance")
}

func TestCIBarsClipped(t *testing.T) {
	mc := MetricComparison{Metric: MPickupSuccessRate, Unit: UnitShare, Scenarios: []ScenarioStat{
		{Scenario: "a", Stats: Summary{N: 3, Mean: 0.98, CI95Low: 0.9, CI95High: 1.06, HalfWidth: 0.08}},
		{Scenario: "b", Stats: Summary{N: 3, Mean: 0.5, CI95Low: 0.4, CI95High: 0.6, HalfWidth: 0.1}},
	}}
	bars := ciBars(mc)
	require.Len(t, bars, 2)
	assert.Contains(t, bars[0].Title, "[0.900, 1.000]", "clipped at 1")
	assert.Contains(t, string(bars[0].HiStyle), "left:100.00%")
	lo, hi := ciBarClip(-0.2, 3, UnitCount)
	assert.Equal(t, 0.0, lo)
	assert.Equal(t, 3.0, hi)
}
