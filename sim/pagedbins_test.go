package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPagedBinsAgainstDense: counts through at, get and each equal a dense
// array's, and only the pages touched are allocated.
func TestPagedBinsAgainstDense(t *testing.T) {
	tests := []struct {
		name string
		bins int
		draw func(r *rand.Rand, n int) int
	}{
		{"uniform", 2017, func(r *rand.Rand, n int) int { return r.IntN(n) }},
		{"clustered low", 2017, func(r *rand.Rand, n int) int { return min(int(r.ExpFloat64()*60), n-1) }},
		{"one far bin", 1153, func(r *rand.Rand, n int) int { return n - 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var p pagedBins[uint32]
			dense := make([]uint32, tt.bins)
			for range 20000 {
				i := tt.draw(r, tt.bins)
				*p.at(i)++
				dense[i]++
			}
			for i := range dense {
				require.Equal(t, dense[i], p.get(i), "bin %d", i)
			}
			seen := make([]uint32, tt.bins)
			pages := 0
			for _, pg := range p.pages {
				if pg != nil {
					pages++
				}
			}
			p.each(func(i int, v *uint32) {
				if i < tt.bins {
					seen[i] = *v
				} else {
					require.Zero(t, *v, "bin %d beyond the range", i)
				}
			})
			require.Equal(t, dense, seen)
			want := 0
			for pi := 0; pi*binPage < tt.bins; pi++ {
				for k := pi * binPage; k < min((pi+1)*binPage, tt.bins); k++ {
					if dense[k] > 0 {
						want++
						break
					}
				}
			}
			require.Equal(t, want, pages, "pages allocated: only those with a count")
		})
	}
	var empty pagedBins[[2]uint32]
	require.Equal(t, [2]uint32{}, empty.get(5000))
}

// TestBinCountsAgainstDense: binCounts through inc, add, get and each
// equals a dense array of uint64 counts, across the carries out of a bin's
// byte (hot bins pass 256 many times, add carries several at once).
func TestBinCountsAgainstDense(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var c binCounts
	dense := make([]uint64, 2017)
	for range 200000 {
		i := min(int(r.ExpFloat64()*30), len(dense)-1) // bins 0-30 pass 256 many times
		if r.IntN(50) == 0 {
			n := uint64(r.IntN(1000))
			c.add(i, n)
			dense[i] += n
			continue
		}
		c.inc(i)
		dense[i]++
	}
	require.Greater(t, dense[0], uint64(5000))
	require.NotEmpty(t, c.carry)
	seen := make([]uint64, len(dense))
	c.each(func(i int, n uint64) {
		if i < len(dense) {
			seen[i] = n
		} else {
			require.Zero(t, n, "bin %d beyond the range", i)
		}
	})
	for i := range dense {
		require.Equal(t, dense[i], c.get(i), "bin %d", i)
	}
	require.Equal(t, dense, seen)
	var empty binCounts
	require.Zero(t, empty.get(5000))
}
