package experiment

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// design is a synthetic system with normal outputs of known mean and
// standard deviation; rho > 0 adds a common component shared by every design
// at the same replication index (common random numbers).
type synthDesign struct{ mean, sd float64 }

// synthObserver draws observation j of design i as
// mean_i + sd_i·(√rho·Z_j + √(1−rho)·E_ij), Z_j common to all designs. Each
// design and the common component have their own stream, drawn in index
// order, so observation j of design i is the same however the procedure
// batches its requests.
func synthObserver(ds []synthDesign, rho float64, src rand.Source) knObserver {
	r := rand.New(src)
	gen := func() func(j int) float64 {
		norm := distuv.Normal{Mu: 0, Sigma: 1, Src: rand.NewPCG(r.Uint64(), r.Uint64())}
		var v []float64
		return func(j int) float64 {
			for len(v) <= j {
				v = append(v, norm.Rand())
			}
			return v[j]
		}
	}
	common := gen()
	own := make([]func(int) float64, len(ds))
	for i := range own {
		own[i] = gen()
	}
	return func(i, first, n int) ([]float64, error) {
		out := make([]float64, n)
		for j := range out {
			z := math.Sqrt(rho)*common(first+j) + math.Sqrt(1-rho)*own[i](first+j)
			out[j] = ds[i].mean + ds[i].sd*z
		}
		return out, nil
	}
}

// TestKNProbabilityOfCorrectSelection runs KN on synthetic designs with known
// means in the slippage configuration (the best exactly delta ahead of all
// the others, the least favourable case of the indifference zone) over many
// macro-replications, and checks the empirical probability of correct
// selection is at least the PCS asked for, less three binomial standard
// errors.
func TestKNProbabilityOfCorrectSelection(t *testing.T) {
	const macro = 4000
	cases := []struct {
		name  string
		ds    []synthDesign
		best  int
		delta float64
		pcs   float64
		n0    int
		rho   float64
	}{
		{"two designs, equal variances", []synthDesign{{0, 1}, {0.5, 1}}, 1, 0.5, 0.95, 10, 0},
		{"four designs, unequal variances", []synthDesign{{0, 2}, {0, 1}, {1, 1.5}, {0, 0.5}}, 2, 1, 0.95, 10, 0},
		{"five designs, common random numbers", []synthDesign{{0.4, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}, 0, 0.4, 0.9, 8, 0.7},
		{"three designs, small first stage", []synthDesign{{0, 1}, {0, 1}, {0.6, 1}}, 2, 0.6, 0.95, 3, 0},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := rand.NewPCG(uint64(1000+ci), 1)
			correct := 0
			for range macro {
				r, err := kn(len(c.ds), c.n0, c.delta, 1-c.pcs, 1_000_000, synthObserver(c.ds, c.rho, src), func(int) int { return 1 })
				require.NoError(t, err)
				require.True(t, r.guaranteed)
				if r.best == c.best {
					correct++
				}
			}
			p := float64(correct) / macro
			se := math.Sqrt(c.pcs * (1 - c.pcs) / macro)
			t.Logf("empirical PCS %.4f (asked %.2f, 3 SE %.4f)", p, c.pcs, 3*se)
			assert.GreaterOrEqual(t, p, c.pcs-3*se)
		})
	}
}

// With a clear winner the procedure stops at the first stage; common random
// numbers (a large shared component) need fewer replications than
// independent sampling of the same designs.
func TestKNStopsEarlyOnClearWinner(t *testing.T) {
	src := rand.NewPCG(7, 1)
	clear, err := kn(3, 10, 0.5, 0.05, 100000, synthObserver([]synthDesign{{0, 1}, {5, 1}, {0, 1}}, 0, src), func(int) int { return 1 })
	require.NoError(t, err)
	assert.Equal(t, 1, clear.best)
	assert.Equal(t, 10, clear.used[1], "a 5σ lead is settled at the first stage")

	// CRN: a large common component cancels in the differences.
	crn, err := kn(2, 10, 0.2, 0.05, 100000, synthObserver([]synthDesign{{0, 3}, {0.2, 3}}, 0.99, src), func(int) int { return 1 })
	require.NoError(t, err)
	indep, err := kn(2, 10, 0.2, 0.05, 100000, synthObserver([]synthDesign{{0, 3}, {0.2, 3}}, 0, src), func(int) int { return 1 })
	require.NoError(t, err)
	assert.Less(t, crn.used[crn.best], indep.used[indep.best], "common random numbers need fewer replications")
}

// The batch size changes what is simulated, never the decision.
func TestKNBatchDoesNotChangeDecision(t *testing.T) {
	ds := []synthDesign{{0, 1}, {0.3, 1.2}, {0.1, 0.8}, {0.25, 1}}
	one, err := kn(len(ds), 6, 0.2, 0.05, 5000, synthObserver(ds, 0.3, rand.NewPCG(3, 1)), func(int) int { return 1 })
	require.NoError(t, err)
	big, err := kn(len(ds), 6, 0.2, 0.05, 5000, synthObserver(ds, 0.3, rand.NewPCG(3, 1)), selectBatch)
	require.NoError(t, err)
	assert.Equal(t, one.best, big.best)
	assert.Equal(t, one.used, big.used)
	assert.Equal(t, one.eliminatedAt, big.eliminatedAt)
	for i := range ds {
		assert.GreaterOrEqual(t, big.simulated[i], big.used[i])
		assert.LessOrEqual(t, big.simulated[i], big.used[i]+selectBatch(big.used[i]))
	}
}

