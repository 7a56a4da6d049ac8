package sim

import (
	"math"
	"math/bits"

	"github.com/lockstep-sim/lockstep/model"
)

// stayHist counts one node's pickup-friction stays (operator.go) by
// duration, collected and censored apart, in log-linear bins: one per
// minute below 256 minutes, then 128 per doubling (each under 0.8 % of its
// start wide) up to 2^15 minutes (22.7 days), the last bin open-ended. A
// run keeps one per node, so memory follows the nodes, not the parcels
// simulated, and the Kaplan–Meier estimate is one pass over the bins with
// no sort.
type stayHist struct {
	n binCounts // bin b's collected stays at 2b, its censored ones at 2b+1
}

const (
	stayExact   = 256 // minutes counted one bin each
	staySub     = 128 // bins per doubling above
	stayTopExp  = 15  // 2^15 minutes: the last bin from there on
	stayBins    = stayExact + (stayTopExp-8)*staySub + 1
	stayLastBin = stayBins - 1
)

// stayBin is the bin of a stay of m whole minutes.
func stayBin(m uint64) int {
	if m < stayExact {
		return int(m)
	}
	e := bits.Len64(m) - 1 // 2^e <= m < 2^(e+1), e >= 8
	if e >= stayTopExp {
		return stayLastBin
	}
	return stayExact + (e-8)*staySub + int(m>>(e-7))&(staySub-1)
}

// stayBinMid is the middle of bin b in minutes (the last bin: its start).
func stayBinMid(b int) float64 {
	if b < stayExact {
		return float64(b) + 0.5
	}
	if b == stayLastBin {
		return math.Exp2(stayTopExp)
	}
	e := 8 + (b-stayExact)/staySub
	sub := (b - stayExact) % staySub
	w := math.Exp2(float64(e - 7))
	return float64(staySub+sub)*w + w/2
}

func (h *stayHist) add(d model.Duration, collected bool) {
	c := 1
	if collected {
		c = 0
	}
	h.n.inc(2*stayBin(uint64(max(d, 0)/model.Minute)) + c)
}

// merge adds o's stays to h.
func (h *stayHist) merge(o *stayHist) {
	o.n.each(func(i int, n uint64) {
		if n != 0 {
			h.n.add(i, n)
		}
	})
}

// result is the Kaplan–Meier estimate over the bins (as pickupOfSorted
// over exact durations, with each bin's pickups counted before its
// censorings): quantiles at the middle of the bin where the survival curve
// crosses them; a nil h has no stays.
func (h *stayHist) result() PickupResult {
	p := PickupResult{FrictionP50: math.Inf(1), FrictionP90: math.Inf(1)}
	if h == nil {
		return p
	}
	var total uint64
	h.n.each(func(_ int, n uint64) { total += n })
	p.Ready = total
	s := 1.0
	atRisk := total
	for b := 0; b < stayBins && atRisk > 0; b++ {
		ev, ce := h.n.get(2*b), h.n.get(2*b+1)
		if ev > 0 {
			p.Collected += ev
			s *= 1 - float64(ev)/float64(atRisk)
			if math.IsInf(p.FrictionP50, 1) && s <= 0.5+kmEps {
				p.FrictionP50 = stayBinMid(b)
			}
			if math.IsInf(p.FrictionP90, 1) && s <= 0.1+kmEps {
				p.FrictionP90 = stayBinMid(b)
			}
		}
		atRisk -= ev + ce
	}
	return p
}
