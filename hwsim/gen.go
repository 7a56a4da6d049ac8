package hwsim

import (
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Source ids of the production systems.
const (
	SourceOMS  = "prod-oms"  // production's order system: orders/{node}
	SourceCore = "prod-core" // production's core: labels/{id}/state
	// HubNode names the fulfilment hub outside the network (model.NoNode).
	HubNode = "hub"
)

// ScannerID is the source id of the scanner at node.
func ScannerID(node string) string { return "scn-" + node }

// LabelID is the feed id of a simulated label; OrderID of its order.
func LabelID(id model.LabelID) string { return "L-" + strconv.FormatUint(uint64(id), 10) }

// OrderID is the feed id of a simulated order.
func OrderID(order uint64) string { return "O-" + strconv.FormatUint(order, 10) }

// Config configures a Generator.
type Config struct {
	Sim         *sim.Config
	Replication int
	// Prefix is the topic prefix ("" = wire.DefaultPrefix).
	Prefix string
	Faults Faults
	// Heartbeat is the simulated interval between node heartbeats (0: 5m;
	// negative: no heartbeats).
	Heartbeat model.Duration
	// Currency of refunds (default "EUR"); amounts are in minor units.
	Currency string
	// Location is the city's time zone (scenarios.Scenario.Location). The
	// simulation runs on local wall-clock time; every instant hwsim
	// publishes (at, placed_at, sla_deadline), Item.At and the truth file's
	// instants are real instants, local time converted with it. Nil: UTC.
	Location *time.Location
}

// ItemKind says what the publisher does with an Item.
type ItemKind uint8

// Item kinds.
const (
	ItemMessage    ItemKind = iota // publish Topic/Payload
	ItemDisconnect                 // drop the broker connection (fault)
	ItemReconnect                  // reconnect and flush the backlog that follows
)

// Item is one step of the publisher's script, in order. At is the instant
// it is due (a real instant: the simulated local instant converted with
// Config.Location; the publisher sleeps until wall time catches up, and a
// capture records it as recv_at).
type Item struct {
	Kind    ItemKind
	At      model.Instant
	Topic   string
	Payload []byte
	Retain  bool
	Source  string
	Seq     uint64
	MsgID   string
	Type    wire.Type
}

// Generator turns a simulation into feed messages; it implements
// sim.Observer. Items go to the sink in publishing order.
type Generator struct {
	cfg    Config
	f      Faults
	topics wire.Topics
	net    *model.Network
	sink   func(Item)
	zone   *model.Zone // simulated (local) instants -> real ones
	core   *model.Core

	started bool
	now     model.Instant
	nextHB  model.Instant
	seq     map[string]uint64
	nodes   []gateway
	hub     string // hub scanner id
	labels  map[model.LabelID]*labelInfo
	order   []model.LabelID

	rDrop, rMal, rDup, rDelay, rReorder, rDisc *rand.Rand
	skew                                       map[string]model.Duration

	pending itemHeap
	ord     uint64
	hold    map[string][]held
	holdSrc []string
	down    bool
	downEnd model.Instant
	outAt   model.Instant // latest due instant handed to out
	backlog []Item

	truth Truth
	err   error
}

type gateway struct {
	id, scanner string
	online      bool
	session     uint64
	will        wire.Envelope
	buffer      []buffered
	slots       [model.NumSizes][]bool // compartment occupied, by size
	counter     []bool
}

type buffered struct {
	env   wire.Envelope
	topic string
}

type labelInfo struct {
	id, order string
	from      model.NodeIndex
	size      model.SizeClass
	truth     LabelTruth
	compNode  model.NodeIndex
	comp      string
	compSize  wire.Size
	counter   bool
}

type held struct {
	it Item
	k  int
}

type pendingItem struct {
	it  Item
	ord uint64
}

type itemHeap []pendingItem

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].it.At != h[j].it.At {
		return h[i].it.At < h[j].it.At
	}
	return h[i].ord < h[j].ord
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(pendingItem)) }
func (h *itemHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// NewGenerator returns a generator for one replication of cfg.Sim, sending
// items to sink. cfg.Faults must be valid (defaults are filled in).
func NewGenerator(cfg Config, sink func(Item)) (*Generator, error) {
	if cfg.Sim == nil || cfg.Sim.Network == nil {
		return nil, errors.New("hwsim: no simulation config")
	}
	f := cfg.Faults
	f.Defaults()
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("hwsim: faults: %w", err)
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 5 * model.Minute
	}
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	g := &Generator{cfg: cfg, f: f, topics: wire.Topics{Prefix: cfg.Prefix}, net: cfg.Sim.Network, sink: sink, zone: model.NewZone(cfg.Location),
		seq: map[string]uint64{}, labels: map[model.LabelID]*labelInfo{}, hold: map[string][]held{}, skew: map[string]model.Duration{},
		hub: ScannerID(HubNode)}
	for _, nd := range g.net.Nodes {
		if !wire.ValidID(nd.ID) || !wire.ValidID(ScannerID(nd.ID)) {
			return nil, fmt.Errorf("hwsim: node id %q is not a valid feed id", nd.ID)
		}
		gw := gateway{id: nd.ID, scanner: ScannerID(nd.ID), counter: make([]bool, max(nd.Counter, 0))}
		for k := range gw.slots {
			gw.slots[k] = make([]bool, max(nd.Slots[k], 0))
		}
		g.nodes = append(g.nodes, gw)
	}
	st := sim.NewStreams(cfg.Sim.Seed, cfg.Replication)
	g.rDrop = st.Rand("hwsim/faults/drop")
	g.rMal = st.Rand("hwsim/faults/malformed")
	g.rDup = st.Rand("hwsim/faults/duplicate")
	g.rDelay = st.Rand("hwsim/faults/delay")
	g.rReorder = st.Rand("hwsim/faults/reorder")
	g.rDisc = st.Rand("hwsim/faults/disconnect")
	rSkew := st.Rand("hwsim/faults/skew")
	devices := make([]string, 0, 2*len(g.nodes)+1)
	for _, gw := range g.nodes {
		devices = append(devices, gw.id, gw.scanner)
	}
	devices = append(devices, g.hub)
	g.truth = Truth{Scenario: cfg.Sim.Name, Seed: cfg.Sim.Seed, Replication: cfg.Replication,
		Start: g.format(cfg.Sim.Start), End: g.format(cfg.Sim.Start.Add(cfg.Sim.Horizon)),
		Prefix: g.topics.All(), Faults: f, Skew: map[string]int64{}}
	for _, d := range devices {
		u, v := rSkew.Float64(), rSkew.Float64()
		if u < f.Skew.Rate && f.Skew.Max > 0 {
			s := model.Duration(math.Round((2*v - 1) * float64(f.Skew.Max)))
			g.skew[d] = s
			g.truth.Skew[d] = int64(s / model.Millisecond)
		}
	}
	g.truth.Counts.Devices = len(devices)
	return g, nil
}

