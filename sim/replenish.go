package sim

import (
	"errors"
	"fmt"
	"math"

	"github.com/lockstep-sim/lockstep/model"
)

// DefaultVehicleSpeedKmh is the restock vehicle's speed when Vehicle does
// not set one: a delivery van's mean speed in city traffic.
const DefaultVehicleSpeedKmh = 20

// Vehicle is the restock vehicle. Each night it drives one round trip from
// From to every node the plan sends units to (a trip per node and night,
// not a milk run); the units arrive RestockLead after planning plus the
// drive. The units a node's plan rotated out ride back on that trip.
type Vehicle struct {
	// From is the depot (lat, lng); nil: the centroid of the nodes.
	From *[2]float64
	// SpeedKmh is the mean speed (0: DefaultVehicleSpeedKmh); the distance is the
	// great-circle distance.
	SpeedKmh float64
	// CostPerTrip and CostPerKm price a trip: CostPerTrip + CostPerKm x the
	// round-trip distance.
	CostPerTrip, CostPerKm float64
}

// Promotion multiplies SKU's demand weight by Factor in [From, Until), in
// the neighborhoods listed by index (nil: all).
type Promotion struct {
	SKU           model.SKUIndex
	From, Until   model.Instant
	Factor        float64
	Neighborhoods []int
}

// ReplenishResult holds the replenishment measures of a cache node or of
// the run (measured period).
type ReplenishResult struct {
	UnitsHeld      float64 // mean units on the shelf
	HoldingCost    float64
	SpaceCost      float64
	RestockTrips   uint64
	RestockCost    float64
	RotatedOut     uint64  // units taken back when their SKU rotated out
	Rotations      uint64  // SKUs rotated into an assortment
	ForecastAbsErr float64 // WAPE numerator: sum |forecast - realised|
	ForecastDemand float64 // WAPE denominator: sum realised
}

// WAPE is the next-day forecast's weighted absolute percentage error,
// ForecastAbsErr / ForecastDemand (NaN without demand).
func (r *ReplenishResult) WAPE() float64 {
	if r.ForecastDemand == 0 {
		return math.NaN()
	}
	return r.ForecastAbsErr / r.ForecastDemand
}

func (r *ReplenishResult) add(b ReplenishResult) {
	r.UnitsHeld += b.UnitsHeld
	r.HoldingCost += b.HoldingCost
	r.SpaceCost += b.SpaceCost
	r.RestockTrips += b.RestockTrips
	r.RestockCost += b.RestockCost
	r.RotatedOut += b.RotatedOut
	r.Rotations += b.Rotations
	r.ForecastAbsErr += b.ForecastAbsErr
	r.ForecastDemand += b.ForecastDemand
}

// replenishing is the world's restock transport and promotion state.
type replenishing struct {
	km       []float64       // per node: depot to node, km
	tripAt   []model.Instant // per node: the plan its last trip belongs to
	trips    []uint64        // measured trips per node
	cost     []float64       // measured trip cost per node
	baseW    [][]float64     // per neighborhood: SKU weights without promotions
	promoted bool
}

func (c *Config) validateReplenish() error {
	v := c.Inventory.Vehicle
	if v.SpeedKmh < 0 || v.CostPerTrip < 0 || v.CostPerKm < 0 || c.Costs.HoldingPerUnitDay < 0 || c.Costs.SpacePerM2Day < 0 {
		return errors.New("restock vehicle speed and costs, holding and space costs must be >= 0")
	}
	for i, p := range c.Promotions {
		if p.SKU < 0 || int(p.SKU) >= len(c.Network.SKUs) || p.Until <= p.From || p.Factor < 0 || math.IsNaN(p.Factor) {
			return fmt.Errorf("promotion %d: needs a known SKU, from < until and factor >= 0", i)
		}
		for _, h := range p.Neighborhoods {
			if h < 0 || h >= len(c.Neighborhoods) {
				return fmt.Errorf("promotion %d: unknown neighborhood index %d", i, h)
			}
		}
	}
	return nil
}

