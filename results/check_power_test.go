package results

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
)

// G*Power 3.1 (t tests, means: difference from constant, matched pairs,
// two tails, α 0.05, power 0.80) gives these total sample sizes by effect
// size dz = δ/sd_D.
func TestRequiredReplicationsMatchesGPower(t *testing.T) {
	for _, c := range []struct {
		dz   float64
		want int
	}{{0.2, 199}, {0.5, 34}, {0.8, 15}, {1, 10}} {
		n, ok := RequiredReplications(1, c.dz)
		require.True(t, ok)
		assert.Equal(t, c.want, n, "dz %v", c.dz)
		// the same with the units scaled: only the ratio matters
		n, _ = RequiredReplications(7, 7*c.dz)
		assert.Equal(t, c.want, n, "dz %v scaled", c.dz)
	}
	for _, c := range []struct {
		name      string
		sd, delta float64
		n         int
		ok        bool
	}{
		{"no spread: the minimum", 0, 0.01, 2, true},
		{"no spread, nothing allowed", 0, 0, 2, true},
		{"spread, nothing allowed: impossible", 1, 0, 0, false},
		{"unknown spread", math.NaN(), 1, 0, false},
		{"huge effect: still 2 pairs at least", 1, 100, 2, true},
	} {
		n, ok := RequiredReplications(c.sd, c.delta)
		assert.Equal(t, c.ok, ok, c.name)
		assert.Equal(t, c.n, n, c.name)
	}
}

// The power the formula promises, measured: paired differences with true
// mean δ and sd σ, n = RequiredReplications(σ, δ) pairs, judged as Check
// judges them (the 95% CI excludes 0). The detection rate at n is at least
// 80% and at n−1 (n is the smallest that suffices) below it, each within
// four binomial standard errors.
func TestRequiredReplicationsPowerBySimulation(t *testing.T) {
	const trials = 10000
	se := math.Sqrt(PowerTarget * (1 - PowerTarget) / trials)
	rng := rand.New(rand.NewPCG(15, 80))
	detect := func(n int, delta, sd float64) float64 {
		hits := 0
		d := make([]float64, n)
		tc := TQuantile(n) // Summarize's multiplier, computed once
		for range trials {
			for i := range d {
				d[i] = delta + sd*rng.NormFloat64()
			}
			m, s := stat.MeanStdDev(d, nil)
			if h := tc * s / math.Sqrt(float64(n)); m-h > 0 || m+h < 0 { // the 95% CI excludes 0
				hits++
			}
		}
		return float64(hits) / trials
	}
	for _, dz := range []float64{0.5, 1} {
		n, ok := RequiredReplications(2, 2*dz)
		require.True(t, ok)
		at := detect(n, 2*dz, 2)
		below := detect(n-1, 2*dz, 2)
		assert.GreaterOrEqual(t, at, PowerTarget-4*se, "dz %v, n %d", dz, n)
		assert.Less(t, below, PowerTarget+4*se, "dz %v, n−1 = %d already has the power", dz, n-1)
	}
}

func TestPlanCheck(t *testing.T) {
	b := &Baseline{Scenario: "x", Replications: 200, Metrics: []BaselineMetric{
		// sd 0.02 on a share, tolerance 0.01: sd_D = 0.0283, dz = 0.354
		{Metric: MPickupSuccessRate, Mean: 0.9, Variance: 0.02 * 0.02},
		// constant: the minimum
		{Metric: MOnTimeReadyRate, Mean: 1, Variance: 0},
		// mean 0, tolerance 10% at least 1: δ = 1, sd 3: sd_D = 4.24
		{Metric: MCancelled, Mean: 0, Variance: 9},
		// neutral: not planned
		{Metric: MOrders, Mean: 300, Variance: 400},
	}}
	wantSuccess, _ := RequiredReplications(0.02*math.Sqrt2, 0.01)
	wantCancelled, _ := RequiredReplications(3*math.Sqrt2, 1)
	require.Greater(t, wantCancelled, wantSuccess)

	p := PlanCheck(b, CheckConfig{}, 2)
	require.Len(t, p.Metrics, 3)
	assert.Equal(t, 200, p.Cap)
	assert.Equal(t, wantSuccess, p.Metrics[0].Required)
	assert.Equal(t, 2, p.Metrics[1].Required)
	assert.Equal(t, wantCancelled, p.Metrics[2].Required)
	assert.Equal(t, wantCancelled, p.Replications, "the most any metric needs")
	for _, m := range p.Metrics {
		assert.False(t, m.Underpowered, m.Note)
	}

	capped := PlanCheck(b, CheckConfig{MaxReplications: 50}, 2)
	assert.Equal(t, 50, capped.Cap)
	assert.Equal(t, 50, capped.Replications)
	assert.True(t, capped.Metrics[2].Underpowered)
	assert.Contains(t, capped.Metrics[2].Note, "underpowered")
	assert.Contains(t, capped.Metrics[2].Note, "at most 50 can run")

	floor := PlanCheck(&Baseline{Scenario: "x", Replications: 20, Metrics: b.Metrics[1:2]}, CheckConfig{}, 5)
	assert.Equal(t, 5, floor.Replications, "at least the floor")

	none := PlanCheck(b, CheckConfig{Significance: SignificanceNone}, 2)
	assert.Equal(t, 2, none.Replications, "rule none: nothing to power")

	zero := PlanCheck(b, CheckConfig{Metrics: map[string]Tolerance{MCancelled: {Absolute: 0}}}, 2)
	assert.True(t, zero.Metrics[2].Underpowered, "a spread and nothing allowed")
	assert.Contains(t, zero.Metrics[2].Note, "widen the tolerance")
	assert.Equal(t, 200, zero.Replications)
}

