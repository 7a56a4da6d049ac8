package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"

	"github.com/lockstep-sim/lockstep/model"
)

// The Kaplan–Meier estimate of a small sample, computed by hand:
//
//	t   at risk  events  censored  S(t)
//	3   7        1       0         6/7
//	5   6        0       1         6/7
//	6   5        1       1         6/7 * 4/5 = 24/35
//	8   3        1       0         24/35 * 2/3 = 16/35
//	10  2        1       0         16/35 * 1/2 = 8/35
//	12  1        0       1         8/35
//
// The median is 8 (the first S <= 1/2); dropping the censored stays would
// give 6, counting them as pickups at their censoring time 6 as well; the
// 90th percentile is not reached (S never <= 0.1).
func TestKaplanMeierHandComputed(t *testing.T) {
	times := []float64{12, 6, 3, 10, 5, 8, 6}
	observed := []bool{false, true, true, true, false, true, false}
	sv := KaplanMeier(times, observed)
	assert.Equal(t, []float64{3, 6, 8, 10}, sv.T)
	want := []float64{6.0 / 7, 24.0 / 35, 16.0 / 35, 8.0 / 35}
	require.Len(t, sv.S, len(want))
	for i := range want {
		assert.InDelta(t, want[i], sv.S[i], 1e-15, "S(%v)", sv.T[i])
	}
	assert.Equal(t, 8.0, sv.Quantile(0.5))
	assert.Equal(t, 6.0, sv.Quantile(0.25))
	assert.Equal(t, 3.0, sv.Quantile(1.0/7))
	assert.True(t, math.IsInf(sv.Quantile(0.9), 1), "not reached")
	dropped := []float64{3, 6, 8, 10}
	assert.Equal(t, 6.0, stat.Quantile(0.5, stat.Empirical, dropped, nil), "what dropping the censored stays would say")
}

// Without censoring the Kaplan–Meier quantile is the sample quantile
// (gonum's empirical quantile: the smallest x with F(x) >= q), ties
// included.
func TestKaplanMeierUncensoredIsQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 100, 1001} {
		for _, ties := range []bool{false, true} {
			times := make([]float64, n)
			obs := make([]bool, n)
			for i := range times {
				times[i] = rng.ExpFloat64() * 300
				if ties {
					times[i] = math.Floor(times[i] / 60)
				}
				obs[i] = true
			}
			sorted := append([]float64(nil), times...)
			sort.Float64s(sorted)
			sv := KaplanMeier(times, obs)
			for _, q := range []float64{0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1} {
				assert.Equal(t, stat.Quantile(q, stat.Empirical, sorted, nil), sv.Quantile(q), "n=%d ties=%v q=%v", n, ties, q)
			}
		}
	}
	assert.True(t, math.IsInf(KaplanMeier(nil, nil).Quantile(0.5), 1), "no stays: no median")
}

func day(d int, h float64) model.Instant {
	return model.Instant(int64(d)*int64(model.Day) + int64(h*float64(model.Hour)))
}

func stay(d int, minutes float64, collected bool) episode {
	return episode{start: day(d, 9), dur: model.Duration(minutes * float64(model.Minute)), collected: collected}
}

