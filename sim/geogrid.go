package sim

import (
	"math"
	"sort"
)

// geoGrid indexes points (lat/lng in degrees) in a uniform lat/lng grid so
// that the nodes near a demand cell are found without measuring the
// distance to every node: setup is linear in neighborhoods + nodes, not
// their product. It only prunes: callers measure the distances they did
// before (model.HaversineKm on the same arguments) and sort as they did, so
// their answers are unchanged. A grid cell is skipped only when a lower
// bound of the great-circle distance to anything in it exceeds what the
// caller still needs, by a margin far above rounding error.
//
// The bound: hav(d/R) = hav(dlat) + cos(lat1) cos(lat2) hav(dlng) is at
// least hav(gap in lat) + c hav(gap in lng), with c the least product of
// cosines over the query and the cell, as long as the longitude gaps stay
// below 180 degrees; outside that (points near the poles, wider than 90
// degrees of longitude, a query far outside) the grid declines (ok false)
// and callers scan every point.
type geoGrid struct {
	lat0, lng0 float64 // south-west corner, degrees
	dLat, dLng float64 // cell size, degrees
	nx, ny     int
	start      []int32 // per cell (row-major), into idx; len nx*ny+1
	idx        []int32 // point ids grouped by cell, ascending within each
	lat, lng   []float64
	maxLng     float64 // the points' easternmost longitude (lng0: westernmost)
}

// geoMargin is the relative and absolute slack (km) of every pruning test.
const geoMargin = 1e-9

// newGeoGrid indexes the points ids[k] at (lat[k], lng[k]); nil when the
// points do not suit the bound (see geoGrid).
func newGeoGrid(ids []int32, lat, lng []float64) *geoGrid {
	if len(ids) == 0 {
		return nil
	}
	minLat, maxLat, minLng, maxLng := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for k := range ids {
		if !(math.Abs(lat[k]) <= 80 && math.Abs(lng[k]) <= 180) {
			return nil
		}
		minLat, maxLat = math.Min(minLat, lat[k]), math.Max(maxLat, lat[k])
		minLng, maxLng = math.Min(minLng, lng[k]), math.Max(maxLng, lng[k])
	}
	if maxLng-minLng > 90 {
		return nil
	}
	// about two points per cell, cells about square on the ground
	cells := max(1, len(ids)/2)
	kx := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	w, h := math.Max((maxLng-minLng)*kx, 1e-6), math.Max(maxLat-minLat, 1e-6)
	side := math.Sqrt(w * h / float64(cells))
	g := &geoGrid{lat0: minLat, lng0: minLng, maxLng: maxLng}
	g.nx = min(max(1, int(w/side)), 4096)
	g.ny = min(max(1, int(h/side)), 4096)
	g.dLat = h / float64(g.ny) * (1 + 1e-12)
	g.dLng = math.Max(maxLng-minLng, 1e-6/kx) / float64(g.nx) * (1 + 1e-12)
	cellOf := make([]int32, len(ids))
	g.start = make([]int32, g.nx*g.ny+1)
	for k := range ids {
		cx, cy := g.cell(lat[k], lng[k])
		cellOf[k] = int32(cy*g.nx + cx)
		g.start[cellOf[k]+1]++
	}
	for c := 1; c < len(g.start); c++ {
		g.start[c] += g.start[c-1]
	}
	g.idx = make([]int32, len(ids))
	g.lat, g.lng = make([]float64, len(ids)), make([]float64, len(ids))
	fill := append([]int32(nil), g.start[:len(g.start)-1]...)
	order := make([]int, len(ids))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return ids[order[a]] < ids[order[b]] })
	for _, k := range order {
		p := fill[cellOf[k]]
		fill[cellOf[k]]++
		g.idx[p], g.lat[p], g.lng[p] = ids[k], lat[k], lng[k]
	}
	return g
}

// cell is the grid cell of a position, clamped to the grid.
func (g *geoGrid) cell(lat, lng float64) (int, int) {
	cx := int(math.Floor((lng - g.lng0) / g.dLng))
	cy := int(math.Floor((lat - g.lat0) / g.dLat))
	return min(max(cx, 0), g.nx-1), min(max(cy, 0), g.ny-1)
}

