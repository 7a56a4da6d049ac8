package model

import (
	"cmp"
	"slices"
	"strings"
	"unsafe"

	"github.com/lockstep-sim/lockstep/internal/prefetch"
)

// NodeState is the core's live view of one node.
type NodeState struct {
	Online   bool
	Free     [NumSizes]int32 // free locker slots by size class
	Held     int32           // parcels held at the counter
	Occupied int32           // parcels held in slots and at the counter
	// OccupiedTime is the integral of Occupied over time (parcel-milliseconds)
	// up to Since; see Core.OccupiedTime for the value at a given instant.
	OccupiedTime int64
	Since        Instant
	Arrivals     uint64 // drop attempts
	Refused      uint64 // drop attempts refused (full, closed, inactive, offline)
	Entered      uint64 // parcels that took a slot or counter space
}

// Stats are the core's counters. Outcome counters cover measured labels only
// (the driver marks labels placed after the warm-up); rejections count all.
type Stats struct {
	Events      uint64
	Transitions uint64
	Rejected    [numReasons]uint64

	Orders, SameDay             uint64
	Ready, ReadyOnTime          uint64
	PickedUp, PickedUpWithinSLA uint64
	Returned, Cancelled         uint64
	Reroutes, Refunds, Alerts   uint64
	RefundAmount, RerouteCost   float64
	// Friction is the distribution of minutes from the first ready
	// notification to the verified pickup.
	Friction Histogram
	// ReconcileLag is the distribution of minutes from a node's local log
	// entry to its merge into the central view, over entries logged while
	// offline at or after Core.MeasureFrom (entries logged online merge at once).
	ReconcileLag Histogram
	// TTL counts the stage TTL alerts and escalations and the expiry practice.
	TTL TTLStats
	// Touch counts pickup windows and rewards (touch.go).
	Touch TouchStats
}

