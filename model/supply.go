package model

import (
	"fmt"
	"sort"
)

// FallbackRule is what becomes of a same-day order whose central unit can
// only arrive too late to be ready by the same-day deadline.
type FallbackRule uint8

// Fallback rules.
const (
	// FallbackNextDay: the order is promised for the next day (its due moves
	// to the next day's ReadyBy; it no longer counts as same-day).
	FallbackNextDay FallbackRule = iota
	// FallbackMiss: the order keeps its same-day promise and misses it.
	FallbackMiss
)

// DepotStock is the central depot's supply of one SKU: unlimited, or Units
// on hand at the start plus InboundPerDay units arriving each day at
// Supply.InboundAt.
type DepotStock struct {
	Unlimited     bool
	Units         int32
	InboundPerDay int32
}

// Supply is the central supply tier: a depot that serves every order the
// fulfilling node's cache cannot, by line-haul waves. Network.Supply nil
// means no central tier: the fulfilling node then serves an uncached SKU
// from an unlimited back store at once (the model before the depot existed).
type Supply struct {
	// Waves are the line-haul departures from the depot, as offsets from
	// midnight, strictly ascending.
	Waves []Duration
	// OrderCutoff: an order rides a wave if it is placed at least this long
	// before the departure (the depot picks and loads it meanwhile).
	OrderCutoff Duration
	// Lead is the time from a wave's departure to its arrival at each node
	// (indexed like Network.Nodes; only fulfilling nodes are used), HubLead
	// the same for the hub (orders with no fulfilling node).
	Lead    []Duration
	HubLead Duration
	// LastMile is the time the fallback rule allows from a wave's arrival at
	// the fulfilling node to ready for pickup (pack, courier ride).
	LastMile Duration
	// Stock is the depot's stock per SKU (indexed like Network.SKUs).
	Stock []DepotStock
	// InboundAt is when each day's inbound reaches the depot (offset from
	// midnight).
	InboundAt Duration
	Fallback  FallbackRule
}

// NextWave returns the departure instant of the first wave an order placed
// at t can still ride: the first departure d with d - OrderCutoff >= t.
func (s *Supply) NextWave(t Instant) Instant {
	day := DayStart(t)
	for d := Instant(0); ; d += Instant(Day) {
		for _, w := range s.Waves {
			if dep := day + d + Instant(w); dep-Instant(s.OrderCutoff) >= t {
				return dep
			}
		}
	}
}

// LeadTo is the line-haul lead time from departure to arrival at node i
// (NoNode: the hub).
func (s *Supply) LeadTo(i NodeIndex) Duration {
	if i == NoNode || int(i) >= len(s.Lead) {
		return s.HubLead
	}
	return s.Lead[i]
}

func (s *Supply) validate(n *Network) error {
	if len(s.Waves) == 0 {
		return fmt.Errorf("supply: no waves")
	}
	if !sort.SliceIsSorted(s.Waves, func(a, b int) bool { return s.Waves[a] < s.Waves[b] }) {
		return fmt.Errorf("supply: waves must be in clock order")
	}
	for k, w := range s.Waves {
		if w < 0 || w >= Day || (k > 0 && w == s.Waves[k-1]) {
			return fmt.Errorf("supply: wave %d: need distinct clock times within a day", k)
		}
	}
	if s.OrderCutoff < 0 || s.HubLead < 0 || s.LastMile < 0 || s.InboundAt < 0 || s.InboundAt >= Day || s.Fallback > FallbackMiss {
		return fmt.Errorf("supply: bad order cutoff, lead, last mile, inbound time or fallback rule")
	}
	if len(s.Lead) != len(n.Nodes) || len(s.Stock) != len(n.SKUs) {
		return fmt.Errorf("supply: %d leads for %d nodes, %d stocks for %d SKUs", len(s.Lead), len(n.Nodes), len(s.Stock), len(n.SKUs))
	}
	for i, d := range s.Lead {
		if d < 0 {
			return fmt.Errorf("supply: node %s: negative lead", n.Nodes[i].ID)
		}
	}
	for k, st := range s.Stock {
		if !st.Unlimited && (st.Units < 0 || st.InboundPerDay < 0) {
			return fmt.Errorf("supply: sku %s: negative stock or inbound", n.SKUs[k].ID)
		}
	}
	return nil
}

