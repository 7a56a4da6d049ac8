package model

import (
	"fmt"
	"math"
)

// StockState is where the unit an order takes from a cache-first node stands.
type StockState uint8

// Stock states of an order's unit.
const (
	// StockNone: the SKU is not stocked at the fulfilling node (a hub or a
	// back store serves it), or the order no longer holds a unit.
	StockNone StockState = iota
	// StockReserved: the fulfilling node reserved a unit on its shelf.
	StockReserved
	// StockPending: the central catalog accepted the order against its view,
	// but the node was offline and has not received it yet.
	StockPending
	// StockPicked: the unit left the shelf with the parcel.
	StockPicked
	// StockCentral: the unit was taken from the central depot when the
	// order was placed and rides a line-haul wave to the fulfilling node
	// (Label.Arrive); a cancelled or returned one goes back to the depot.
	StockCentral
)

// InventoryStats are one node's cache and connectivity counters. They count
// events at or after Core.MeasureFrom.
type InventoryStats struct {
	// Conflicts: (reconciliation, SKU) pairs where orders the central view
	// accepted competed for units that counter sales had taken.
	Conflicts uint64
	// Oversells: orders the central view accepted for units that were not
	// there (each loses its conflict).
	Oversells uint64
	// Stockouts: online orders and counter sales that found no stock.
	Stockouts, CounterStockouts uint64
	CounterSales                uint64
	// CounterRefused: counter sales lost because a refusing node was offline.
	CounterRefused uint64
	// OfflinePickups: pickups verified locally while offline;
	// OfflinePickupsFailed: customers turned away by a refusing offline node;
	// OfflinePickupsDelayed: pickups completed after such a turn-away
	// (counted at the node where the parcel was finally collected).
	OfflinePickups, OfflinePickupsFailed, OfflinePickupsDelayed uint64
	Reconciliations                                             uint64
	// Rerouted and CancelledConflict: how conflict losers ended.
	Rerouted, CancelledConflict uint64
	// DriftTime is |central - actual| shelf stock summed over SKUs and
	// integrated over time (unit-milliseconds); DriftMax its largest value.
	DriftTime int64
	DriftMax  int64
}

// SKUStock is one SKU of a node's cache, with its conservation counters.
type SKUStock struct {
	SKU                                 SKUIndex
	Capacity                            int32
	Shelf, Held                         int32 // actual (node-local)
	CentralShelf, CentralHeld           int32 // the central catalog's view
	Initial, Restocked, Returned        int64
	CounterSold, Picked, RestockRefused int64
	// Withdrawn: units taken off the shelf when the SKU rotated out.
	Withdrawn int64
	// InAssortment: the SKU is in the node's assortment now (a rotated-out
	// SKU stays in the snapshot for its counters).
	InAssortment bool
}

// NodeInventory is a snapshot of one node's cache and log.
type NodeInventory struct {
	Node     NodeIndex
	Online   bool
	SKUs     []SKUStock // cached SKUs in SKU index order
	Seq      uint64     // entries logged so far
	Unsynced int        // log entries the central view has not merged yet
	Pending  int        // orders the central catalog queued for the node
	Drift    int64      // current |central - actual| summed over SKUs
	Stats    InventoryStats
}

type skuInv struct {
	tracked                      bool // in the assortment now
	known                        bool // held at some time (has counters)
	listed, pinned               bool // in the node's cache list; never rotated out
	withdrawn                    int64
	capacity, shelf, held, pend  int32
	initial, restocked, returned int64
	sold, picked, restockRefused int64
}

type nodeInv struct {
	sku      []skuInv
	cached   bool
	central  Replica
	log      []LogEntry // entries not yet merged centrally (acked prefix compacted)
	seq      uint64
	outbox   []Claim // orders accepted centrally while the node was offline
	won      []bool
	stats    InventoryStats
	drift    int64 // current drift
	since    Instant
	driftAll int64 // drift integral over the whole run (unit-ms)
	rp       nodeRep
}

