package results

import (
	"bytes"
	"encoding/xml"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBaselineRoundTripAndStableBytes(t *testing.T) {
	run := synthRun("pilot", 42, 6, 8, scenarioEffect{})
	// a replication that did not measure a metric is null, not 0
	delete(run.Replications[2].Metrics, MRSMI)
	run.Finalize()
	b := NewBaseline(&run)
	require.Equal(t, 6, b.Replications)
	require.Equal(t, []string{"L-FHN:locker", "L-KRZ:locker", "M-MIT:microstore", "P-NKL:partner", "U-PBG:popup"}, b.Nodes)
	rsmi, ok := b.Metric(MRSMI)
	require.True(t, ok)
	require.Equal(t, 5, rsmi.N)
	require.True(t, math.IsNaN(rsmi.Values[2]))

	var w1, w2 bytes.Buffer
	require.NoError(t, WriteBaseline(&w1, b))
	require.NoError(t, WriteBaseline(&w2, NewBaseline(&run)))
	require.Equal(t, w1.String(), w2.String())
	// one line per metric, in catalog order, so a diff shows one line per change
	lines := strings.Split(w1.String(), "\n")
	require.Contains(t, lines[9], `{"metric":"orders",`)
	require.Contains(t, w1.String(), `"values":[`)
	require.Contains(t, w1.String(), "null")

	back, err := ReadBaseline(bytes.NewReader(w1.Bytes()))
	require.NoError(t, err)
	var w3 bytes.Buffer
	require.NoError(t, WriteBaseline(&w3, back))
	require.Equal(t, w1.String(), w3.String(), "read then write changes the bytes")

	for _, bad := range []string{`{"baseline_version":3,"scenario":"x"}`, `{"baseline_version":1,"scenario":"x","extra":1}`, `not json`,
		`{"baseline_version":1,"scenario":"x","replications":2,"metrics":[{"metric":"fcpo","values":[1]}]}`,
		// n and variance must agree with the values
		`{"baseline_version":2,"scenario":"x","replications":2,"metrics":[{"metric":"fcpo","n":2,"mean":1.5,"variance":7,"values":[1,2]}]}`,
		`{"baseline_version":2,"scenario":"x","replications":2,"metrics":[{"metric":"fcpo","n":1,"mean":1.5,"variance":0.5,"values":[1,2]}]}`} {
		_, err := ReadBaseline(strings.NewReader(bad))
		require.Error(t, err, bad)
	}
}

func statusOf(t *testing.T, r *CheckReport, metric string) MetricCheck {
	t.Helper()
	for _, m := range r.Metrics {
		if m.Metric == metric {
			return m
		}
	}
	t.Fatalf("no %s in report", metric)
	return MetricCheck{}
}

func TestCheckRuns(t *testing.T) {
	base := synthRun("pilot", 42, 8, 8, scenarioEffect{})
	b := NewBaseline(&base)
	cases := []struct {
		name     string
		eff      scenarioEffect
		cfg      CheckConfig
		fail     []string
		pass     []string
		noneFail bool
	}{
		{name: "unchanged", noneFail: true},
		{name: "rates 5 points worse", eff: scenarioEffect{success: -0.05}, // late orders are refunded: fewer delivered
			fail: []string{MPickupSuccessRate, MOnTimeReadyRate, MRefunds, MFCPO}},
		{name: "rates half a point worse: within tolerance", eff: scenarioEffect{success: -0.005}, noneFail: true},
		{name: "rates better", eff: scenarioEffect{success: 0.05}, noneFail: true},
		{name: "costs 20% up", eff: scenarioEffect{costMul: 1.2}, fail: []string{MFCPO}, pass: []string{MPickupSuccessRate}},
		{name: "costs 20% up, fcpo tolerance 25%", eff: scenarioEffect{costMul: 1.2},
			cfg: CheckConfig{Metrics: map[string]Tolerance{MFCPO: {Relative: 0.25}}}, noneFail: true},
		{name: "costs 20% up, fcpo skipped", eff: scenarioEffect{costMul: 1.2},
			cfg: CheckConfig{Metrics: map[string]Tolerance{MFCPO: {Skip: true}}}, noneFail: true},
		{name: "costs 20% up, total_cost added", eff: scenarioEffect{costMul: 1.2},
			cfg: CheckConfig{Metrics: map[string]Tolerance{MTotalCost: {Relative: 0.1}}}, fail: []string{MFCPO, MTotalCost}},
		{name: "occupancy up: neutral never fails", eff: scenarioEffect{occupancy: 0.3}, noneFail: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := synthRun("pilot", 42, 8, 8, c.eff)
			rep, err := Check(b, &now, c.cfg)
			require.NoError(t, err)
			if c.noneFail {
				require.True(t, rep.Passed(), rep.Summary())
			}
			for _, m := range c.fail {
				mc := statusOf(t, rep, m)
				assert.Equal(t, StatusFail, mc.Status, "%s: %s", m, mc.Reason)
				assert.Contains(t, rep.Summary(), "pilot "+m+": ")
				assert.Contains(t, mc.Reason, "excludes 0")
			}
			for _, m := range c.pass {
				assert.Equal(t, StatusPass, statusOf(t, rep, m).Status)
			}
			assert.Equal(t, StatusInfo, statusOf(t, rep, MLockerOccupancy).Status)
			assert.Equal(t, len(c.fail), len(rep.Failures()), rep.Summary())
		})
	}
}

