package twin

import (
	"container/heap"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// DriverConfig configures a Driver.
type DriverConfig struct {
	// Network is the static world the core runs on (scenarios.Scenario.Network).
	Network *model.Network
	// Location is the city's time zone: messages carry real instants, the
	// core runs on the local wall clock (model.Zone). Nil means UTC.
	Location *time.Location
	// Replenish emulates nightly replenishment (EvReplenish at ReplenishAt
	// each day, EffRestock delivered as EvRestock after RestockLead), which
	// the feed does not carry. Nil: on when some node has a cache.
	Replenish   *bool
	ReplenishAt model.Duration // default model.DefaultReplenishAt (02:00)
	RestockLead model.Duration // default model.DefaultRestockLead (4h)
	// Nodes, if set, is the partition this instance owns (node ids); see
	// docs/twin.md. Nil owns every node.
	Nodes []string
	// LabelRetention is how long (in event time) a label is kept after it
	// reached a terminal state (picked up, returned, cancelled), for the API
	// and late reports; then ForgetFinished releases it. Zero means
	// DefaultLabelRetention; negative keeps every label.
	LabelRetention model.Duration
	// AnomalyMax bounds the anomalies kept (oldest dropped first; counters
	// keep counting). Zero means DefaultQuarantineMax.
	AnomalyMax int
	// Logger receives structured logs (nil discards).
	Logger *slog.Logger
	// Metrics, if set, is updated as messages are applied.
	Metrics *Metrics
	// Tokens, if set, gets each finished label's custody (tokens.go).
	Tokens *Tokens
}

func (c DriverConfig) withDefaults() DriverConfig {
	if c.ReplenishAt <= 0 {
		c.ReplenishAt = model.DefaultReplenishAt
	}
	if c.RestockLead <= 0 {
		c.RestockLead = model.DefaultRestockLead
	}
	if c.LabelRetention == 0 {
		c.LabelRetention = DefaultLabelRetention
	}
	if c.AnomalyMax <= 0 {
		c.AnomalyMax = DefaultQuarantineMax
	}
	return c
}

// Decision is a reroute or a refund the core decided for a label.
type Decision struct {
	At     model.Instant
	Refund bool            // a refund (else a reroute)
	To     model.NodeIndex // reroute target
	Amount uint64          // refund or reward, minor units
	// Reward: a reward credited at a pickup (touch.go), checked against
	// production's picked_up report rather than on its own.
	Reward bool
}

// Observer receives, in apply order, what the driver hands on for
// comparison. Comparer implements it.
type Observer interface {
	// Decided is called for each reroute and refund the core decides.
	Decided(id model.LabelID, d Decision)
	// Reported is called with each production label_state report the
	// instance is concerned with, at its event instant.
	Reported(msgID string, b wire.LabelState, at model.Instant)
	// SlotOccupied is called when a locker reports label id in one of its
	// compartments, after the driver applied the arrival if the label was
	// in transit (arrived).
	SlotOccupied(id model.LabelID, locker model.NodeIndex, at model.Instant, arrived bool)
	// Settle is called whenever the driver's clock may have moved (final:
	// the feed ended, settle everything).
	Settle(clock model.Instant, final bool)
	// Forget is called when the driver releases a finished label.
	Forget(id model.LabelID)
}

// DriverCounters are what the driver counts.
type DriverCounters struct {
	Applied   uint64            // messages applied
	Timers    uint64            // core timers fired
	Forgotten uint64            // finished labels released after the retention
	Rejected  map[string]uint64 // events the core rejected, by reason
	Ignored   map[string]uint64 // applied messages that map to no core event by design, by why
	Anomalies map[string]uint64 // applied messages about what the twin does not know, by reason (see Anomaly)
}

// timer kinds of the driver's own heap
const (
	tkCore = iota
	tkReplenish
	tkRestock
)

type timer struct {
	at    model.Instant
	ord   uint64
	kind  uint8
	tk    model.TimerKind
	label model.LabelID
	gen   uint64
	node  model.NodeIndex
	sku   model.SKUIndex
	qty   int32
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].ord < h[j].ord
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	o := *h
	x := o[len(o)-1]
	*h = o[:len(o)-1]
	return x
}