// invInit sets up caches, logs and the demand heatmap.
func (c *Core) invInit() {
	net := c.Net
	ns := len(net.SKUs)
	c.logging = net.EdgeLog
	for i := range net.Nodes {
		if len(net.Nodes[i].Cache) > 0 {
			c.logging = true
		}
	}
	if !c.logging {
		return
	}
	c.inv = make([]nodeInv, len(net.Nodes))
	shelf := make([]int32, ns)
	for i := range net.Nodes {
		iv := &c.inv[i]
		iv.sku = make([]skuInv, ns)
		for k := range shelf {
			shelf[k] = 0
		}
		for _, it := range net.Nodes[i].Cache {
			s := &iv.sku[it.SKU]
			s.tracked, s.capacity, s.shelf, s.initial = true, it.Capacity, it.Stock, int64(it.Stock)
			shelf[it.SKU] = it.Stock
			iv.cached = true
		}
		iv.central.reset(NodeIndex(i), shelf)
	}
	c.window = net.Policy.RestockWindow
	if c.window <= 0 {
		c.window = DefaultRestockWindow
	}
	c.counterHeat = make([]int32, len(net.Nodes)*ns*c.window)
	c.replInit()
}

// Cached reports whether node i stocks SKU s.
func (c *Core) Cached(i NodeIndex, s SKUIndex) bool {
	return c.inv != nil && c.validNode(i) && s >= 0 && int(s) < len(c.Net.SKUs) && c.inv[i].sku[s].tracked
}

// CentralFree is the central catalog's view of the units of SKU s node i can
// still promise: its shelf minus held units minus orders queued for it.
func (c *Core) CentralFree(i NodeIndex, s SKUIndex) int32 {
	iv := &c.inv[i]
	return iv.central.Shelf[s] - iv.central.Held[s] - iv.sku[s].pend
}

func (c *Core) measured(at Instant) bool { return at >= c.MeasureFrom }

// driftTo integrates node i's drift up to at.
func (c *Core) driftTo(iv *nodeInv, at Instant) {
	if at <= iv.since {
		return
	}
	if iv.drift != 0 {
		iv.driftAll += iv.drift * int64(at-iv.since)
		from := max(iv.since, c.MeasureFrom)
		if at > from {
			iv.stats.DriftTime += iv.drift * int64(at-from)
		}
	}
	iv.since = at
}

func abs32(v int32) int64 {
	if v < 0 {
		return -int64(v)
	}
	return int64(v)
}

// logOp applies a local operation at node i: the physical change, the log
// entry and, when the node is online, the central merge at once.
func (c *Core) logOp(i NodeIndex, op LogOp, s SKUIndex, qty int32, label LabelID, at Instant) {
	iv := &c.inv[i]
	iv.seq++
	e := LogEntry{Node: i, Seq: iv.seq, Op: op, SKU: s, Qty: qty, Label: label, At: at}
	ds, dh := e.Delta()
	stock := ds != 0 || dh != 0
	var before int64
	if stock {
		c.driftTo(iv, at)
		k := &iv.sku[s]
		before = abs32(iv.central.Shelf[s] - k.shelf)
		c.stockTo(&iv.rp, at)
		iv.rp.units += int64(ds)
		k.shelf += ds
		k.held += dh
	}
	if c.nodes[i].Online {
		iv.central.Apply(e)
	} else {
		iv.log = append(iv.log, e)
	}
	if stock {
		iv.drift += abs32(iv.central.Shelf[s]-iv.sku[s].shelf) - before
		if iv.drift > iv.stats.DriftMax && c.measured(at) {
			iv.stats.DriftMax = iv.drift
		}
	}
}

// slotLog records a slot or pickup operation in node i's log (edge logging).
func (c *Core) slotLog(i NodeIndex, op LogOp, l *Label, at Instant) {
	q := int32(-1)
	if l.SlotSize != NoSize {
		q = int32(l.SlotSize)
	}
	c.logOp(i, op, 0, q, l.ID, at)
}

// reserve promises one unit of the label's SKU at node i: on the node's
// shelf when it is online, in the central outbox when it is not.
func (c *Core) reserve(l *Label, i NodeIndex, at Instant) {
	l.From = i
	if c.nodes[i].Online {
		c.logOp(i, OpReserve, l.SKU, 1, l.ID, at)
		l.Stock = StockReserved
		return
	}
	iv := &c.inv[i]
	iv.outbox = append(iv.outbox, Claim{Label: l.ID, SKU: l.SKU, At: at})
	iv.sku[l.SKU].pend++
	l.Stock = StockPending
}