func TestKNCapWithoutGuarantee(t *testing.T) {
	r, err := kn(2, 5, 0.01, 0.05, 20, synthObserver([]synthDesign{{0, 1}, {0, 1}}, 0, rand.NewPCG(1, 1)), func(int) int { return 1 })
	require.NoError(t, err)
	assert.False(t, r.guaranteed)
	assert.Equal(t, []int{20, 20}, r.used)
}

func TestKNConstant(t *testing.T) {
	// η for k = 2, n0 = 10, α = 0.05: ½[(0.1)^(−2/9) − 1]
	eta := 0.5 * (math.Pow(0.1, -2.0/9) - 1)
	assert.InDelta(t, 2*eta*9, knH2(2, 10, 0.05), 1e-12)
	assert.Greater(t, knH2(5, 10, 0.05), knH2(2, 10, 0.05), "more designs need a larger constant")
	assert.Greater(t, knH2(2, 10, 0.01), knH2(2, 10, 0.05), "a higher PCS needs a larger constant")
}

func TestKNInputErrors(t *testing.T) {
	obs := synthObserver([]synthDesign{{0, 1}, {0, 1}}, 0, rand.NewPCG(1, 1))
	for _, c := range []struct {
		k, n0        int
		delta, alpha float64
		want         string
	}{
		{1, 10, 1, 0.05, "at least two designs"},
		{2, 1, 1, 0.05, "n0 must be at least 2"},
		{2, 10, 0, 0.05, "delta must be a positive"},
		{2, 10, -1, 0.05, "delta must be a positive"},
		{2, 10, 1, 0.6, "PCS must be in"},
		{2, 10, 1, 0, "PCS must be in"},
	} {
		_, err := kn(c.k, c.n0, c.delta, c.alpha, 100, obs, selectBatch)
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}

// End to end through the simulator: two variants of the quickstart, one
// with far fewer couriers, selected on pickup success (higher is better) and
// on FCPO (lower is better); the selection's replications extend those of
// Compare with the same seeds.
func TestSelectQuickstart(t *testing.T) {
	base, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	data, err := os.ReadFile("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	small := strings.ReplaceAll(string(data), "slots: {small: 16, medium: 24, large: 8}", "slots: {small: 3, medium: 4, large: 1}")
	small = strings.Replace(small, "name: quickstart", "name: small-lockers", 1)
	few, err := scenarios.Parse("small-lockers.yaml", []byte(small))
	require.NoError(t, err)
	scs := []*scenarios.Scenario{few, base}
	opt := Options{Replications: 2}
	runs, _, err := Compare(context.Background(), scs, opt)
	require.NoError(t, err)

	sel, err := Select(context.Background(), scs, runs, SelectOptions{Metric: results.MPickupSuccessRate, Delta: 0.02, N0: 4, Max: 60}, opt)
	require.NoError(t, err)
	assert.Equal(t, "quickstart", sel.Best)
	assert.True(t, sel.Guaranteed, sel.Statement)
	assert.Contains(t, sel.Statement, "probability at least 0.95")
	extra := 0
	for _, d := range sel.Designs {
		assert.GreaterOrEqual(t, d.Simulated, d.Used)
		extra += d.Simulated - 2
	}
	assert.Equal(t, extra, sel.Replications, "the two replications of Compare are reused")

	// lower is better: FCPO
	cost, err := Select(context.Background(), scs, runs, SelectOptions{Metric: results.MFCPO, Delta: 0.5, N0: 4, Max: 60}, opt)
	require.NoError(t, err)
	assert.Equal(t, "quickstart", cost.Best, cost.Statement)
	assert.Less(t, cost.Designs[1].Mean, cost.Designs[0].Mean, "means are reported in the metric's own sign")

	_, err = Select(context.Background(), scs, runs, SelectOptions{Metric: results.MCourierUtilization, Delta: 0.01}, opt)
	require.ErrorContains(t, err, "neutral")
	_, err = Select(context.Background(), scs, runs, SelectOptions{Metric: "pickup_sucess_rate", Delta: 0.01}, opt)
	require.ErrorContains(t, err, "not a catalog metric")
}

// The harness can tell a procedure without the guarantee: picking the larger
// mean after a fixed n0 = 10 in the two-design slippage case is correct with
// probability Φ(δ√(n0/2)/σ) = Φ(1.118) ≈ 0.868, and the same check rejects it.
func TestSynthHarnessRejectsNaiveSelection(t *testing.T) {
	const macro = 4000
	ds := []synthDesign{{0, 1}, {0.5, 1}}
	src := rand.NewPCG(99, 1)
	correct := 0
	for range macro {
		obs := synthObserver(ds, 0, src)
		a, _ := obs(0, 0, 10)
		b, _ := obs(1, 0, 10)
		var sa, sb float64
		for j := range a {
			sa, sb = sa+a[j], sb+b[j]
		}
		if sb > sa {
			correct++
		}
	}
	p := float64(correct) / macro
	se := math.Sqrt(0.95 * 0.05 / macro)
	want := distuv.UnitNormal.CDF(0.5 * math.Sqrt(5))
	assert.InDelta(t, want, p, 3*math.Sqrt(want*(1-want)/macro))
	assert.Less(t, p, 0.95-3*se)
}
