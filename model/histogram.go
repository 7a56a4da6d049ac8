package model

import (
	"iter"
	"math"
)

// Histogram counts non-negative values in fixed one-unit bins up to a limit
// (values above land in the last bin), so quantiles cost bounded memory
// whatever the number of samples.
type Histogram struct {
	Counts []uint64
	N      uint64
	Sum    float64
}

// HistogramBins is the number of bins (one per minute over 14 days).
const HistogramBins = 14 * 24 * 60

// Add records v.
func (h *Histogram) Add(v float64) {
	if h.Counts == nil {
		h.Counts = make([]uint64, HistogramBins+1)
	}
	b := int(v)
	if v < 0 || math.IsNaN(v) {
		b = 0
	}
	if b > HistogramBins {
		b = HistogramBins
	}
	h.Counts[b]++
	h.N++
	h.Sum += v
}

// Mean returns the mean of the recorded values (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.N == 0 {
		return 0
	}
	return h.Sum / float64(h.N)
}

// Quantile returns the q-quantile (0..1), interpolated within its bin.
func (h *Histogram) Quantile(q float64) float64 {
	return BinsQuantile(h.N, q, len(h.Counts), func(yield func(int, uint64) bool) {
		for i, c := range h.Counts {
			if !yield(i, c) {
				return
			}
		}
	})
}

// BinsQuantile is the q-quantile (0..1) of n values counted in one-unit
// bins, interpolated within its bin: bins yields each bin's index and
// count in increasing order (bins of zero may be left out), and a q past
// the last count gives end. Histogram.Quantile is BinsQuantile over its
// Counts; a driver that keeps its counts otherwise gets the same answers,
// to the bit, from the same bins.
func BinsQuantile(n uint64, q float64, end int, bins iter.Seq2[int, uint64]) float64 {
	if n == 0 {
		return 0
	}
	target := q * float64(n)
	var acc float64
	for i, c := range bins {
		if c == 0 {
			continue
		}
		if acc+float64(c) >= target {
			return float64(i) + (target-acc)/float64(c)
		}
		acc += float64(c)
	}
	return float64(end)
}