// source picks the node an online order for SKU s takes its unit from: the
// preferred node if the central view shows a free unit there, else the
// nearest other microstore (to dest, grid distance, ties by id) that shows
// one, online nodes first. NoNode when none has stock.
func (c *Core) source(pref NodeIndex, s SKUIndex, dest NodeIndex, except NodeIndex) NodeIndex {
	if pref != NoNode && pref != except && c.inv[pref].sku[s].tracked && c.CentralFree(pref, s) > 0 {
		return pref
	}
	for pass := 0; pass < 2; pass++ {
		best, bd := NoNode, math.MaxInt
		for j := range c.Net.Nodes {
			nj := NodeIndex(j)
			if nj == except || nj == pref || c.Net.Nodes[j].Kind != Microstore || !c.inv[j].sku[s].tracked ||
				c.nodes[j].Online != (pass == 0) || c.CentralFree(nj, s) <= 0 {
				continue
			}
			d := GridDistance(c.Net.Nodes[dest].Cell, c.Net.Nodes[j].Cell)
			if d < bd || (d == bd && c.Net.Nodes[j].ID < c.Net.Nodes[best].ID) {
				best, bd = nj, d
			}
		}
		if best != NoNode {
			return best
		}
	}
	return NoNode
}

// counterHeatAdd records walk-in demand for SKU s at node i.
func (c *Core) counterHeatAdd(i NodeIndex, s SKUIndex, n int32) {
	ns := len(c.Net.SKUs)
	c.counterHeat[(int(i)*ns+int(s))*c.window+c.heatDay] += n
}

// placeStock accepts an online order against the central view: it returns
// the node the unit is reserved at (NoNode when the SKU is not stocked at the
// fulfilling node), and false when no node has stock: an EffStockout tells
// the driver, and the order is issued and cancelled at once (refunded).
func (c *Core) placeStock(ev *Event) (NodeIndex, bool) {
	c.heatAdd(ev)
	if c.Net.Supply != nil {
		return c.supplySource(ev)
	}
	if ev.Node == NoNode || !c.inv[ev.Node].sku[ev.SKU].tracked {
		return NoNode, true
	}
	from := c.source(ev.Node, ev.SKU, ev.Dest, NoNode)
	if from == NoNode {
		if c.measured(ev.At) {
			c.inv[ev.Node].stats.Stockouts++
		}
		return NoNode, false
	}
	return from, true
}

// unitBack undoes the label's hold on a unit: a reservation is released, a
// picked unit returns to the shelf, a pending claim leaves the outbox count.
func (c *Core) unitBack(l *Label, at Instant) {
	switch l.Stock {
	case StockReserved:
		c.logOp(l.From, OpRelease, l.SKU, 1, l.ID, at)
	case StockPicked:
		c.inv[l.From].sku[l.SKU].returned++
		c.logOp(l.From, OpReturn, l.SKU, 1, l.ID, at)
	case StockPending:
		c.inv[l.From].sku[l.SKU].pend--
	case StockCentral:
		c.centralBack(l)
	}
	l.Stock = StockNone
}

func (c *Core) nodeOffline(ev *Event) {
	if !c.validNode(ev.Node) {
		c.reject(ev, RejectUnknownNode)
		return
	}
	if c.inv != nil {
		c.driftTo(&c.inv[ev.Node], ev.At)
	}
	c.nodes[ev.Node].Online = false
}