// Err is the first internal error (an envelope that failed to encode).
func (g *Generator) Err() error { return g.err }

// real converts a simulated (local) instant to the real one it stands for.
func (g *Generator) real(local model.Instant) model.Instant { return g.zone.Real(local) }

// format writes a simulated instant as the real instant, in RFC 3339.
func (g *Generator) format(local model.Instant) string { return wire.FormatInstant(g.real(local)) }

// publish hands an item on, its due instant converted to real time.
func (g *Generator) publish(it Item) {
	it.At = g.real(it.At)
	g.sink(it)
}

// Observe implements sim.Observer.
func (g *Generator) Observe(core *model.Core, ev model.Event, effs []model.Effect) {
	g.core = core
	if !g.started {
		g.start()
	}
	g.advance(ev.At)
	g.event(ev, effs)
	g.release(g.now)
}

func (g *Generator) start() {
	g.started = true
	g.now = g.cfg.Sim.Start
	if g.cfg.Heartbeat > 0 {
		g.nextHB = g.now.Add(g.cfg.Heartbeat)
	}
	for i := range g.nodes {
		g.connect(i, wire.ReasonConnect, 0)
	}
	g.release(g.now)
}

// Finish closes the run at the horizon end: heartbeats up to end, offline
// nodes reconnect and flush, every node shuts down, and everything held
// back (delays, reordering, a disconnect backlog) is released.
func (g *Generator) Finish(end model.Instant) {
	if !g.started {
		g.start()
	}
	if end > g.now {
		g.advance(end)
	}
	for i := range g.nodes {
		gw := &g.nodes[i]
		if !gw.online {
			g.reconnect(i)
		}
		g.emit(gw.id, i, g.topics.NodeStatus(gw.id), wire.Status{State: wire.NodeOffline, Reason: wire.ReasonShutdown, Session: gw.session}, g.now)
	}
	// messages held back for reordering go out last, after any delayed
	// message due later than end
	last := g.now
	for _, p := range g.pending {
		last = max(last, p.it.At)
	}
	g.release(math.MaxInt64)
	sort.Strings(g.holdSrc)
	for _, src := range g.holdSrc {
		for _, h := range g.hold[src] {
			// after everything already out, delayed messages released past
			// the horizon included
			h.it.At = max(h.it.At, last, g.outAt)
			g.out(h.it)
		}
		delete(g.hold, src)
	}
	g.holdSrc = nil
	if g.down {
		g.up()
	}
	for _, id := range g.order {
		g.truth.Labels = append(g.truth.Labels, g.labels[id].truth)
	}
}