// RejectedTotal sums the rejections over all reasons.
func (s *Stats) RejectedTotal() uint64 {
	var n uint64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// Core is the smart-label state machine and the operating rules around it:
// slot allocation, reroute policy, SLA and refunds. It is driven one event at
// a time by Step and never does I/O, reads a clock or draws random numbers.
type Core struct {
	Net *Network
	// KeepFinished keeps labels in a terminal state in memory (the twin
	// serves their provenance); the simulator releases them so memory is
	// proportional to labels in flight.
	KeepFinished bool
	// OnFinish, if set, is called with each label reaching a terminal state,
	// before it is released.
	OnFinish func(*Label)
	Stats    Stats
	// MeasureFrom: inventory counters, drift and reconciliation lag count
	// from this instant on (the simulator sets the end of its warm-up).
	MeasureFrom Instant

	nodes  []NodeState
	labels labelSlab
	free   []int32
	index  labelIndex
	out    []Effect
	order  [][]NodeIndex
	// cellNodes lists the nodes that hold parcels by H3 cell, holders counts
	// them (orderByRings; derived from the network in New)
	cellNodes map[Cell][]NodeIndex
	holders   int
	idRank    []int32 // nearPrefix's tie-break: each node's rank by id
	// chains no label holds, by capacity (chainSmall, chainCap)
	smallFree, bigFree [][]Entry
	draining           bool // Draining was called: small chains are not kept
	// nearBuf is orderByRings' candidate list, kept between calls: a big
	// city's disks hold thousands of nodes, and a list grown afresh for
	// each node's first ordering was a third of the garbage of a
	// locker-metro run (150 MB).
	nearBuf []nearCand

	now Instant

	// cache-first nodes (nil inv: no node keeps a log)
	logging     bool
	inv         []nodeInv
	heat        []int32 // online demand by (heatmap cell, SKU, day of the rolling window)
	counterHeat []int32 // counter demand by (node, SKU, day)
	rp          replState
	window      int
	heatDay     int
	heatDays    int
	freeBuf     []int32
	skuMark     []bool

	// supply tier and source counters (nil: no cache and no supply tier)
	sup *supplyState
	// pickup windows by label slab (touch.go; nil: no touch policy)
	windows []Window
	// reusable packaging (nil: none; packaging.go)
	pk *packState
}

// New returns a core for the network. It does not copy net; do not change it
// while the core runs.
func New(net *Network) *Core {
	c := &Core{Net: net, out: make([]Effect, 0, 16)}
	c.nodes = make([]NodeState, len(net.Nodes))
	for i := range c.nodes {
		c.nodes[i] = NodeState{Online: true, Free: net.Nodes[i].Slots}
	}
	c.order = make([][]NodeIndex, len(net.Nodes))
	c.cellNodes = make(map[Cell][]NodeIndex)
	for j := range net.Nodes {
		if net.Nodes[j].Holds() {
			c.cellNodes[net.Nodes[j].Cell] = append(c.cellNodes[net.Nodes[j].Cell], NodeIndex(j))
			c.holders++
		}
	}
	c.idRank = idRanks(net.Nodes)
	c.invInit()
	c.supplyInit()
	c.packagingInit()
	return c
}

// Label returns the live label with the given id, or nil. The pointer is
// valid until the next Step.
func (c *Core) Label(id LabelID) *Label {
	if s, ok := c.index.get(id); ok {
		return c.labels.at(s)
	}
	return nil
}

// LabelAt is Label with a hint: slab is where an Effect about the label
// said it was (Effect.Slab). A hint that no longer holds (the label
// finished, or the slab went to another label) falls back to Label.
func (c *Core) LabelAt(id LabelID, slab int32) *Label {
	if s, ok := c.hinted(id, slab); ok {
		return c.labels.at(s)
	}
	return c.Label(id)
}

// hinted reports whether slab holds the live label id, which can then be
// used without the index. A live label is never in state None outside a
// step and is found by the index until it reaches a terminal state; a
// terminal one is left to the index (it may have been released), so the
// answer is the index's whenever it is true.
func (c *Core) hinted(id LabelID, slab int32) (int32, bool) {
	if uint(slab) >= uint(c.labels.len()) {
		return 0, false
	}
	l := c.labels.at(slab)
	return slab, l.ID == id && l.State != None && !l.State.Terminal()
}

// Prefetch asks the CPU to start loading the label a step on id will read
// and returns the slab it asked for: slab itself when it is in range (a
// hint as in LabelAt, not checked: that would load the label, and a wrong
// hint only wastes a prefetch), else the index's slab for id, or -1 if id
// is unknown. It reads at most the index and changes nothing: a driver
// calls it for an event queued a little ahead while it handles the
// current one, so that the label's cache misses overlap that work.
func (c *Core) Prefetch(id LabelID, slab int32) int32 {
	slab, _, ok := c.prefetchSlab(id, slab)
	if !ok {
		return -1
	}
	// a label is 144 bytes, on three or four lines as it falls
	p := unsafe.Pointer(c.labels.at(slab))
	prefetch.Line(p)
	prefetch.Line(unsafe.Add(p, 64))
	prefetch.Line(unsafe.Add(p, 128))
	prefetch.Line(unsafe.Add(p, unsafe.Sizeof(Label{})-1))
	return slab
}

// prefetchSlab is the slab Prefetch and PrefetchStep work on: the hint
// when it is in range (hinted), else the index's; ok is false when neither
// has one.
func (c *Core) prefetchSlab(id LabelID, hint int32) (slab int32, hinted, ok bool) {
	if uint(hint) < uint(c.labels.len()) {
		return hint, true, true
	}
	slab, ok = c.index.get(id)
	return slab, false, ok
}

// PrefetchStep is Prefetch one event later, when the label's lines have
// had an event's time to arrive: it reads the label (the slab Prefetch
// returns, found the same way) and starts loading where the step will
// append to its chain, the node the label is at (or bound for) and, when
// the slab came from the hint, the label's index entry, which a step that
// finishes the label clears. It returns that slab, or -1, and changes
// nothing.
func (c *Core) PrefetchStep(id LabelID, slab int32) int32 {
	slab, hinted, ok := c.prefetchSlab(id, slab)
	if !ok {
		return -1
	}
	if hinted {
		// the hint spares the step the index, but not a label that
		// finishes: it leaves the index
		c.index.prefetch(id)
	}
	l := c.labels.at(slab)
	if n := len(l.Chain); n < cap(l.Chain) {
		prefetch.Line(unsafe.Pointer(unsafe.SliceData(l.Chain[n : n+1])))
	}
	n := l.At
	if n == NoNode {
		n = l.Dest
	}
	if uint(n) < uint(len(c.nodes)) {
		prefetch.Line(unsafe.Pointer(&c.nodes[n]))
	}
	return slab
}

// Live is the number of labels the core holds.
func (c *Core) Live() int { return c.index.len() }

// EachLabel calls fn for every label the core holds, in label id order.
//
// It walks the label index, whose pages are in id order, so it allocates
// nothing (the simulator calls it at the horizon, when the heap is at its
// largest); fn must not step the core.
func (c *Core) EachLabel(fn func(*Label)) {
	c.index.each(func(_ LabelID, slab int32) { fn(c.labels.at(slab)) })
}

// Node returns the live state of node i.
func (c *Core) Node(i NodeIndex) NodeState { return c.nodes[i] }

// NodeView returns node i's live state without copying it, for drivers that
// read it on their hot path. The driver must not change it; it changes
// with the next Step.
func (c *Core) NodeView(i NodeIndex) *NodeState { return &c.nodes[i] }

// OccupiedTime returns node i's occupancy integral (parcel-milliseconds) up to t.
func (c *Core) OccupiedTime(i NodeIndex, t Instant) int64 {
	n := &c.nodes[i]
	if t <= n.Since {
		return n.OccupiedTime
	}
	return n.OccupiedTime + int64(n.Occupied)*int64(t-n.Since)
}

// Step applies one event and returns the effects for the driver to carry out.
// The returned slice is reused by the next call.
func (c *Core) Step(ev Event) []Effect { return c.StepEvent(&ev) }

// StepEvent is Step with the event passed by reference, for drivers on a
// hot path: an Event (80 bytes) built field by field and then passed by
// value is copied by wide loads that stall on the narrow stores that built
// it. The core does not keep ev or change it.
func (c *Core) StepEvent(ev *Event) []Effect {
	c.out = c.out[:0]
	c.Stats.Events++
	if ev.At > c.now {
		c.now = ev.At
	}
	if ev.Type == EvOrderPlaced {
		c.place(ev)
		return c.out
	}
	if ev.Type >= EvNodeOffline && ev.Type <= EvReplenish {
		c.nodeEvent(ev)
		return c.out
	}
	slab, ok := c.hinted(ev.Label, ev.slab-1)
	if !ok {
		slab, ok = c.index.get(ev.Label)
	}
	if !ok {
		if isBoxEvent(ev.Type) { // packaging.go; off the label events' path
			c.boxEvent(ev)
			return c.out
		}
		c.reject(ev, RejectUnknownLabel)
		return c.out
	}
	l := c.labels.at(slab)
	if ev.Type == EvTimer {
		c.timer(l, ev)
		return c.out
	}
	if ev.Type == EvExtend {
		c.extend(l, ev)
		return c.out
	}
	if ev.Type >= numEventTypes || !allowed[ev.Type][l.State] {
		if isBoxEvent(ev.Type) { // a box event naming a live label (EvBoxPacked)
			c.boxEvent(ev)
			return c.out
		}
		c.reject(ev, RejectIllegalTransition)
		return c.out
	}
	switch ev.Type {
	case EvScanPicked:
		if l.Stock != StockNone {
			if l.Stock == StockPending {
				c.reject(ev, RejectNotReserved)
				return c.out
			}
			if l.Stock == StockReserved {
				c.inv[l.From].sku[l.SKU].picked++
				c.logOp(l.From, OpPick, l.SKU, 1, l.ID, ev.At)
				l.Stock = StockPicked
			}
		}
		c.move(l, Picked, ev.At, l.From, ReasonScanPick)
	case EvScanPacked:
		c.move(l, Packed, ev.At, l.From, ReasonScanPack)
		if c.pk != nil {
			c.boxPack(l, ev.At)
		}
		ef := c.next()
		ef.Type, ef.Label, ef.Slab, ef.Node, ef.To, ef.At, ef.Size = EffDispatch, l.ID, l.slab, l.From, l.Dest, ev.At, l.Size
	case EvHandoff:
		c.move(l, InTransit, ev.At, ev.Node, ReasonHandoff)
	case EvArrived:
		c.arrive(l, ev)
	case EvPickup:
		c.pickup(l, ev)
	case EvCancel:
		c.cancel(l, ev)
	}
	return c.out
}

func (c *Core) emit(e Effect) { c.out = append(c.out, e) }

// A label's provenance chain has one of two capacities. Most labels finish
// within chainSmall entries (6 in every bundled scenario without an
// exception: 92 % of locker-day's labels, 74 % of the pilot's); a chain
// that outgrows it moves to one of chainCap, which holds every chain of
// the bundled scenarios (9 after a TTL reroute, 12 at most in the pilot).
// Labels reuse their slot's chain, and the chains a label gives up (the
// small one it outgrew, the large one its slot's next label does not
// need) wait in the core's free lists, so a run makes no garbage of them
// and holds about one small chain per slot plus a large one per label
// that needed it: 144 bytes a slot instead of 288 for a chain of 12.
// Longer chains grow by append and are dropped when their slot is reused.
const (
	chainSmall   = 6
	chainCap     = 12
	chainPoolMin = 1024
)

// slotChain returns an empty chain for a new label in a slot whose last
// label had old: old itself if it is small, else a small one (old goes to
// its free list).
func (c *Core) slotChain(old []Entry) []Entry {
	if cap(old) == chainSmall {
		return old[:0]
	}
	c.putChain(old)
	if n := len(c.smallFree); n > 0 {
		ch := c.smallFree[n-1]
		c.smallFree = c.smallFree[:n-1]
		return ch
	}
	return make([]Entry, 0, chainSmall)
}

// Draining tells the core that no new labels will come: the simulator's
// drain past its horizon, which only finishes the labels in flight. From
// then on the small chains that rerouted labels give up are left to the
// collector instead of a free list no new label will take from (64 000 of
// them in a 6-day locker-metro's drain, whose list grew by 3.4 MB beside
// the whole world). Large chains are still kept: the drain's reroutes take
// them. It changes no result, only what memory is reused; a label issued
// after it gets a new chain.
func (c *Core) Draining() { c.draining = true }

// putChain keeps a chain no label holds any more for reuse, unless its
// free list already holds a quarter as many chains as there are live
// labels (and at least chainPoolMin): then the chain is left to the
// collector. While orders come in, the lists stay short (a 6-day
// locker-metro: under 2 000 chains beside 320 000 labels), since new
// labels take chains as fast as others give them up; the bound is for the
// end of a run, when the drain's reroutes give up small chains that no
// new label will take (64 000 in that metro, 7.7 MB of list copies).
func (c *Core) putChain(ch []Entry) {
	var pool *[][]Entry
	switch cap(ch) {
	case chainSmall:
		if c.draining {
			return
		}
		pool = &c.smallFree
	case chainCap:
		pool = &c.bigFree
	default:
		return
	}
	if n := len(*pool); n >= chainPoolMin && n >= c.index.len()/4 {
		return
	}
	*pool = append(*pool, ch[:0])
}

// growChain moves l's full small chain into a large one.
func (c *Core) growChain(l *Label) {
	var big []Entry
	if n := len(c.bigFree); n > 0 {
		big = c.bigFree[n-1]
		c.bigFree = c.bigFree[:n-1]
	} else {
		big = make([]Entry, 0, chainCap)
	}
	big = append(big, l.Chain...)
	c.putChain(l.Chain)
	l.Chain = big
}

// next appends a zero effect to the output and returns it, for the hot
// paths to fill in place. An Effect literal passed to emit is assembled on
// the stack by narrow stores and then copied by 16-byte loads, which the
// CPU cannot forward from those stores: a stall of tens of cycles per
// effect (the profile put 15 % of locker-day in emit). Storing the fields
// straight into the output avoids the copy.
func (c *Core) next() *Effect {
	n := len(c.out)
	if n == cap(c.out) {
		c.out = append(c.out, Effect{})
	} else {
		c.out = c.out[:n+1]
		c.out[n] = Effect{}
	}
	return &c.out[n]
}

// nodeEvent handles the events about a node rather than a label.
func (c *Core) nodeEvent(ev *Event) {
	switch ev.Type {
	case EvNodeOffline:
		c.nodeOffline(ev)
	case EvNodeOnline:
		c.nodeOnline(ev)
	case EvCounterSale:
		c.counterSale(ev)
	case EvRestock:
		c.restock(ev)
	case EvReplenish:
		c.replenish(ev)
	}
}

func (c *Core) reject(ev *Event, why Reason) {
	c.Stats.Rejected[why]++
	ef := c.next()
	ef.Type, ef.Label, ef.Slab, ef.Node, ef.At, ef.Reason = EffReject, ev.Label, -1, ev.Node, ev.At, why
}

func (c *Core) validNode(i NodeIndex) bool { return i >= 0 && int(i) < len(c.Net.Nodes) }

func (c *Core) place(ev *Event) {
	if _, dup := c.index.get(ev.Label); dup {
		c.reject(ev, RejectDuplicateLabel)
		return
	}
	if ev.SKU < 0 || int(ev.SKU) >= len(c.Net.SKUs) {
		c.reject(ev, RejectUnknownSKU)
		return
	}
	if !c.validNode(ev.Dest) || (ev.Node != NoNode && !c.validNode(ev.Node)) {
		c.reject(ev, RejectUnknownNode)
		return
	}
	if c.Net.Policy.Touch != nil && !c.touchPlace(ev) {
		return
	}
	from, inStock := NoNode, true
	if c.inv != nil {
		from, inStock = c.placeStock(ev)
	} else if c.Net.Supply != nil {
		from, inStock = c.supplySource(ev)
	}
	var slab int32
	if n := len(c.free); n > 0 {
		slab = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		slab = c.labels.add()
		if cap(c.free) < c.labels.len() {
			// room for every slot to be free at once (see labelSlab.cap)
			c.free = slices.Grow(c.free, c.labels.cap()-len(c.free))
		}
	}
	c.index.set(ev.Label, slab)
	l := c.labels.at(slab)
	chain := c.slotChain(l.Chain)
	size := ev.Size
	if size >= NumSizes {
		size = c.Net.SKUs[ev.SKU].Size
	}
	// Zero the label and store its fields in place: a Label literal would
	// be assembled on the stack and copied by wide loads the CPU cannot
	// forward from the narrow stores that built it (see next).
	*l = Label{}
	l.ID, l.Order, l.SKU, l.Size, l.From, l.Dest, l.Home = ev.Label, ev.Order, ev.SKU, size, ev.Node, ev.Dest, ev.Dest
	l.Placed, l.State, l.At, l.SlotSize, l.Measured, l.Subscriber = ev.At, None, NoNode, NoSize, ev.Measured, ev.Subscriber
	l.Chain, l.slab = chain, slab
	p := &c.Net.Policy
	day := DayStart(ev.At)
	l.SameDay = TimeOfDay(ev.At) < p.Cutoff
	if l.SameDay {
		l.Due = day + Instant(p.ReadyBy)
	} else {
		l.Due = day + Instant(Day) + Instant(p.ReadyBy)
	}
	c.supplyPlaced(l, ev, from, inStock)
	if c.Net.Policy.Touch != nil {
		c.touchPlaced(l, ev.Window())
	}
	if l.Measured {
		c.Stats.Orders++
		if l.SameDay {
			c.Stats.SameDay++
		}
	}
	if from != NoNode {
		c.reserve(l, from, ev.At)
	}
	c.move(l, Issued, ev.At, l.From, ReasonOrder)
	c.lineHaul(l)
	ef := c.next()
	ef.Type, ef.Timer, ef.Label, ef.Slab, ef.At = EffSetTimer, TimerSLA, l.ID, slab, l.Due
	if !inStock {
		ef := c.next()
		ef.Type, ef.Label, ef.Slab, ef.Node, ef.SKU, ef.At, ef.Reason = EffStockout, l.ID, slab, ev.Node, ev.SKU, ev.At, ReasonOutOfStock
		c.cancel(l, &Event{Type: EvOrderPlaced, At: ev.At, Node: ev.Node, Reason: ReasonOutOfStock})
	}
}

// move appends a transition, emits it, and re-arms the stage TTL.
func (c *Core) move(l *Label, to State, at Instant, node NodeIndex, why Reason) {
	prev := l.State
	if n := len(l.Chain); n == chainSmall && n == cap(l.Chain) {
		c.growChain(l)
	}
	l.append(to, at, node, why)
	c.Stats.Transitions++
	ef := c.next()
	ef.Type, ef.Label, ef.Slab, ef.Prev, ef.State, ef.Node, ef.At, ef.Reason, ef.Hops = EffState, l.ID, l.slab, prev, to, node, at, why, int32(l.Hops)
	if l.TTLAt != 0 {
		l.TTLAt = 0
		ef := c.next()
		ef.Type, ef.Timer, ef.Label, ef.Slab = EffCancelTimer, TimerTTL, l.ID, l.slab
	}
	c.cancelReminder(l)
	if to.Terminal() {
		return
	}
	if ttl := c.stageTTL(l, to, at); ttl > 0 {
		l.TTLAt = at.Add(ttl)
		ef := c.next()
		ef.Type, ef.Timer, ef.Label, ef.Slab, ef.At = EffSetTimer, TimerTTL, l.ID, l.slab, l.TTLAt
		c.armReminder(l)
	}
}

func (c *Core) touch(i NodeIndex, at Instant) *NodeState {
	n := &c.nodes[i]
	if at > n.Since {
		n.OccupiedTime += int64(n.Occupied) * int64(at-n.Since)
		n.Since = at
	}
	return n
}

// CanTake reports whether node i can take a parcel of size s at instant t:
// active, online, open (when hours is true) and with a fitting slot or
// counter space.
func (c *Core) CanTake(i NodeIndex, s SizeClass, t Instant, hours bool) bool {
	nd := &c.Net.Nodes[i]
	st := &c.nodes[i]
	if (!st.Online && c.Net.Policy.Offline == OfflineRefuse) || !nd.ActiveAt(t) || (hours && !nd.Hours.OpenAt(t)) {
		return false
	}
	for k := s; k < NumSizes; k++ {
		if st.Free[k] > 0 {
			return true
		}
	}
	return st.Held < nd.Counter
}

func (c *Core) arrive(l *Label, ev *Event) {
	if ev.Node != l.Dest {
		c.reject(ev, RejectWrongNode)
		return
	}
	i := ev.Node
	nd := &c.Net.Nodes[i]
	st := c.touch(i, ev.At)
	st.Arrivals++
	why := ReasonNone
	switch {
	case !st.Online && c.Net.Policy.Offline == OfflineRefuse:
		why = ReasonNodeOffline
	case !nd.ActiveAt(ev.At), !nd.Hours.OpenAt(ev.At):
		why = ReasonNodeClosed
	}
	slot := NoSize
	counter := false
	if why == ReasonNone {
		for k := l.Size; k < NumSizes; k++ {
			if st.Free[k] > 0 {
				slot = k
				break
			}
		}
		if slot == NoSize {
			if st.Held < nd.Counter {
				counter = true
			} else {
				why = ReasonNodeFull
			}
		}
	}
	if why != ReasonNone {
		st.Refused++
		c.reroute(l, i, ev.At, why, false)
		return
	}
	if counter {
		st.Held++
	} else {
		st.Free[slot]--
	}
	st.Occupied++
	st.Entered++
	l.At, l.SlotSize = i, slot
	if c.logging {
		c.slotLog(i, OpSlotLock, l, ev.At)
	}
	c.move(l, ReadyForPickup, ev.At, i, ReasonArrived)
	ef := c.next()
	ef.Type, ef.Label, ef.Slab, ef.Node, ef.Size, ef.Amount, ef.At = EffSlot, l.ID, l.slab, i, slot, 1, ev.At
	if l.ReadyAt == 0 {
		l.ReadyAt = ev.At
		if c.Net.Policy.Touch != nil {
			c.touchArrived(l, ev.At)
		}
		if l.Measured {
			c.Stats.Ready++
			if ev.At <= l.Due {
				c.Stats.ReadyOnTime++
			}
		}
		if !l.Late {
			ef := c.next()
			ef.Type, ef.Timer, ef.Label, ef.Slab = EffCancelTimer, TimerSLA, l.ID, l.slab
		}
	}
	ef = c.next()
	ef.Type, ef.Label, ef.Slab, ef.Node, ef.At, ef.Hops = EffNotify, l.ID, l.slab, i, ev.At, int32(l.Hops)
}

// release frees the slot or counter space a ready label holds.
func (c *Core) release(l *Label, at Instant) {
	if l.At == NoNode {
		return
	}
	st := c.touch(l.At, at)
	if l.SlotSize == NoSize {
		st.Held--
	} else {
		st.Free[l.SlotSize]++
	}
	st.Occupied--
	if c.logging {
		c.slotLog(l.At, OpSlotRelease, l, at)
	}
	ef := c.next()
	ef.Type, ef.Label, ef.Slab, ef.Node, ef.Size, ef.Amount, ef.At = EffSlot, l.ID, l.slab, l.At, l.SlotSize, -1, at
	l.At, l.SlotSize = NoNode, NoSize
}

// Nearest returns the nearest node to from (by H3 grid distance, ties by id)
// that can take a parcel of size s at instant eta, preferring nodes open at
// eta; partners restricts the search to partner storefronts. NoNode if none.
//
// It walks the cached prefix of from's nearest-first ordering (orderFrom),
// and only when no node there qualifies looks beyond it (nearestBeyond):
// the same node as a walk over the whole ordering, with memory per node
// bounded by about nearK nodes and nearK partners.
func (c *Core) Nearest(from NodeIndex, s SizeClass, eta Instant, partners bool) NodeIndex {
	ord := c.orderFrom(from)
	for pass := 0; pass < 2; pass++ {
		for _, j := range ord {
			if partners && c.Net.Nodes[j].Kind != Partner {
				continue
			}
			if c.CanTake(j, s, eta, pass == 0) {
				return j
			}
		}
		if len(ord) > 0 {
			if j := c.nearestBeyond(from, ord[len(ord)-1], s, eta, pass == 0, partners); j != NoNode {
				return j
			}
		}
	}
	return NoNode
}

// nearK is how many nodes and how many partners the nearest-first prefix
// cached per node holds at least: a node's
// full ordering is N entries, N^2 for the network (125 MB at 5 600 nodes).
const nearK = 32

// nearestBeyond is the first node after last in from's nearest-first
// ordering (grid distance, ties by id) that can take a parcel of size s at
// eta (open then, with hours), among partners only if partners; NoNode if
// none. It scans every node but computes the grid distance only of those
// that qualify: none when the prefix is the whole ordering (a node in the
// prefix that qualified would have been taken).
func (c *Core) nearestBeyond(from, last NodeIndex, s SizeClass, eta Instant, hours, partners bool) NodeIndex {
	nodes := c.Net.Nodes
	src := nodes[from].Cell
	ld, lid := -1, nodes[last].ID // ld: computed at the first node that qualifies
	best, bd := NoNode, 0
	for j := range nodes {
		nd := &nodes[j]
		if NodeIndex(j) == from || !nd.Holds() || (partners && nd.Kind != Partner) || !c.CanTake(NodeIndex(j), s, eta, hours) {
			continue
		}
		if ld < 0 {
			ld = GridDistance(src, nodes[last].Cell)
		}
		d := GridDistance(src, nd.Cell)
		if d < ld || (d == ld && nd.ID <= lid) {
			continue // in the prefix
		}
		if best == NoNode || d < bd || (d == bd && nd.ID < nodes[best].ID) {
			best, bd = NodeIndex(j), d
		}
	}
	return best
}

// orderFrom lists the nodes nearest to from that hold parcels, nearest
// first by grid distance, ties by id: the shortest prefix of the full
// ordering with nearK nodes and nearK partners (Nearest's searches among
// partners only), or the whole ordering when shorter. It is computed on
// first use and kept: the network does not move.
func (c *Core) orderFrom(from NodeIndex) []NodeIndex {
	if o := c.order[from]; o != nil {
		return o
	}
	o := c.orderByRings(from)
	if o == nil {
		o = c.orderByScan(from)
	}
	c.order[from] = o
	return o
}

// nearCand is a node and its grid distance from the node being ordered.
type nearCand struct {
	i NodeIndex
	d int
}

// nearPrefix sorts cs nearest first (ties by id) and returns the length of
// orderFrom's prefix: the shortest with nearK nodes and nearK partners, or
// all of cs.
func (c *Core) nearPrefix(cs []nearCand) int {
	nodes := c.Net.Nodes
	rank := c.idRank
	// by distance, then id: the id's rank among the nodes' ids, compared
	// as an integer (the strings' comparisons were most of a metro's
	// orderings), then the index, which only equal ids reach
	slices.SortFunc(cs, func(a, b nearCand) int {
		if a.d != b.d {
			return cmp.Compare(a.d, b.d)
		}
		if r := cmp.Compare(rank[a.i], rank[b.i]); r != 0 {
			return r
		}
		return cmp.Compare(a.i, b.i)
	})
	n, partners := 0, 0
	for n < len(cs) && (n < nearK || partners < nearK) {
		if nodes[cs[n].i].Kind == Partner {
			partners++
		}
		n++
	}
	return n
}

// idRanks returns each node's rank in the order of the nodes' ids (equal
// ids share a rank).
func idRanks(nodes []Node) []int32 {
	idx := make([]int32, len(nodes))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return strings.Compare(nodes[a].ID, nodes[b].ID) })
	rank := make([]int32, len(nodes))
	for k, i := range idx {
		rank[i] = int32(k)
		if k > 0 && nodes[idx[k-1]].ID == nodes[i].ID {
			rank[i] = rank[idx[k-1]]
		}
	}
	return rank
}