// covers reports whether the bound holds for a query at (lat, lng).
func (g *geoGrid) covers(lat, lng float64) bool {
	return g != nil && math.Abs(lat) <= 85 && lng >= g.lng0-45 && lng <= g.maxLng+45
}

// lowerKm is a lower bound of the great-circle distance in km from a point
// at latitude lat to any point whose latitude lies in [la, lb] and whose
// longitude is at least gapLng degrees away, gapLat being the latitude gap.
func lowerKm(lat, la, lb, gapLat, gapLng float64) float64 {
	const rad = math.Pi / 180
	c := math.Cos(lat*rad) * math.Min(math.Cos(la*rad), math.Cos(lb*rad))
	s1, s2 := math.Sin(gapLat*rad/2), math.Sin(gapLng*rad/2)
	h := s1*s1 + math.Max(c, 0)*s2*s2
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// cellLower bounds the distance from (lat, lng) to anything in cell (cx, cy).
func (g *geoGrid) cellLower(lat, lng float64, cx, cy int) float64 {
	la, lb := g.lat0+float64(cy)*g.dLat, g.lat0+float64(cy+1)*g.dLat
	wa, wb := g.lng0+float64(cx)*g.dLng, g.lng0+float64(cx+1)*g.dLng
	gapLat := math.Max(0, math.Max(la-lat, lat-lb))
	gapLng := math.Max(0, math.Max(wa-lng, lng-wb))
	return lowerKm(lat, la, lb, gapLat, gapLng)
}

// ringLower bounds the distance from (lat, lng) to anything in a cell more
// than r rings away from its (clamped) cell: r cells of latitude or of
// longitude lie between.
func (g *geoGrid) ringLower(lat float64, r int) float64 {
	la, lb := g.lat0, g.lat0+float64(g.ny)*g.dLat
	return math.Min(lowerKm(lat, la, lb, float64(r)*g.dLat, 0), lowerKm(lat, la, lb, 0, float64(r)*g.dLng))
}

// above reports whether a lower bound lb exceeds d beyond the margin.
func above(lb, d float64) bool { return lb > d*(1+geoMargin)+geoMargin }

// visit calls fn with every point in the cells of ring r around (cx, cy)
// whose lower bound from (lat, lng) is not above limit; it reports whether
// the ring has any cell in the grid.
func (g *geoGrid) visit(lat, lng float64, cx, cy, r int, limit float64, fn func(id int32)) bool {
	any := false
	for y := cy - r; y <= cy+r; y++ {
		if y < 0 || y >= g.ny {
			continue
		}
		step := 2 * r
		if y == cy-r || y == cy+r || r == 0 {
			step = 1
		}
		for x := cx - r; x <= cx+r; x += max(step, 1) {
			if x < 0 || x >= g.nx {
				continue
			}
			any = true
			if above(g.cellLower(lat, lng, x, y), limit) {
				continue
			}
			c := y*g.nx + x
			for p := g.start[c]; p < g.start[c+1]; p++ {
				fn(g.idx[p])
			}
		}
	}
	return any
}

// within calls fn with at least every point within km of (lat, lng), and
// some beyond.
func (g *geoGrid) within(lat, lng, km float64, fn func(id int32)) {
	cx, cy := g.cell(lat, lng)
	for r := 0; ; r++ {
		if r > 0 && above(g.ringLower(lat, r-1), km) {
			return
		}
		if !g.visit(lat, lng, cx, cy, r, km, fn) {
			return // the ring is all outside the grid, and so are the next
		}
	}
}

// nearest calls fn with at least the k points nearest to (lat, lng) and
// every point as near as the k-th (ties included), and some beyond; kth
// returns the k-th smallest distance fn has been given so far (+Inf before
// k points).
func (g *geoGrid) nearest(lat, lng float64, kth func() float64, fn func(id int32)) {
	cx, cy := g.cell(lat, lng)
	for r := 0; ; r++ {
		limit := kth()
		if r > 0 && above(g.ringLower(lat, r-1), limit) {
			return
		}
		if !g.visit(lat, lng, cx, cy, r, limit, fn) {
			return
		}
	}
}
