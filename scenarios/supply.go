package scenarios

import (
	"fmt"
	"math"
	"strconv"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// Supply is the central supply tier: a depot that serves, by line-haul
// waves, every order the fulfilling node's cache cannot. Without it an
// uncached SKU is served at the fulfilling node from an unlimited back store
// at once (docs/scenario.md, "Central supply").
type Supply struct {
	Depot *LatLng `yaml:"depot"`
	// Waves are the departure clock times.
	Waves []ClockTime `yaml:"waves"`
	// OrderCutoff: an order rides a wave placed at least this long before
	// its departure.
	OrderCutoff Duration `yaml:"order_cutoff"`
	// Lead time to a node = Handling + great-circle distance x RoadFactor /
	// SpeedKmh, unless Lead gives it for the node.
	Handling   Duration            `yaml:"handling"`
	SpeedKmh   float64             `yaml:"speed_kmh"`
	RoadFactor float64             `yaml:"road_factor"`
	Lead       map[string]Duration `yaml:"lead"`
	// LastMile is the time the sla.fallback rule allows from a wave's
	// arrival to ready for pickup.
	LastMile  Duration     `yaml:"last_mile"`
	InboundAt ClockTime    `yaml:"inbound_at"`
	Stock     []DepotStock `yaml:"stock"`
	PerParcel float64      `yaml:"per_parcel"`
	PerWave   float64      `yaml:"per_wave"`
}

// DepotStock is the depot's finite supply of one SKU (SKUs not listed are
// unlimited).
type DepotStock struct {
	SKU           string `yaml:"sku"`
	Units         int    `yaml:"units"`
	InboundPerDay int    `yaml:"inbound_per_day"`
}

// Staff is the pickers of the fulfilling nodes (fulfilment.staff).
type Staff struct {
	// Default pickers at every fulfilling node during its opening hours.
	Default int `yaml:"default"`
	// Nodes override the default for a node by shifts.
	Nodes []NodeStaff `yaml:"nodes"`
	// CostPerHour is paid per picker-hour on shift.
	CostPerHour float64 `yaml:"cost_per_hour"`
}

// NodeStaff is one node's picker shifts.
type NodeStaff struct {
	ID     string       `yaml:"id"`
	Shifts []StaffShift `yaml:"shifts"`
}

// StaffShift is a daily span of a node with its number of pickers.
type StaffShift struct {
	Hours   Hours `yaml:"hours"`
	Pickers int   `yaml:"pickers"`
}

// Fallback rules (sla.fallback).
const (
	FallbackNextDay = "next_day"
	FallbackMiss    = "miss"
)

// Supply defaults.
const (
	DefaultSupplyOrderCutoff = model.Hour
	DefaultSupplyHandling    = 30 * model.Minute
	DefaultSupplySpeedKmh    = 30
	DefaultSupplyRoadFactor  = 1.3
	DefaultSupplyLastMile    = model.Hour
	DefaultSupplyInboundAt   = 5 * model.Hour
)

func (c *checker) supplyDefaults() {
	s := c.s
	if s.SLA.Fallback == "" && !c.has("sla.fallback", false) {
		s.SLA.Fallback = FallbackNextDay
	}
	sp := s.Supply
	if sp == nil {
		return
	}
	if !c.has("supply.order_cutoff", sp.OrderCutoff != 0) {
		sp.OrderCutoff = Duration(DefaultSupplyOrderCutoff)
	}
	if !c.has("supply.handling", sp.Handling != 0) {
		sp.Handling = Duration(DefaultSupplyHandling)
	}
	if !c.has("supply.speed_kmh", sp.SpeedKmh != 0) {
		sp.SpeedKmh = DefaultSupplySpeedKmh
	}
	if !c.has("supply.road_factor", sp.RoadFactor != 0) {
		sp.RoadFactor = DefaultSupplyRoadFactor
	}
	if !c.has("supply.last_mile", sp.LastMile != 0) {
		sp.LastMile = Duration(DefaultSupplyLastMile)
	}
	if !c.has("supply.inbound_at", sp.InboundAt != 0) {
		sp.InboundAt = ClockTime(DefaultSupplyInboundAt)
	}
}

func (c *checker) validateSupply(skus map[string]bool) {
	s := c.s
	switch s.SLA.Fallback {
	case FallbackNextDay, FallbackMiss:
	default:
		c.errf("sla.fallback", "must be next_day or miss (got %q)", s.SLA.Fallback)
	}
	nodes := map[string]string{}
	for _, n := range s.Nodes {
		nodes[n.ID] = n.Kind
	}
	if st := s.Fulfilment.Staff; st != nil {
		if !c.has("fulfilment.staff.default", st.Default != 0) {
			c.errf("fulfilment.staff.default", "required (pickers at each fulfilling node while it is open; 0 for none)")
		} else if st.Default < 0 {
			c.errf("fulfilment.staff.default", "must be >= 0 (got %d)", st.Default)
		}
		c.nonNegative("fulfilment.staff.cost_per_hour", st.CostPerHour)
		seen := map[string]bool{}
		labels := labelsOf(st.Nodes, func(n NodeStaff) string { return n.ID })
		for i, n := range st.Nodes {
			p := elemPath("fulfilment.staff.nodes", labels[i])
			switch {
			case nodes[n.ID] == "":
				c.errf(p+".id", "unknown node %q", n.ID)
			case nodes[n.ID] != KindMicrostore:
				c.errf(p+".id", "node %s is a %s: only microstores pick", n.ID, nodes[n.ID])
			case seen[n.ID]:
				c.errf(p+".id", "node %s listed twice", n.ID)
			}
			seen[n.ID] = true
			if len(n.Shifts) == 0 {
				c.errf(p+".shifts", "must list at least one shift")
			}
			for k, sh := range n.Shifts {
				q := elemPath(p+".shifts", strconv.Itoa(k))
				if len(sh.Hours) == 0 {
					c.errf(q+".hours", "required (e.g. \"07:00-15:00\")")
				}
				if sh.Pickers < 0 {
					c.errf(q+".pickers", "must be >= 0 (got %d)", sh.Pickers)
				}
			}
		}
	}
	sp := s.Supply
	if sp == nil {
		if c.has("sla.fallback", false) {
			c.errf("sla.fallback", "only used with a supply section (nothing falls back without a central path)")
		}
		return
	}
	if sp.Depot == nil {
		c.errf("supply.depot", "required ({lat, lng} of the central depot)")
	} else {
		c.latLng("supply.depot", sp.Depot.Lat, sp.Depot.Lng)
	}
	if len(sp.Waves) == 0 {
		c.errf("supply.waves", "must list at least one departure time (e.g. [\"06:00\", \"11:00\"])")
	}
	for i, w := range sp.Waves {
		if w < 0 || w >= ClockTime(model.Day) {
			c.errf(elemPath("supply.waves", strconv.Itoa(i)), "must be a clock time before 24:00 (got %s)", w)
		} else if i > 0 && w <= sp.Waves[i-1] {
			c.errf(elemPath("supply.waves", strconv.Itoa(i)), "must be later than the wave before (%s)", sp.Waves[i-1])
		}
	}
	for path, d := range map[string]Duration{"supply.order_cutoff": sp.OrderCutoff, "supply.handling": sp.Handling, "supply.last_mile": sp.LastMile} {
		c.nonNegative(path, float64(d))
	}
	if sp.InboundAt < 0 || sp.InboundAt >= ClockTime(model.Day) {
		c.errf("supply.inbound_at", "must be a clock time before 24:00 (got %s)", sp.InboundAt)
	}
	c.positive("supply.speed_kmh", sp.SpeedKmh)
	if sp.RoadFactor < 1 {
		c.errf("supply.road_factor", "must be >= 1 (road distance over great-circle distance; got %s)", fmtNum(sp.RoadFactor))
	}
	for _, id := range sortedKeys(sp.Lead) {
		p := "supply.lead." + id
		if nodes[id] != KindMicrostore {
			c.errf(p, "not a microstore id (lead times are to the fulfilling nodes)")
		}
		c.nonNegative(p, float64(sp.Lead[id]))
	}
	seen := map[string]bool{}
	for i, st := range sp.Stock {
		p := elemPath("supply.stock", strconv.Itoa(i))
		switch {
		case !skus[st.SKU]:
			c.errf(p+".sku", "unknown SKU %q", st.SKU)
		case seen[st.SKU]:
			c.errf(p+".sku", "SKU %s listed twice", st.SKU)
		}
		seen[st.SKU] = true
		c.nonNegative(p+".units", float64(st.Units))
		c.nonNegative(p+".inbound_per_day", float64(st.InboundPerDay))
		if st.Units > math.MaxInt32 || st.InboundPerDay > math.MaxInt32 {
			c.errf(p, "units and inbound_per_day must be below 2^31")
		}
	}
	c.nonNegative("supply.per_parcel", sp.PerParcel)
	c.nonNegative("supply.per_wave", sp.PerWave)
}

// supplyNetwork builds the core's supply tier (nil without a supply
// section). Lead times to nodes without an override follow the depot's
// distance; the hub sits at the centroid of the nodes, as in the simulator.
func (s *Scenario) supplyNetwork(net *model.Network) *model.Supply {
	sp := s.Supply
	if sp == nil || sp.Depot == nil {
		return nil
	}
	out := &model.Supply{OrderCutoff: sp.OrderCutoff.Model(), LastMile: sp.LastMile.Model(), InboundAt: sp.InboundAt.Duration(),
		Lead: make([]model.Duration, len(net.Nodes)), Stock: make([]model.DepotStock, len(net.SKUs))}
	if s.SLA.Fallback == FallbackMiss {
		out.Fallback = model.FallbackMiss
	}
	for _, w := range sp.Waves {
		out.Waves = append(out.Waves, w.Duration())
	}
	lead := func(lat, lng float64) model.Duration {
		km := model.HaversineKm(sp.Depot.Lat, sp.Depot.Lng, lat, lng) * sp.RoadFactor
		return sp.Handling.Model() + model.Duration(math.Round(km/sp.SpeedKmh*float64(model.Hour)))
	}
	var lat0, lng0 float64
	for i := range net.Nodes {
		nd := &net.Nodes[i]
		ll := nd.Cell.LatLng()
		lat0 += ll.Lat / float64(len(net.Nodes))
		lng0 += ll.Lng / float64(len(net.Nodes))
		out.Lead[i] = lead(nd.Lat, nd.Lng)
		if d, ok := sp.Lead[nd.ID]; ok {
			out.Lead[i] = d.Model()
		}
	}
	out.HubLead = lead(lat0, lng0)
	for k := range out.Stock {
		out.Stock[k].Unlimited = true
	}
	for _, st := range sp.Stock {
		if k, ok := net.SKUIndexOf(st.SKU); ok {
			out.Stock[k] = model.DepotStock{Units: int32(st.Units), InboundPerDay: int32(st.InboundPerDay)}
		}
	}
	return out
}

// simSupply fills the simulator's line-haul prices and pickers.
func (s *Scenario) simSupply(cfg *sim.Config) error {
	if sp := s.Supply; sp != nil {
		cfg.Supply = sim.SupplyCosts{PerParcel: sp.PerParcel, PerWave: sp.PerWave}
	}
	st := s.Fulfilment.Staff
	if st == nil {
		return nil
	}
	out := &sim.Staff{Default: st.Default, CostPerHour: st.CostPerHour}
	for _, n := range st.Nodes {
		i, ok := cfg.Network.NodeIndexOf(n.ID)
		if !ok {
			return fmt.Errorf("fulfilment.staff: unknown node %q", n.ID)
		}
		if out.Nodes == nil {
			out.Nodes = make([][]sim.StaffShift, len(cfg.Network.Nodes))
		}
		shifts := []sim.StaffShift{}
		for _, sh := range n.Shifts {
			for _, span := range modelHours(sh.Hours) {
				shifts = append(shifts, sim.StaffShift{Span: span, Pickers: sh.Pickers})
			}
			if sh.Hours.IsAllDay() {
				shifts = append(shifts, sim.StaffShift{Span: model.Span{From: 0, To: model.Day}, Pickers: sh.Pickers})
			}
		}
		out.Nodes[i] = shifts
	}
	cfg.Fulfilment.Staff = out
	return nil
}