// nodesOf lists the nodes of cs[:n].
func nodesOf(cs []nearCand, n int) []NodeIndex {
	o := make([]NodeIndex, n)
	for k := range o {
		o[k] = cs[k].i
	}
	return o
}

// orderByScan is orderFrom's prefix from the grid distance to every node.
func (c *Core) orderByScan(from NodeIndex) []NodeIndex {
	src := c.Net.Nodes[from].Cell
	cs := make([]nearCand, 0, len(c.Net.Nodes))
	for j := range c.Net.Nodes {
		if NodeIndex(j) == from || !c.Net.Nodes[j].Holds() {
			continue
		}
		cs = append(cs, nearCand{NodeIndex(j), GridDistance(src, c.Net.Nodes[j].Cell)})
	}
	return nodesOf(cs, c.nearPrefix(cs))
}

// nearRings is the widest grid disk orderByRings enumerates before it
// leaves the ordering to the full scan.
const nearRings = 64

// orderByRings is orderFrom's prefix found by walking the H3 grid outwards
// from the node's cell (GridDisk, one call per radius tried) instead of
// computing the grid distance to every node: at 5 600 nodes the full scan's
// N^2 cgo calls took 20 s of a run. Each node found at ring d is checked to
// have GridDistance d (the ordering's key), and the disk is widened until
// the prefix's farthest distance D is within it, so every node at distance
// <= D is among those found and sorted exactly as the full scan sorts them.
// It returns nil, for the full scan, when the disk reaches nearRings
// without completing the prefix, when it meets a pentagon, or when a check
// fails.
func (c *Core) orderByRings(from NodeIndex) []NodeIndex {
	nodes := c.Net.Nodes
	others := c.holders // the nodes the full ordering lists
	if nodes[from].Holds() {
		others--
	}
	src := nodes[from].Cell
	cs := c.nearBuf[:0]
	defer func() { c.nearBuf = cs[:0] }()
	for k := 8; k <= nearRings; k *= 2 {
		rings, ok := GridDisk(src, k)
		if !ok {
			return nil // a pentagon nearby: leave it to the full scan
		}
		cs = cs[:0]
		for d, ring := range rings {
			for _, cell := range ring {
				for _, j := range c.cellNodes[cell] {
					if j != from {
						cs = append(cs, nearCand{j, d})
					}
				}
			}
		}
		n := c.nearPrefix(cs)
		// complete: the prefix stopped inside the disk, took all of it with
		// nearK of each, or the disk holds every node
		if n == len(cs) && len(cs) < others && !c.prefixFull(cs) {
			continue // widen the disk
		}
		for _, x := range cs[:n] {
			if GridDistance(src, nodes[x.i].Cell) != x.d {
				return nil
			}
		}
		return nodesOf(cs, n)
	}
	return nil
}