type timerKey struct {
	label model.LabelID
	kind  model.TimerKind
}

// finished is a label that reached a terminal state at an instant; it is
// forgotten LabelRetention later.
type finished struct {
	at model.Instant
	id model.LabelID
}

// labelRec is what the driver keeps of a label beside the core's state:
// production's id for it and the ids of its last messages.
type labelRec struct {
	name string
	msgs []string
}

const maxLabelMsgs = 32

// Driver is the twin's second stage: it applies ordered messages to the
// core (package model) in event time. It maps the messages' real instants
// onto the city's local wall clock (model.Zone), which is what the core's
// instants mean, and its views back to real instants. Before each message it fires the
// core's timers (and the emulated nightly replenishment) due by the
// message's instant, then maps the message onto core events; it interns
// production's label ids, follows node sessions (last wills), owns the
// partition and releases finished labels after LabelRetention. What the
// core decides (reroutes, refunds) and what production reports go to its
// Observer. It is not safe for concurrent use (Twin serialises it).
type Driver struct {
	cfg  DriverConfig
	net  *model.Network
	zone *model.Zone
	core *model.Core
	log  *slog.Logger
	m    *Metrics
	obs  Observer

	clock     model.Instant
	started   bool
	labelIDs  map[string]model.LabelID
	labels    map[model.LabelID]*labelRec
	nextLabel model.LabelID
	finished  []finished // labels in a terminal state, in the order they got there
	finHead   int
	timers    timerHeap
	timerOrd  uint64
	timerGen  map[timerKey]uint64
	session   []uint64
	owned     []bool // nil: all
	replenish bool
	anoms     ring[Anomaly]
	counters  DriverCounters
}

// NewDriver returns a driver of a fresh core on cfg.Network. Until
// SetObserver, what it hands on for comparison is dropped.
func NewDriver(cfg DriverConfig) (*Driver, error) {
	if cfg.Network == nil {
		return nil, errors.New("twin: no network")
	}
	if err := cfg.Network.Validate(); err != nil {
		return nil, fmt.Errorf("twin: network: %w", err)
	}
	cfg = cfg.withDefaults()
	d := &Driver{cfg: cfg, net: cfg.Network, zone: model.NewZone(cfg.Location), log: logger(cfg.Logger), m: cfg.Metrics, obs: nopObserver{},
		labelIDs: map[string]model.LabelID{}, labels: map[model.LabelID]*labelRec{},
		timerGen: map[timerKey]uint64{}, session: make([]uint64, len(cfg.Network.Nodes)), anoms: ring[Anomaly]{max: cfg.AnomalyMax},
		counters: DriverCounters{Rejected: map[string]uint64{}, Ignored: map[string]uint64{}, Anomalies: map[string]uint64{}}}
	d.core = d.newCore()
	if cfg.Replenish != nil {
		d.replenish = *cfg.Replenish
	} else {
		for _, n := range cfg.Network.Nodes {
			if len(n.Cache) > 0 {
				d.replenish = true
			}
		}
	}
	if cfg.Nodes != nil {
		d.owned = make([]bool, len(cfg.Network.Nodes))
		for _, id := range cfg.Nodes {
			i, ok := cfg.Network.NodeIndexOf(id)
			if !ok {
				return nil, fmt.Errorf("twin: partition: unknown node %q", id)
			}
			d.owned[i] = true
		}
	}
	return d, nil
}

func (d *Driver) newCore() *model.Core {
	core := model.New(d.net)
	core.KeepFinished = true
	core.OnFinish = d.onFinish
	return core
}

// SetObserver sets where the core's decisions and production's reports go
// (nil drops them).
func (d *Driver) SetObserver(o Observer) {
	if o == nil {
		o = nopObserver{}
	}
	d.obs = o
}