// Truth is what actually happened, to score a twin with (valid after Finish).
func (g *Generator) Truth() *Truth { return &g.truth }

// advance generates the heartbeats due up to t and moves the clock to t.
func (g *Generator) advance(t model.Instant) {
	for g.cfg.Heartbeat > 0 && g.nextHB <= t {
		g.now = g.nextHB
		for i := range g.nodes {
			g.heartbeat(i)
		}
		g.release(g.now)
		g.nextHB = g.nextHB.Add(g.cfg.Heartbeat)
	}
	if t > g.now {
		g.now = t
	}
}

func (g *Generator) heartbeat(i int) {
	gw := &g.nodes[i]
	if !gw.online {
		return // an offline gateway cannot tell anyone it is alive
	}
	g.emit(gw.id, i, g.topics.NodeStatus(gw.id), wire.Heartbeat{Session: gw.session, Backlog: 0}, g.now)
	if g.core == nil {
		return
	}
	nd := &g.net.Nodes[i]
	st := g.core.Node(model.NodeIndex(i))
	counts := map[wire.Size]wire.SlotCount{}
	for k := model.Small; k < model.NumSizes; k++ {
		if nd.Slots[k] > 0 {
			counts[wire.SizeOf(k)] = wire.SlotCount{Free: uint64(max(st.Free[k], 0)), Total: uint64(nd.Slots[k])}
		}
	}
	if len(counts) > 0 {
		g.emit(gw.id, i, g.topics.LockerEvent(gw.id), wire.Occupancy{Counts: counts}, g.now)
	}
}

// connect opens a new session of node i's gateway: it reserves the seq of
// its last will (the wire contract: the will is built at connect time) and
// publishes online status.
func (g *Generator) connect(i int, why wire.StatusReason, backlog uint64) {
	gw := &g.nodes[i]
	gw.session++
	gw.online = true
	s := g.nextSeq(gw.id)
	gw.will = wire.Envelope{Source: gw.id, Seq: s, At: g.stamp(gw.id, g.now),
		Body: wire.Status{State: wire.NodeOffline, Reason: wire.ReasonLWT, Session: gw.session, Backlog: 0}}
	g.emit(gw.id, i, g.topics.NodeStatus(gw.id), wire.Status{State: wire.NodeOnline, Reason: why, Session: gw.session, Backlog: backlog}, g.now)
}

// reconnect flushes node i's offline buffer (original seqs and instants),
// then opens a new session.
func (g *Generator) reconnect(i int) {
	gw := &g.nodes[i]
	gw.online = true
	n := len(gw.buffer)
	for _, b := range gw.buffer {
		g.send(b.env, b.topic)
	}
	gw.buffer = gw.buffer[:0]
	g.truth.Counts.Buffered += uint64(n)
	g.connect(i, wire.ReasonReconnect, uint64(n))
}

func (g *Generator) nextSeq(src string) uint64 {
	s := g.seq[src] + 1
	g.seq[src] = s
	return s
}

// stamp is the at a device writes for a simulated instant: the real
// instant, off by the device's clock skew.
func (g *Generator) stamp(src string, at model.Instant) model.Instant {
	return g.real(at).Add(g.skew[src])
}