// prefixFull reports whether cs holds nearK nodes and nearK partners.
func (c *Core) prefixFull(cs []nearCand) bool {
	partners := 0
	for _, x := range cs {
		if c.Net.Nodes[x.i].Kind == Partner {
			partners++
		}
	}
	return len(cs) >= nearK && partners >= nearK
}

// reroute sends the label from node `from` to the nearest node that can take
// it, or returns it when hops are exhausted or nothing can.
func (c *Core) reroute(l *Label, from NodeIndex, at Instant, why Reason, partners bool) {
	p := &c.Net.Policy
	if l.Hops >= p.MaxHops {
		c.returned(l, from, at, ReasonHopsExhausted)
		return
	}
	to := c.Nearest(from, l.Size, at.Add(p.RerouteDelay), partners)
	if to == NoNode {
		c.returned(l, from, at, ReasonNoTarget)
		return
	}
	l.Hops++
	l.Dest = to
	c.move(l, Rerouting, at, from, why)
	ef := c.next()
	ef.Type, ef.Label, ef.Slab, ef.Node, ef.To, ef.At, ef.Delay, ef.Amount, ef.Reason, ef.Hops, ef.Size = EffReroute, l.ID, l.slab, from, to, at, p.RerouteDelay, p.RerouteCost, why, int32(l.Hops), l.Size
	if l.Measured {
		c.Stats.Reroutes++
		c.Stats.RerouteCost += p.RerouteCost
	}
}