type nopObserver struct{}

func (nopObserver) Decided(model.LabelID, Decision)                                  {}
func (nopObserver) Reported(string, wire.LabelState, model.Instant)                  {}
func (nopObserver) SlotOccupied(model.LabelID, model.NodeIndex, model.Instant, bool) {}
func (nopObserver) Settle(model.Instant, bool)                                       {}
func (nopObserver) Forget(model.LabelID)                                             {}

// Started reports whether the clock runs (a message was applied, or
// AdvanceTo started it).
func (d *Driver) Started() bool { return d.started }

// Clock is the core's current instant, on the local wall clock.
func (d *Driver) Clock() model.Instant { return d.clock }

// local maps a real instant onto the core's local clock (0 stays 0).
func (d *Driver) local(r model.Instant) model.Instant {
	if r == 0 {
		return 0
	}
	return d.zone.Local(r)
}

// real maps a local instant of the core back to a real one (0 stays 0).
func (d *Driver) real(l model.Instant) model.Instant {
	if l == 0 {
		return 0
	}
	return d.zone.Real(l)
}

// AdvanceTo moves the clock to the real instant at without a message (the
// wall clock while the feed is quiet), firing the timers due by then. The
// first call (or message) starts the clock.
func (d *Driver) AdvanceTo(at model.Instant) {
	l := d.zone.Local(at)
	if !d.started {
		d.started = true
		d.startClock(l)
	}
	if l <= d.clock {
		return
	}
	d.advance(l)
	d.obs.Settle(d.clock, false)
}

// Finish settles every pending comparison (the feed ended).
func (d *Driver) Finish() { d.obs.Settle(d.clock, true) }

// startClock schedules the driver's own timers from the first instant.
func (d *Driver) startClock(at model.Instant) {
	if d.replenish {
		r := model.DayStart(at) + model.Instant(d.cfg.ReplenishAt)
		if r < at {
			r += model.Instant(model.Day)
		}
		d.pushTimer(timer{at: r, kind: tkReplenish})
	}
}

func (d *Driver) pushTimer(tm timer) {
	d.timerOrd++
	tm.ord = d.timerOrd
	heap.Push(&d.timers, tm)
}

// advance fires every timer due at or before at and moves the clock.
func (d *Driver) advance(at model.Instant) {
	for len(d.timers) > 0 && d.timers[0].at <= at {
		tm := heap.Pop(&d.timers).(timer)
		if tm.at > d.clock {
			d.clock = tm.at
		}
		switch tm.kind {
		case tkCore:
			k := timerKey{tm.label, tm.tk}
			if d.timerGen[k] != tm.gen {
				continue
			}
			delete(d.timerGen, k)
			d.counters.Timers++
			d.step(model.Event{Type: model.EvTimer, At: tm.at, Label: tm.label, Timer: tm.tk})
		case tkReplenish:
			d.step(model.Event{Type: model.EvReplenish, At: tm.at})
			d.pushTimer(timer{at: tm.at.Add(model.Day), kind: tkReplenish})
		case tkRestock:
			d.step(model.Event{Type: model.EvRestock, At: tm.at, Node: tm.node, SKU: tm.sku, Qty: tm.qty})
		}
		d.obs.Settle(d.clock, false)
	}
	if at > d.clock {
		d.clock = at
	}
}

func (d *Driver) nodeIndex(id string) (model.NodeIndex, bool) {
	return d.net.NodeIndexOf(id)
}

func (d *Driver) ownsNode(i model.NodeIndex) bool {
	return d.owned == nil || (i >= 0 && int(i) < len(d.owned) && d.owned[i])
}

func (d *Driver) ignore(why string) {
	d.counters.Ignored[why]++
}

func (d *Driver) label(name string) (model.LabelID, *labelRec) {
	id, ok := d.labelIDs[name]
	if !ok {
		return 0, nil
	}
	return id, d.labels[id]
}

