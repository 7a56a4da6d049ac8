package model

import "math"

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
	if h.N == 0 {
		return 0
	}
	target := q * float64(h.N)
	var acc float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		if acc+float64(c) >= target {
			return float64(i) + (target-acc)/float64(c)
		}
		acc += float64(c)
	}
	return float64(len(h.Counts))
}