// bm builds a baseline metric from values.
func bm(name string, vals ...float64) BaselineMetric {
	s := Summarize(vals, 0)
	return BaselineMetric{Metric: name, N: s.N, Mean: s.Mean, CI95Low: s.CI95Low, CI95High: s.CI95High, Variance: s.StdDev * s.StdDev, Values: vals}
}

func TestSignificanceRules(t *testing.T) {
	// pickup success down by 0.03 on average (tolerance 0.01)
	steady := [2][]float64{{0.80, 0.85, 0.90, 0.82}, {0.77, 0.82, 0.87, 0.79}} // every pair −0.03
	noisy := [2][]float64{{0.80, 0.85, 0.90, 0.82}, {0.70, 0.90, 0.80, 0.88}}  // −0.1, +0.05, −0.1, +0.06
	cases := []struct {
		name   string
		vals   [2][]float64
		rule   Significance
		status CheckStatus
		reason string
	}{
		{"paired, steady drop", steady, SignificancePaired, StatusFail, "paired 95% CI of the change"},
		{"paired, noisy drop: inconclusive", noisy, SignificancePaired, StatusInconclusive, "not significant"},
		{"overlap, steady drop: CIs overlap, inconclusive", steady, SignificanceOverlap, StatusInconclusive, "CIs overlap"},
		{"none, noisy drop", noisy, SignificanceNone, StatusFail, "significance rule none"},
		{"one replication: tolerance alone", [2][]float64{{0.8}, {0.75}}, SignificancePaired, StatusFail, "tolerance alone decides"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := CheckConfig{Significance: c.rule}
			b := bm(MPickupSuccessRate, c.vals[0]...)
			mc := checkMetric(b, b, bm(MPickupSuccessRate, c.vals[1]...), cfg, len(c.vals[0]))
			require.Equal(t, c.status, mc.Status, mc.Reason)
			require.Contains(t, mc.Reason, c.reason)
		})
	}
	// far apart: overlap fails too
	b := bm(MFCPO, 10, 10.2, 9.9, 10.1)
	mc := checkMetric(b, b, bm(MFCPO, 13, 13.1, 12.9, 13.2), CheckConfig{Significance: SignificanceOverlap}, 4)
	require.Equal(t, StatusFail, mc.Status, mc.Reason)
	require.Contains(t, mc.Reason, "do not overlap")
}

func TestCheckMismatch(t *testing.T) {
	base := synthRun("pilot", 42, 4, 8, scenarioEffect{})
	b := NewBaseline(&base)
	cases := []struct {
		name   string
		mutate func(r *RunResult)
		want   string
	}{
		{"seed", func(r *RunResult) { r.Seed = 43 }, "seed 42 in the baseline, 43 now"},
		{"more replications than the baseline holds", func(r *RunResult) {
			more := synthRun("pilot", 42, 5, 8, scenarioEffect{})
			r.Replications = more.Replications
			r.Finalize()
		}, "the baseline holds 4 replications, 5 now"},
		{"horizon", func(r *RunResult) { r.Horizon = "9d" }, "horizon 8d in the baseline, 9d now"},
		{"warm-up", func(r *RunResult) { r.Warmup = "2d" }, "warm-up 1d in the baseline, 2d now"},
		{"metric gone", func(r *RunResult) {
			for _, rep := range r.Replications {
				delete(rep.Metrics, MConflicts)
			}
			r.Finalize()
		}, "no longer measured: conflicts"},
		{"scenario", func(r *RunResult) { r.Scenario = "other" }, "scenario pilot in the baseline, other now"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := synthRun("pilot", 42, 4, 8, scenarioEffect{})
			c.mutate(&now)
			_, err := Check(b, &now, CheckConfig{})
			var mm *MismatchError
			require.True(t, errors.As(err, &mm), "%v", err)
			require.Contains(t, err.Error(), c.want)
		})
	}

	t.Run("nodes differ: noted, still checked", func(t *testing.T) {
		now := synthRun("pilot", 42, 4, 8, scenarioEffect{})
		gone := now.Nodes[0]
		now.Nodes = append([]NodeInfo(nil), now.Nodes[1:]...)
		rep, err := Check(b, &now, CheckConfig{})
		require.NoError(t, err)
		require.Len(t, rep.Notes, 1)
		require.Contains(t, rep.Notes[0], "removed "+gone.ID+":"+gone.Kind)
		require.True(t, rep.Passed())
	})
}

func TestCheckConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  CheckConfig
		want string
	}{
		{CheckConfig{Metrics: map[string]Tolerance{"fcpx": {Relative: 0.1}}}, `checks.metrics.fcpx: unknown metric (did you mean "fcpo"?)`},
		{CheckConfig{Metrics: map[string]Tolerance{MCourierUtilization: {Absolute: 0.1}}}, "courier_utilization is neutral"},
		{CheckConfig{Metrics: map[string]Tolerance{MFCPO: {Absolute: -1}}}, "checks.metrics.fcpo.absolute: must be a finite number >= 0"},
		{CheckConfig{Significance: "maybe"}, "checks.significance: significance must be paired, overlap or none"},
		{CheckConfig{Metrics: map[string]Tolerance{MFCPO: {Significance: "often"}}}, "checks.metrics.fcpo.significance"},
	} {
		err := c.cfg.Validate()
		require.Error(t, err)
		require.Contains(t, err.Error(), c.want)
	}
	var cfg CheckConfig
	require.NoError(t, cfg.Validate())
	for _, m := range DefaultCheckedMetrics {
		tol, ok := cfg.Tolerance(m)
		require.True(t, ok, m)
		require.Equal(t, SignificancePaired, tol.Significance)
		require.NotEqual(t, Neutral, defOf(m).Better, m)
	}
	_, ok := cfg.Tolerance(MOrders)
	require.False(t, ok, "neutral metrics are never checked")
	_, ok = cfg.Tolerance(MTotalCost)
	require.False(t, ok, "not a default metric")
	tol, _ := cfg.Tolerance(MPickupSuccessRate)
	require.Equal(t, 0.01, tol.Allowed(0.9))
	tol, _ = cfg.Tolerance(MReturns)
	require.Equal(t, 1.0, tol.Allowed(3))    // the floor
	require.Equal(t, 26.5, tol.Allowed(265)) // 10%
	require.Equal(t, "10% (min 1)", tol.String())
}

func TestJUnitAndMarkdown(t *testing.T) {
	base := synthRun("pilot", 42, 6, 8, scenarioEffect{})
	b := NewBaseline(&base)
	worse := synthRun("pilot", 42, 6, 8, scenarioEffect{success: -0.05})
	rep, err := Check(b, &worse, CheckConfig{})
	require.NoError(t, err)
	reports := []CheckReport{*rep, {Scenario: "quickstart", Error: "no baseline at baselines/quickstart.baseline.json"}}

	var buf bytes.Buffer
	require.NoError(t, WriteJUnit(&buf, reports))
	var doc JUnitTestSuites
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
	_, fail, _, info := rep.Counts()
	require.Equal(t, len(rep.Metrics)+1, doc.Tests)
	require.Equal(t, fail, doc.Failures)
	require.Equal(t, 4, fail)
	// an inconclusive check is an <error type="inconclusive">, the missing baseline one more
	require.Equal(t, 1+len(rep.Inconclusive()), doc.Errors)
	for _, tc := range doc.Suites[0].TestCases {
		if tc.Error != nil {
			require.Equal(t, "inconclusive", tc.Error.Type)
			require.Contains(t, tc.Error.Message, "INCONCLUSIVE")
			require.Equal(t, StatusInconclusive, statusOf(t, rep, tc.Name).Status)
		}
	}
	require.Equal(t, info, doc.Skipped)
	require.Len(t, doc.Suites, 2)
	require.Equal(t, len(rep.Metrics), doc.Suites[0].Tests)
	var failing []string
	for _, tc := range doc.Suites[0].TestCases {
		if tc.Failure != nil {
			failing = append(failing, tc.Name)
			require.Contains(t, tc.Failure.Message, "beyond the tolerance")
			require.Contains(t, tc.Failure.Text, "baseline ")
		}
	}
	require.Equal(t, []string{MPickupSuccessRate, MOnTimeReadyRate, MRefunds, MFCPO}, failing)
	require.NotNil(t, doc.Suites[1].TestCases[0].Error)

	var md bytes.Buffer
	require.NoError(t, WriteCheckMarkdown(&md, reports))
	require.Contains(t, md.String(), "could not check every scenario")
	require.Contains(t, md.String(), "| pilot | `pickup_success_rate` ↑ |")

	var table bytes.Buffer
	require.NoError(t, FormatCheckTable(&table, reports))
	require.Contains(t, table.String(), "FAIL pilot pickup_success_rate: ")
	require.Contains(t, table.String(), "ERROR quickstart: no baseline")
	require.Regexp(t, `pilot\s+on_time_ready_rate\s+↑\s+\S+\s+\S+\s+-\S+ \(-\S+%\)\s+±0.01\s+6/\d+.*FAIL`, table.String())
}