// Apply applies one message: it fires the timers due by the message's
// instant on the local clock (unless the message is late), then maps it
// onto core events.
func (d *Driver) Apply(m *Message) {
	at := d.zone.Local(m.At)
	if !d.started {
		d.started = true
		d.startClock(at)
	}
	if !m.Late {
		d.advance(at)
	}
	d.counters.Applied++
	env := m.Env
	switch b := env.Body.(type) {
	case wire.Order:
		d.order(env, b, at)
	case wire.Scan:
		id, lr := d.label(b.LabelID)
		node, known := d.nodeIndex(b.Node)
		if !known {
			if b.Node != hubNode {
				d.anomaly(AnomalyUnknownNode, env, at, b.LabelID, b.Node)
				return
			}
			node = model.NoNode
		}
		if lr == nil {
			if known && !d.ownsNode(node) {
				d.ignore("foreign")
			} else {
				d.anomaly(AnomalyUnknownLabel, env, at, b.LabelID, b.Node)
			}
			return
		}
		d.note(lr, env.MsgID)
		switch b.Stage {
		case wire.StagePick:
			d.step(model.Event{Type: model.EvScanPicked, At: at, Label: id, Node: node})
		case wire.StagePack:
			d.step(model.Event{Type: model.EvScanPacked, At: at, Label: id, Node: node})
		case wire.StageHandoff:
			d.step(model.Event{Type: model.EvHandoff, At: at, Label: id, Node: node})
		case wire.StageDelivery:
			if l := d.core.Label(id); l != nil && l.State == model.InTransit {
				d.step(model.Event{Type: model.EvArrived, At: at, Label: id, Node: node})
			} else {
				d.ignore("delivery_confirmation")
			}
		default:
			d.ignore("scan_" + string(b.Stage))
		}
	case wire.Slot:
		if b.State != wire.SlotOccupied {
			d.ignore("slot_free")
			return
		}
		node, id, ok := d.lockerLabel(env, b.LabelID, at)
		if !ok {
			return
		}
		l := d.core.Label(id)
		arrived := l.State == model.InTransit
		if arrived {
			d.step(model.Event{Type: model.EvArrived, At: at, Label: id, Node: node})
		} else if l.State == model.ReadyForPickup && l.At == node {
			d.ignore("slot_confirmation")
		}
		d.obs.SlotOccupied(id, node, at, arrived)
	case wire.Pickup:
		node, id, ok := d.lockerLabel(env, b.LabelID, at)
		if !ok {
			return
		}
		if !b.Verified {
			d.ignore("pickup_unverified")
			return
		}
		ev := model.Event{Type: model.EvPickup, At: at, Label: id, Node: node}
		if d.net.CodeKey != ([2]uint64{}) {
			ev.Code = model.PickupCode(d.net.CodeKey, id) // the locker verified it
		}
		d.step(ev)
	case wire.Status:
		node, ok := d.nodeIndex(env.Source)
		if !ok {
			d.anomaly(AnomalyUnknownNode, env, at, "", env.Source)
			return
		}
		if b.State == wire.NodeOnline {
			d.session[node] = b.Session
			if !d.core.Node(node).Online {
				d.step(model.Event{Type: model.EvNodeOnline, At: at, Node: node})
			} else {
				d.ignore("status_unchanged")
			}
			return
		}
		if b.Reason == wire.ReasonLWT && b.Session != d.session[node] {
			d.ignore("stale_will")
			return
		}
		if d.core.Node(node).Online {
			d.step(model.Event{Type: model.EvNodeOffline, At: at, Node: node})
		} else {
			d.ignore("status_unchanged")
		}
	case wire.LabelState:
		if _, ok := d.labelIDs[b.LabelID]; !ok && d.owned != nil {
			d.ignore("foreign")
			return
		}
		d.obs.Reported(env.MsgID, b, at)
	case wire.Box:
		d.applyBox(env, b, at) // packaging.go
	default:
		d.ignore(string(env.Type))
	}
	if d.m != nil && !m.Wall.IsZero() {
		d.m.Latency.Observe(time.Since(m.Wall).Seconds())
	}
	d.obs.Settle(d.clock, false)
}