// values is n draws of mean + sd·N(0,1) from a fixed stream.
func values(seed uint64, n int, mean, sd float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + sd*rng.NormFloat64()
	}
	return out
}

// runOf is a finalized run measuring one metric with the given values.
func runOf(metric string, vals []float64) *RunResult {
	r := &RunResult{Scenario: "s", Seed: 1, Horizon: "3d", Warmup: "12h"}
	for i, v := range vals {
		r.Replications = append(r.Replications, Replication{Index: i, Metrics: map[string]float64{metric: v}})
	}
	r.Finalize()
	return r
}

// The verdicts on one metric (reroutes: lower is better, tolerance 10% at
// least 1): a paired shift far beyond the tolerance fails, within it
// passes, beyond it but drowned in noise is inconclusive with a power note,
// and the sequential step asks for more replications only then.
func TestVerdictsAndSequentialStep(t *testing.T) {
	base := values(1, 40, 20, 4)
	b := NewBaseline(runOf(MReroutes, base))
	shift := func(by float64, noise float64, n int) []float64 {
		out := make([]float64, n)
		extra := values(2, n, 0, noise)
		for i := range out {
			out[i] = base[i] + by + extra[i]
		}
		return out
	}
	cases := []struct {
		name   string
		now    []float64
		status CheckStatus
		next   int // NextReplications(40); -1: more than now, up to 40
	}{
		{"unchanged", base[:10], StatusPass, 0},
		{"+10 on every pair", shift(10, 0.5, 10), StatusFail, 0},
		{"+1 on every pair: within 2", shift(1, 0.5, 10), StatusPass, 0},
		{"+4 in noise sd 12, 4 pairs", shift(4, 12, 4), StatusInconclusive, -1},
		{"+4 in noise sd 12, all 40 pairs", shift(4, 12, 40), StatusInconclusive, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Check(b, runOf(MReroutes, c.now), CheckConfig{})
			require.NoError(t, err)
			mc := statusOf(t, rep, MReroutes)
			require.Equal(t, c.status, mc.Status, mc.Reason)
			require.Equal(t, len(c.now), rep.Replications)
			require.Equal(t, 40, rep.MaxReplications)
			require.Equal(t, meanOf(base[:len(c.now)]), mc.Baseline, "the baseline over the same replications")
			next := rep.NextReplications(40)
			switch {
			case c.next >= 0:
				require.Equal(t, c.next, next)
			default:
				require.Greater(t, next, len(c.now))
				require.LessOrEqual(t, next, 40)
				require.Equal(t, min(max(mc.RequiredN, len(c.now)+len(c.now)/2), 40), next, "the next stage reaches what the observed spread needs, within the cap")
			}
			if c.status == StatusInconclusive {
				require.False(t, rep.Passed())
				require.Contains(t, mc.Reason, "not significant")
				require.Contains(t, mc.PowerNote, "80% power at the 5% level")
				require.Greater(t, mc.RequiredN, len(c.now), "inconclusive means short of power")
				require.Contains(t, rep.Summary(), "INCONCLUSIVE")
				require.Equal(t, mc.RequiredN > 40, mc.Underpowered)
			}
		})
	}
}

