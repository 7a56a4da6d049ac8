package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/uber/h3-go/v4"
)

// Nightly replenishment defaults: the one place these numbers live. The
// scenario loader, the simulator and the twin's driver fall back to them.
const (
	// DefaultReplenishAt is when the nightly plan runs, as an offset from
	// midnight.
	DefaultReplenishAt = 2 * Hour
	// DefaultRestockLead is how long after planning the restock vehicle
	// leaves (loading at the depot); travel to the node comes on top.
	DefaultRestockLead = 4 * Hour
	// DefaultRestockWindow is the number of days of the rolling demand
	// heatmap whose daily mean is the next-day forecast.
	DefaultRestockWindow = 7
	// DefaultRestockCover is how many days of forecast demand the heatmap
	// policy stocks, within capacity and shelf space.
	DefaultRestockCover = 1.5
)

// ReplenishPolicy is how the nightly plan sets each cache's stock.
type ReplenishPolicy uint8

// Replenishment policies.
const (
	// ReplenishHeatmap stocks Cover days of the forecast (the rolling
	// heatmap's daily mean) and, at nodes with CacheSlots, rotates the
	// assortment to the SKUs with the highest forecast.
	ReplenishHeatmap ReplenishPolicy = iota
	// ReplenishFill tops every cached SKU up to its capacity.
	ReplenishFill
	// ReplenishStatic tops every cached SKU up to its initial stock.
	ReplenishStatic
	// ReplenishNone never restocks.
	ReplenishNone
	numReplenishPolicies
)

var replenishNames = [numReplenishPolicies]string{"heatmap", "fill", "static", "none"}

func (p ReplenishPolicy) String() string { return enumName(replenishNames[:], int(p), "replenish") }

// ParseReplenishPolicy is the inverse of ReplenishPolicy.String.
func ParseReplenishPolicy(s string) (ReplenishPolicy, bool) {
	i, ok := parseEnum(replenishNames[:], s)
	if !ok {
		return 0, false
	}
	return ReplenishPolicy(i), true
}

// ReplenishStats are one cache node's replenishment measures (measured
// period, see Core.MeasureFrom).
type ReplenishStats struct {
	// UnitTime is the units on the shelf integrated over time
	// (unit-milliseconds); its mean over the period is the units held.
	UnitTime int64
	// RotatedOut counts units taken off the shelf because their SKU left the
	// assortment (they go back on the restock vehicle).
	RotatedOut int64
	// ForecastAbsErr and ForecastDemand are the numerator and denominator
	// of the forecast WAPE: the sum over nights and SKUs of |forecast -
	// realised| and of realised next-day demand (see Core.replenish).
	ForecastAbsErr, ForecastDemand float64
	// Rotations counts SKUs that entered the assortment.
	Rotations int64
}

// WAPE is ForecastAbsErr / ForecastDemand, NaN without demand.
func (s ReplenishStats) WAPE() float64 {
	if s.ForecastDemand == 0 {
		return math.NaN()
	}
	return s.ForecastAbsErr / s.ForecastDemand
}

// replState is the planner's network-wide state: the heatmap's cells.
type replState struct {
	res      int            // H3 resolution of the heatmap
	cells    []Cell         // heatmap cells in order of first demand
	cellIdx  map[Cell]int32 // cell -> index in cells
	owner    []NodeIndex    // per cell: the cache node whose forecast it feeds
	lastPlan Instant        // instant of the last plan (0: none yet)
}

// nodeRep is one cache node's replenishment state.
type nodeRep struct {
	slots      int32 // SKU slots (0: the assortment is fixed)
	shelfUnits int64 // units the shelf holds over all SKUs
	slotCap    int32 // capacity of a SKU rotated in that the node does not list
	units      int64 // units on the shelf now
	since      Instant
	forecast   []float64 // last plan's forecast per SKU (nil: none yet)
	stats      ReplenishStats
}