// lockerLabel resolves a locker's event about a label: the locker (the
// event's source) and the label, noting the message on it. An unknown
// locker or label is an anomaly, a locker of another partition ignored
// (false).
func (d *Driver) lockerLabel(env wire.Envelope, name string, at model.Instant) (model.NodeIndex, model.LabelID, bool) {
	node, ok := d.nodeIndex(env.Source)
	if !ok {
		d.anomaly(AnomalyUnknownNode, env, at, name, env.Source)
		return 0, 0, false
	}
	id, lr := d.label(name)
	if lr == nil {
		if !d.ownsNode(node) {
			d.ignore("foreign")
		} else {
			d.anomaly(AnomalyUnknownLabel, env, at, name, env.Source)
		}
		return 0, 0, false
	}
	d.note(lr, env.MsgID)
	return node, id, true
}

func (d *Driver) note(lr *labelRec, id string) {
	if id == "" {
		return
	}
	if len(lr.msgs) >= maxLabelMsgs {
		copy(lr.msgs, lr.msgs[1:])
		lr.msgs = lr.msgs[:len(lr.msgs)-1]
	}
	lr.msgs = append(lr.msgs, id)
}

func (d *Driver) order(env wire.Envelope, b wire.Order, at model.Instant) {
	from := model.NoNode
	if i, ok := d.nodeIndex(b.Node); ok {
		from = i
	} else if b.Node != hubNode {
		d.anomaly(AnomalyUnknownNode, env, at, b.LabelID, b.Node)
		return
	}
	dest, ok := d.nodeIndex(b.Destination)
	if !ok {
		d.anomaly(AnomalyUnknownNode, env, at, b.LabelID, b.Destination)
		return
	}
	if d.owned != nil && !d.ownsNode(from) && !(from == model.NoNode && d.ownsNode(dest)) {
		d.ignore("foreign")
		return
	}
	sku, ok := d.net.SKUIndexOf(b.SKU)
	if !ok {
		d.anomaly(AnomalyUnknownSKU, env, at, b.LabelID, "")
		return
	}
	if _, dup := d.labelIDs[b.LabelID]; dup {
		d.reject(model.RejectDuplicateLabel) // what the core would say
		return
	}
	d.nextLabel++
	id := d.nextLabel
	d.labelIDs[b.LabelID] = id
	lr := &labelRec{name: b.LabelID}
	d.labels[id] = lr
	if d.m != nil {
		d.m.Labels.Set(float64(len(d.labels)))
	}
	d.note(lr, env.MsgID)
	h := fnv.New64a()
	_, _ = h.Write([]byte(b.OrderID))
	// the core's placement instant is the order's own placed_at (production's clock)
	placed := d.local(b.PlacedAt)
	if placed == 0 {
		placed = at
	}
	var cell model.Cell
	if b.CustomerCell != "" {
		cell, _ = model.ParseCell(b.CustomerCell) // checked by the wire decoder
	}
	ev := model.Event{Type: model.EvOrderPlaced, At: placed, Label: id, Order: h.Sum64(), Node: from, Dest: dest, SKU: sku,
		Size: b.Size.Class(), Measured: true, Cell: cell}
	ev.SetWindow(d.window(b))
	d.step(ev)
	if b.Window != nil {
		d.checkDeadline(id, b, env.MsgID)
	}
}

