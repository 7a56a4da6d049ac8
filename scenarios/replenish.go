package scenarios

import (
	"strconv"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// Replenishment policies (replenishment.policy).
const (
	ReplenishHeatmap = "heatmap"
	ReplenishFill    = "fill"
	ReplenishStatic  = "static"
	ReplenishNone    = "none"
)

// Defaults of the replenishment section (the numbers live in model).
const (
	DefaultRestockWindow = Duration(model.DefaultRestockWindow * model.Day)
	DefaultRestockCover  = model.DefaultRestockCover
)

// Replenishment is the nightly restock of cache-first nodes: the policy, the
// demand heatmap it forecasts from and the vehicle that delivers.
type Replenishment struct {
	Policy     string         `yaml:"policy"`
	Window     Duration       `yaml:"window"`
	Cover      float64        `yaml:"cover"`
	PlanAt     ClockTime      `yaml:"plan_at"`
	LeadTime   Duration       `yaml:"lead_time"`
	Resolution int            `yaml:"resolution"`
	Vehicle    RestockVehicle `yaml:"vehicle"`
}

// RestockVehicle is the vehicle that drives each night's restock to every
// node with something to deliver (one round trip per node and night).
type RestockVehicle struct {
	From        *LatLng `yaml:"from"`
	SpeedKmh    float64 `yaml:"speed_kmh"`
	CostPerTrip float64 `yaml:"cost_per_trip"`
	CostPerKm   float64 `yaml:"cost_per_km"`
}

// Promotion scales one SKU's weight in the demand mix over a window of the
// run (a trending SKU), in the listed neighborhoods or all of them.
type Promotion struct {
	SKU           string   `yaml:"sku"`
	From          Duration `yaml:"from"`
	Until         Duration `yaml:"until"`
	Factor        float64  `yaml:"factor"`
	Neighborhoods []string `yaml:"neighborhoods"`
}

func (c *checker) replenishDefaults() {
	r := &c.s.Replenishment
	if r.Policy == "" && !c.has("replenishment.policy", false) {
		r.Policy = ReplenishHeatmap
	}
	if !c.has("replenishment.window", r.Window != 0) {
		r.Window = DefaultRestockWindow
	}
	if !c.has("replenishment.cover", r.Cover != 0) {
		r.Cover = DefaultRestockCover
	}
	if !c.has("replenishment.plan_at", r.PlanAt != 0) {
		r.PlanAt = ClockTime(model.DefaultReplenishAt)
	}
	if !c.has("replenishment.lead_time", r.LeadTime != 0) {
		r.LeadTime = Duration(model.DefaultRestockLead)
	}
	if !c.has("replenishment.resolution", r.Resolution != 0) {
		r.Resolution = c.s.Geography.Resolution
	}
	if !c.has("replenishment.vehicle.speed_kmh", r.Vehicle.SpeedKmh != 0) {
		r.Vehicle.SpeedKmh = sim.DefaultVehicleSpeedKmh
	}
}

func (c *checker) validateReplenishment(skus map[string]bool, res int) {
	s := c.s
	r := s.Replenishment
	if _, ok := model.ParseReplenishPolicy(r.Policy); !ok {
		c.errf("replenishment.policy", "must be heatmap, fill, static or none (got %q)", r.Policy)
	}
	if r.Window < Duration(model.Day) || r.Window%Duration(model.Day) != 0 || r.Window > Duration(90*model.Day) {
		c.errf("replenishment.window", "must be whole days from 1d to 90d (got %s)", r.Window)
	}
	c.positive("replenishment.cover", r.Cover)
	if r.PlanAt == 0 && c.has("replenishment.plan_at", true) {
		c.errf("replenishment.plan_at", "must be after 00:00 (use 00:01 for a plan at midnight)")
	}
	if r.LeadTime < 0 {
		c.errf("replenishment.lead_time", "must be >= 0 (got %s)", r.LeadTime)
	}
	if res >= 0 && (r.Resolution < 0 || r.Resolution > res) {
		c.errf("replenishment.resolution", "must be an H3 resolution 0..%d, at most geography.resolution (got %d)", res, r.Resolution)
	}
	v := r.Vehicle
	if v.From != nil {
		c.latLng("replenishment.vehicle.from", v.From.Lat, v.From.Lng)
	}
	c.positive("replenishment.vehicle.speed_kmh", v.SpeedKmh)
	c.nonNegative("replenishment.vehicle.cost_per_trip", v.CostPerTrip)
	c.nonNegative("replenishment.vehicle.cost_per_km", v.CostPerKm)
	c.nonNegative("costs.holding_per_unit_day", s.Costs.HoldingPerUnitDay)
	c.nonNegative("costs.space_per_m2_day", s.Costs.SpacePerM2Day)

	labels := c.nodeLabels()
	for i := range s.Nodes {
		n := &s.Nodes[i]
		p := elemPath("nodes", labels[i])
		if n.CacheSlots < 0 {
			c.errf(p+".cache_slots", "must be >= 0 (got %d)", n.CacheSlots)
		} else if n.CacheSlots > 0 && n.CacheSlots < len(n.Cache) {
			c.errf(p+".cache_slots", "cache lists %d SKUs, more than its %d slots", len(n.Cache), n.CacheSlots)
		}
		if (n.CacheSlots > 0 || n.ShelfUnits > 0) && len(n.Cache) == 0 {
			c.errf(p+".cache_slots", "only used with a cache (list the SKUs it starts with under cache)")
		}
		var stock int
		for _, e := range n.Cache {
			stock += e.Stock
		}
		if n.ShelfUnits < 0 {
			c.errf(p+".shelf_units", "must be >= 0 (got %d)", n.ShelfUnits)
		} else if n.ShelfUnits > 0 && stock > n.ShelfUnits {
			c.errf(p+".shelf_units", "the cache starts with %d units, more than its %d shelf units", stock, n.ShelfUnits)
		}
	}

	hoods := map[string]bool{}
	for _, nb := range s.Neighborhoods {
		hoods[nb.Name] = true
	}
	for i, pr := range s.Promotions {
		p := elemPath("promotions", strconv.Itoa(i))
		switch {
		case pr.SKU == "":
			c.errf(p+".sku", "required")
		case !skus[pr.SKU]:
			c.errf(p+".sku", "unknown SKU %q (not in skus)", pr.SKU)
		}
		if pr.From < 0 {
			c.errf(p+".from", "must be >= 0 (got %s)", pr.From)
		}
		if pr.Until <= pr.From {
			c.errf(p+".until", "must be after from %s (got %s)", pr.From, pr.Until)
		}
		if !c.has(p+".factor", pr.Factor != 0) {
			c.errf(p+".factor", "required (the SKU's demand weight is multiplied by it, e.g. 3)")
		} else {
			c.nonNegative(p+".factor", pr.Factor)
		}
		if pr.Neighborhoods != nil && len(pr.Neighborhoods) == 0 {
			c.errf(p+".neighborhoods", "must list at least one neighborhood (leave it out for all)")
		}
		for j, h := range pr.Neighborhoods {
			if !hoods[h] {
				c.errf(elemPath(p+".neighborhoods", strconv.Itoa(j)), "unknown neighborhood %q", h)
			}
		}
	}
}

// replenishPolicy sets the network's replenishment policy and the nodes'
// cache slots, shelf space and pinned SKUs.
func (s *Scenario) replenishPolicy(net *model.Network) {
	r := &s.Replenishment
	p := &net.Policy
	p.Replenish, _ = model.ParseReplenishPolicy(r.Policy)
	p.RestockWindow = int(r.Window.Model() / model.Day)
	p.RestockCover = r.Cover
	p.HeatResolution = r.Resolution
	for i := range s.Nodes {
		nd := &net.Nodes[i]
		nd.CacheSlots, nd.ShelfUnits = int32(s.Nodes[i].CacheSlots), int32(s.Nodes[i].ShelfUnits)
		for j, e := range s.Nodes[i].Cache {
			nd.Cache[j].Pinned = e.Pinned
		}
	}
}

// inventory is the simulator's replenishment schedule, restock vehicle,
// stock costs and promotions.
func (s *Scenario) inventory(cfg *sim.Config) {
	r := &s.Replenishment
	v := r.Vehicle
	cfg.Inventory = sim.Inventory{ReplenishAt: r.PlanAt.Duration(), RestockLead: r.LeadTime.Model(),
		Vehicle: sim.Vehicle{SpeedKmh: v.SpeedKmh, CostPerTrip: v.CostPerTrip, CostPerKm: v.CostPerKm}}
	if v.From != nil {
		cfg.Inventory.Vehicle.From = &[2]float64{v.From.Lat, v.From.Lng}
	}
	cfg.Costs.HoldingPerUnitDay, cfg.Costs.SpacePerM2Day = s.Costs.HoldingPerUnitDay, s.Costs.SpacePerM2Day
	start := s.StartInstant()
	for _, pr := range s.Promotions {
		k, _ := cfg.Network.SKUIndexOf(pr.SKU)
		sp := sim.Promotion{SKU: k, From: start.Add(pr.From.Model()), Until: start.Add(pr.Until.Model()), Factor: pr.Factor}
		for _, h := range pr.Neighborhoods {
			for j := range s.Neighborhoods {
				if s.Neighborhoods[j].Name == h {
					sp.Neighborhoods = append(sp.Neighborhoods, j)
				}
			}
		}
		cfg.Promotions = append(cfg.Promotions, sp)
	}
}