func meanOf(v []float64) float64 { return Summarize(v, 0).Mean }

// A version 1 baseline (no variance) still loads: the variance comes from its
// values, and the check says so in a note.
func TestLegacyBaselineLoads(t *testing.T) {
	r := runOf(MFCPO, []float64{10, 11, 12})
	b := NewBaseline(r)
	b.Version = 1
	var buf bytes.Buffer
	require.NoError(t, WriteBaseline(&buf, b))
	legacy := strings.ReplaceAll(buf.String(), `,"variance":1`, "")
	require.NotContains(t, legacy, "variance")

	back, err := ReadBaseline(strings.NewReader(legacy))
	require.NoError(t, err)
	require.Equal(t, 1, back.FromVersion)
	m, _ := back.Metric(MFCPO)
	require.InDelta(t, 1.0, m.Variance, 1e-12)
	require.Contains(t, back.LegacyNote(), "version 1 records no variance")
	require.Contains(t, back.LegacyNote(), "lockstep baseline")

	rep, err := Check(back, r, CheckConfig{})
	require.NoError(t, err)
	require.True(t, rep.Passed())
	require.Contains(t, strings.Join(rep.Notes, "\n"), "version 1 records no variance")

	cur, err := ReadBaseline(bytes.NewReader(func() []byte {
		var w bytes.Buffer
		require.NoError(t, WriteBaseline(&w, NewBaseline(r)))
		require.Contains(t, w.String(), `"variance":1,`)
		return w.Bytes()
	}()))
	require.NoError(t, err)
	require.Zero(t, cur.FromVersion)
	require.Empty(t, cur.LegacyNote())
}

// The sequential check: a baseline with little spread plans few
// replications; the change is noisy, so the first stage is inconclusive and
// the check adds replications, as many as the observed spread needs, until
// it can decide (here: a regression) or reaches the cap (then it stays
// inconclusive, underpowered). Each stage's run is what grow was asked for,
// and the final report is Check of the final run.
func TestCheckSequential(t *testing.T) {
	base := values(3, 200, 20, 1)
	noise := values(4, 200, 0, 5)
	now := make([]float64, len(base))
	for i := range now {
		now[i] = base[i] + 3 + noise[i] // 3 worse, the tolerance allows 2
	}
	b := NewBaseline(runOf(MReroutes, base))
	for _, c := range []struct {
		name   string
		cap    int
		status CheckStatus
	}{
		{"decides within the cap", 0, StatusFail},
		{"cap reached first", 10, StatusInconclusive},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := CheckConfig{MaxReplications: c.cap}
			var asked []int
			rep, err := CheckSequential(b, cfg, 2, func(n int) (*RunResult, error) {
				asked = append(asked, n)
				return runOf(MReroutes, now[:n]), nil
			})
			require.NoError(t, err)
			plan := PlanCheck(b, cfg, 2)
			require.Equal(t, plan.Replications, asked[0], "the first stage is the plan")
			require.Less(t, plan.Replications, 10, "the baseline's small spread plans few")
			require.Greater(t, len(asked), 1, "an inconclusive first stage adds replications")
			require.Equal(t, asked, rep.Stages)
			for i := 1; i < len(asked); i++ {
				grow := asked[i-1] + (asked[i-1]+1)/2
				if c.cap > 0 {
					grow = min(grow, c.cap)
				}
				require.GreaterOrEqual(t, asked[i], grow, "each stage grows by half at least (within the cap)")
			}
			mc := statusOf(t, rep, MReroutes)
			require.Equal(t, c.status, mc.Status, mc.Reason)
			final, err := Check(b, runOf(MReroutes, now[:asked[len(asked)-1]]), cfg)
			require.NoError(t, err)
			require.Equal(t, statusOf(t, final, MReroutes), mc)
			if c.cap > 0 {
				require.Equal(t, c.cap, asked[len(asked)-1])
				require.True(t, mc.Underpowered)
				require.Greater(t, mc.RequiredN, c.cap)
			} else {
				require.Less(t, asked[len(asked)-1], 200, "stops once decided")
			}
		})
	}
	_, err := CheckSequential(b, CheckConfig{}, 2, func(int) (*RunResult, error) { return nil, errors.New("boom") })
	require.EqualError(t, err, "boom")
}
