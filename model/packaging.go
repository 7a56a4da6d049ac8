package model

// Reusable packaging (issue 14): a pool of reusable boxes per microstore and
// packing template. A parcel of a SKU whose template is reusable is packed
// in a box from its fulfilling microstore's pool when the pool has one, and
// in single-use packaging otherwise (a box stockout). The box travels with
// the parcel; once the customer has collected it, the customer returns the
// box at a locker or partner (EvBoxReturn), where it waits in a slot or at
// the counter until a courier passing the node takes it (EvBoxCollect) back
// to a microstore (EvBoxHome), whose pool it joins. Boxes leave the loop for
// good when the customer keeps them, when a node has no room for a return,
// or when they are lost or found damaged (EvBoxLost).
//
// The core only keeps the books: which box is where, which space a waiting
// box takes, and the counters. Whether and when a customer returns a box,
// which courier collects it, and which boxes are lost or damaged are the
// driver's (the simulator draws them; the twin reads them off the feed).

// BoxID identifies a reusable box: 1 + its index in the core's box table (0:
// no box, i.e. single-use packaging). Boxes are numbered by microstore (in
// node order), then by template, then 1..pool.
type BoxID uint32

// String is the box's id on labels and in the feed ("box-12"; "" for 0).
func (b BoxID) String() string {
	if b == 0 {
		return ""
	}
	return "box-" + itoa(int64(b))
}

// ParseBoxID is the inverse of BoxID.String for boxes (not for 0).
func ParseBoxID(s string) (BoxID, bool) {
	if len(s) < 5 || s[:4] != "box-" {
		return 0, false
	}
	var n uint64
	for _, ch := range s[4:] {
		if ch < '0' || ch > '9' || n > 1<<31 {
			return 0, false
		}
		n = n*10 + uint64(ch-'0')
	}
	if n == 0 || n > 1<<32-1 {
		return 0, false
	}
	return BoxID(n), true
}

// BoxType is one reusable packing template.
type BoxType struct {
	ID string
	// Size is the slot class a returned (empty) box takes at a locker.
	Size SizeClass
	// Pool is the number of boxes of this type each microstore starts with.
	Pool int32
	// MassKg is the mass of the single-use packaging one use of the box
	// replaces (waste avoided).
	MassKg float64
}

// Packaging is a network's reusable packaging (Network.Packaging; nil: none,
// every parcel is packed single-use and the core keeps no box state).
type Packaging struct {
	Types []BoxType
	// SKUType is, per SKU, its reusable template's index in Types (-1: the
	// SKU's template is not reusable).
	SKUType []int8
}

// BoxState is where a reusable box is.
type BoxState uint8

// Box states.
const (
	BoxNone         BoxState = iota
	BoxInPool                // at a microstore, ready for packing
	BoxPacked                // holds a parcel (from packing to pickup)
	BoxWithCustomer          // the customer has it
	BoxWaiting               // returned, waiting at a locker or partner
	BoxRiding                // on a courier back to a microstore
	BoxRetired               // kept, lost or damaged: out of the loop
	numBoxStates
)

var boxStateNames = [numBoxStates]string{"none", "in_pool", "packed", "with_customer", "waiting", "riding", "retired"}

func (s BoxState) String() string { return enumName(boxStateNames[:], int(s), "box_state") }

// BoxFate says why a box left the loop (EvBoxLost, EffBoxRetired).
type BoxFate uint8

// Box fates.
const (
	FateNone    BoxFate = iota
	FateKept            // the customer never returned it
	FateRefused         // the node had no room for the return; the customer kept it
	FateLost            // lost while waiting at a node or riding back
	FateDamaged         // found damaged when it came back to the microstore
	numBoxFates
)

var boxFateNames = [numBoxFates]string{"", "kept", "refused", "lost", "damaged"}

func (f BoxFate) String() string { return enumName(boxFateNames[:], int(f), "fate") }

// ParseBoxFate is the inverse of BoxFate.String (FateNone excluded).
func ParseBoxFate(s string) (BoxFate, bool) {
	i, ok := parseEnum(boxFateNames[:], s)
	if !ok || i == 0 {
		return FateNone, false
	}
	return BoxFate(i), true
}

// BoxTransition is one row of the box state machine.
type BoxTransition struct {
	From BoxState
	On   EventType
	To   BoxState
	When string
}