// The bonus is paid exactly in the periods whose Kaplan–Meier median is
// strictly below the target, for the parcels collected in them, and split
// over the nodes by their collected parcels.
func TestEvalBonus(t *testing.T) {
	// node A and node B of one operator, four days
	a := []episode{
		stay(0, 30, true), stay(0, 60, true), stay(0, 200, true), // day 0: pooled median 60 (with B's 90)
		stay(1, 100, true), stay(1, 130, true), stay(1, 150, true), // day 1: median 130
		stay(2, 20, true), stay(2, 1440, false), stay(2, 1440, false), // day 2: 1 of 3 collected: not reached
		stay(3, 120, true), stay(3, 120, true), // day 3: median exactly 120
	}
	b := []episode{stay(0, 90, true), stay(0, 1440, false)}
	rule := &BonusRule{PerCollected: 0.3, FrictionP50Below: 2 * model.Hour, Period: BonusDaily}
	pay, periods, paid := evalBonus(rule, [][]episode{a, b})
	assert.Equal(t, 4, periods)
	assert.Equal(t, 1, paid, "day 0 only: day 1 above, day 2 not reached, day 3 equal (strictly below)")
	assert.InDelta(t, 3*0.3, pay[0], 1e-12, "A collected 3 on day 0")
	assert.InDelta(t, 1*0.3, pay[1], 1e-12, "B collected 1 on day 0")

	// a looser target pays day 1 and day 3 too
	rule.FrictionP50Below = 2*model.Hour + 11*model.Minute
	pay, _, paid = evalBonus(rule, [][]episode{a, b})
	assert.Equal(t, 3, paid)
	assert.InDelta(t, (3+3+2)*0.3, pay[0], 1e-12)

	// the whole window at once: 10 of 14 stays collected, median 120 < 131
	rule.Period = BonusWindow
	pay, periods, paid = evalBonus(rule, [][]episode{a, b})
	assert.Equal(t, 1, periods)
	assert.Equal(t, 1, paid)
	assert.InDelta(t, 9*0.3, pay[0], 1e-12)
	assert.InDelta(t, 1*0.3, pay[1], 1e-12)
	rule.FrictionP50Below = 2 * model.Hour
	_, _, paid = evalBonus(rule, [][]episode{a, b})
	assert.Equal(t, 0, paid, "window median 120 is not below 120")
}

func TestOperatorNames(t *testing.T) {
	slots := [model.NumSizes]int32{model.Small: 4}
	net := &model.Network{Nodes: []model.Node{{ID: "L2", Slots: slots}, {ID: "L1", Slots: slots}, {ID: "P1", Kind: model.Partner, Counter: 10},
		{ID: "M1", Kind: model.Microstore}}}
	require.True(t, net.Nodes[2].Holds())
	require.False(t, net.Nodes[3].Holds())
	names, of := operatorNames(net, nil)
	assert.Equal(t, []string{"L1", "L2", "P1"}, names, "default: each node its own operator; a microstore without pickups is none")
	assert.Equal(t, []int{1, 0, 2, -1}, of)
	names, of = operatorNames(net, []string{"citybox", "citybox", "", "citybox"})
	assert.Equal(t, []string{"P1", "citybox"}, names)
	assert.Equal(t, []int{1, 1, 0, -1}, of)
}

// The one-pass estimate on sorted stay keys (the exact reference the binned
// estimate a run uses is checked against, stayhist_test.go) is
// KaplanMeier's, censoring and ties included.
func TestPickupOfSortedMatchesKaplanMeier(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, 50, 2000} {
		for _, censor := range []float64{0, 0.2, 0.7} {
			var eps []episode
			var times []float64
			var obs []bool
			for range n {
				d := model.Duration(rng.IntN(600)) * model.Minute // whole minutes: ties
				c := rng.Float64() >= censor
				eps = append(eps, episode{dur: d, collected: c})
				times = append(times, d.Minutes())
				obs = append(obs, c)
			}
			keys := make([]uint64, 0, n)
			for _, e := range eps {
				keys = append(keys, stayKey(e.dur, e.collected))
			}
			slices.Sort(keys)
			got := pickupOfSorted(keys)
			sv := KaplanMeier(times, obs)
			assert.Equal(t, sv.Quantile(0.5), got.FrictionP50, "n=%d censor=%v", n, censor)
			assert.Equal(t, sv.Quantile(0.9), got.FrictionP90, "n=%d censor=%v", n, censor)
			assert.Equal(t, uint64(n), got.Ready)
			var c uint64
			for _, o := range obs {
				if o {
					c++
				}
			}
			assert.Equal(t, c, got.Collected)
		}
	}
}