func (c *Core) returned(l *Label, node NodeIndex, at Instant, why Reason) {
	if l.Stock != StockNone {
		c.unitBack(l, at)
	}
	c.move(l, Returned, at, node, why)
	ef := c.next()
	ef.Type, ef.Label, ef.Slab, ef.Node, ef.To, ef.At = EffReturn, l.ID, l.slab, node, l.From, at
	if l.Measured {
		c.Stats.Returned++
	}
	if l.ReadyAt == 0 {
		// It never reached the customer: the order is refunded like a
		// cancelled one (a returned no-show, once ready, is not).
		c.refundUndelivered(l, at, why)
	}
	c.finish(l)
}

func (c *Core) pickup(l *Label, ev *Event) {
	if ev.Node != l.At {
		c.reject(ev, RejectWrongNode)
		return
	}
	if c.Net.CodeKey != ([2]uint64{}) && !VerifyPickupCode(c.Net.CodeKey, l.ID, ev.Code) {
		c.reject(ev, RejectBadCode)
		return
	}
	if !c.nodes[ev.Node].Online && c.inv != nil {
		iv := &c.inv[ev.Node]
		if c.Net.Policy.Offline == OfflineRefuse {
			if c.measured(ev.At) {
				iv.stats.OfflinePickupsFailed++
			}
			l.TurnedAway = true
			ef := c.next()
			ef.Type, ef.Label, ef.Slab, ef.Node, ef.At, ef.Reason, ef.Hops = EffPickupFailed, l.ID, l.slab, ev.Node, ev.At, ReasonNodeOffline, int32(l.Hops)
			return
		}
		if c.measured(ev.At) {
			iv.stats.OfflinePickups++
		}
	}
	if l.TurnedAway && c.inv != nil && c.measured(ev.At) {
		c.inv[ev.Node].stats.OfflinePickupsDelayed++
	}
	if c.logging {
		c.slotLog(ev.Node, OpPickup, l, ev.At)
	}
	c.release(l, ev.At)
	c.move(l, PickedUp, ev.At, ev.Node, ReasonPickup)
	if l.Measured {
		c.Stats.PickedUp++
		wait := ev.At.Sub(l.ReadyAt)
		c.Stats.Friction.Add(wait.Minutes())
		if !l.Late && l.ReadyAt <= l.Due && wait <= c.Net.Policy.PickupWindow {
			c.Stats.PickedUpWithinSLA++
		}
	}
	if c.Net.Policy.Touch != nil {
		c.touchPickup(l, ev.Node, ev.At)
	}
	c.finish(l)
}