// step hands one event to the core and carries out its effects.
func (d *Driver) step(ev model.Event) {
	effs := d.core.Step(ev)
	for i := range effs {
		e := &effs[i]
		switch e.Type {
		case model.EffSetTimer:
			k := timerKey{e.Label, e.Timer}
			g := d.timerGen[k] + 1
			if g == 0 {
				g = 1
			}
			// generations only grow per key while the key is live
			d.timerGen[k] = g
			d.pushTimer(timer{at: e.At, kind: tkCore, tk: e.Timer, label: e.Label, gen: g})
		case model.EffCancelTimer:
			delete(d.timerGen, timerKey{e.Label, e.Timer})
		case model.EffRestock:
			if d.replenish && e.Amount > 0 {
				d.pushTimer(timer{at: ev.At.Add(d.cfg.RestockLead), kind: tkRestock, node: e.Node, sku: e.SKU, qty: int32(e.Amount)})
			}
		case model.EffReject:
			d.reject(e.Reason)
		case model.EffReroute:
			if d.labels[e.Label] != nil {
				d.obs.Decided(e.Label, Decision{At: e.At, To: e.To})
			}
		case model.EffRefund:
			if d.labels[e.Label] != nil {
				d.obs.Decided(e.Label, Decision{At: e.At, Refund: true, Amount: minor(e.Amount)})
			}
		case model.EffReward:
			if d.labels[e.Label] != nil {
				d.obs.Decided(e.Label, Decision{At: e.At, Reward: true, Amount: minor(e.Amount)})
			}
		}
	}
}

// reject counts an event the core rejected, by reason.
func (d *Driver) reject(why model.Reason) {
	d.counters.Rejected[why.String()]++
	if d.m != nil {
		d.m.rejected(why.String())
	}
}

func minor(amount float64) uint64 {
	m := math.Round(amount * 100)
	if m < 0 {
		return 0
	}
	return uint64(m)
}

// onFinish queues a label that reached a terminal state for forgetting.
func (d *Driver) onFinish(l *model.Label) {
	d.finished = append(d.finished, finished{at: lastAt(l), id: l.ID})
	if d.cfg.Tokens != nil {
		d.tokenFinished(l)
	}
}

// ForgetFinished releases the labels that finished more than
// LabelRetention before the clock (core state, provenance chain, message
// ids, the observer's records), so memory and snapshots stay bounded
// however long the twin runs. A message about a forgotten label is treated
// as one about an unknown label. Twin calls it once an hour of event time
// (see Ingest.Offer).
func (d *Driver) ForgetFinished() {
	if d.cfg.LabelRetention < 0 {
		return
	}
	horizon := d.clock - model.Instant(d.cfg.LabelRetention)
	for d.finHead < len(d.finished) && d.finished[d.finHead].at < horizon {
		f := d.finished[d.finHead]
		d.finHead++
		if lr := d.labels[f.id]; lr != nil && d.core.Forget(f.id) {
			delete(d.labelIDs, lr.name)
			delete(d.labels, f.id)
			d.obs.Forget(f.id)
			d.counters.Forgotten++
			if d.m != nil {
				d.m.Forgotten.Inc()
				d.m.Labels.Set(float64(len(d.labels)))
			}
		}
	}
	if d.finHead > 1024 && d.finHead*2 > len(d.finished) {
		d.finished = append(d.finished[:0], d.finished[d.finHead:]...)
		d.finHead = 0
	}
}

// LabelID resolves production's label id to the core's (false: never
// ordered here, or forgotten).
func (d *Driver) LabelID(name string) (model.LabelID, bool) {
	id, ok := d.labelIDs[name]
	return id, ok
}

// CoreLabel returns the core's label id, production's id for it and the ids
// of its last messages (oldest first; do not modify), or a nil label if it
// is unknown or forgotten.
func (d *Driver) CoreLabel(id model.LabelID) (l *model.Label, name string, msgs []string) {
	lr := d.labels[id]
	if lr == nil {
		return nil, "", nil
	}
	return d.core.Label(id), lr.name, lr.msgs
}

// NodeName is the node's id ("hub" for model.NoNode).
func (d *Driver) NodeName(i model.NodeIndex) string {
	if i < 0 || int(i) >= len(d.net.Nodes) {
		return "hub"
	}
	return d.net.Nodes[i].ID
}