// SupplyStats count measured orders of one fulfilling node by where their
// unit came from, and the same-day orders the fallback rule touched. Every
// measured order falls in exactly one of CacheHits, Central, BackStore,
// StockoutsOutOfStock and StockoutsCentral.
type SupplyStats struct {
	// CacheHits: the unit was reserved in the fulfilling node's cache
	// (without a supply tier: after a miss, another microstore's, which
	// becomes the fulfilling node).
	CacheHits uint64
	// Central: the unit was taken from the depot and rides a wave.
	Central uint64
	// BackStore: no supply tier and the fulfilling node does not cache the
	// SKU: served from its unlimited back store.
	BackStore uint64
	// StockoutsOutOfStock: the fulfilling node caches the SKU, its cache was
	// empty and so was the depot (without a supply tier: every other
	// microstore caching it).
	StockoutsOutOfStock uint64
	// StockoutsCentral: the fulfilling node does not cache the SKU and the
	// depot had none.
	StockoutsCentral uint64
	// FallbackNextDay: same-day orders promised for the next day because
	// their wave arrives too late; FallbackMissed: such orders kept
	// same-day (fallback miss).
	FallbackNextDay, FallbackMissed uint64
}

func (a *SupplyStats) add(b *SupplyStats) {
	bf := b.fields()
	for k, p := range a.fields() {
		*p += *bf[k]
	}
}

// DepotSKU is the depot's account of one SKU: units on hand and the
// conservation counters (Initial + Inbound + Back = TakenOrders + Held for a
// finite SKU).
type DepotSKU struct {
	Unlimited              bool
	Held                   int64
	Initial, Inbound, Back int64
	TakenOrders            int64
}

// supplyState is the core's supply bookkeeping: source counters per
// fulfilling node (the last slot is the hub), and the depot when the network
// has a supply tier.
type supplyState struct {
	stats []SupplyStats
	depot []DepotSKU
	// next is the next daily inbound instant not yet credited (0: the depot
	// has not seen an instant yet).
	next Instant
	// central: the order being placed takes its unit from the depot.
	central bool
}

func (c *Core) supplyInit() {
	net := c.Net
	if net.Supply == nil && c.inv == nil {
		return
	}
	c.sup = &supplyState{stats: make([]SupplyStats, len(net.Nodes)+1)}
	if s := net.Supply; s != nil {
		c.sup.depot = make([]DepotSKU, len(net.SKUs))
		for k, st := range s.Stock {
			d := &c.sup.depot[k]
			d.Unlimited = st.Unlimited
			if !st.Unlimited {
				d.Held, d.Initial = int64(st.Units), int64(st.Units)
			}
		}
	}
}

// supStats is the source counters of fulfilling node i (NoNode: the hub).
func (c *Core) supStats(i NodeIndex) *SupplyStats {
	if i == NoNode || !c.validNode(i) {
		return &c.sup.stats[len(c.sup.stats)-1]
	}
	return &c.sup.stats[i]
}

// credit adds the daily inbound of every finite SKU for each inbound instant
// up to at.
func (c *Core) credit(at Instant) {
	s := c.Net.Supply
	sp := c.sup
	if sp.next == 0 {
		sp.next = DayStart(at) + Instant(s.InboundAt)
		if sp.next <= at {
			sp.next += Instant(Day)
		}
		return
	}
	for sp.next <= at {
		for k, st := range s.Stock {
			if d := &sp.depot[k]; !d.Unlimited && st.InboundPerDay > 0 {
				d.Held += int64(st.InboundPerDay)
				d.Inbound += int64(st.InboundPerDay)
			}
		}
		sp.next += Instant(Day)
	}
}

// take removes up to n units of SKU s from the depot at instant at and
// returns how many it had.
func (c *Core) take(s SKUIndex, n int64, at Instant) int64 {
	c.credit(at)
	d := &c.sup.depot[s]
	if d.Unlimited {
		return n
	}
	n = min(n, d.Held)
	d.Held -= n
	return n
}

// supplySource decides where an order placed with a supply tier takes its
// unit: the fulfilling node's cache when it caches the SKU and the central
// view shows a free unit there, else the depot (recorded in sup.central).
// It returns false when neither has one.
func (c *Core) supplySource(ev *Event) (NodeIndex, bool) {
	if ev.Node != NoNode && c.inv != nil && c.inv[ev.Node].sku[ev.SKU].tracked && c.CentralFree(ev.Node, ev.SKU) > 0 {
		return ev.Node, true
	}
	if c.take(ev.SKU, 1, ev.At) == 0 {
		if c.measured(ev.At) && c.inv != nil && ev.Node != NoNode {
			c.inv[ev.Node].stats.Stockouts++
		}
		return NoNode, false
	}
	c.sup.depot[ev.SKU].TakenOrders++
	c.sup.central = true
	return NoNode, true
}