func (c *Core) cancel(l *Label, ev *Event) {
	why := ev.Reason
	if why == ReasonNone || why.Rejection() {
		why = ReasonCancelled
	}
	if l.Stock != StockNone {
		c.unitBack(l, ev.At)
	}
	c.move(l, Cancelled, ev.At, ev.Node, why)
	c.refundUndelivered(l, ev.At, why)
	if l.Measured {
		c.Stats.Cancelled++
	}
	c.finish(l)
}

func (c *Core) refundAmount(l *Label) float64 {
	p := &c.Net.Policy
	price := c.Net.SKUs[l.SKU].Price
	switch p.Refund {
	case RefundFixed:
		return min(p.RefundAmount, price)
	case RefundShare:
		return p.RefundShare * price
	}
	return price
}

// refundUndelivered refunds an order that will never reach its customer:
// the price, less the late-SLA refund already recorded.
func (c *Core) refundUndelivered(l *Label, at Instant, why Reason) {
	amount := c.Net.SKUs[l.SKU].Price
	if l.Late {
		amount -= c.refundAmount(l)
	}
	if amount > 0 {
		c.refund(l, at, amount, why)
	}
}

func (c *Core) refund(l *Label, at Instant, amount float64, why Reason) {
	ef := c.next()
	ef.Type, ef.Label, ef.Slab, ef.Node, ef.At, ef.Amount, ef.Reason = EffRefund, l.ID, l.slab, l.Dest, at, amount, why
	if l.Measured {
		c.Stats.Refunds++
		c.Stats.RefundAmount += amount
	}
}