func lastAt(l *model.Label) model.Instant {
	if n := len(l.Chain); n > 0 {
		return l.Chain[n-1].At
	}
	return 0
}

// Counters returns a copy of the driver's counters.
func (d *Driver) Counters() DriverCounters {
	c := d.counters
	c.Rejected = copyMap(c.Rejected)
	c.Ignored = copyMap(c.Ignored)
	c.Anomalies = copyMap(c.Anomalies)
	return c
}

// LabelView is a label as the API shows it.
type LabelView struct {
	Label    string      `json:"label"`
	State    string      `json:"state"`
	Node     string      `json:"node,omitempty"` // where it is held when ready
	From     string      `json:"from"`
	Dest     string      `json:"destination"`
	Hops     int         `json:"hops"`
	At       string      `json:"at"`
	Late     bool        `json:"late,omitempty"`
	Verified bool        `json:"chain_verified"`
	Chain    []EntryView `json:"chain,omitempty"`
	Messages []string    `json:"messages,omitempty"`
}

// EntryView is one provenance entry.
type EntryView struct {
	State  string `json:"state"`
	At     string `json:"at"`
	Node   string `json:"node"`
	Reason string `json:"reason,omitempty"`
	Prev   string `json:"prev"`
}

func (d *Driver) view(id model.LabelID, chain bool) (LabelView, bool) {
	l, name, msgs := d.CoreLabel(id)
	if l == nil {
		return LabelView{}, false
	}
	v := LabelView{Label: name, State: l.State.String(), From: d.NodeName(l.From), Dest: d.NodeName(l.Dest), Hops: l.Hops,
		At: d.real(lastAt(l)).String(), Late: l.Late, Verified: l.Verify() == -1}
	if l.State == model.ReadyForPickup {
		v.Node = d.NodeName(l.At)
	}
	if chain {
		for _, e := range l.Chain {
			v.Chain = append(v.Chain, EntryView{State: e.State.String(), At: d.real(e.At).String(), Node: d.NodeName(e.Node), Reason: e.Reason.String(),
				Prev: fmt.Sprintf("%016x", e.Prev)})
		}
		v.Messages = append([]string(nil), msgs...)
	}
	return v, true
}

// Label returns the core's view of a production label id, with its
// provenance chain and message ids.
func (d *Driver) Label(name string) (LabelView, bool) {
	id, ok := d.labelIDs[name]
	if !ok {
		return LabelView{}, false
	}
	return d.view(id, true)
}

// Labels returns every label's view (no chain), sorted by label id.
func (d *Driver) Labels() []LabelView {
	out := make([]LabelView, 0, len(d.labels))
	for id := range d.labels {
		if v, ok := d.view(id, false); ok {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// NodeView is a node as the API shows it.
type NodeView struct {
	ID       string           `json:"id"`
	Kind     string           `json:"kind"`
	Online   bool             `json:"online"`
	Session  uint64           `json:"session"`
	Free     map[string]int32 `json:"free_slots"`
	Held     int32            `json:"counter_held"`
	Occupied int32            `json:"occupied"`
	Owned    bool             `json:"owned"`
}

// Nodes returns the core's view of every node.
func (d *Driver) Nodes() []NodeView {
	out := make([]NodeView, len(d.net.Nodes))
	for i := range d.net.Nodes {
		nd := &d.net.Nodes[i]
		st := d.core.Node(model.NodeIndex(i))
		free := map[string]int32{}
		for k := model.Small; k < model.NumSizes; k++ {
			if nd.Slots[k] > 0 {
				free[k.String()] = st.Free[k]
			}
		}
		out[i] = NodeView{ID: nd.ID, Kind: nd.Kind.String(), Online: st.Online, Session: d.session[i], Free: free, Held: st.Held,
			Occupied: st.Occupied, Owned: d.ownsNode(model.NodeIndex(i))}
	}
	return out
}
