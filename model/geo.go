package model

import (
	"fmt"
	"math"

	"github.com/uber/h3-go/v4"
)

// Cell is an H3 cell index.
type Cell = h3.Cell

// CellAt returns the H3 cell of a coordinate at resolution res, validating its
// inputs (h3-go v4.1.0 discards the C library's error codes).
func CellAt(lat, lng float64, res int) (Cell, error) {
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return 0, fmt.Errorf("latitude %v outside [-90, 90]", lat)
	}
	if math.IsNaN(lng) || lng < -180 || lng > 180 {
		return 0, fmt.Errorf("longitude %v outside [-180, 180]", lng)
	}
	if res < 0 || res > 15 {
		return 0, fmt.Errorf("H3 resolution %d outside [0, 15]", res)
	}
	c := h3.LatLngToCell(h3.NewLatLng(lat, lng), res)
	if !c.IsValid() {
		return 0, fmt.Errorf("no H3 cell for (%v, %v) at resolution %d", lat, lng, res)
	}
	return c, nil
}

// ParseCell parses an H3 cell string and checks it is a valid cell.
func ParseCell(s string) (Cell, error) {
	c := Cell(h3.IndexFromString(s))
	if !c.IsValid() {
		return 0, fmt.Errorf("%q is not a valid H3 cell", s)
	}
	return c, nil
}

// GridDistance is the H3 grid distance between a and b. h3-go v4.1.0 returns 0
// when the C library fails (cells too far apart, across a pentagon), so a
// zero for distinct cells is replaced by an estimate from the great-circle
// distance and the average edge length, which keeps "nearest" orderings
// meaningful and deterministic.
func GridDistance(a, b Cell) int {
	if a == b {
		return 0
	}
	if d := h3.GridDistance(a, b); d > 0 {
		return d
	}
	km := h3.GreatCircleDistanceKm(a.LatLng(), b.LatLng())
	edge := h3.HexagonEdgeLengthAvgKm(a.Resolution())
	est := int(math.Ceil(km / (edge * math.Sqrt(3))))
	if est < 1 {
		est = 1
	}
	return est
}

// GridDisk lists the cells within grid distance k of origin by distance
// (rings[d]: the cells at distance d). ok is false when the disk meets a
// pentagon (h3 leaves cells zero there), where rings are not exact.
func GridDisk(origin Cell, k int) (rings [][]Cell, ok bool) {
	rings = h3.GridDiskDistances(origin, k)
	for _, ring := range rings {
		for _, cell := range ring {
			if cell == 0 {
				return nil, false
			}
		}
	}
	return rings, true
}

// HaversineKm is the great-circle distance in km between two points given
// in degrees.
func HaversineKm(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371.0088
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lng2-lng1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