func (c *Core) timer(l *Label, ev *Event) {
	switch ev.Timer {
	case TimerTTL:
		if l.TTLAt == 0 || ev.At < l.TTLAt || l.State.Terminal() {
			c.reject(ev, RejectStaleTimer)
			return
		}
		l.TTLAt = 0
		c.ttlExpired(l, ev.At)
	case TimerReminder:
		c.remind(l, ev)
	case TimerSLA:
		if l.Late || l.ReadyAt != 0 || ev.At < l.Due || l.State.Terminal() {
			c.reject(ev, RejectStaleTimer)
			return
		}
		l.Late = true
		c.refund(l, ev.At, c.refundAmount(l), ReasonNone)
	default:
		c.reject(ev, RejectBadEvent)
	}
}

// Forget releases a label kept in a terminal state (KeepFinished), with its
// provenance chain, so a long-running driver keeps memory bounded. It
// reports whether the label was found in a terminal state; a live label is
// never released. Statistics are not affected.
func (c *Core) Forget(id LabelID) bool {
	s, ok := c.index.get(id)
	if !ok || !c.labels.at(s).State.Terminal() {
		return false
	}
	c.index.del(id)
	c.putChain(c.labels.at(s).Chain)
	*c.labels.at(s) = Label{slab: s}
	c.free = append(c.free, s)
	return true
}

// finish folds a label that reached a terminal state and releases it unless
// KeepFinished is set.
func (c *Core) finish(l *Label) {
	if l.TTLAt != 0 {
		l.TTLAt = 0
		ef := c.next()
		ef.Type, ef.Timer, ef.Label, ef.Slab = EffCancelTimer, TimerTTL, l.ID, l.slab
	}
	if l.ReadyAt == 0 && !l.Late {
		ef := c.next()
		ef.Type, ef.Timer, ef.Label, ef.Slab = EffCancelTimer, TimerSLA, l.ID, l.slab
	}
	if c.windows != nil {
		c.windows[l.slab] = Window{}
	}
	if l.Box != 0 {
		c.boxFinish(l)
	}
	if c.OnFinish != nil {
		c.OnFinish(l)
	}
	if c.KeepFinished {
		return
	}
	c.index.del(l.ID)
	c.free = append(c.free, l.slab)
	if cap(l.Chain) == chainCap {
		// a large chain goes back now, not when the slot is next used: at
		// the end of a run no slot is, while the drain's reroutes make
		// large chains (18 MB of new ones in a 6-day locker-metro)
		c.putChain(l.Chain)
		l.Chain = nil
	}
}