// emit numbers a message of src and sends it, or buffers it when it comes
// from the devices of an offline node (node >= 0).
func (g *Generator) emit(src string, node int, topic string, body wire.Body, at model.Instant) {
	env := wire.Envelope{Source: src, Seq: g.nextSeq(src), At: g.stamp(src, at), Body: body}
	g.truth.Counts.Generated++
	if node >= 0 && !g.nodes[node].online {
		g.nodes[node].buffer = append(g.nodes[node].buffer, buffered{env: env, topic: topic})
		return
	}
	g.send(env, topic)
}

// send encodes env and applies the per-message faults.
func (g *Generator) send(env wire.Envelope, topic string) {
	payload, err := encode(env)
	if err != nil {
		if g.err == nil {
			g.err = fmt.Errorf("hwsim: encode %s message of %s: %w", env.Body.MsgType(), env.Source, err)
		}
		return
	}
	typ := env.Body.MsgType()
	it := Item{Kind: ItemMessage, At: g.now, Topic: topic, Payload: payload, Retain: wire.Retained(typ),
		Source: env.Source, Seq: env.Seq, MsgID: wire.MsgID(env.Source, env.Seq), Type: typ}
	rec := func(kind, detail, reason string) FaultRecord {
		return FaultRecord{Kind: kind, MsgID: it.MsgID, Source: it.Source, Seq: it.Seq, Topic: it.Topic, Type: it.Type,
			At: g.format(it.At), Detail: detail, Reason: reason}
	}
	// one draw per stream and message, whatever is enabled, so that the
	// pattern of one fault does not depend on the rates of the others
	uDrop, uMal, uDup, uDelay, vDelay := g.rDrop.Float64(), g.rMal.Float64(), g.rDup.Float64(), g.rDelay.Float64(), g.rDelay.Float64()
	vMal := g.rMal.Float64()
	g.truth.Counts.Sent++
	if uDrop < g.f.Drop {
		g.truth.Dropped = append(g.truth.Dropped, rec("drop", "", ""))
		g.truth.Counts.Dropped++
		return
	}
	if uMal < g.f.Malformed.Rate {
		k := g.f.Malformed.Kinds[min(int(vMal*float64(len(g.f.Malformed.Kinds))), len(g.f.Malformed.Kinds)-1)]
		it.Payload = Malform(it.Payload, k)
		g.truth.Malformed = append(g.truth.Malformed, rec("malformed", k, MalformedReason(k)))
		g.truth.Counts.Malformed++
	}
	if uDelay < g.f.Delay.Rate && g.f.Delay.Max > 0 {
		d := model.Duration(1 + int64(vDelay*float64(g.f.Delay.Max-1)))
		it.At = it.At.Add(d)
		g.truth.Delayed = append(g.truth.Delayed, rec("delay", strconv.FormatInt(int64(d/model.Millisecond), 10)+"ms", ""))
		g.truth.Counts.Delayed++
	}
	g.push(it)
	if uDup < g.f.Duplicate {
		g.push(it)
		g.truth.Duplicated = append(g.truth.Duplicated, rec("duplicate", "", ""))
		g.truth.Counts.Duplicated++
	}
}

func (g *Generator) push(it Item) {
	g.ord++
	heap.Push(&g.pending, pendingItem{it: it, ord: g.ord})
}

// release passes on the pending items due by t, in (due, emission) order,
// through the reordering stage.
func (g *Generator) release(t model.Instant) {
	for len(g.pending) > 0 && g.pending[0].it.At <= t {
		p := heap.Pop(&g.pending).(pendingItem)
		g.reorder(p.it)
	}
}