// countSource files a placed order under its source (SupplyStats).
func (c *Core) countSource(ev *Event, from NodeIndex, inStock bool) {
	if c.sup == nil || !ev.Measured {
		return
	}
	st := c.supStats(ev.Node)
	switch {
	case !inStock && c.Cached(ev.Node, ev.SKU):
		st.StockoutsOutOfStock++
	case !inStock:
		st.StockoutsCentral++
	case c.sup.central:
		st.Central++
	case from != NoNode:
		c.supStats(from).CacheHits++
	default:
		st.BackStore++
	}
}

// supplyPlaced files a new order under its source and, when its unit comes
// from the depot, schedules it (centralPlace). It runs before the order is
// counted, so Stats.SameDay counts the promise after the fallback.
func (c *Core) supplyPlaced(l *Label, ev *Event, from NodeIndex, inStock bool) {
	if c.sup == nil {
		return
	}
	c.countSource(ev, from, inStock)
	if c.sup.central {
		c.centralPlace(l, ev.At)
	}
}

// centralPlace finishes placing an order whose unit comes from the depot:
// the unit rides the next wave it can still make to the fulfilling node,
// and a same-day order that the wave cannot make ready by the deadline falls
// back by the supply's rule.
func (c *Core) centralPlace(l *Label, at Instant) {
	c.sup.central = false
	s := c.Net.Supply
	l.Stock = StockCentral
	l.Arrive = s.NextWave(at).Add(s.LeadTo(l.From))
	if !l.SameDay || l.Arrive.Add(s.LastMile) <= l.Due {
		return
	}
	st := c.supStats(l.From)
	if s.Fallback == FallbackMiss {
		if l.Measured {
			st.FallbackMissed++
		}
		return
	}
	l.SameDay = false
	l.Due += Instant(Day)
	if l.Measured {
		st.FallbackNextDay++
	}
}

// lineHaul tells the driver when a central label's unit arrives at its
// fulfilling node (EffLineHaul; Delay is the lead, so the wave departs at
// At - Delay).
func (c *Core) lineHaul(l *Label) {
	if l.Stock == StockCentral {
		c.emit(Effect{Type: EffLineHaul, Label: l.ID, Slab: l.slab, Node: l.From, SKU: l.SKU, At: l.Arrive, Delay: c.Net.Supply.LeadTo(l.From)})
	}
}

// centralLoser serves an order that lost a reconciliation conflict at node
// i from the depot, if it has a unit: the order stays with node i and rides
// the next wave. It reports whether the depot had one.
func (c *Core) centralLoser(l *Label, i NodeIndex, at Instant) bool {
	if c.take(l.SKU, 1, at) == 0 {
		return false
	}
	c.sup.depot[l.SKU].TakenOrders++
	l.From = i
	l.Stock = StockCentral
	l.Arrive = c.Net.Supply.NextWave(at).Add(c.Net.Supply.LeadTo(i))
	c.move(l, Issued, at, i, ReasonConflictLost)
	c.lineHaul(l)
	return true
}

// centralBack returns the unit of a cancelled or returned central order to
// the depot.
func (c *Core) centralBack(l *Label) {
	if d := &c.sup.depot[l.SKU]; !d.Unlimited {
		d.Held++
		d.Back++
	}
}

// Supply returns the source counters of fulfilling node i (NoNode: the hub),
// zero when the core keeps none (no cache and no supply tier).
func (c *Core) Supply(i NodeIndex) SupplyStats {
	if c.sup == nil {
		return SupplyStats{}
	}
	return *c.supStats(i)
}

// SupplyTotal sums the source counters over all fulfilling nodes.
func (c *Core) SupplyTotal() SupplyStats {
	var t SupplyStats
	if c.sup != nil {
		for k := range c.sup.stats {
			t.add(&c.sup.stats[k])
		}
	}
	return t
}

// Depot returns the depot's account of every SKU up to instant t (inbound
// credited), nil without a supply tier.
func (c *Core) Depot(t Instant) []DepotSKU {
	if c.sup == nil || c.sup.depot == nil {
		return nil
	}
	c.credit(t)
	return append([]DepotSKU(nil), c.sup.depot...)
}