// replInit sets up the planner: the heatmap resolution, each node's slots,
// shelf space and unit count.
func (c *Core) replInit() {
	net := c.Net
	c.rp.res = net.Policy.HeatResolution
	if c.rp.res <= 0 || c.rp.res > net.Resolution {
		c.rp.res = net.Resolution
	}
	c.rp.cellIdx = map[Cell]int32{}
	for i := range net.Nodes {
		nd := &net.Nodes[i]
		iv := &c.inv[i]
		r := &iv.rp
		var sum int64
		for _, it := range nd.Cache {
			k := &iv.sku[it.SKU]
			k.known, k.pinned, k.listed = true, it.Pinned, true
			sum += int64(it.Capacity)
			r.units += int64(it.Stock)
		}
		r.shelfUnits = sum
		if nd.ShelfUnits > 0 {
			r.shelfUnits = int64(nd.ShelfUnits)
		}
		r.slots = nd.CacheSlots
		if r.slots > 0 {
			r.slotCap = int32(max(r.shelfUnits/int64(r.slots), 1))
		}
	}
}

// heatCell is the heatmap cell of an order: its customer's cell (the
// pickup node's when the event has none, or one coarser than the heatmap)
// at the heatmap resolution; the
// index is created on first sight, its owner the nearest cache node.
func (c *Core) heatCell(ev *Event) int {
	cell := ev.Cell
	if cell == 0 || !cell.IsValid() || cell.Resolution() < c.rp.res {
		cell = c.Net.Nodes[ev.Dest].Cell
	}
	if cell.Resolution() > c.rp.res {
		cell = cell.Parent(c.rp.res)
	}
	if k, ok := c.rp.cellIdx[cell]; ok {
		return int(k)
	}
	k := len(c.rp.cells)
	c.rp.cellIdx[cell] = int32(k)
	c.rp.cells = append(c.rp.cells, cell)
	c.rp.owner = append(c.rp.owner, c.ownerOf(cell))
	c.heat = append(c.heat, make([]int32, len(c.Net.SKUs)*c.window)...)
	return k
}

// ownerOf is the cache node nearest to the cell's centre (great-circle
// distance, ties by id), microstores first; NoNode without caches.
func (c *Core) ownerOf(cell Cell) NodeIndex {
	ll := cell.LatLng()
	best, bd := NoNode, math.Inf(1)
	for j := range c.Net.Nodes {
		nd := &c.Net.Nodes[j]
		if !c.inv[j].cached {
			continue
		}
		d := h3.GreatCircleDistanceKm(ll, nd.Cell.LatLng())
		if nd.Kind != Microstore {
			d += 1e9 // microstores first
		}
		if d < bd || (d == bd && nd.ID < c.Net.Nodes[best].ID) {
			best, bd = NodeIndex(j), d
		}
	}
	return best
}

// heatAdd records an online order in the heatmap, by its customer's cell
// and SKU.
func (c *Core) heatAdd(ev *Event) {
	ns := len(c.Net.SKUs)
	c.heat[(c.heatCell(ev)*ns+int(ev.SKU))*c.window+c.heatDay]++
}

// stockTo integrates node i's shelf units up to at (measured part only).
func (c *Core) stockTo(r *nodeRep, at Instant) {
	if at <= r.since {
		return
	}
	from := max(r.since, c.MeasureFrom)
	if at > from {
		r.stats.UnitTime += r.units * int64(at-from)
	}
	r.since = at
}

// demandOf sums node i's demand for SKU s over the heatmap days: online
// orders in the cells it owns plus its counter trade. day < 0 sums the
// whole window, else the one day.
func (c *Core) demandOf(i, s, day int) int64 {
	ns := len(c.Net.SKUs)
	sum := func(a []int32) int64 {
		if day >= 0 {
			return int64(a[day])
		}
		var n int64
		for _, v := range a {
			n += int64(v)
		}
		return n
	}
	var d int64
	for ci, o := range c.rp.owner {
		if o == NodeIndex(i) {
			d += sum(c.heat[(ci*ns+s)*c.window:][:c.window])
		}
	}
	return d + sum(c.counterHeat[(i*ns+s)*c.window:][:c.window])
}