// BoxTransitions is the reusable box's state machine; the README renders
// it. EvNone marks the move that follows a label's end rather than a box
// event. A box event with no row for the box's state is rejected
// (RejectIllegalTransition; an unknown box: RejectBadEvent).
var BoxTransitions = []BoxTransition{
	{BoxInPool, EvScanPacked, BoxPacked, "a parcel of a reusable template is packed at the box's microstore (pool empty: single-use, a box stockout)"},
	{BoxPacked, EvPickup, BoxWithCustomer, "the customer collected the parcel in the box"},
	{BoxPacked, EvNone, BoxInPool, "the parcel was cancelled or returned to sender: the box goes back into the fulfilling microstore's pool"},
	{BoxWithCustomer, EvBoxReturn, BoxWaiting, "returned at a locker or partner with a fitting free slot or counter space, which it takes"},
	{BoxWithCustomer, EvBoxReturn, BoxRetired, "the node has no room for it: the customer keeps it (fate refused)"},
	{BoxWithCustomer, EvBoxLost, BoxRetired, "never returned (fate kept)"},
	{BoxWaiting, EvBoxCollect, BoxRiding, "a courier passing the node takes it; its space is freed"},
	{BoxWaiting, EvBoxLost, BoxRetired, "lost at the node (fate lost); its space is freed"},
	{BoxRiding, EvBoxHome, BoxInPool, "the courier brought it to a microstore, whose pool it joins"},
	{BoxRiding, EvBoxLost, BoxRetired, "lost on the way or found damaged at the microstore (fate lost or damaged)"},
	{BoxInPool, EvBoxPacked, BoxPacked, "twin: production packed a label in this box, not in the core's choice (a box_mismatch); the core adopts it"},
	{BoxPacked, EvBoxPacked, BoxInPool, "twin: production packed this box's label in another box; this one goes back into its microstore's pool"},
	{BoxPacked, EvBoxPacked, BoxPacked, "twin: production packed another label in this box; the label the core had packed in it loses it"},
	{BoxWithCustomer, EvBoxPacked, BoxPacked, "twin: production packed a label in a box the twin missed coming back (a lost message); the books follow production"},
	{BoxWaiting, EvBoxPacked, BoxPacked, "twin: the same, for a box the twin holds waiting at a node (its space is freed)"},
	{BoxRiding, EvBoxPacked, BoxPacked, "twin: the same, for a box the twin holds on a courier"},
	{BoxRetired, EvBoxPacked, BoxPacked, "twin: the same, for a box the twin holds retired"},
	{BoxNone, EvBoxSync, BoxWaiting, "twin resync, from any state: production saw the box handed back at a node the core did not expect (a lost message); it waits there, in space if there is room"},
	{BoxNone, EvBoxSync, BoxRiding, "twin resync: production saw a courier collect it"},
	{BoxNone, EvBoxSync, BoxInPool, "twin resync: production saw it back at a microstore"},
	{BoxNone, EvBoxSync, BoxRetired, "twin resync: production saw it leave the loop"},
	{BoxNone, EvBoxSync, BoxWithCustomer, "twin resync: production packed it for a label the twin does not know; out of the twin's sight"},
}

var boxAllowed [numEventTypes][numBoxStates]bool

func init() {
	for _, t := range BoxTransitions {
		if t.On != EvNone && t.On != EvScanPacked && t.On != EvPickup && t.On != EvBoxPacked && t.On != EvBoxSync {
			boxAllowed[t.On][t.From] = true
		}
	}
}

// BoxStats are the core's reusable-packaging counters. Packing counters
// cover measured labels; box counters cover events at or after
// Core.MeasureFrom; cycle times cover boxes that left the pool then.
type BoxStats struct {
	// Packed: measured parcels packed; Reusable of them in a box; Stockouts:
	// of a reusable template but packed single-use because the pool was empty.
	Packed, Reusable, Stockouts uint64
	// AvoidedKg is the single-use packaging mass the reusable uses replaced.
	AvoidedKg float64
	// Returned: boxes returned at a node (taking space); Collected by a
	// courier; Home: back in a pool.
	Returned, Collected, Home uint64
	// Retired boxes by fate (BoxFate index).
	Retired [numBoxFates]uint64
	// Departures: boxes that left a pool (packed); Cycle: the minutes from
	// leaving the pool to being back in one or retired, for those departures
	// whose cycle has ended.
	Departures uint64
	Cycle      Histogram
}

