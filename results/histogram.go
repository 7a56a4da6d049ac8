package results

import (
	"fmt"
	"math"
)

// Histogram counts non-negative values (ready-to-pickup minutes) in fixed-width
// bins: bin i holds [i·BinWidth, (i+1)·BinWidth). Values at or beyond the last
// bin go to Overflow, negative values to bin 0, so memory stays bounded however
// many parcels a replication handles.
type Histogram struct {
	BinWidth float64 `json:"bin_width"`
	Counts   []int64 `json:"counts"`
	Overflow int64   `json:"overflow"`
}

// NewHistogram returns an empty histogram of bins bins of width binWidth.
func NewHistogram(binWidth float64, bins int) Histogram {
	if !(binWidth > 0) || bins < 1 {
		panic(fmt.Sprintf("results: NewHistogram(%v, %d): need positive width and at least one bin", binWidth, bins))
	}
	return Histogram{BinWidth: binWidth, Counts: make([]int64, bins)}
}

// Add counts one value (NaN is ignored).
func (h *Histogram) Add(v float64) {
	if math.IsNaN(v) || len(h.Counts) == 0 {
		return
	}
	i := 0
	if v > 0 {
		f := v / h.BinWidth
		if f >= float64(len(h.Counts)) {
			h.Overflow++
			return
		}
		i = int(f)
	}
	h.Counts[i]++
}

// Total is the number of values counted, overflow included.
func (h Histogram) Total() int64 {
	t := h.Overflow
	for _, c := range h.Counts {
		t += c
	}
	return t
}

// Limit is the upper edge of the last bin.
func (h Histogram) Limit() float64 { return h.BinWidth * float64(len(h.Counts)) }

// Merge adds o's counts into h. Both must have the same bin width; h grows to
// o's number of bins if needed (o's overflow stays overflow).
func (h *Histogram) Merge(o Histogram) error {
	if o.Total() == 0 {
		return nil
	}
	if h.BinWidth == 0 && len(h.Counts) == 0 {
		h.BinWidth = o.BinWidth
	}
	if h.BinWidth != o.BinWidth {
		return fmt.Errorf("results: cannot merge histograms with bin widths %v and %v", h.BinWidth, o.BinWidth)
	}
	if len(o.Counts) > len(h.Counts) {
		// values counted as overflow in h stay overflow; that is a lower bound.
		h.Counts = append(h.Counts, make([]int64, len(o.Counts)-len(h.Counts))...)
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.Overflow += o.Overflow
	return nil
}

// Quantile estimates the q-quantile (0 ≤ q ≤ 1) by linear interpolation inside
// the bin that holds it. A quantile falling in the overflow returns Limit(), a
// lower bound. NaN for an empty histogram.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Total()
	if total == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	q = math.Min(1, math.Max(0, q))
	target := q * float64(total)
	var cum float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= target {
			frac := (target - cum) / float64(c)
			return (float64(i) + frac) * h.BinWidth
		}
		cum += float64(c)
	}
	return h.Limit()
}

// CDF returns the empirical distribution at the bin edges: xs[i] = i·BinWidth
// and ys[i] = share of values below xs[i], for i = 0..len(Counts). Overflow
// keeps the last share below 1.
func (h Histogram) CDF() (xs, ys []float64) {
	total := float64(h.Total())
	xs = make([]float64, len(h.Counts)+1)
	ys = make([]float64, len(h.Counts)+1)
	var cum int64
	for i := range xs {
		xs[i] = float64(i) * h.BinWidth
		if total > 0 {
			ys[i] = float64(cum) / total
		}
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
	}
	return xs, ys
}