// planSKU is one SKU of a node as the planner sees it.
type planSKU struct {
	forecast      float64 // mean daily demand
	capacity      int64   // units this SKU may hold
	initial       int64
	free, shelf   int64 // central view: free units, units on the shelf
	held, pinned  bool  // in the assortment now; pinned stays
	target, order int64 // the plan: units to hold, units to send
}

// planNode is the nightly plan of one node, a pure function of its SKUs:
// it sets held (the assortment), target and order of each SKU. Rules:
//
//   - none: nothing is sent; static: target the initial stock; fill:
//     target the capacity; heatmap: target ceil(cover x forecast), and
//     on the first night (no history) the initial stock.
//   - rotation (heatmap, slots > 0, not the first night): pinned SKUs stay;
//     the other slots go to the SKUs with the highest forecast (held SKUs
//     first on ties, then by index); a SKU with no forecast demand is not
//     brought in. The others leave the assortment.
//   - targets are capped by each SKU's capacity; if they add up to more
//     than shelfUnits they are scaled down (floor) to fit.
//   - order = target - free, at least 0, within the SKU's room (capacity -
//     shelf) and the shelf's room (shelfUnits - all units on the shelf),
//     allotted in SKU order.
func planNode(policy ReplenishPolicy, cover float64, first bool, slots int, shelfUnits int64, skus []planSKU) {
	if policy == ReplenishHeatmap && slots > 0 && !first {
		idx := make([]int, 0, len(skus))
		free := slots
		for s := range skus {
			if skus[s].pinned && skus[s].held {
				free--
			} else {
				idx = append(idx, s)
			}
		}
		sort.SliceStable(idx, func(a, b int) bool {
			x, y := &skus[idx[a]], &skus[idx[b]]
			if x.forecast != y.forecast {
				return x.forecast > y.forecast
			}
			return x.held && !y.held
		})
		for _, s := range idx {
			k := &skus[s]
			k.held = free > 0 && (k.forecast > 0 || k.held)
			if k.held {
				free--
			}
		}
	}
	var sum, onShelf int64
	for s := range skus {
		k := &skus[s]
		onShelf += k.shelf
		k.target, k.order = 0, 0
		if !k.held {
			continue
		}
		switch {
		case policy == ReplenishNone:
		case policy == ReplenishFill:
			k.target = k.capacity
		case policy == ReplenishStatic || first:
			k.target = k.initial
		default:
			k.target = int64(math.Ceil(cover * k.forecast))
		}
		k.target = max(min(k.target, k.capacity), 0)
		sum += k.target
	}
	if sum > shelfUnits && sum > 0 {
		for s := range skus {
			skus[s].target = skus[s].target * shelfUnits / sum
		}
	}
	room := shelfUnits - onShelf
	for s := range skus {
		k := &skus[s]
		if !k.held || policy == ReplenishNone {
			continue
		}
		q := min(k.target-k.free, k.capacity-k.shelf, room)
		if q > 0 {
			k.order = q
			room -= q
		}
	}
}