// Lost is the number of boxes that left the loop for good (every fate).
func (s *BoxStats) Lost() uint64 {
	var n uint64
	for _, v := range s.Retired {
		n += v
	}
	return n
}

// RetiredBy is the number of boxes retired with fate f.
func (s *BoxStats) RetiredBy(f BoxFate) uint64 { return s.Retired[f] }

type box struct {
	state BoxState
	typ   int8
	slot  SizeClass // space taken while waiting (NoSize: counter)
	node  NodeIndex // pool or waiting node
	label LabelID
	out   Instant // when it last left the pool
}

type packState struct {
	p     *Packaging
	boxes []box
	pools [][]BoxID // by node*len(types)+type: binary min-heaps of box ids
	stats BoxStats
	// out is the number of boxes out of their pools and not retired;
	// outTime its integral (box-ms) up to since.
	out     int64
	outTime int64
	since   Instant
	waiting []int32 // per node: boxes waiting there
}

func (c *Core) packagingInit() {
	p := c.Net.Packaging
	if p == nil {
		return
	}
	ps := &packState{p: p, pools: make([][]BoxID, len(c.Net.Nodes)*len(p.Types)), waiting: make([]int32, len(c.Net.Nodes))}
	for i := range c.Net.Nodes {
		if c.Net.Nodes[i].Kind != Microstore {
			continue
		}
		for t, bt := range p.Types {
			for k := int32(0); k < bt.Pool; k++ {
				ps.boxes = append(ps.boxes, box{state: BoxInPool, typ: int8(t), node: NodeIndex(i), slot: NoSize})
				id := BoxID(len(ps.boxes))
				q := &ps.pools[i*len(p.Types)+t]
				*q = append(*q, id)
			}
		}
	}
	c.pk = ps
}

// BoxStats returns the reusable-packaging counters (zero without packaging).
func (c *Core) BoxStats() BoxStats {
	if c.pk == nil {
		return BoxStats{}
	}
	return c.pk.stats
}

// BoxesOut is the number of boxes out of their pools and not retired.
func (c *Core) BoxesOut() int64 {
	if c.pk == nil {
		return 0
	}
	return c.pk.out
}

// BoxesOutTime is the integral of BoxesOut over time (box-milliseconds) up
// to t.
func (c *Core) BoxesOutTime(t Instant) int64 {
	if c.pk == nil {
		return 0
	}
	ps := c.pk
	if t <= ps.since {
		return ps.outTime
	}
	return ps.outTime + ps.out*int64(t-ps.since)
}

// PoolLevel is the number of boxes in node i's pools (all templates).
func (c *Core) PoolLevel(i NodeIndex) int {
	if c.pk == nil {
		return 0
	}
	nt := len(c.pk.p.Types)
	n := 0
	for t := 0; t < nt; t++ {
		n += len(c.pk.pools[int(i)*nt+t])
	}
	return n
}

// BoxesWaiting is the number of returned boxes waiting at node i.
func (c *Core) BoxesWaiting(i NodeIndex) int {
	if c.pk == nil {
		return 0
	}
	return int(c.pk.waiting[i])
}

// Box returns the state and node (pool or waiting node; NoNode otherwise)
// of box b, and false for an unknown box.
func (c *Core) Box(b BoxID) (BoxState, NodeIndex, bool) {
	if c.pk == nil || b == 0 || int(b) > len(c.pk.boxes) {
		return BoxNone, NoNode, false
	}
	x := &c.pk.boxes[b-1]
	return x.state, x.node, true
}

func (c *Core) boxesOut(at Instant, delta int64) {
	ps := c.pk
	if at > ps.since {
		ps.outTime += ps.out * int64(at-ps.since)
		ps.since = at
	}
	ps.out += delta
}

// boxPack packs label l (being packed at its fulfilling node) in a box from
// the node's pool, or single-use.
func (c *Core) boxPack(l *Label, at Instant) {
	ps := c.pk
	st := &ps.stats
	if l.Measured {
		st.Packed++
	}
	if l.Box != 0 {
		return // production's box, adopted before the pack scan (boxAdopt)
	}
	t := int8(-1)
	if int(l.SKU) < len(ps.p.SKUType) {
		t = ps.p.SKUType[l.SKU]
	}
	if t < 0 || l.From == NoNode || c.Net.Nodes[l.From].Kind != Microstore {
		return
	}
	q := &ps.pools[int(l.From)*len(ps.p.Types)+int(t)]
	n := len(*q)
	if n == 0 {
		if l.Measured {
			st.Stockouts++
		}
		c.emit(Effect{Type: EffBoxStockout, Label: l.ID, Slab: l.slab, Node: l.From, At: at})
		return
	}
	id := poolPop(q)
	b := &ps.boxes[id-1]
	b.state, b.label, b.out, b.node = BoxPacked, l.ID, at, NoNode
	l.Box = id
	c.boxesOut(at, 1)
	if l.Measured {
		st.Reusable++
		st.AvoidedKg += ps.p.Types[t].MassKg
	}
	if at >= c.MeasureFrom {
		st.Departures++
	}
	c.emit(Effect{Type: EffBoxOut, Label: l.ID, Slab: l.slab, Node: l.From, At: at, Box: id})
}