// reorder holds a message back with probability Reorder.Rate and lets it go
// after the next 1..Window messages of the same source.
func (g *Generator) reorder(it Item) {
	u, v := g.rReorder.Float64(), g.rReorder.Float64()
	if u < g.f.Reorder.Rate && g.f.Reorder.Window > 0 {
		k := 1 + min(int(v*float64(g.f.Reorder.Window)), g.f.Reorder.Window-1)
		if _, ok := g.hold[it.Source]; !ok {
			g.holdSrc = append(g.holdSrc, it.Source)
		}
		g.hold[it.Source] = append(g.hold[it.Source], held{it: it, k: k})
		g.truth.Reordered = append(g.truth.Reordered, FaultRecord{Kind: "reorder", MsgID: it.MsgID, Source: it.Source, Seq: it.Seq,
			Topic: it.Topic, Type: it.Type, At: g.format(it.At), Detail: "after " + strconv.Itoa(k)})
		g.truth.Counts.Reordered++
		return
	}
	g.out(it)
	hs, ok := g.hold[it.Source]
	if !ok {
		return
	}
	keep := hs[:0]
	var due []held
	for _, h := range hs {
		h.k--
		if h.k <= 0 {
			due = append(due, h)
		} else {
			keep = append(keep, h)
		}
	}
	for _, h := range due {
		h.it.At = max(h.it.At, it.At)
		g.out(h.it)
	}
	if len(keep) == 0 {
		delete(g.hold, it.Source)
		for i, s := range g.holdSrc {
			if s == it.Source {
				g.holdSrc = append(g.holdSrc[:i], g.holdSrc[i+1:]...)
				break
			}
		}
	} else {
		g.hold[it.Source] = keep
	}
}

// out is the broker-connection stage: a disconnect fault holds messages in
// a backlog until the reconnect.
func (g *Generator) out(it Item) {
	g.outAt = max(g.outAt, it.At)
	if g.down {
		if it.At < g.downEnd {
			g.backlog = append(g.backlog, it)
			return
		}
		g.up()
	}
	if g.rDisc.Float64() < g.f.Disconnect.Rate {
		g.down = true
		g.downEnd = it.At.Add(model.Duration(g.f.Disconnect.ReconnectAfter))
		g.truth.Disconnects = append(g.truth.Disconnects, DisconnectRecord{At: g.format(it.At), Until: g.format(g.downEnd)})
		g.truth.Counts.Disconnects++
		g.publish(Item{Kind: ItemDisconnect, At: it.At})
		g.backlog = append(g.backlog[:0], it)
		return
	}
	g.truth.Counts.Published++
	g.publish(it)
}

// up reconnects after a disconnect fault and flushes the backlog in order.
func (g *Generator) up() {
	g.down = false
	g.publish(Item{Kind: ItemReconnect, At: g.downEnd})
	for _, b := range g.backlog {
		b.At = max(b.At, g.downEnd)
		g.truth.Counts.Published++
		g.publish(b)
	}
	g.backlog = g.backlog[:0]
}

func nodeName(net *model.Network, i model.NodeIndex) string {
	if i < 0 || int(i) >= len(net.Nodes) {
		return HubNode
	}
	return net.Nodes[i].ID
}

func (g *Generator) nodeIdx(i model.NodeIndex) int {
	if i < 0 || int(i) >= len(g.nodes) {
		return -1
	}
	return int(i)
}

// scan emits a scan of label l at node by that node's scanner.
func (g *Generator) scan(l *labelInfo, node model.NodeIndex, stage wire.Stage, sym wire.Symbology) {
	name := nodeName(g.net, node)
	src := g.hub
	if n := g.nodeIdx(node); n >= 0 {
		src = g.nodes[n].scanner
	}
	g.emit(src, g.nodeIdx(node), g.topics.Scan(src), wire.Scan{LabelID: l.id, OrderID: l.order, Node: name, Stage: stage, Symbology: sym, Code: l.id}, g.now)
}

func (g *Generator) locker(node model.NodeIndex, body wire.Body) {
	n := g.nodeIdx(node)
	if n < 0 {
		return
	}
	g.emit(g.nodes[n].id, n, g.topics.LockerEvent(g.nodes[n].id), body, g.now)
}

