package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunJSONDeterministicAndRoundTrips(t *testing.T) {
	run := synthRun("base", 7, 4, 2, scenarioEffect{})
	require.NoError(t, run.Validate())
	// a NaN day rate and a NaN metric must not break the encoding
	run.Replications[0].Daily[0].PickupSuccessRate = math.NaN()
	run.Replications[1].Metrics[MRSMI] = math.Inf(1)
	run.Finalize()

	var a, b bytes.Buffer
	require.NoError(t, WriteRunJSON(&a, &run))
	require.NoError(t, WriteRunJSON(&b, &run))
	assert.Equal(t, a.Bytes(), b.Bytes())
	assert.True(t, bytes.HasSuffix(a.Bytes(), []byte("}\n")))
	assert.Contains(t, a.String(), `"pickup_success_rate": null`)
	assert.NotContains(t, a.String(), "NaN")

	back, err := ReadRunJSON(bytes.NewReader(a.Bytes()))
	require.NoError(t, err)
	assert.True(t, math.IsNaN(back.Replications[0].Daily[0].PickupSuccessRate))
	_, measured := back.Replications[1].Metrics[MRSMI]
	assert.False(t, measured, "non-finite metric is written as not measured")
	var c bytes.Buffer
	require.NoError(t, WriteRunJSON(&c, &back))
	assert.Equal(t, a.String(), c.String(), "read-write is the identity")

	s, ok := back.SummaryOf(MRSMI)
	require.True(t, ok)
	assert.Equal(t, 3, s.Stats.N, "the unmeasured replication is left out")
}

func TestReadRunJSONStrict(t *testing.T) {
	_, err := ReadRunJSON(strings.NewReader(`{"schema_version":1,"scenario":"x","surprise":1}`))
	assert.ErrorContains(t, err, "surprise")
	_, err = ReadRunJSON(strings.NewReader(`{"schema_version":99,"scenario":"x"}`))
	assert.ErrorContains(t, err, "schema version 99")
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*RunResult)
		want   string
	}{
		{"valid", func(*RunResult) {}, ""},
		{"typo in metric", func(r *RunResult) { r.Replications[0].Metrics["fcp0"] = 1 }, `"fcp0" is not in the catalog`},
		{"duplicate index", func(r *RunResult) { r.Replications[1].Index = 0 }, "replication 0 appears twice"},
		{"bad cell", func(r *RunResult) { r.Replications[0].DemandByCell["not-a-cell"] = 3 }, "not a valid H3 cell"},
		{"bin widths differ", func(r *RunResult) { r.Replications[1].PickupDelay.BinWidth = 10 }, "bin width 10 differs"},
		{"no name", func(r *RunResult) { r.Scenario = "" }, "scenario name is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := synthRun("v", 1, 2, 1, scenarioEffect{})
			tc.mutate(&run)
			err := run.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.want)
			}
		})
	}
}

func TestHistogram(t *testing.T) {
	h := NewHistogram(10, 3)
	for _, v := range []float64{-1, 0, 5, 10, 15, 29.9, 30, 100, math.NaN()} {
		h.Add(v)
	}
	assert.Equal(t, []int64{3, 2, 1}, h.Counts)
	assert.Equal(t, int64(2), h.Overflow)
	assert.Equal(t, int64(8), h.Total())
	assert.InDelta(t, 15, h.Quantile(0.5), 1e-9) // 4th of 8 values: bin 0 holds 3, so half-way through bin 1
	xs, ys := h.CDF()
	assert.Equal(t, []float64{0, 10, 20, 30}, xs)
	assert.InDeltaSlice(t, []float64{0, 3.0 / 8, 5.0 / 8, 6.0 / 8}, ys, 1e-12)
	assert.Equal(t, 30.0, h.Quantile(0.95), "overflow quantile is the limit")
	assert.True(t, math.IsNaN(NewHistogram(1, 1).Quantile(0.5)))

	var sum Histogram
	require.NoError(t, sum.Merge(h))
	require.NoError(t, sum.Merge(h))
	assert.Equal(t, int64(16), sum.Total())
	assert.Error(t, sum.Merge(Histogram{BinWidth: 5, Counts: []int64{1}}))
	assert.Panics(t, func() { NewHistogram(0, 3) })
}

func TestCompareRuns(t *testing.T) {
	runs := threeScenarios()
	cmp, err := CompareRuns(runs)
	require.NoError(t, err)
	assert.Equal(t, "ttl-6h", cmp.Base)
	assert.Equal(t, []string{"ttl-6h", "ttl-12h", "more-lockers"}, cmp.Scenarios)
	assert.Empty(t, cmp.Notes)
	require.Equal(t, MOrders, cmp.Metrics[0].Metric, "catalog order")

	tests := []struct {
		metric   string
		scenario int // index into Differences
		want     Verdict
	}{
		{MPickupSuccessRate, 0, VerdictBetter},      // +3 points, shared noise
		{MTotalCost, 1, VerdictWorse},               // +15% cost
		{MOrders, 0, VerdictNotApplicable},          // neutral
		{MLockerOccupancy, 0, VerdictNotApplicable}, // neutral even though it moved
		{MRSMI, 0, VerdictNoSignificant},            // no effect on rsmi
		{MPickupFrictionP90, 0, VerdictWorse},       // longer pickups
		{MPickupFrictionP90, 1, VerdictBetter},      // shorter pickups
	}
	for _, tc := range tests {
		t.Run(tc.metric+"/"+cmp.Scenarios[tc.scenario+1], func(t *testing.T) {
			m, ok := cmp.Metric(tc.metric)
			require.True(t, ok)
			require.Len(t, m.Scenarios, 3)
			require.Len(t, m.Differences, 2)
			assert.Equal(t, tc.want, m.Differences[tc.scenario].Diff.Verdict)
			assert.Equal(t, 12, m.Differences[tc.scenario].Diff.N)
		})
	}
	tc, ok := cmp.Metric(MTotalCost)
	require.True(t, ok)
	require.Equal(t, "more-lockers", tc.Differences[1].Scenario)
	assert.Equal(t, VerdictWorse, tc.Differences[1].Diff.Verdict, "more lockers cost more")

	// The paired difference equals Compare on the per-replication values.
	m, _ := cmp.Metric(MFCPO)
	b, _ := runs[0].Values(MFCPO)
	o, _ := runs[2].Values(MFCPO)
	assert.Equal(t, Compare(b, o, MetricDef{Better: LowerIsBetter}), m.Differences[1].Diff)
}