// boxFinish moves the box of label l, which reached a terminal state.
func (c *Core) boxFinish(l *Label) {
	ps := c.pk
	b := &ps.boxes[l.Box-1]
	if b.state != BoxPacked || b.label != l.ID {
		return
	}
	at := c.now
	if l.State == PickedUp {
		b.state = BoxWithCustomer
		c.emit(Effect{Type: EffBoxCustomer, Label: l.ID, Slab: l.slab, Node: l.Chain[len(l.Chain)-1].Node, At: at, Box: l.Box})
		return
	}
	c.boxToPool(l.Box, l.From, at)
}

func (c *Core) boxToPool(id BoxID, node NodeIndex, at Instant) {
	ps := c.pk
	b := &ps.boxes[id-1]
	b.state, b.node, b.label, b.slot = BoxInPool, node, 0, NoSize
	poolPush(&ps.pools[int(node)*len(ps.p.Types)+int(b.typ)], id)
	c.boxesOut(at, -1)
	c.boxCycle(b, at)
	c.emit(Effect{Type: EffBoxBack, Label: 0, Slab: -1, Node: node, At: at, Box: id})
}

// Packing takes the pool's lowest box id, not the last one back: the choice
// depends only on which boxes are in the pool, not on the order they came
// back in, so a twin that missed one box event disagrees with production
// only about packings that box would have changed, and agrees again once
// the box is back.

func poolPush(q *[]BoxID, id BoxID) {
	*q = append(*q, id)
	siftUp(*q, len(*q)-1)
}

func poolPop(q *[]BoxID) BoxID {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	siftDown(h, 0)
	*q = h
	return top
}

func (c *Core) boxCycle(b *box, at Instant) {
	if b.out >= c.MeasureFrom {
		c.pk.stats.Cycle.Add(at.Sub(b.out).Minutes())
	}
}

// isBoxEvent reports whether t is a box event. Step asks only once a label
// lookup or the transition table has failed, so label events pay nothing.
func isBoxEvent(t EventType) bool { return t >= EvBoxReturn && t <= EvBoxSync }

