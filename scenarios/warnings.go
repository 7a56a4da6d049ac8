package scenarios

import (
	"fmt"
	"math"

	h3 "github.com/uber/h3-go/v4"

	"github.com/lockstep-sim/lockstep/model"
)

// Warnings are the values Load, Parse or Validate found valid but
// suspicious (a node no customer can reach, a node at 0,0, absurd demand),
// sorted by line. They never make a scenario invalid; commands print them
// to stderr with Error.Warning.
func (s *Scenario) Warnings() Errors { return s.warnings }

// Warning formats e as a warning: "file:line:col: warning: path: msg".
func (e Error) Warning() string {
	w := e
	w.Path, w.Msg = "", "warning: "
	if e.Path != "" {
		w.Msg += e.Path + ": "
	}
	w.Msg += e.Msg
	return w.Error()
}

// warnf records a warning at path, placed like an error.
func (c *checker) warnf(path, format string, args ...any) {
	errs := c.errs
	c.errs = nil
	c.errf(path, format, args...)
	c.warns = append(c.warns, c.errs...)
	c.errs = errs
}

// warnings looks, in a valid scenario, for nodes no neighborhood can reach,
// nodes at 0,0 or far from every neighborhood, demand cells with no pickup
// node within the choice radius, peaks outside the horizon and absurd
// demand.
func (c *checker) warnings() {
	s := c.s
	demand, err := s.demandCells()
	if err != nil || len(demand) == 0 {
		return
	}
	centre := make([]h3.LatLng, len(demand))
	for i, d := range demand {
		centre[i] = d.LatLng()
	}
	ch := s.Customers.Choice
	pickup := func(n *Node) bool { return n.Kind != KindMicrostore }
	// with the nearest rule a node is reached when it is some cell's nearest
	// (cell centre to the node's cell centre, ties by id, as the simulator)
	reached := map[int]bool{}
	if ch.Model == ChoiceNearest {
		var ids []int
		var lat, lng []float64
		for i := range s.Nodes {
			if n := &s.Nodes[i]; pickup(n) {
				nl := n.Cell(s.Geography.Resolution).LatLng()
				ids, lat, lng = append(ids, i), append(lat, nl.Lat), append(lng, nl.Lng)
			}
		}
		nodes := newLatBand(lat, lng)
		byID := func(a, b int) bool { return s.Nodes[ids[a]].ID < s.Nodes[ids[b]].ID }
		for _, ll := range centre {
			bi := nodes.nearest(ll.Lat, ll.Lng, byID)
			if bi >= 0 {
				bi = ids[bi]
			}
			reached[bi] = true
		}
	}
	// a node with a demand cell within quiet km draws no distance warning;
	// only the others need the nearest cell's distance
	quiet := farFromDemandKm
	if ch.Model == ChoiceLogit {
		quiet = math.Min(quiet, ch.RadiusKm)
	}
	lat, lng := make([]float64, len(centre)), make([]float64, len(centre))
	for i, ll := range centre {
		lat[i], lng[i] = ll.Lat, ll.Lng
	}
	cells := newLatBand(lat, lng)
	labels := c.nodeLabels()
	for i := range s.Nodes {
		n := &s.Nodes[i]
		p := elemPath("nodes", labels[i])
		if n.Lat == 0 && n.Lng == 0 {
			c.warnf(p, "the node is at 0,0 (lat and lng left out?)")
			continue
		}
		near := 0.0 // within quiet: no warning depends on how near
		if !cells.anyWithin(n.Lat, n.Lng, quiet) {
			near = math.Inf(1)
			for _, ll := range centre {
				near = math.Min(near, model.HaversineKm(ll.Lat, ll.Lng, n.Lat, n.Lng))
			}
		}
		switch {
		case near > farFromDemandKm:
			c.warnf(p, "the node is %.0f km from the nearest demand cell, far from every neighborhood (lat and lng swapped or mistyped?)", near)
		case !pickup(n):
		case ch.Model == ChoiceLogit && near > ch.RadiusKm:
			c.warnf(p, "no neighborhood can reach the node: the nearest demand cell is %.1f km away, beyond customers.choice.radius_km %s", near, fmtNum(ch.RadiusKm))
		case ch.Model == ChoiceNearest && !reached[i]:
			c.warnf(p, "no neighborhood can reach the node: it is the nearest pickup node of no demand cell (customers.choice.model: nearest)")
		}
	}
	c.warnUncovered()
	c.warnDemand()
	c.warnFloorArea() // metrics.go
}