// replenish runs the nightly plan (EvReplenish). Per cache node it scores
// last night's forecast against the day's realised demand (WAPE: the demand
// between the two plans), forecasts each SKU's daily demand as the mean over
// the heatmap's full days within the window (online orders by customer cell
// and SKU, each cell feeding its nearest cache node, plus the node's counter
// sales), lets planNode choose the assortment and
// quantities under the network's policy, takes the free units of SKUs that
// left the assortment off the shelf (they go back with the restock
// vehicle: RotatedOut) and emits an EffRestock per SKU to send. Then the
// heatmap starts a new day.
func (c *Core) replenish(ev *Event) {
	if c.inv == nil {
		return
	}
	p := &c.Net.Policy
	ns := len(c.Net.SKUs)
	cover := p.RestockCover
	if cover <= 0 {
		cover = DefaultRestockCover
	}
	// the first plan's day is partial (the core started some time before
	// it): it is dropped, and the plan tops up to the initial stock; every
	// later plan closes a full day of the heatmap
	first := c.rp.lastPlan == 0
	if !first {
		c.heatDays++
	}
	days := float64(max(min(c.heatDays, c.window), 1))
	scored := c.measured(c.rp.lastPlan)
	skus := make([]planSKU, ns)
	for i := range c.inv {
		iv := &c.inv[i]
		if !iv.cached {
			continue
		}
		r := &iv.rp
		if first {
			r.forecast = nil
		} else if r.forecast == nil {
			r.forecast = make([]float64, ns)
		} else if scored {
			for s := 0; s < ns; s++ {
				a := float64(c.demandOf(i, s, c.heatDay))
				r.stats.ForecastAbsErr += math.Abs(r.forecast[s] - a)
				r.stats.ForecastDemand += a
			}
		}
		for s := 0; s < ns; s++ {
			k := &iv.sku[s]
			var f float64
			if !first {
				f = float64(c.demandOf(i, s, -1)) / days
				r.forecast[s] = f
			}
			capacity := int64(k.capacity)
			if !k.listed {
				capacity = int64(r.slotCap)
			}
			skus[s] = planSKU{forecast: f, capacity: capacity, initial: k.initial,
				free: int64(c.CentralFree(NodeIndex(i), SKUIndex(s))), shelf: int64(iv.central.Shelf[s]),
				held: k.tracked, pinned: k.pinned}
		}
		planNode(p.Replenish, cover, first, int(r.slots), r.shelfUnits, skus)
		for s := 0; s < ns; s++ {
			k, pl := &iv.sku[s], &skus[s]
			if pl.held && !k.tracked {
				k.tracked, k.known, k.capacity = true, true, int32(pl.capacity)
				if c.measured(ev.At) {
					r.stats.Rotations++
				}
			}
			k.tracked = pl.held
			if !k.tracked {
				if q := k.shelf - k.held; q > 0 {
					k.withdrawn += int64(q)
					if c.measured(ev.At) {
						r.stats.RotatedOut += int64(q)
					}
					c.logOp(NodeIndex(i), OpWithdraw, SKUIndex(s), q, 0, ev.At)
				}
				continue
			}
			if pl.order > 0 {
				c.emit(Effect{Type: EffRestock, Slab: -1, Node: NodeIndex(i), SKU: SKUIndex(s), At: ev.At, Amount: float64(pl.order)})
			}
		}
	}
	c.rp.lastPlan = ev.At
	if first {
		c.heatDay-- // the partial day's bucket is reused
	}
	c.heatDay = (c.heatDay + 1) % c.window
	for j := c.heatDay; j < len(c.heat); j += c.window {
		c.heat[j] = 0
	}
	for j := c.heatDay; j < len(c.counterHeat); j += c.window {
		c.counterHeat[j] = 0
	}
}

// Replenishment returns node i's replenishment measures, the shelf-unit
// integral up to t.
func (c *Core) Replenishment(i NodeIndex, t Instant) ReplenishStats {
	if c.inv == nil {
		return ReplenishStats{}
	}
	r := &c.inv[i].rp
	c.stockTo(r, t)
	return r.stats
}

// Forecast returns the next-day demand forecast of the last plan for SKU s
// at node i (0 before the first plan or at a node without a cache).
func (c *Core) Forecast(i NodeIndex, s SKUIndex) float64 {
	if c.inv == nil || c.inv[i].rp.forecast == nil {
		return 0
	}
	return c.inv[i].rp.forecast[s]
}