func (g *Generator) event(ev model.Event, effs []model.Effect) {
	switch ev.Type {
	case model.EvOrderPlaced:
		g.placed(ev, effs)
	case model.EvScanPicked, model.EvScanPacked:
		if l := g.labels[ev.Label]; l != nil {
			node := l.from
			for _, e := range effs {
				if e.Type == model.EffState && e.Label == ev.Label {
					node = e.Node
				}
			}
			if ev.Type == model.EvScanPicked {
				g.scan(l, node, wire.StagePick, wire.SymCode128)
			} else {
				g.scan(l, node, wire.StagePack, wire.SymCode128)
			}
		}
	case model.EvHandoff:
		if l := g.labels[ev.Label]; l != nil {
			g.scan(l, ev.Node, wire.StageHandoff, wire.SymDataMatrix)
		}
	case model.EvArrived:
		if l := g.labels[ev.Label]; l != nil {
			g.scan(l, ev.Node, wire.StageDelivery, wire.SymDataMatrix)
		}
	case model.EvPickup:
		g.pickup(ev, effs)
	case model.EvNodeOffline:
		if n := g.nodeIdx(ev.Node); n >= 0 && g.nodes[n].online && !g.core.Node(ev.Node).Online {
			gw := &g.nodes[n]
			gw.online = false
			// the broker publishes the will registered at connect time
			g.send(gw.will, g.topics.NodeStatus(gw.id))
			g.truth.Counts.Offline++
		}
	case model.EvNodeOnline:
		if n := g.nodeIdx(ev.Node); n >= 0 && !g.nodes[n].online && g.core.Node(ev.Node).Online {
			g.reconnect(n)
		}
	case model.EvBoxReturn, model.EvBoxCollect, model.EvBoxHome, model.EvBoxLost:
		g.boxEvent(ev)
	}
	g.effects(ev, effs)
}

func (g *Generator) placed(ev model.Event, effs []model.Effect) {
	var issued *model.Effect
	due := model.Instant(0)
	for k := range effs {
		e := &effs[k]
		if e.Label != ev.Label {
			continue
		}
		if e.Type == model.EffState && e.State == model.Issued && issued == nil {
			issued = e
		}
		if e.Type == model.EffSetTimer && e.Timer == model.TimerSLA {
			due = e.At
		}
	}
	if issued == nil {
		return // rejected: no label was issued
	}
	size := ev.Size
	if size >= model.NumSizes && ev.SKU >= 0 && int(ev.SKU) < len(g.net.SKUs) {
		size = g.net.SKUs[ev.SKU].Size
	}
	l := &labelInfo{id: LabelID(ev.Label), order: OrderID(ev.Order), from: issued.Node, size: size, compNode: model.NoNode}
	l.truth = LabelTruth{LabelID: l.id, OrderID: l.order, Destination: nodeName(g.net, ev.Dest)}
	g.labels[ev.Label] = l
	g.order = append(g.order, ev.Label)
	if due == 0 {
		due = ev.At
	}
	sku := "unknown"
	if ev.SKU >= 0 && int(ev.SKU) < len(g.net.SKUs) && wire.ValidID(g.net.SKUs[ev.SKU].ID) {
		sku = g.net.SKUs[ev.SKU].ID
	}
	node := nodeName(g.net, issued.Node)
	g.emit(SourceOMS, -1, g.topics.Orders(node), wire.Order{OrderID: l.order, LabelID: l.id, SKU: sku, Size: wire.SizeOf(size),
		Node: node, Destination: nodeName(g.net, ev.Dest), PlacedAt: g.real(ev.At),
		SameDay: model.TimeOfDay(ev.At) < g.net.Policy.Cutoff, SLADeadline: g.real(due), CustomerCell: customerCell(ev.Cell),
		Window: g.window(ev)}, g.now)
}

func (g *Generator) pickup(ev model.Event, effs []model.Effect) {
	l := g.labels[ev.Label]
	if l == nil {
		return
	}
	verified, answered := false, false
	for _, e := range effs {
		switch {
		case e.Type == model.EffState && e.State == model.PickedUp:
			verified, answered = true, true
		case e.Type == model.EffPickupFailed, e.Type == model.EffReject && e.Reason == model.RejectBadCode:
			answered = true
		}
	}
	if !answered {
		return // a customer at the wrong place: the locker never saw a code for this parcel
	}
	comp := l.comp
	if comp == "" {
		comp = "none"
	}
	method := wire.MethodQR
	if uint64(ev.Label)%3 == 0 {
		method = wire.MethodPIN
	}
	g.locker(ev.Node, wire.Pickup{Compartment: comp, LabelID: l.id, Verified: verified, Method: method})
}