// boxEvent handles the box events (EvBoxReturn, EvBoxCollect, EvBoxHome,
// EvBoxLost, EvBoxPacked, EvBoxSync).
func (c *Core) boxEvent(ev *Event) {
	ps := c.pk
	if ps == nil || ev.Box == 0 || int(ev.Box) > len(ps.boxes) {
		c.reject(ev, RejectBadEvent)
		return
	}
	if ev.Node != NoNode && !c.validNode(ev.Node) {
		c.reject(ev, RejectUnknownNode)
		return
	}
	if ev.Type == EvBoxPacked {
		c.boxAdopt(ev)
		return
	}
	if ev.Type == EvBoxSync {
		c.boxSync(ev)
		return
	}
	b := &ps.boxes[ev.Box-1]
	if !boxAllowed[ev.Type][b.state] {
		c.reject(ev, RejectIllegalTransition)
		return
	}
	st := &ps.stats
	measured := ev.At >= c.MeasureFrom
	switch ev.Type {
	case EvBoxReturn:
		if ev.Node == NoNode || !c.Net.Nodes[ev.Node].Holds() {
			c.reject(ev, RejectWrongNode)
			return
		}
		i := ev.Node
		nd := &c.Net.Nodes[i]
		ns := c.touch(i, ev.At)
		slot := NoSize
		for k := ps.p.Types[b.typ].Size; k < NumSizes; k++ {
			if ns.Free[k] > 0 {
				slot = k
				break
			}
		}
		switch {
		case slot != NoSize:
			ns.Free[slot]--
		case ns.Held < nd.Counter:
			ns.Held++
		default:
			c.boxRetire(ev.Box, b, ev.At, ev.Node, FateRefused)
			return
		}
		b.state, b.node, b.slot = BoxWaiting, i, slot
		ps.waiting[i]++
		if measured {
			st.Returned++
		}
		c.emit(Effect{Type: EffBoxSlot, Slab: -1, Node: i, Size: slot, Amount: 1, At: ev.At, Box: ev.Box})
	case EvBoxCollect:
		if ev.Node != b.node {
			c.reject(ev, RejectWrongNode)
			return
		}
		c.boxRelease(ev.Box, b, ev.At)
		b.state, b.node = BoxRiding, NoNode
		if measured {
			st.Collected++
		}
	case EvBoxHome:
		if ev.Node == NoNode || c.Net.Nodes[ev.Node].Kind != Microstore {
			c.reject(ev, RejectWrongNode)
			return
		}
		if measured {
			st.Home++
		}
		c.boxToPool(ev.Box, ev.Node, ev.At)
	case EvBoxLost:
		f := ev.Fate
		switch {
		case b.state == BoxWithCustomer && f == FateNone:
			f = FateKept
		case b.state == BoxWaiting && f == FateNone:
			f = FateLost
		case b.state == BoxRiding && f == FateNone:
			f = FateLost
		}
		ok := (b.state == BoxWithCustomer && f == FateKept) || (b.state == BoxWaiting && f == FateLost) ||
			(b.state == BoxRiding && (f == FateLost || f == FateDamaged))
		if !ok {
			c.reject(ev, RejectBadEvent)
			return
		}
		if b.state == BoxWaiting {
			c.boxRelease(ev.Box, b, ev.At)
		}
		c.boxRetire(ev.Box, b, ev.At, ev.Node, f)
	}
}

func (c *Core) boxRelease(id BoxID, b *box, at Instant) {
	i := b.node
	ns := c.touch(i, at)
	if b.slot == NoSize {
		ns.Held--
	} else {
		ns.Free[b.slot]++
	}
	c.pk.waiting[i]--
	c.emit(Effect{Type: EffBoxSlot, Slab: -1, Node: i, Size: b.slot, Amount: -1, At: at, Box: id})
	b.slot = NoSize
}

func (c *Core) boxRetire(id BoxID, b *box, at Instant, node NodeIndex, f BoxFate) {
	b.state, b.node, b.label = BoxRetired, NoNode, 0
	c.boxesOut(at, -1)
	c.boxCycle(b, at)
	if at >= c.MeasureFrom {
		c.pk.stats.Retired[f]++
	}
	c.emit(Effect{Type: EffBoxRetired, Slab: -1, Node: node, At: at, Box: id, Fate: f})
}

// boxAdopt applies production's claim that it packed ev.Label in ev.Box
// (EvBoxPacked; the twin's input), also before the core saw the label
// packed (then the pack scan keeps the adopted box). When the core chose the same box nothing
// happens. Otherwise the core follows production: its own box for the
// label (if any) goes back into the fulfilling microstore's pool, and the
// claimed box, wherever the core had it, now holds the label (a label the
// core had packed in it loses it; space it took at a node is freed). The
// packing counters keep the core's own choices.
func (c *Core) boxAdopt(ev *Event) {
	ps := c.pk
	slab, ok := c.index.get(ev.Label)
	if !ok {
		c.reject(ev, RejectUnknownLabel)
		return
	}
	l := c.labels.at(slab)
	// a label the core has not seen packed yet (its pack scan was lost or
	// comes later) takes the box too: the box is out of the pool either way
	if l.State.Terminal() || l.From == NoNode || c.Net.Nodes[l.From].Kind != Microstore {
		c.reject(ev, RejectIllegalTransition)
		return
	}
	if l.Box == ev.Box {
		return
	}
	b := &ps.boxes[ev.Box-1]
	if int(b.typ) >= len(ps.p.Types) || int(l.SKU) >= len(ps.p.SKUType) || ps.p.SKUType[l.SKU] != b.typ {
		c.reject(ev, RejectBadEvent) // not a box of the label's template
		return
	}
	if old := l.Box; old != 0 {
		l.Box = 0
		c.boxToPool(old, l.From, ev.At)
	}
	switch b.state {
	case BoxInPool:
		q := &ps.pools[int(b.node)*len(ps.p.Types)+int(b.typ)]
		for i, id := range *q {
			if id == ev.Box {
				poolRemove(q, i)
				break
			}
		}
		c.boxesOut(ev.At, 1)
		b.out = ev.At
	case BoxPacked:
		if s, ok := c.index.get(b.label); ok {
			c.labels.at(s).Box = 0
		}
	case BoxWaiting:
		c.boxRelease(ev.Box, b, ev.At)
	case BoxRetired:
		c.boxesOut(ev.At, 1)
		b.out = ev.At
	}
	b.state, b.label, b.node, b.slot = BoxPacked, l.ID, NoNode, NoSize
	l.Box = ev.Box
	c.emit(Effect{Type: EffBoxOut, Label: l.ID, Slab: l.slab, Node: l.From, At: ev.At, Box: ev.Box})
}

