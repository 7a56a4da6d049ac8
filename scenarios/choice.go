package scenarios

import (
	"math"
	"strconv"

	h3 "github.com/uber/h3-go/v4"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// Choice models (customers.choice.model).
const (
	ChoiceLogit   = "logit"
	ChoiceNearest = "nearest"
)

// Defaults of customers.choice (see docs/scenario.md).
const (
	DefaultChoiceRadiusKm   = 2.0
	DefaultBetaDistance     = -1.2 // utility per km
	DefaultPartnerUtility   = -0.3 // relative to a locker
	DefaultHomeBonus        = 1.0
	maxChoiceRadiusKm       = 50.0
	farFromDemandKm         = 50.0 // a node farther than this from every demand cell draws a warning
	absurdParcelsPerDay     = 1e7  // demand above this draws a warning
	customersCapacityAware  = "customers.capacity_aware"
	customersChoice         = "customers.choice"
	choiceKindUtilityPrefix = customersChoice + ".kind_utility."
)

// Choice is how customers pick their pickup node at checkout (see
// sim.Choice): a multinomial logit over the pickup nodes within RadiusKm, or
// the nearest node.
type Choice struct {
	Model        string      `yaml:"model"`
	RadiusKm     float64     `yaml:"radius_km"`
	BetaDistance float64     `yaml:"beta_distance"`
	KindUtility  KindUtility `yaml:"kind_utility"`
	HomeBonus    float64     `yaml:"home_bonus"`
}

// KindUtility is the logit's constant per pickup-node kind (utility units;
// lockers are the usual reference at 0).
type KindUtility struct {
	Locker  float64 `yaml:"locker"`
	Partner float64 `yaml:"partner"`
	Popup   float64 `yaml:"popup"`
}

// DemandCalendar shapes demand over the days (see sim.Calendar): a weekday
// profile and dated peaks. A pop-up's demo-day uplift is on its node
// (nodes[].demand_uplift).
type DemandCalendar struct {
	// Weekday holds 7 relative factors, Monday first, normalised to mean 1.
	Weekday []float64 `yaml:"weekday"`
	Peaks   []Peak    `yaml:"peaks"`
}

// Peak multiplies demand by Factor on every day from From to Until, both
// included.
type Peak struct {
	Name   string  `yaml:"name"`
	From   Date    `yaml:"from"`
	Until  Date    `yaml:"until"`
	Factor float64 `yaml:"factor"`
}

// DemandUplift raises demand by Factor in the cells a node serves while it
// is active: the demand cells whose centre is within RadiusKm of the node,
// or the grid disk of Cells around the node's cell. Neither given: the
// cells within customers.choice.radius_km.
type DemandUplift struct {
	Factor   float64 `yaml:"factor"`
	RadiusKm float64 `yaml:"radius_km"`
	Cells    *int    `yaml:"cells"`
}

func (c *checker) choiceDefaults() {
	cu := &c.s.Customers
	ch := &cu.Choice
	if ch.Model == "" && !c.has(customersChoice+".model", false) {
		ch.Model = ChoiceLogit
	}
	if !c.has(customersChoice+".radius_km", ch.RadiusKm != 0) {
		ch.RadiusKm = DefaultChoiceRadiusKm
	}
	if !c.has(customersChoice+".beta_distance", ch.BetaDistance != 0) {
		ch.BetaDistance = DefaultBetaDistance
	}
	if !c.has(choiceKindUtilityPrefix+"partner", ch.KindUtility.Partner != 0) {
		ch.KindUtility.Partner = DefaultPartnerUtility
	}
	if !c.has(customersChoice+".home_bonus", ch.HomeBonus != 0) {
		ch.HomeBonus = DefaultHomeBonus
	}
	if cu.CapacityAware == nil {
		t := true
		cu.CapacityAware = &t
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (c *checker) peakLabels() []string {
	return labelsOf(c.s.DemandCalendar.Peaks, func(p Peak) string { return p.Name })
}

func (c *checker) validateChoiceCalendar() {
	s := c.s
	ch := s.Customers.Choice
	switch ch.Model {
	case ChoiceLogit, ChoiceNearest:
	default:
		c.errf(customersChoice+".model", "must be logit or nearest (got %q)", ch.Model)
	}
	if !(ch.RadiusKm > 0 && ch.RadiusKm <= maxChoiceRadiusKm) {
		c.errf(customersChoice+".radius_km", "must be > 0 and <= %s km (got %s)", fmtNum(maxChoiceRadiusKm), fmtNum(ch.RadiusKm))
	}
	if !(ch.BetaDistance <= 0) || !finite(ch.BetaDistance) {
		c.errf(customersChoice+".beta_distance", "must be <= 0 (utility per km: customers prefer nearer nodes; got %s)", fmtNum(ch.BetaDistance))
	}
	if !(ch.HomeBonus >= 0) || !finite(ch.HomeBonus) {
		c.errf(customersChoice+".home_bonus", "must be >= 0 (got %s)", fmtNum(ch.HomeBonus))
	}
	for _, k := range []struct {
		name string
		v    float64
	}{{"locker", ch.KindUtility.Locker}, {"partner", ch.KindUtility.Partner}, {"popup", ch.KindUtility.Popup}} {
		if !finite(k.v) {
			c.errf(choiceKindUtilityPrefix+k.name, "must be a finite number (got %s)", fmtNum(k.v))
		}
	}
	cal := s.DemandCalendar
	if cal.Weekday != nil || c.has("demand_calendar.weekday", false) {
		if len(cal.Weekday) != 7 {
			c.errf("demand_calendar.weekday", "must have 7 factors, Monday first (got %d)", len(cal.Weekday))
		} else {
			sum := 0.0
			for i, v := range cal.Weekday {
				if !(v >= 0) || !finite(v) {
					c.errf(elemPath("demand_calendar.weekday", strconv.Itoa(i)), "must be >= 0 (got %s)", fmtNum(v))
				}
				sum += math.Max(v, 0)
			}
			if sum == 0 {
				c.errf("demand_calendar.weekday", "factors must not all be zero")
			}
		}
	}
	peaks := c.peakLabels()
	for i, p := range cal.Peaks {
		pp := elemPath("demand_calendar.peaks", peaks[i])
		if p.From.IsZero() {
			c.errf(pp+".from", "required (first day of the peak, like 2026-11-27)")
		}
		if p.Until.IsZero() {
			c.errf(pp+".until", "required (last day of the peak, included)")
		} else if !p.From.IsZero() && p.Until.Time().Before(p.From.Time()) {
			c.errf(pp+".until", "must not be before from %s (got %s)", p.From, p.Until)
		}
		if !c.has(pp+".factor", p.Factor != 0) {
			c.errf(pp+".factor", "required (demand multiplier on those days, e.g. 2.5)")
		} else if !(p.Factor >= 0) || !finite(p.Factor) {
			c.errf(pp+".factor", "must be >= 0 (got %s)", fmtNum(p.Factor))
		}
	}
	labels := c.nodeLabels()
	for i := range s.Nodes {
		n := &s.Nodes[i]
		u := n.DemandUplift
		if u == nil {
			continue
		}
		p := elemPath("nodes", labels[i]) + ".demand_uplift"
		if n.Active == nil {
			c.errf(p, "only a node with an active window (a pop-up) carries a demand uplift")
		}
		if !(u.Factor > 0) || !finite(u.Factor) {
			c.errf(p+".factor", "required, > 0 (demand multiplier in the cells it serves while active; got %s)", fmtNum(u.Factor))
		}
		radius, cells := c.has(p+".radius_km", u.RadiusKm != 0), u.Cells != nil
		if radius && cells {
			c.errf(p, "give radius_km or cells, not both")
		}
		if radius && !(u.RadiusKm > 0 && u.RadiusKm <= maxChoiceRadiusKm) {
			c.errf(p+".radius_km", "must be > 0 and <= %s km (got %s)", fmtNum(maxChoiceRadiusKm), fmtNum(u.RadiusKm))
		}
		if cells && (*u.Cells < 0 || *u.Cells > MaxRadius) {
			c.errf(p+".cells", "must be between 0 and %d (grid-disk radius around the node's cell; got %d)", MaxRadius, *u.Cells)
		}
	}
}

// choiceConfig is the simulator's view of customers.choice.
func (s *Scenario) choiceConfig() sim.Choice {
	ch := s.Customers.Choice
	out := sim.Choice{Model: sim.ChoiceLogit, RadiusKm: ch.RadiusKm, BetaPerKm: ch.BetaDistance, HomeBonus: ch.HomeBonus,
		CapacityAware: s.Customers.CapacityAware == nil || *s.Customers.CapacityAware}
	if ch.Model == ChoiceNearest {
		out.Model = sim.ChoiceNearest
	}
	out.KindUtility[model.Locker] = ch.KindUtility.Locker
	out.KindUtility[model.Partner] = ch.KindUtility.Partner
	out.KindUtility[model.Popup] = ch.KindUtility.Popup
	return out
}

// calendarConfig is the simulator's view of demand_calendar and the nodes'
// demand uplifts.
func (s *Scenario) calendarConfig() (sim.Calendar, error) {
	var out sim.Calendar
	copy(out.Weekday[:], s.DemandCalendar.Weekday)
	for _, p := range s.DemandCalendar.Peaks {
		out.Peaks = append(out.Peaks, sim.Peak{Name: p.Name, From: model.InstantOf(p.From.Time()),
			Until: model.InstantOf(p.Until.Time()).Add(model.Day), Factor: p.Factor})
	}
	demand, err := s.demandCells()
	if err != nil {
		return out, err
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		if n.DemandUplift == nil {
			continue
		}
		out.Uplifts = append(out.Uplifts, sim.Uplift{Node: model.NodeIndex(i), Factor: n.DemandUplift.Factor, Cells: s.upliftCells(n, demand)})
	}
	return out, nil
}

// demandCells lists every neighborhood's cells.
func (s *Scenario) demandCells() ([]h3.Cell, error) {
	var out []h3.Cell
	for i := range s.Neighborhoods {
		cells, err := s.NeighborhoodCells(i)
		if err != nil {
			return nil, err
		}
		out = append(out, cells...)
	}
	return out, nil
}

// upliftCells are the cells node n's demand uplift raises.
func (s *Scenario) upliftCells(n *Node, demand []h3.Cell) []h3.Cell {
	u := n.DemandUplift
	if u.Cells != nil {
		var out []h3.Cell
		for _, c := range n.Cell(s.Geography.Resolution).GridDisk(*u.Cells) {
			if c != 0 {
				out = append(out, c)
			}
		}
		return out
	}
	radius := u.RadiusKm
	if radius == 0 {
		radius = s.Customers.Choice.RadiusKm
	}
	var out []h3.Cell
	for _, c := range demand {
		ll := c.LatLng()
		if model.HaversineKm(ll.Lat, ll.Lng, n.Lat, n.Lng) <= radius {
			out = append(out, c)
		}
	}
	return out
}
