package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// Every whole minute up to the last bin falls in a bin whose middle is
// within half the bin's width of it, and the bins are contiguous.
func TestStayBins(t *testing.T) {
	prev := 0
	for m := uint64(0); m < 1<<stayTopExp; m++ {
		b := stayBin(m)
		require.True(t, b == prev || b == prev+1, "minute %d: bin %d after %d", m, b, prev)
		prev = b
		w := 1.0
		if m >= stayExact {
			w = math.Exp2(float64(bitsLen(m) - 8))
		}
		require.InDelta(t, float64(m)+0.5, stayBinMid(b), w/2+1e-9, "minute %d", m)
		require.LessOrEqual(t, w, float64(m)/staySub+1, "minute %d: bin too wide", m)
	}
	require.Equal(t, stayLastBin-1, prev)
	require.Equal(t, stayLastBin, stayBin(1<<stayTopExp))
	require.Equal(t, stayLastBin, stayBin(math.MaxUint64))
}

func bitsLen(m uint64) int {
	n := 0
	for ; m > 0; m >>= 1 {
		n++
	}
	return n
}

// The binned estimate agrees with the exact Kaplan–Meier over the same
// stays (pickupOfSorted): counts exactly; quantiles within half a bin
// without censoring (the empirical quantile's bin) and within the width of
// two bins with censoring (a bin counts its pickups before its censorings,
// so the curve can cross a level one bin early or late).
func TestStayHistMatchesKaplanMeier(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		censored float64
		meanMin  float64
	}{
		{"uncensored, minutes", 500, 0, 60},
		{"uncensored, hours", 2000, 0, 600},
		{"30% censored", 2000, 0.3, 300},
		{"70% censored: p90 not reached", 300, 0.7, 300},
		{"days", 1000, 0.1, 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tc.n)))
			var h stayHist
			var keys []uint64
			for i := 0; i < tc.n; i++ {
				d := model.Duration(r.ExpFloat64() * tc.meanMin * float64(model.Minute))
				col := r.Float64() >= tc.censored
				h.add(d, col)
				keys = append(keys, stayKey(d, col))
			}
			slices.Sort(keys)
			exact := pickupOfSorted(keys)
			got := h.result()
			assert.Equal(t, exact.Ready, got.Ready)
			assert.Equal(t, exact.Collected, got.Collected)
			for _, q := range []struct{ exact, got float64 }{{exact.FrictionP50, got.FrictionP50}, {exact.FrictionP90, got.FrictionP90}} {
				if math.IsInf(q.exact, 1) {
					assert.True(t, math.IsInf(q.got, 1) || q.got > 0, "not reached exactly, binned %v", q.got)
					continue
				}
				w := math.Max(1, q.exact/staySub*2)
				tol := w / 2
				if tc.censored > 0 {
					tol = 2 * w
				}
				assert.InDelta(t, q.exact, q.got, tol+0.5, "exact %v binned %v", q.exact, q.got)
			}
		})
	}
}

// A node's bins are fixed in size: recording stays allocates nothing.
func TestStayHistAllocationFree(t *testing.T) {
	var h stayHist
	d := model.Duration(0)
	allocs := testing.AllocsPerRun(1000, func() {
		d += 37 * model.Minute
		h.add(d%(30*model.Day), d%(3*model.Minute) == 0)
	})
	require.Zero(t, allocs)
	var empty *stayHist
	require.True(t, math.IsInf(empty.result().FrictionP50, 1))
}

// stayKey and pickupOfSorted are the exact Kaplan–Meier estimate over
// stays in milliseconds (a stay: its duration shifted left by one, the low
// bit set when censored; sorted, pickups come before censorings of the same
// duration), the reference the binned estimate is checked against.
func stayKey(d model.Duration, collected bool) uint64 {
	k := uint64(max(d, 0)) << 1
	if !collected {
		k |= 1
	}
	return k
}

func pickupOfSorted(keys []uint64) PickupResult {
	p := PickupResult{Ready: uint64(len(keys)), FrictionP50: math.Inf(1), FrictionP90: math.Inf(1)}
	s := 1.0
	atRisk := len(keys)
	for k := 0; k < len(keys); {
		d := keys[k] >> 1
		events, n := 0, 0
		for ; k < len(keys) && keys[k]>>1 == d; k++ {
			n++
			if keys[k]&1 == 0 {
				events++
			}
		}
		if events > 0 {
			p.Collected += uint64(events)
			s *= 1 - float64(events)/float64(atRisk)
			t := model.Duration(d).Minutes()
			if math.IsInf(p.FrictionP50, 1) && s <= 0.5+kmEps {
				p.FrictionP50 = t
			}
			if math.IsInf(p.FrictionP90, 1) && s <= 0.1+kmEps {
				p.FrictionP90 = t
			}
		}
		atRisk -= n
	}
	return p
}