// poolRemove removes the i-th entry of a pool heap.
func poolRemove(q *[]BoxID, i int) {
	h := *q
	n := len(h) - 1
	h[i] = h[n]
	h = h[:n]
	*q = h
	if i == n {
		return
	}
	siftDown(h, i)
	siftUp(h, i)
}

func siftUp(h []BoxID, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p] <= h[i] {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []BoxID, i int) {
	n := len(h)
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l] < h[m] {
			m = l
		}
		if r < n && h[r] < h[m] {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// noSpace marks a waiting box that took no slot or counter space (a resync
// at a full node).
const noSpace SizeClass = NoSize - 1

// boxSync puts a box where production reported it (EvBoxSync), whatever
// the core had: it leaves its state in the core's books (its pool, its
// label, its space at a node) and enters ev.BoxTo.
func (c *Core) boxSync(ev *Event) {
	ps := c.pk
	b := &ps.boxes[ev.Box-1]
	to := ev.BoxTo
	switch to {
	case BoxWaiting:
		if ev.Node == NoNode || !c.Net.Nodes[ev.Node].Holds() {
			c.reject(ev, RejectWrongNode)
			return
		}
	case BoxInPool:
		if ev.Node == NoNode || c.Net.Nodes[ev.Node].Kind != Microstore {
			c.reject(ev, RejectWrongNode)
			return
		}
	case BoxRiding, BoxRetired, BoxWithCustomer:
	default:
		c.reject(ev, RejectBadEvent)
		return
	}
	// leave
	out := b.state != BoxInPool && b.state != BoxRetired
	switch b.state {
	case BoxInPool:
		q := &ps.pools[int(b.node)*len(ps.p.Types)+int(b.typ)]
		for i, id := range *q {
			if id == ev.Box {
				poolRemove(q, i)
				break
			}
		}
	case BoxPacked:
		if s, ok := c.index.get(b.label); ok {
			c.labels.at(s).Box = 0
		}
	case BoxWaiting:
		if b.slot == noSpace {
			ps.waiting[b.node]--
			b.slot = NoSize
		} else {
			c.boxRelease(ev.Box, b, ev.At)
		}
	}
	b.label, b.node, b.slot = 0, NoNode, NoSize
	// enter
	switch to {
	case BoxInPool:
		if !out {
			c.boxesOut(ev.At, 1) // boxToPool takes it off again
		}
		c.boxToPool(ev.Box, ev.Node, ev.At)
		return
	case BoxRetired:
		if out {
			c.boxesOut(ev.At, -1)
		}
		b.state = BoxRetired
		if ev.At >= c.MeasureFrom {
			ps.stats.Retired[ev.Fate]++
		}
		c.emit(Effect{Type: EffBoxRetired, Slab: -1, Node: ev.Node, At: ev.At, Box: ev.Box, Fate: ev.Fate})
		return
	}
	if !out {
		c.boxesOut(ev.At, 1)
		b.out = ev.At
	}
	b.state = to
	if to != BoxWaiting {
		return
	}
	i := ev.Node
	nd := &c.Net.Nodes[i]
	ns := c.touch(i, ev.At)
	b.node, b.slot = i, noSpace
	ps.waiting[i]++
	for k := ps.p.Types[b.typ].Size; k < NumSizes; k++ {
		if ns.Free[k] > 0 {
			ns.Free[k]--
			b.slot = k
			break
		}
	}
	if b.slot == noSpace && ns.Held < nd.Counter {
		ns.Held++
		b.slot = NoSize
	}
	if b.slot != noSpace {
		c.emit(Effect{Type: EffBoxSlot, Slab: -1, Node: i, Size: b.slot, Amount: 1, At: ev.At, Box: ev.Box})
	}
}
