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
	id       []int     // the points' indexes in the arguments of newLatBand
}

func newLatBand(lat, lng []float64) *latBand {
	idx := make([]int, len(lat))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lat[idx[a]] < lat[idx[b]] })
	b := &latBand{lat: make([]float64, len(idx)), lng: make([]float64, len(idx)), id: idx}
	for k, i := range idx {
		b.lat[k], b.lng[k] = lat[i], lng[i]
	}
	return b
}

// band returns the range of points whose latitude is within km of lat's
// (with slack), the only ones that can be within km.
func (b *latBand) band(lat, km float64) (from, to int) {
	d := km/earthKm*180/math.Pi*(1+bandSlack) + bandSlack
	from = sort.SearchFloat64s(b.lat, lat-d)
	to = from
	for to < len(b.lat) && b.lat[to] <= lat+d {
		to++
	}
	return from, to
}

// nearest returns the index (as given to newLatBand) of the point nearest
// to (lat, lng) by model.HaversineKm, ties going to the point before
// (less(i, j): i before j); -1 without points. It measures the points of
// a band of latitude, widening it fourfold until the nearest found lies
// within it, so that every point as near is in the band: the answer of a
// scan over every point.
func (b *latBand) nearest(lat, lng float64, less func(i, j int) bool) int {
	if len(b.lat) == 0 || math.IsNaN(lat) || math.IsNaN(lng) {
		return b.nearestScan(lat, lng, less)
	}
	for km := 1.0; ; km *= 4 {
		from, to := b.band(lat, km)
		best, bi := math.Inf(1), -1
		for k := from; k < to; k++ {
			d := model.HaversineKm(lat, lng, b.lat[k], b.lng[k])
			if d < best || d == best && bi >= 0 && less(b.id[k], bi) {
				best, bi = d, b.id[k]
			}
		}
		if best <= km || from == 0 && to == len(b.lat) {
			return bi
		}
	}
}

// nearestScan is nearest by measuring every point, for the inputs the band
// cannot bound (NaN).
func (b *latBand) nearestScan(lat, lng float64, less func(i, j int) bool) int {
	best, bi := math.Inf(1), -1
	for k := range b.lat {
		d := model.HaversineKm(lat, lng, b.lat[k], b.lng[k])
		if d < best || d == best && bi >= 0 && less(b.id[k], bi) {
			best, bi = d, b.id[k]
		}
	}
	return bi
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
	from, to := b.band(lat, km)
	for k := from; k < to; k++ {
		if model.HaversineKm(lat, lng, b.lat[k], b.lng[k]) <= km {
			return true
		}
	}
	return false
}