func TestCompareRunsNotesAndErrors(t *testing.T) {
	base := synthRun("a", 1, 4, 1, scenarioEffect{})
	other := synthRun("b", 2, 3, 1, scenarioEffect{})
	cmp, err := CompareRuns([]RunResult{base, other})
	require.NoError(t, err)
	require.Len(t, cmp.Notes, 2)
	assert.Contains(t, cmp.Notes[0], "do not share random numbers")
	assert.Contains(t, cmp.Notes[1], "1 replication(s) without a partner")
	m, _ := cmp.Metric(MFCPO)
	assert.Equal(t, 3, m.Differences[0].Diff.N)

	_, err = CompareRuns(nil)
	assert.Error(t, err)
	_, err = CompareRuns([]RunResult{base, base})
	assert.ErrorContains(t, err, "appears twice")

	single, err := CompareRuns([]RunResult{base})
	require.NoError(t, err)
	assert.Empty(t, single.Metrics[0].Differences)
}

func TestCompareWritersDeterministic(t *testing.T) {
	cmp, err := CompareRuns(threeScenarios())
	require.NoError(t, err)
	again, err := CompareRuns(threeScenarios())
	require.NoError(t, err)

	for name, write := range map[string]func(*bytes.Buffer, *Comparison) error{
		"json":  func(b *bytes.Buffer, c *Comparison) error { return WriteCompareJSON(b, c) },
		"csv":   func(b *bytes.Buffer, c *Comparison) error { return WriteCompareCSV(b, c) },
		"table": func(b *bytes.Buffer, c *Comparison) error { return FormatCompareTable(b, c) },
	} {
		t.Run(name, func(t *testing.T) {
			var a, b bytes.Buffer
			require.NoError(t, write(&a, &cmp))
			require.NoError(t, write(&b, &again))
			assert.Equal(t, a.String(), b.String())
			assert.NotContains(t, a.String(), "NaN")
		})
	}

	var buf bytes.Buffer
	require.NoError(t, WriteCompareCSV(&buf, &cmp))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, CompareCSVHeader, rows[0])
	assert.Len(t, rows, 1+3*len(cmp.Metrics))
	assert.Equal(t, []string{MOrders, UnitCount, "neutral", "ttl-6h"}, rows[1][:4])
	assert.Equal(t, "", rows[1][len(rows[1])-1], "base row has no verdict")
	assert.Equal(t, "n/a", rows[2][len(rows[2])-1])

	buf.Reset()
	require.NoError(t, WriteCompareJSON(&buf, &cmp))
	var back Comparison
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	assert.Equal(t, len(cmp.Metrics), len(back.Metrics))
	assert.Equal(t, cmp.Metrics[4].Differences[0].Diff.Verdict, back.Metrics[4].Differences[0].Diff.Verdict)
}

func TestTables(t *testing.T) {
	runs := threeScenarios()
	var buf bytes.Buffer
	require.NoError(t, FormatSummaryTable(&buf, &runs[0]))
	out := buf.String()
	for _, want := range []string{"scenario ttl-6h", "replications 12", "pickup_success_rate", "↑", "fcpo", "rejected_events", "precision"} {
		assert.Contains(t, out, want)
	}
	table, _, _ := strings.Cut(out, "\n\n") // the breakdowns follow a blank line
	lines := strings.Split(strings.TrimSpace(table), "\n")
	assert.Len(t, lines, 2+len(runs[0].Summary))
	assert.Contains(t, out, "need ", "noisy counts miss the 5% target")

	cmp, err := CompareRuns(runs)
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, FormatCompareTable(&buf, &cmp))
	out = buf.String()
	for _, want := range []string{"base ttl-6h", "Δ vs base", "better", "WORSE", "more-lockers"} {
		assert.Contains(t, out, want)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0.91234, "0.9123"}, {12.345, "12.35"}, {1234.6, "1235"}, {0, "0.00"}, {math.NaN(), "–"},
		{math.Inf(1), "∞"}, {123456789, "1.235e+08"}, {-0.5, "-0.5000"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, fmtNum(tc.v), "%v", tc.v)
	}
	assert.Equal(t, "+0.020", fmtSigned(0.02, 3))
	assert.Equal(t, "ok", precisionNote(Summary{N: 3, PrecisionMet: true}))
	assert.Equal(t, "n<2", precisionNote(Summary{N: 1}))
	assert.Equal(t, "need 40", precisionNote(Summary{N: 3, ReplicationsNeeded: 40}))
	assert.Equal(t, "a-b-c", slug("A b/c"))
}