func (g *Generator) effects(ev model.Event, effs []model.Effect) {
	used := make([]bool, len(effs))
	for k := range effs {
		e := &effs[k]
		switch e.Type {
		case model.EffSlot:
			g.slot(e)
		case model.EffBoxOut:
			g.boxPacked(e)
		case model.EffState:
			g.state(effs, k, used)
		case model.EffRefund:
			if used[k] {
				continue
			}
			l := g.labels[e.Label]
			if l == nil {
				continue
			}
			body := wire.LabelState{LabelID: l.id, State: wire.LabelStatus(l.truth.State), Node: nodeName(g.net, e.Node), Reason: "late_delivery",
				Refund: g.refund(l, e.Amount)}
			if body.State == "" || body.State == wire.LabelRerouting {
				continue // cannot be expressed without a state change
			}
			if e.Reason != model.ReasonNone {
				body.Reason = e.Reason.String()
			}
			g.emit(SourceCore, -1, g.topics.LabelState(l.id), body, g.now)
		}
	}
}

func (g *Generator) refund(l *labelInfo, amount float64) *wire.Refund {
	minor := math.Round(amount * 100)
	if minor < 1 {
		return nil
	}
	minor = min(minor, 100_000_000)
	l.truth.Refunded += uint64(minor)
	return &wire.Refund{Amount: uint64(minor), Currency: g.cfg.Currency}
}

// state emits production's decision for the EffState at effs[k], with the
// reroute target and refund that follow it for the same label.
func (g *Generator) state(effs []model.Effect, k int, used []bool) {
	e := &effs[k]
	l := g.labels[e.Label]
	if l == nil {
		return
	}
	node := nodeName(g.net, e.Node)
	body := wire.LabelState{LabelID: l.id, State: wire.LabelStatus(e.State.String()), Node: node}
	if e.Reason != model.ReasonNone {
		body.Reason = e.Reason.String()
	}
	for j := k + 1; j < len(effs); j++ {
		f := &effs[j]
		if f.Label != e.Label {
			continue
		}
		if f.Type == model.EffState {
			break
		}
		if f.Type == model.EffReroute && e.State == model.Rerouting && body.RerouteTo == "" {
			body.RerouteTo = nodeName(g.net, f.To)
			l.truth.Hops = int(f.Hops)
		}
		if f.Type == model.EffRefund && body.Refund == nil && !used[j] {
			used[j] = true
			body.Refund = g.refund(l, f.Amount)
		}
		if f.Type == model.EffReward && e.State == model.PickedUp && body.Reward == nil {
			body.Reward = g.reward(f.Amount)
		}
	}
	if e.State == model.Rerouting && body.RerouteTo == "" {
		body.RerouteTo = node // not expected: the core always says where
	}
	if e.State == model.Issued {
		l.from = e.Node
	}
	l.truth.State = e.State.String()
	l.truth.Node = node
	l.truth.At = g.format(e.At)
	l.truth.Reason = body.Reason
	l.truth.Transitions++
	g.emit(SourceCore, -1, g.topics.LabelState(l.id), body, g.now)
}

// slot turns a slot effect into the locker's door and slot events.
func (g *Generator) slot(e *model.Effect) {
	l := g.labels[e.Label]
	n := g.nodeIdx(e.Node)
	if l == nil || n < 0 {
		return
	}
	gw := &g.nodes[n]
	if e.Amount > 0 {
		l.compNode, l.counter = e.Node, e.Size >= model.NumSizes
		if l.counter {
			l.comp, l.compSize = "C"+pad2(alloc(&gw.counter)+1), wire.SizeOf(l.size)
			g.locker(e.Node, wire.Slot{Compartment: l.comp, Size: l.compSize, State: wire.SlotOccupied, LabelID: l.id})
			return
		}
		l.comp, l.compSize = compName(e.Size, alloc(&gw.slots[e.Size])+1), wire.SizeOf(e.Size)
		g.locker(e.Node, wire.Door{Compartment: l.comp, State: wire.DoorOpen})
		g.locker(e.Node, wire.Slot{Compartment: l.comp, Size: l.compSize, State: wire.SlotOccupied, LabelID: l.id})
		g.locker(e.Node, wire.Door{Compartment: l.comp, State: wire.DoorClosed})
		return
	}
	if l.comp == "" {
		return
	}
	idx, _ := strconv.Atoi(l.comp[1:])
	if l.counter {
		free(gw.counter, idx-1)
		g.locker(e.Node, wire.Slot{Compartment: l.comp, Size: l.compSize, State: wire.SlotFree})
	} else {
		if e.Size < model.NumSizes {
			free(gw.slots[e.Size], idx-1)
		}
		g.locker(e.Node, wire.Door{Compartment: l.comp, State: wire.DoorOpen})
		g.locker(e.Node, wire.Slot{Compartment: l.comp, Size: l.compSize, State: wire.SlotFree})
		g.locker(e.Node, wire.Door{Compartment: l.comp, State: wire.DoorClosed})
	}
	l.comp, l.compNode = "", model.NoNode
}