// nodeOnline reconnects node i: its log is merged into the central view (the
// merge is idempotent and the stock deltas commute), then the orders the
// central catalog accepted while it was offline are allotted to its free
// units by Allot; each loser is moved to another microstore with stock or
// cancelled and refunded.
func (c *Core) nodeOnline(ev *Event) {
	if !c.validNode(ev.Node) {
		c.reject(ev, RejectUnknownNode)
		return
	}
	i := ev.Node
	st := &c.nodes[i]
	if st.Online {
		return
	}
	st.Online = true
	if c.inv == nil {
		return
	}
	iv := &c.inv[i]
	c.driftTo(iv, ev.At)
	var lag Duration
	merged := len(iv.log)
	for _, e := range iv.log {
		iv.central.Apply(e)
		d := ev.At.Sub(e.At)
		lag = max(lag, d)
		if c.measured(e.At) {
			c.Stats.ReconcileLag.Add(d.Minutes())
		}
	}
	iv.log = iv.log[:0]
	iv.drift = 0 // the central view now matches the shelf
	for k := range iv.sku {
		iv.drift += abs32(iv.central.Shelf[k] - iv.sku[k].shelf)
	}
	if c.measured(ev.At) {
		iv.stats.Reconciliations++
	}
	// deliver the queued orders; drop claims of orders that ended or moved
	out := iv.outbox[:0]
	for _, cl := range iv.outbox {
		if l := c.Label(cl.Label); l != nil && l.Stock == StockPending && l.From == i && !l.State.Terminal() {
			out = append(out, cl)
		}
	}
	for k := range iv.sku {
		iv.sku[k].pend = 0
	}
	free := c.freeBuf[:0]
	for k := range iv.sku {
		free = append(free, iv.sku[k].shelf-iv.sku[k].held)
	}
	c.freeBuf = free
	iv.won = Allot(free, out, iv.won)
	conflicted := c.skuMark[:0]
	for range iv.sku {
		conflicted = append(conflicted, false)
	}
	c.skuMark = conflicted
	for k, cl := range out {
		l := c.Label(cl.Label)
		if iv.won[k] {
			c.logOp(i, OpReserve, l.SKU, 1, l.ID, ev.At)
			l.Stock = StockReserved
			continue
		}
		l.Stock = StockNone
		if c.measured(ev.At) {
			iv.stats.Oversells++
			if !conflicted[cl.SKU] {
				iv.stats.Conflicts++
			}
		}
		conflicted[cl.SKU] = true
		c.emit(Effect{Type: EffConflict, Label: l.ID, Slab: l.slab, Node: i, SKU: l.SKU, At: ev.At, Reason: ReasonConflictLost})
		if c.Net.Supply != nil {
			if c.centralLoser(l, i, ev.At) {
				if c.measured(ev.At) {
					iv.stats.Rerouted++
				}
				continue
			}
		} else if to := c.source(NoNode, l.SKU, l.Dest, i); to != NoNode {
			c.reserve(l, to, ev.At)
			c.move(l, Issued, ev.At, to, ReasonConflictLost)
			if c.measured(ev.At) {
				iv.stats.Rerouted++
			}
			continue
		}
		if c.measured(ev.At) {
			iv.stats.CancelledConflict++
		}
		c.cancel(l, &Event{Type: EvNodeOnline, At: ev.At, Node: i, Reason: ReasonConflictLost})
	}
	iv.outbox = iv.outbox[:0]
	c.emit(Effect{Type: EffReconciled, Slab: -1, Node: i, At: ev.At, Amount: float64(merged), Delay: lag})
}

func (c *Core) cacheOf(ev *Event) *skuInv {
	if c.inv == nil || !c.validNode(ev.Node) {
		c.reject(ev, RejectUnknownNode)
		return nil
	}
	if ev.SKU < 0 || int(ev.SKU) >= len(c.Net.SKUs) {
		c.reject(ev, RejectUnknownSKU)
		return nil
	}
	k := &c.inv[ev.Node].sku[ev.SKU]
	if !k.known {
		c.reject(ev, RejectNotCached)
		return nil
	}
	if ev.Qty < 0 || ev.Qty > MaxLogQty {
		c.reject(ev, RejectBadEvent)
		return nil
	}
	return k
}

// counterSale sells at the node's counter against its local stock.
func (c *Core) counterSale(ev *Event) {
	k := c.cacheOf(ev)
	if k == nil {
		return
	}
	q := max(ev.Qty, 1)
	iv := &c.inv[ev.Node]
	m := c.measured(ev.At)
	if !c.nodes[ev.Node].Online && c.Net.Policy.Offline == OfflineRefuse {
		if m {
			iv.stats.CounterRefused++
		}
		c.emit(Effect{Type: EffStockout, Slab: -1, Node: ev.Node, SKU: ev.SKU, At: ev.At, Reason: ReasonNodeOffline, Amount: float64(q)})
		return
	}
	c.counterHeatAdd(ev.Node, ev.SKU, q)
	if !k.tracked || k.shelf-k.held < q { // rotated out, or not enough
		if m {
			iv.stats.CounterStockouts++
		}
		c.emit(Effect{Type: EffStockout, Slab: -1, Node: ev.Node, SKU: ev.SKU, At: ev.At, Reason: ReasonOutOfStock, Amount: float64(q)})
		return
	}
	k.sold += int64(q)
	if m {
		iv.stats.CounterSales += uint64(q)
	}
	c.logOp(ev.Node, OpCounterSale, ev.SKU, q, 0, ev.At)
}