// checkReplenish verifies the planner's invariants at node i: the
// assortment within the slots, pinned SKUs held, the shelf within its space
// unless the initial stock already exceeded it.
func (c *Core) checkReplenish(i int) error {
	iv := &c.inv[i]
	r := &iv.rp
	id := c.Net.Nodes[i].ID
	var held int32
	var units int64
	for s := range iv.sku {
		k := &iv.sku[s]
		if k.tracked {
			held++
		}
		if k.pinned && !k.tracked {
			return fmt.Errorf("node %s sku %s: pinned but rotated out", id, c.Net.SKUs[s].ID)
		}
		units += int64(k.shelf)
	}
	if r.slots > 0 && held > r.slots {
		return fmt.Errorf("node %s: %d SKUs held in %d slots", id, held, r.slots)
	}
	if units != r.units {
		return fmt.Errorf("node %s: %d units on the shelf, the unit count says %d", id, units, r.units)
	}
	return nil
}

// validateShelf checks a node's SKU slots and shelf space against its cache
// list: at least as many slots as listed SKUs, the initial stock within the
// shelf.
func (n *Node) validateShelf() error {
	if n.CacheSlots < 0 || n.ShelfUnits < 0 {
		return fmt.Errorf("negative cache slots or shelf units")
	}
	if n.CacheSlots > 0 && int(n.CacheSlots) < len(n.Cache) {
		return fmt.Errorf("cache lists %d SKUs but has %d slots", len(n.Cache), n.CacheSlots)
	}
	var stock int64
	for _, it := range n.Cache {
		stock += int64(it.Stock)
	}
	if n.ShelfUnits > 0 && stock > int64(n.ShelfUnits) {
		return fmt.Errorf("initial stock %d exceeds the %d shelf units", stock, n.ShelfUnits)
	}
	return nil
}

// replenish appends the planner's state to a snapshot (after the heatmap).
func (w *snapWriter) replenish(c *Core) {
	w.int(int64(c.rp.lastPlan))
	for i := range c.inv {
		iv := &c.inv[i]
		for s := range iv.sku {
			k := &iv.sku[s]
			w.bool(k.known)
			w.int(k.withdrawn)
		}
		r := &iv.rp
		w.int(r.units)
		w.int(int64(r.since))
		w.bool(r.forecast != nil)
		for _, f := range r.forecast {
			w.float(f)
		}
		st := &r.stats
		w.int(st.UnitTime)
		w.int(st.RotatedOut)
		w.int(st.Rotations)
		w.float(st.ForecastAbsErr)
		w.float(st.ForecastDemand)
	}
}

// replenish reads what snapWriter.replenish wrote into d; the static parts
// (slots, shelf space, listed and pinned SKUs) come from c's network.
func (r *snapReader) replenish(c, d *Core) {
	if r.err != nil {
		return
	}
	r.section = "replenish"
	d.rp.lastPlan = Instant(r.int())
	for i := range d.inv {
		iv := &d.inv[i]
		for s := range iv.sku {
			k := &iv.sku[s]
			k.listed, k.pinned = c.inv[i].sku[s].listed, c.inv[i].sku[s].pinned
			k.known = r.bool()
			k.withdrawn = r.int()
			if k.tracked && !k.known || k.listed && !k.known {
				r.fail("SKU held but not known")
			}
		}
		rp := &iv.rp
		rp.slots, rp.shelfUnits, rp.slotCap = c.inv[i].rp.slots, c.inv[i].rp.shelfUnits, c.inv[i].rp.slotCap
		rp.units = r.int()
		rp.since = Instant(r.int())
		if r.bool() {
			rp.forecast = make([]float64, len(iv.sku))
			for s := range rp.forecast {
				rp.forecast[s] = r.float()
			}
		}
		st := &rp.stats
		st.UnitTime = r.int()
		st.RotatedOut = r.int()
		st.Rotations = r.int()
		st.ForecastAbsErr = r.float()
		st.ForecastDemand = r.float()
		if r.err != nil {
			return
		}
	}
}

// HeatCells returns the demand heatmap's cells, in order of first demand
// (nil without caches).
func (c *Core) HeatCells() []Cell { return append([]Cell(nil), c.rp.cells...) }