// alloc takes the lowest free compartment (growing the list if all are taken).
func alloc(c *[]bool) int {
	for i, used := range *c {
		if !used {
			(*c)[i] = true
			return i
		}
	}
	*c = append(*c, true)
	return len(*c) - 1
}

func free(c []bool, i int) {
	if i >= 0 && i < len(c) {
		c[i] = false
	}
}

func compName(s model.SizeClass, i int) string {
	return string("SML"[min(int(s), 2)]) + pad2(i)
}

func pad2(i int) string {
	if i < 10 {
		return "0" + strconv.Itoa(i)
	}
	return strconv.Itoa(i)
}

// Malform returns a broken copy of an encoded envelope, of kind k (see
// MalformedKinds); wire.Decode rejects it with MalformedReason(k).
func Malform(payload []byte, k string) []byte {
	if k == MalformedBadJSON {
		return append([]byte(nil), payload[:len(payload)/2]...)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return append([]byte(nil), payload[:len(payload)/2]...)
	}
	switch k {
	case MalformedMissingField:
		delete(m, "at")
	case MalformedWrongType:
		m["seq"] = json.RawMessage(strconv.Quote(string(m["seq"])))
	case MalformedUnknownType:
		m["type"] = json.RawMessage(`"teleport"`)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return append([]byte(nil), payload[:len(payload)/2]...)
	}
	return out
}

// FeedConfig is the simulation of a feed: cfg without the drain, since a
// feed covers [start, horizon] as the hardware would emit it, not the
// simulator's measurement of the last orders after the horizon.
func FeedConfig(cfg *sim.Config) *sim.Config {
	c := *cfg
	c.Drain = 0
	return &c
}

// Generate runs one replication and returns every item in publishing order,
// without a broker (for tests, dry runs and captures of the script).
func Generate(cfg Config) ([]Item, *Truth, *sim.Result, error) {
	var items []Item
	g, err := NewGenerator(cfg, func(it Item) { items = append(items, it) })
	if err != nil {
		return nil, nil, nil, err
	}
	res, err := sim.RunObserved(FeedConfig(cfg.Sim), cfg.Replication, g)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("hwsim: simulate: %w", err)
	}
	g.Finish(cfg.Sim.Start.Add(cfg.Sim.Horizon))
	if err := g.Err(); err != nil {
		return nil, nil, nil, err
	}
	return items, g.Truth(), res, nil
}

// envelopeJSON mirrors the field order and names wire.Encode writes.
type envelopeJSON struct {
	MsgID  string    `json:"msg_id"`
	Source string    `json:"source"`
	Seq    uint64    `json:"seq"`
	At     string    `json:"at"`
	Type   wire.Type `json:"type"`
	V      int       `json:"v"`
	Body   wire.Body `json:"body"`
}

// encode writes env exactly as wire.Encode does, without wire.Encode's
// strict re-decoding of every payload (almost half the cost of a message).
// The envelopes hwsim builds are valid by construction; the tests check,
// for every message of whole runs, that the bytes equal wire.Encode's and
// that wire.Decode and the JSON Schemas accept them.
func encode(env wire.Envelope) ([]byte, error) {
	typ := env.Body.MsgType()
	if !wire.ValidID(env.Source) || env.Seq == 0 {
		return nil, fmt.Errorf("hwsim: bad envelope source %q seq %d", env.Source, env.Seq)
	}
	return json.Marshal(envelopeJSON{MsgID: wire.MsgID(env.Source, env.Seq), Source: env.Source, Seq: env.Seq,
		At: wire.FormatInstant(env.At), Type: typ, V: wire.Version, Body: env.Body})
}

// customerCell is the order message's optional customer cell ("" when the
// event has none).
func customerCell(c model.Cell) string {
	if c == 0 {
		return ""
	}
	return c.String()
}