func (w *world) replenishInit() {
	n := len(w.net.Nodes)
	r := &w.repl
	r.km, r.tripAt, r.trips, r.cost = make([]float64, n), make([]model.Instant, n), make([]uint64, n), make([]float64, n)
	var lat, lng float64
	for i := range w.net.Nodes {
		lat += w.nodeLat[i] / float64(n)
		lng += w.nodeLng[i] / float64(n)
	}
	if f := w.cfg.Inventory.Vehicle.From; f != nil {
		lat, lng = f[0], f[1]
	}
	for i := range w.net.Nodes {
		r.km[i] = model.HaversineKm(lat, lng, w.nodeLat[i], w.nodeLng[i])
		r.tripAt[i] = -1
	}
	if len(w.cfg.Promotions) > 0 {
		r.baseW = make([][]float64, len(w.hoods))
		for i := range w.hoods {
			r.baseW[i] = make([]float64, len(w.net.SKUs))
			for s := range r.baseW[i] {
				r.baseW[i][s] = 1
				if sw := w.hoods[i].cfg.SKUWeights; sw != nil {
					r.baseW[i][s] = sw[s]
				}
			}
		}
	}
}

// restockTrip sends a planned restock (EffRestock) with the node's trip of
// this night: the first restock of a node at a plan instant starts a trip
// (counted and priced when measured); the units arrive the lead time plus
// the drive later.
func (w *world) restockTrip(e *model.Effect) {
	k := w.k
	r := &w.repl
	n := e.Node
	v := &w.cfg.Inventory.Vehicle
	speed := v.SpeedKmh
	if speed <= 0 {
		speed = DefaultVehicleSpeedKmh
	}
	if r.tripAt[n] != k.Now {
		r.tripAt[n] = k.Now
		if !k.InWarmup() {
			r.trips[n]++
			r.cost[n] += v.CostPerTrip + v.CostPerKm*2*r.km[n]
		}
	}
	lead := w.cfg.Inventory.RestockLead
	if lead <= 0 {
		lead = model.DefaultRestockLead
	}
	drive := model.Duration(r.km[n] / speed * float64(model.Hour))
	k.Schedule(k.Now.Add(lead+drive), kRestock, int32(n), int32(e.SKU), uint32(e.Amount))
}

// promoStart schedules a re-weighting of the demand mix at every promotion
// boundary within the run (and applies those already running).
func (w *world) promoStart() {
	if len(w.cfg.Promotions) == 0 {
		return
	}
	end := w.cfg.Start.Add(w.cfg.Horizon)
	for _, p := range w.cfg.Promotions {
		for _, at := range [2]model.Instant{p.From, p.Until} {
			if at > w.k.Now && at < end {
				w.k.Schedule(at, kPromo, 0, 0, 0)
			}
		}
	}
	w.promote()
}

// promote rebuilds every neighborhood's SKU mix from its base weights times
// the factors of the promotions running now.
func (w *world) promote() {
	now := w.k.Now
	for i := range w.hoods {
		h := &w.hoods[i]
		var acc float64
		for s := range h.skuCum {
			wt := w.repl.baseW[i][s]
			for _, p := range w.cfg.Promotions {
				if int(p.SKU) == s && now >= p.From && now < p.Until && promotes(p, i) {
					wt *= p.Factor
				}
			}
			acc += wt
			h.skuCum[s] = acc
		}
	}
}

func promotes(p Promotion, hood int) bool {
	if p.Neighborhoods == nil {
		return true
	}
	for _, h := range p.Neighborhoods {
		if h == hood {
			return true
		}
	}
	return false
}

// replenishResult fills node i's replenishment measures, adds its stock and
// trip costs to its cost and to the run's.
func (w *world) replenishResult(i int, nr *NodeResult, end model.Instant) {
	nd := &w.net.Nodes[i]
	if len(nd.Cache) == 0 {
		return
	}
	r := w.res
	st := w.core.Replenishment(model.NodeIndex(i), end)
	rr := ReplenishResult{RestockTrips: w.repl.trips[i], RestockCost: w.repl.cost[i], RotatedOut: uint64(st.RotatedOut),
		Rotations: uint64(st.Rotations), ForecastAbsErr: st.ForecastAbsErr, ForecastDemand: st.ForecastDemand}
	if window := float64(end - r.WarmupEnd); window > 0 {
		rr.UnitsHeld = float64(st.UnitTime) / window
	}
	rr.HoldingCost = float64(st.UnitTime) / float64(model.Day) * w.cfg.Costs.HoldingPerUnitDay
	rr.SpaceCost = nd.FloorArea * w.activeDays(nd, r.WarmupEnd, end) * w.cfg.Costs.SpacePerM2Day
	nr.Replenish = rr
	nr.Cost += rr.HoldingCost + rr.SpaceCost + rr.RestockCost
	r.Replenish.add(rr)
	r.Costs.Restock += rr.RestockCost
	r.Costs.Holding += rr.HoldingCost
	r.Costs.Space += rr.SpaceCost
}
