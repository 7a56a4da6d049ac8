package scenarios

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// anyWithin answers as measuring every point would, for points clustered
// in a city, spread over the globe, near the poles and across the date
// line, and radii from metres to thousands of km.
func TestLatBandAnyWithinAgainstEveryPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type cloud struct{ lat, lng, spread float64 }
	for _, c := range []cloud{{52.5, 13.4, 0.3}, {0, 0, 90}, {89.5, 0, 0.8}, {-10, 179.9, 0.5}} {
		var lat, lng []float64
		for range 300 {
			la := c.lat + (rng.Float64()*2-1)*c.spread
			lo := c.lng + (rng.Float64()*2-1)*c.spread*2
			lat, lng = append(lat, max(-90, min(90, la))), append(lng, lo)
		}
		b := newLatBand(lat, lng)
		hits := 0
		for q := range 2000 {
			la := max(-90, min(90, c.lat+(rng.Float64()*2-1)*c.spread*1.5))
			lo := c.lng + (rng.Float64()*2-1)*c.spread*3
			km := []float64{0.01, 0.5, 2, 10, 100, 3000}[q%6]
			want := false
			for k := range lat {
				want = want || model.HaversineKm(la, lo, lat[k], lng[k]) <= km
			}
			require.Equal(t, want, b.anyWithin(la, lo, km), "cloud %v, query %v,%v within %v km", c, la, lo, km)
			if want {
				hits++
			}
		}
		require.Positive(t, hits)
		require.Less(t, hits, 2000)
	}
	// exactly at the radius counts as within, as the scan's <= did
	b := newLatBand([]float64{52.5}, []float64{13.4})
	d := model.HaversineKm(52.51, 13.41, 52.5, 13.4)
	require.True(t, b.anyWithin(52.51, 13.41, d))
	require.False(t, newLatBand(nil, nil).anyWithin(0, 0, 1e6))
}

// nearest answers as a scan over every point would, ties (points at the
// same place) going to the lesser by the given order, for the same clouds.
func TestLatBandNearestAgainstEveryPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ lat, lng, spread float64 }{{52.5, 13.4, 0.3}, {0, 0, 90}, {89.5, 0, 0.8}, {-10, 179.9, 0.5}} {
		var lat, lng []float64
		for k := range 300 {
			if k%10 == 9 { // a twin of an earlier point: a tie
				j := rng.IntN(k)
				lat, lng = append(lat, lat[j]), append(lng, lng[j])
				continue
			}
			lat = append(lat, max(-90, min(90, c.lat+(rng.Float64()*2-1)*c.spread)))
			lng = append(lng, c.lng+(rng.Float64()*2-1)*c.spread*2)
		}
		rank := rng.Perm(len(lat)) // the tie order: not the index order
		less := func(i, j int) bool { return rank[i] < rank[j] }
		b := newLatBand(lat, lng)
		for range 2000 {
			var la, lo float64
			if rng.IntN(4) == 0 { // exactly on a point, often a tied one
				j := rng.IntN(len(lat))
				la, lo = lat[j], lng[j]
			} else {
				la = max(-90, min(90, c.lat+(rng.Float64()*2-1)*c.spread*3))
				lo = c.lng + (rng.Float64()*2-1)*c.spread*6
			}
			best, want := math.Inf(1), -1
			for k := range lat {
				d := model.HaversineKm(la, lo, lat[k], lng[k])
				if d < best || d == best && want >= 0 && less(k, want) {
					best, want = d, k
				}
			}
			require.Equal(t, want, b.nearest(la, lo, less), "cloud %v, query %v,%v", c, la, lo)
		}
	}
	require.Equal(t, -1, newLatBand(nil, nil).nearest(1, 2, func(int, int) bool { return false }))
}