// warnUncovered flags neighborhoods with cells that have no pickup node
// within the logit's radius (they fall back to the nearest node).
func (c *checker) warnUncovered() {
	s := c.s
	if s.Customers.Choice.Model != ChoiceLogit {
		return
	}
	var lat, lng []float64
	for j := range s.Nodes {
		if n := &s.Nodes[j]; n.Kind != KindMicrostore {
			lat, lng = append(lat, n.Lat), append(lng, n.Lng)
		}
	}
	pickup := newLatBand(lat, lng)
	labels := c.neighborhoodLabels()
	for i := range s.Neighborhoods {
		cells, err := s.NeighborhoodCells(i)
		if err != nil {
			continue
		}
		bare := 0
		for _, cell := range cells {
			ll := cell.LatLng()
			if !pickup.anyWithin(ll.Lat, ll.Lng, s.Customers.Choice.RadiusKm) {
				bare++
			}
		}
		if bare > 0 {
			c.warnf(elemPath("neighborhoods", labels[i]), "%d of %d cells have no pickup node within customers.choice.radius_km %s; their customers are offered the nearest node only",
				bare, len(cells), fmtNum(s.Customers.Choice.RadiusKm))
		}
	}
}

// warnDemand flags demand that would need more than 10^7 parcels a day on
// the calendar's busiest day, and peaks that miss the horizon.
func (c *checker) warnDemand() {
	s := c.s
	cal, err := s.calendarConfig()
	if err != nil {
		return
	}
	start, end := s.StartInstant(), s.EndInstant()
	busiest := 0.0
	for d, n := start, 0; d < end && n < 3700; d, n = d+model.Instant(model.Day), n+1 {
		busiest = math.Max(busiest, cal.DayFactor(d))
	}
	uplift := 1.0
	for _, u := range cal.Uplifts {
		uplift *= math.Max(u.Factor, 1)
	}
	f := busiest * uplift
	labels := c.neighborhoodLabels()
	total, flagged := 0.0, false
	for i, nb := range s.Neighborhoods {
		total += nb.OrdersPerDay
		if nb.OrdersPerDay*f > absurdParcelsPerDay {
			flagged = true
			c.warnf(elemPath("neighborhoods", labels[i])+".orders_per_day", "%s on the busiest day: more than 10^7 parcels a day (a typo?)", demandText(nb.OrdersPerDay, f))
		}
	}
	if !flagged && total*f > absurdParcelsPerDay {
		c.warnf("neighborhoods", "%s in all on the busiest day: more than 10^7 parcels a day (a typo?)", demandText(total, f))
	}
	peaks := c.peakLabels()
	for i, p := range cal.Peaks {
		if p.Until <= start || p.From >= end {
			c.warnf(elemPath("demand_calendar.peaks", peaks[i]), "the peak %s..%s lies outside the simulated days", s.DemandCalendar.Peaks[i].From, s.DemandCalendar.Peaks[i].Until)
		}
	}
}

func demandText(perDay, factor float64) string {
	if factor == 1 {
		return fmt.Sprintf("%.3g orders", perDay)
	}
	return fmt.Sprintf("%.3g orders (%s x the calendar's and uplifts' largest factor %.3g)", perDay*factor, fmtNum(perDay), factor)
}
