package model_test

import (
	"fmt"

	"github.com/lockstep-sim/lockstep/model"
)

// A driver that keeps its counts sparsely gets Histogram's quantiles from
// the same bins.
func ExampleBinsQuantile() {
	var h model.Histogram
	for _, v := range []float64{3, 3, 7.5, 12, 12, 12, 40} {
		h.Add(v)
	}
	sparse := map[int]uint64{3: 2, 7: 1, 12: 3, 40: 1} // bin -> count
	order := []int{3, 7, 12, 40}
	bins := func(yield func(int, uint64) bool) {
		for _, b := range order {
			if !yield(b, sparse[b]) {
				return
			}
		}
	}
	for _, q := range []float64{0.5, 0.9} {
		fmt.Printf("q %.1f: %.3f %.3f\n", q, h.Quantile(q), model.BinsQuantile(h.N, q, 41, bins))
	}
	// Output:
	// q 0.5: 12.167 12.167
	// q 0.9: 40.300 40.300
}