// CheckDepot verifies conservation at the depot for every finite SKU:
// initial + inbound + back = taken by orders + taken by restock + held, and
// no negative stock.
func (c *Core) CheckDepot() error {
	if c.sup == nil {
		return nil
	}
	for k, d := range c.sup.depot {
		if d.Unlimited {
			continue
		}
		if d.Held < 0 || d.Initial+d.Inbound+d.Back != d.TakenOrders+d.Held {
			return fmt.Errorf("depot sku %s: initial %d + inbound %d + back %d != taken %d + held %d",
				c.Net.SKUs[k].ID, d.Initial, d.Inbound, d.Back, d.TakenOrders, d.Held)
		}
	}
	return nil
}

// encodeSupply appends the supply section of a snapshot (see MarshalBinary).
func (c *Core) encodeSupply(w *snapWriter, freed []bool) {
	sp := c.sup
	w.bool(sp != nil)
	if sp == nil {
		return
	}
	w.uint(uint64(len(sp.stats)))
	for k := range sp.stats {
		for _, v := range sp.stats[k].fields() {
			w.uint(*v)
		}
	}
	w.bool(sp.depot != nil)
	if sp.depot == nil {
		return
	}
	for k := range sp.depot {
		for _, v := range sp.depot[k].fields() {
			w.int(*v)
		}
	}
	w.int(int64(sp.next))
	n := 0
	for i := range c.labels.len() {
		if !freed[i] && c.labels.at(int32(i)).Stock == StockCentral {
			n++
		}
	}
	w.uint(uint64(n))
	for i := range c.labels.len() {
		if !freed[i] && c.labels.at(int32(i)).Stock == StockCentral {
			w.uint(uint64(i))
			w.int(int64(c.labels.at(int32(i)).Arrive))
		}
	}
}

// decodeSupply reads the supply section into d, a core decoded from the
// snapshot for c's network.
func (c *Core) decodeSupply(r *snapReader, d *Core) error {
	r.section = "supply"
	if r.bool() != (c.sup != nil) {
		r.fail("supply presence differs from the network's")
	}
	if r.err != nil || c.sup == nil {
		return r.err
	}
	sp := &supplyState{stats: make([]SupplyStats, r.expect(len(c.sup.stats)))}
	for k := range sp.stats {
		for _, v := range sp.stats[k].fields() {
			*v = r.uint()
		}
	}
	if r.bool() != (c.sup.depot != nil) {
		r.fail("depot presence differs from the network's")
	}
	if r.err == nil && c.sup.depot != nil {
		sp.depot = make([]DepotSKU, len(c.sup.depot))
		for k := range sp.depot {
			sp.depot[k].Unlimited = c.sup.depot[k].Unlimited
			for _, v := range sp.depot[k].fields() {
				*v = r.int()
			}
		}
		sp.next = Instant(r.int())
		for n := r.count(2); n > 0 && r.err == nil; n-- {
			s := r.uint()
			at := Instant(r.int())
			if s >= uint64(d.labels.len()) || d.labels.at(int32(s)).Stock != StockCentral {
				r.fail("central arrival of a label that is not central")
				break
			}
			d.labels.at(int32(s)).Arrive = at
		}
	}
	d.sup = sp
	return r.err
}

func (s *SupplyStats) fields() [7]*uint64 {
	return [...]*uint64{&s.CacheHits, &s.Central, &s.BackStore, &s.StockoutsOutOfStock, &s.StockoutsCentral, &s.FallbackNextDay, &s.FallbackMissed}
}

func (d *DepotSKU) fields() [5]*int64 {
	return [...]*int64{&d.Held, &d.Initial, &d.Inbound, &d.Back, &d.TakenOrders}
}

// hash adds the supply tier to a network fingerprint.
func (s *Supply) hash(w *snapWriter) {
	w.uint(uint64(len(s.Waves)))
	for _, v := range s.Waves {
		w.int(int64(v))
	}
	for _, v := range [...]Duration{s.OrderCutoff, s.HubLead, s.LastMile, s.InboundAt} {
		w.int(int64(v))
	}
	w.uint(uint64(len(s.Lead)))
	for _, v := range s.Lead {
		w.int(int64(v))
	}
	w.uint(uint64(len(s.Stock)))
	for _, v := range s.Stock {
		w.bool(v.Unlimited)
		w.int(int64(v.Units))
		w.int(int64(v.InboundPerDay))
	}
	w.uint(uint64(s.Fallback))
}
