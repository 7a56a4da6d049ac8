package scenarios

import (
	"math"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// latBand indexes points by latitude so that "is any point within km of
// here?" looks only at the points in a band of latitude around the query:
// a great-circle distance is never shorter than the meridian arc between
// the two latitudes, so a point farther in latitude cannot be within km.
// The warnings ask that for every node against every demand cell and for
// every demand cell against every node, which measured every pair before:
// 3.6 s of loading the 100x bench city (5 500 nodes). Points in the band are
// measured as before (model.HaversineKm), so the answers are unchanged.
type latBand struct {
	lat, lng []float64 // sorted by lat
}

func newLatBand(lat, lng []float64) *latBand {
	idx := make([]int, len(lat))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lat[idx[a]] < lat[idx[b]] })
	b := &latBand{lat: make([]float64, len(idx)), lng: make([]float64, len(idx))}
	for k, i := range idx {
		b.lat[k], b.lng[k] = lat[i], lng[i]
	}
	return b
}

// earthKm is the radius model.HaversineKm uses; bandSlack widens the band
// far beyond rounding error.
const (
	earthKm   = 6371.0088
	bandSlack = 1e-6
)

// anyWithin reports whether some point is within km of (lat, lng), by
// model.HaversineKm.
func (b *latBand) anyWithin(lat, lng, km float64) bool {
	if math.IsNaN(lat) || math.IsNaN(km) {
		return false
	}
	d := km/earthKm*180/math.Pi*(1+bandSlack) + bandSlack
	k := sort.SearchFloat64s(b.lat, lat-d)
	for ; k < len(b.lat) && b.lat[k] <= lat+d; k++ {
		if model.HaversineKm(lat, lng, b.lat[k], b.lng[k]) <= km {
			return true
		}
	}
	return false
}