// restock puts a delivery on the shelf, up to capacity; the excess goes back.
func (c *Core) restock(ev *Event) {
	k := c.cacheOf(ev)
	if k == nil {
		return
	}
	q := min(ev.Qty, max(k.capacity-k.shelf, 0))
	if !k.tracked { // rotated out since the plan: the vehicle takes it back
		q = 0
	}
	k.restockRefused += int64(ev.Qty - q)
	if q == 0 {
		return
	}
	k.restocked += int64(q)
	c.logOp(ev.Node, OpRestock, ev.SKU, q, 0, ev.At)
}

// Inventory returns a snapshot of node i's cache and log (nil SKUs for a node
// without a cache). DriftTime covers up to instant t.
func (c *Core) Inventory(i NodeIndex, t Instant) NodeInventory {
	out := NodeInventory{Node: i, Online: c.nodes[i].Online}
	if c.inv == nil {
		return out
	}
	iv := &c.inv[i]
	c.driftTo(iv, t)
	out.Seq, out.Unsynced, out.Pending, out.Drift, out.Stats = iv.seq, len(iv.log), len(iv.outbox), iv.drift, iv.stats
	if iv.drift > out.Stats.DriftMax && c.measured(t) {
		out.Stats.DriftMax = iv.drift
	}
	for s := range iv.sku {
		k := &iv.sku[s]
		if !k.known {
			continue
		}
		out.SKUs = append(out.SKUs, SKUStock{SKU: SKUIndex(s), Capacity: k.capacity, Shelf: k.shelf, Held: k.held,
			CentralShelf: iv.central.Shelf[s], CentralHeld: iv.central.Held[s], Initial: k.initial, Restocked: k.restocked,
			Returned: k.returned, CounterSold: k.sold, Picked: k.picked, RestockRefused: k.restockRefused,
			Withdrawn: k.withdrawn, InAssortment: k.tracked})
	}
	return out
}

// DriftTime returns the drift integral (unit-milliseconds) of node i over the
// whole run up to t (the measured part is in InventoryStats.DriftTime).
func (c *Core) DriftTime(i NodeIndex, t Instant) int64 {
	if c.inv == nil {
		return 0
	}
	iv := &c.inv[i]
	c.driftTo(iv, t)
	return iv.driftAll
}

// CheckInventory verifies the stock invariants at every node for every SKU
// it ever held: conservation (units in = sold + held + lost: initial +
// restocked + returned = counter sales + picks + shelf + rotated out), no
// negative physical stock or reservation, reservations within the shelf, an
// online node's central view equal to its shelf, and the planner's
// invariants (assortment within the SKU slots, pinned SKUs held, the unit
// count equal to the shelves' sum).
func (c *Core) CheckInventory() error {
	for i := range c.inv {
		iv := &c.inv[i]
		id := c.Net.Nodes[i].ID
		for s := range iv.sku {
			k := &iv.sku[s]
			if !k.known {
				continue
			}
			sku := c.Net.SKUs[s].ID
			if want := k.initial + k.restocked + k.returned - k.sold - k.picked - k.withdrawn; want != int64(k.shelf) {
				return fmt.Errorf("node %s sku %s: initial %d + restocked %d + returned %d - sold %d - picked %d - rotated out %d = %d, shelf holds %d",
					id, sku, k.initial, k.restocked, k.returned, k.sold, k.picked, k.withdrawn, want, k.shelf)
			}
			if k.shelf < 0 || k.held < 0 || k.held > k.shelf {
				return fmt.Errorf("node %s sku %s: shelf %d, held %d", id, sku, k.shelf, k.held)
			}
			if c.nodes[i].Online && (iv.central.Shelf[s] != k.shelf || iv.central.Held[s] != k.held) {
				return fmt.Errorf("node %s sku %s: online but central view %d/%d differs from shelf %d/%d",
					id, sku, iv.central.Shelf[s], iv.central.Held[s], k.shelf, k.held)
			}
		}
		if err := c.checkReplenish(i); err != nil {
			return err
		}
	}
	return nil
}
