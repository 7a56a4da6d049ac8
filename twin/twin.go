package twin

import (
	"container/heap"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Defaults.
const (
	DefaultWindow         = 5 * model.Second
	DefaultTolerance      = 2 * model.Minute
	DefaultQuarantineMax  = 10000
	DefaultIDRetention    = 48 * model.Hour
	DefaultLabelRetention = 7 * model.Day
	maxLabelMsgs          = 32
)

// Config configures a Twin.
type Config struct {
	// Network is the static world the core runs on (scenarios.Scenario.Network).
	Network *model.Network
	// Topics is the feed prefix (zero value: wire.DefaultPrefix).
	Topics wire.Topics
	// Window is the reorder window in event time: a message is applied once
	// a message at least Window later has been accepted (or at Finish).
	// Zero means DefaultWindow; negative means no reordering.
	Window model.Duration
	// Tolerance is how far production's transition may lag or lead the
	// core's and still match. Zero means DefaultTolerance.
	Tolerance model.Duration
	// Replenish emulates nightly replenishment (EvReplenish at ReplenishAt
	// each day, EffRestock delivered as EvRestock after RestockLead), which
	// the feed does not carry. Nil: on when some node has a cache.
	Replenish   *bool
	ReplenishAt model.Duration // default 02:00
	RestockLead model.Duration // default 4h
	// Nodes, if set, is the partition this instance owns (node ids); see
	// docs/twin.md. Nil owns every node.
	Nodes []string
	// LabelRetention is how long (in event time) a label is kept after it
	// reached a terminal state (picked up, returned, cancelled), for the API
	// and late reports; then it is forgotten. Zero means
	// DefaultLabelRetention; negative keeps every label.
	LabelRetention model.Duration
	// IDRetention is how long (in event time) accepted msg_ids are kept for
	// de-duplication; older duplicates are still caught by (source, seq).
	// Zero means DefaultIDRetention.
	IDRetention model.Duration
	// QuarantineMax bounds the quarantine store (oldest dropped first;
	// counters keep counting). Zero means DefaultQuarantineMax.
	QuarantineMax int
	// Logger receives structured logs (nil discards).
	Logger *slog.Logger
	// Metrics, if set, is updated as messages flow.
	Metrics *Metrics
}

// Quarantined is a message that failed validation.
type Quarantined struct {
	Topic   string        `json:"topic"`
	Reason  string        `json:"reason"`
	Detail  string        `json:"detail"`
	RecvAt  model.Instant `json:"-"`
	Recv    string        `json:"recv_at,omitempty"`
	Payload []byte        `json:"payload"` // base64 in JSON
}

// Counters are the ingest counters.
type Counters struct {
	Received    uint64            `json:"received"`
	Accepted    uint64            `json:"accepted"`
	Applied     uint64            `json:"applied"`
	Duplicates  uint64            `json:"duplicates"`
	Conflicts   uint64            `json:"conflicts"` // (source, seq) seen with another msg_id
	Late        uint64            `json:"late"`
	Quarantined map[string]uint64 `json:"quarantined"`
	ByType      map[string]uint64 `json:"by_type"`
	Rejected    map[string]uint64 `json:"rejected"` // events the core rejected, by reason
	Ignored     map[string]uint64 `json:"ignored"`  // accepted messages that map to no core event, by why
	Timers      uint64            `json:"timers_fired"`
	Forgotten   uint64            `json:"labels_forgotten"` // finished labels released after the retention
	Missing     uint64            `json:"missing"`          // sequence numbers never seen (gaps)
	Divergences map[string]uint64 `json:"divergences"`
}

// Gap is a run of sequence numbers of one source that never arrived.
type Gap struct {
	Source string `json:"source"`
	From   uint64 `json:"from"`
	To     uint64 `json:"to"`
	// Will is true when the gap is the one sequence number a node reserved
	// for its last will that was never needed (not a lost message).
	Will bool `json:"will,omitempty"`
}

type srcState struct {
	hw       uint64              // every seq <= hw was seen
	above    map[uint64]struct{} // seen seqs > hw+1
	max      uint64
	reserved map[uint64]struct{} // will seqs reserved at connect
}

func (s *srcState) seen(q uint64) bool {
	if q <= s.hw {
		return true
	}
	_, ok := s.above[q]
	return ok
}

func (s *srcState) add(q uint64) {
	if q > s.max {
		s.max = q
	}
	if q == s.hw+1 {
		s.hw = q
		for {
			if _, ok := s.above[s.hw+1]; !ok {
				break
			}
			delete(s.above, s.hw+1)
			s.hw++
		}
		return
	}
	if s.above == nil {
		s.above = map[uint64]struct{}{}
	}
	s.above[q] = struct{}{}
}

func (s *srcState) missing() uint64 { return s.max - s.hw - uint64(len(s.above)) }

// msg is an accepted message waiting in the reorder buffer.
type msg struct {
	env   wire.Envelope
	at    model.Instant // event instant (recv for a last will)
	rank  uint8         // lifecycle rank, see rankOf
	recv  model.Instant
	topic string
	late  bool
	wall  time.Time
}

// rankOf orders messages of the same instant from different sources along a
// parcel's life: node status, then orders, pick, pack, hand-off, delivery,
// locker events, pickups, and production's reports last. Two devices can
// stamp the same millisecond (a reroute between two nodes in one H3 cell
// hands off and delivers at once); without this rank the tie would fall to
// the source ids, which could apply a delivery before its hand-off.
func rankOf(env wire.Envelope) uint8 {
	switch b := env.Body.(type) {
	case wire.Status:
		return 0
	case wire.Order:
		return 1
	case wire.Scan:
		switch b.Stage {
		case wire.StagePick:
			return 2
		case wire.StagePack:
			return 3
		case wire.StageHandoff:
			return 4
		}
		return 5
	case wire.Slot, wire.Door, wire.Occupancy:
		return 6
	case wire.Pickup:
		return 7
	case wire.LabelState:
		return 9
	}
	return 8
}

func (m *msg) less(o *msg) bool {
	if m.at != o.at {
		return m.at < o.at
	}
	if m.rank != o.rank {
		return m.rank < o.rank
	}
	if m.env.Source != o.env.Source {
		return m.env.Source < o.env.Source
	}
	return m.env.Seq < o.env.Seq
}

type msgHeap []*msg

func (h msgHeap) Len() int           { return len(h) }
func (h msgHeap) Less(i, j int) bool { return h[i].less(h[j]) }
func (h msgHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *msgHeap) Push(x any)        { *h = append(*h, x.(*msg)) }
func (h *msgHeap) Pop() any {
	o := *h
	x := o[len(o)-1]
	o[len(o)-1] = nil
	*h = o[:len(o)-1]
	return x
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

// decision is a reroute or refund the core decided for a label.
type decision struct {
	at      model.Instant
	to      model.NodeIndex // reroute target
	amount  uint64          // refund, minor units
	matched bool
}

// finished is a label that reached a terminal state at an instant; it is
// forgotten LabelRetention later.
type finished struct {
	at model.Instant
	id model.LabelID
}

type labelRec struct {
	name     string
	msgs     []string
	matched  []bool // per chain entry: a production report matched it
	reroutes []decision
	refunds  []decision
}

// Twin is the shadow-mode driver of one core. Its methods are safe for
// concurrent use.
type Twin struct {
	mu     sync.Mutex
	cfg    Config
	net    *model.Network
	core   *model.Core
	topics wire.Topics
	log    *slog.Logger
	m      *Metrics

	// ingest
	src      map[string]*srcState
	ids      map[string]model.Instant // accepted msg_ids -> event instant, pruned after IDRetention
	idsPrune model.Instant            // next instant at which to prune ids
	buf      msgHeap
	maxAt    model.Instant
	lastKey  *msg // key of the last message released in order
	clock    model.Instant
	started  bool
	counters Counters
	quar     []Quarantined
	quarHead int

	// driver
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

	// compare
	pending     reportHeap
	corePending decisionHeap
	divs        []Divergence
}

// New returns a twin for cfg.
func New(cfg Config) (*Twin, error) {
	if cfg.Network == nil {
		return nil, errors.New("twin: no network")
	}
	if err := cfg.Network.Validate(); err != nil {
		return nil, fmt.Errorf("twin: network: %w", err)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Window < 0 {
		cfg.Window = 0
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.ReplenishAt <= 0 {
		cfg.ReplenishAt = 2 * model.Hour
	}
	if cfg.RestockLead <= 0 {
		cfg.RestockLead = 4 * model.Hour
	}
	if cfg.QuarantineMax <= 0 {
		cfg.QuarantineMax = DefaultQuarantineMax
	}
	if cfg.IDRetention <= 0 {
		cfg.IDRetention = DefaultIDRetention
	}
	if cfg.LabelRetention == 0 {
		cfg.LabelRetention = DefaultLabelRetention
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	core := model.New(cfg.Network)
	core.KeepFinished = true
	t := &Twin{cfg: cfg, net: cfg.Network, core: core, topics: cfg.Topics, log: log, m: cfg.Metrics,
		src: map[string]*srcState{}, ids: map[string]model.Instant{}, labelIDs: map[string]model.LabelID{},
		labels:   map[model.LabelID]*labelRec{},
		timerGen: map[timerKey]uint64{}, session: make([]uint64, len(cfg.Network.Nodes))}
	core.OnFinish = t.onFinish
	t.counters = Counters{Quarantined: map[string]uint64{}, ByType: map[string]uint64{}, Rejected: map[string]uint64{},
		Ignored: map[string]uint64{}, Divergences: map[string]uint64{}}
	if cfg.Replenish != nil {
		t.replenish = *cfg.Replenish
	} else {
		for _, n := range cfg.Network.Nodes {
			if len(n.Cache) > 0 {
				t.replenish = true
			}
		}
	}
	if cfg.Nodes != nil {
		t.owned = make([]bool, len(cfg.Network.Nodes))
		for _, id := range cfg.Nodes {
			i, ok := cfg.Network.NodeIndexOf(id)
			if !ok {
				return nil, fmt.Errorf("twin: partition: unknown node %q", id)
			}
			t.owned[i] = true
		}
	}
	return t, nil
}

// Core returns the core. Callers must not Step it; read it under Lock only.
func (t *Twin) Core() *model.Core { return t.core }

// Ingest validates, de-duplicates and orders one received message and
// applies whatever the reorder window releases. It never fails: rejects
// are quarantined and counted.
func (t *Twin) Ingest(rec wire.CaptureRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ingest(rec, time.Now())
}

// IngestBatch ingests several records under one lock.
func (t *Twin) IngestBatch(recs []wire.CaptureRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for _, r := range recs {
		t.ingest(r, now)
	}
}

func (t *Twin) ingest(rec wire.CaptureRecord, wall time.Time) {
	t.counters.Received++
	env, err := t.topics.Decode(rec.Topic, rec.Payload)
	if err != nil {
		reason := wire.ErrorReason(err)
		if reason == "" {
			reason = "invalid"
		}
		t.quarantine(rec, reason, err.Error())
		return
	}
	s := t.src[env.Source]
	if s == nil {
		s = &srcState{}
		t.src[env.Source] = s
	}
	if _, dup := t.ids[env.MsgID]; dup {
		t.duplicate(env)
		return
	}
	if s.seen(env.Seq) {
		// a (source, seq) seen with another msg_id, unless the message is
		// so old its msg_id may have been pruned (then it is a duplicate)
		if env.At >= t.idsPrune-model.Instant(model.Hour)-model.Instant(t.cfg.IDRetention) {
			t.counters.Conflicts++
		}
		t.duplicate(env)
		return
	}
	t.ids[env.MsgID] = env.At
	before := s.missing()
	s.add(env.Seq)
	t.counters.Missing = t.counters.Missing - before + s.missing()
	t.counters.Accepted++
	t.counters.ByType[string(env.Type)]++
	if t.m != nil {
		t.m.in(string(env.Type))
		t.m.Missing.Set(float64(t.counters.Missing))
	}
	m := &msg{env: env, at: env.At, rank: rankOf(env), recv: rec.RecvAt, topic: rec.Topic, wall: wall}
	if st, ok := env.Body.(wire.Status); ok {
		if st.Reason == wire.ReasonLWT && rec.RecvAt != 0 {
			m.at = rec.RecvAt // the will's at is its connect instant
		}
		if st.State == wire.NodeOnline && env.Seq > 1 {
			if s.reserved == nil {
				s.reserved = map[uint64]struct{}{}
			}
			s.reserved[env.Seq-1] = struct{}{}
		}
	}
	if m.at > t.maxAt {
		t.maxAt = m.at
		if t.maxAt >= t.idsPrune {
			t.pruneIDs()
		}
	}
	if t.lastKey != nil && m.less(t.lastKey) {
		m.late = true
		t.counters.Late++
		if t.m != nil {
			t.m.Late.Inc()
		}
		t.log.Debug("late message", "msg_id", env.MsgID, "at", m.at.String())
		t.apply(m)
		return
	}
	heap.Push(&t.buf, m)
	t.release(t.maxAt - model.Instant(t.cfg.Window))
}

// pruneIDs forgets the msg_ids of messages more than IDRetention older than
// the newest, once an hour of event time: memory stays bounded however
// long the twin runs. An older duplicate is still caught by its (source,
// seq), which every source's sequence state keeps compactly.
func (t *Twin) pruneIDs() {
	horizon := t.maxAt - model.Instant(t.cfg.IDRetention)
	for id, at := range t.ids {
		if at < horizon {
			delete(t.ids, id)
		}
	}
	t.idsPrune = t.maxAt + model.Instant(model.Hour)
	t.forgetLabels(t.clock)
}

func (t *Twin) duplicate(env wire.Envelope) {
	t.counters.Duplicates++
	if t.m != nil {
		t.m.Duplicates.Inc()
	}
}

func (t *Twin) quarantine(rec wire.CaptureRecord, reason, detail string) {
	t.counters.Quarantined[reason]++
	if t.m != nil {
		t.m.quarantined(reason)
	}
	q := Quarantined{Topic: rec.Topic, Reason: reason, Detail: detail, RecvAt: rec.RecvAt, Payload: append([]byte(nil), rec.Payload...)}
	if rec.RecvAt != 0 {
		q.Recv = rec.RecvAt.String()
	}
	if len(t.quar) < t.cfg.QuarantineMax {
		t.quar = append(t.quar, q)
	} else {
		t.quar[t.quarHead] = q
		t.quarHead = (t.quarHead + 1) % len(t.quar)
	}
	t.log.Debug("quarantined", "topic", rec.Topic, "reason", reason)
}

// release applies the buffered messages at or before the watermark w, in order.
func (t *Twin) release(w model.Instant) {
	for len(t.buf) > 0 && t.buf[0].at <= w {
		m := heap.Pop(&t.buf).(*msg)
		t.lastKey = m
		t.apply(m)
	}
}

// startClock schedules the driver's own timers from the first instant.
func (t *Twin) startClock(at model.Instant) {
	if t.replenish {
		r := model.DayStart(at) + model.Instant(t.cfg.ReplenishAt)
		if r < at {
			r += model.Instant(model.Day)
		}
		t.pushTimer(timer{at: r, kind: tkReplenish})
	}
}

func (t *Twin) pushTimer(tm timer) {
	t.timerOrd++
	tm.ord = t.timerOrd
	heap.Push(&t.timers, tm)
}

// advance fires every timer due at or before at and moves the clock.
func (t *Twin) advance(at model.Instant) {
	for len(t.timers) > 0 && t.timers[0].at <= at {
		tm := heap.Pop(&t.timers).(timer)
		if tm.at > t.clock {
			t.clock = tm.at
		}
		switch tm.kind {
		case tkCore:
			k := timerKey{tm.label, tm.tk}
			if t.timerGen[k] != tm.gen {
				continue
			}
			delete(t.timerGen, k)
			t.counters.Timers++
			t.step(model.Event{Type: model.EvTimer, At: tm.at, Label: tm.label, Timer: tm.tk}, "")
		case tkReplenish:
			t.step(model.Event{Type: model.EvReplenish, At: tm.at}, "")
			t.pushTimer(timer{at: tm.at.Add(model.Day), kind: tkReplenish})
		case tkRestock:
			t.step(model.Event{Type: model.EvRestock, At: tm.at, Node: tm.node, SKU: tm.sku, Qty: tm.qty}, "")
		}
		t.evaluate(false)
	}
	if at > t.clock {
		t.clock = at
	}
}

// Advance moves the clock to at without a message (live mode with a wall
// clock): it releases buffered messages older than at minus the window and
// fires the timers due by then.
func (t *Twin) Advance(at model.Instant) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.started {
		return
	}
	w := at - model.Instant(t.cfg.Window)
	t.release(w)
	if w > t.clock {
		t.advance(w)
		t.evaluate(false)
	}
}

// Finish applies everything still buffered and settles every pending
// comparison. Call it at the end of a replay or on shutdown.
func (t *Twin) Finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.release(model.Never)
	t.evaluate(true)
}

func (t *Twin) nodeIndex(id string) (model.NodeIndex, bool) {
	return t.net.NodeIndexOf(id)
}

func (t *Twin) ownsNode(i model.NodeIndex) bool {
	return t.owned == nil || (i >= 0 && int(i) < len(t.owned) && t.owned[i])
}

func (t *Twin) ignore(why string) {
	t.counters.Ignored[why]++
}

func (t *Twin) label(name string) (model.LabelID, *labelRec) {
	id, ok := t.labelIDs[name]
	if !ok {
		return 0, nil
	}
	return id, t.labels[id]
}

// apply maps one ordered message onto core events (and comparisons).
func (t *Twin) apply(m *msg) {
	if !t.started {
		t.started = true
		t.startClock(m.at)
	}
	if !m.late {
		t.advance(m.at)
	}
	t.counters.Applied++
	env := m.env
	at := m.at
	switch b := env.Body.(type) {
	case wire.Order:
		t.order(env, b, at)
	case wire.Scan:
		id, lr := t.label(b.LabelID)
		node, known := t.nodeIndex(b.Node)
		if !known {
			node = model.NoNode
		}
		if lr == nil {
			if known && !t.ownsNode(node) {
				t.ignore("foreign")
			} else {
				t.ignore("unknown_label")
				t.counters.Rejected[model.RejectUnknownLabel.String()]++
			}
			return
		}
		t.note(lr, env.MsgID)
		switch b.Stage {
		case wire.StagePick:
			t.step(model.Event{Type: model.EvScanPicked, At: at, Label: id, Node: node}, env.MsgID)
		case wire.StagePack:
			t.step(model.Event{Type: model.EvScanPacked, At: at, Label: id, Node: node}, env.MsgID)
		case wire.StageHandoff:
			t.step(model.Event{Type: model.EvHandoff, At: at, Label: id, Node: node}, env.MsgID)
		case wire.StageDelivery:
			if l := t.core.Label(id); l != nil && l.State == model.InTransit {
				t.step(model.Event{Type: model.EvArrived, At: at, Label: id, Node: node}, env.MsgID)
			} else {
				t.ignore("delivery_confirmation")
			}
		default:
			t.ignore("scan_" + string(b.Stage))
		}
	case wire.Slot:
		if b.State != wire.SlotOccupied {
			t.ignore("slot_free")
			return
		}
		node, ok := t.nodeIndex(env.Source)
		id, lr := t.label(b.LabelID)
		if !ok || lr == nil {
			t.ignore("unknown_label")
			return
		}
		t.note(lr, env.MsgID)
		l := t.core.Label(id)
		switch {
		case l.State == model.InTransit:
			t.step(model.Event{Type: model.EvArrived, At: at, Label: id, Node: node}, env.MsgID)
			if l = t.core.Label(id); l.State != model.ReadyForPickup || l.At != node {
				t.diverge(Divergence{Label: lr.name, Kind: KindSlotMismatch, Node: env.Source,
					Production: "occupied:" + env.Source, Core: l.State.String(), ProductionAt: at, CoreAt: at, Messages: lr.msgs})
			}
		case l.State == model.ReadyForPickup && l.At == node:
			t.ignore("slot_confirmation")
		default:
			t.diverge(Divergence{Label: lr.name, Kind: KindSlotMismatch, Node: env.Source,
				Production: "occupied:" + env.Source, Core: t.where(l), ProductionAt: at, CoreAt: lastAt(l), Messages: lr.msgs})
		}
	case wire.Pickup:
		node, ok := t.nodeIndex(env.Source)
		id, lr := t.label(b.LabelID)
		if !ok || lr == nil {
			t.ignore("unknown_label")
			return
		}
		t.note(lr, env.MsgID)
		if !b.Verified {
			t.ignore("pickup_unverified")
			return
		}
		ev := model.Event{Type: model.EvPickup, At: at, Label: id, Node: node}
		if t.net.CodeKey != ([2]uint64{}) {
			ev.Code = model.PickupCode(t.net.CodeKey, id) // the locker verified it
		}
		t.step(ev, env.MsgID)
	case wire.Status:
		node, ok := t.nodeIndex(env.Source)
		if !ok {
			t.ignore("unknown_node")
			return
		}
		if b.State == wire.NodeOnline {
			t.session[node] = b.Session
			if !t.core.Node(node).Online {
				t.step(model.Event{Type: model.EvNodeOnline, At: at, Node: node}, env.MsgID)
			} else {
				t.ignore("status_unchanged")
			}
			return
		}
		if b.Reason == wire.ReasonLWT && b.Session != t.session[node] {
			t.ignore("stale_will")
			return
		}
		if t.core.Node(node).Online {
			t.step(model.Event{Type: model.EvNodeOffline, At: at, Node: node}, env.MsgID)
		} else {
			t.ignore("status_unchanged")
		}
	case wire.LabelState:
		t.report(env, b, at)
	default:
		t.ignore(string(env.Type))
	}
	if t.m != nil && !m.wall.IsZero() {
		t.m.Latency.Observe(time.Since(m.wall).Seconds())
	}
	t.evaluate(false)
}

func (t *Twin) note(lr *labelRec, id string) {
	if id == "" {
		return
	}
	if len(lr.msgs) >= maxLabelMsgs {
		copy(lr.msgs, lr.msgs[1:])
		lr.msgs = lr.msgs[:len(lr.msgs)-1]
	}
	lr.msgs = append(lr.msgs, id)
}

func (t *Twin) order(env wire.Envelope, b wire.Order, at model.Instant) {
	from := model.NoNode
	if i, ok := t.nodeIndex(b.Node); ok {
		from = i
	} else if b.Node != "hub" {
		t.ignore("unknown_node")
		return
	}
	dest, ok := t.nodeIndex(b.Destination)
	if !ok {
		t.ignore("unknown_node")
		return
	}
	if t.owned != nil && !t.ownsNode(from) && !(from == model.NoNode && t.ownsNode(dest)) {
		t.ignore("foreign")
		return
	}
	sku, ok := t.net.SKUIndexOf(b.SKU)
	if !ok {
		t.ignore("unknown_sku")
		return
	}
	if _, dup := t.labelIDs[b.LabelID]; dup {
		t.counters.Rejected[model.RejectDuplicateLabel.String()]++
		return
	}
	t.nextLabel++
	id := t.nextLabel
	t.labelIDs[b.LabelID] = id
	lr := &labelRec{name: b.LabelID}
	t.labels[id] = lr
	if t.m != nil {
		t.m.Labels.Set(float64(len(t.labels)))
	}
	t.note(lr, env.MsgID)
	h := fnv.New64a()
	_, _ = h.Write([]byte(b.OrderID))
	// the core's placement instant is the order's own placed_at (production's clock)
	placed := b.PlacedAt
	if placed == 0 {
		placed = at
	}
	t.step(model.Event{Type: model.EvOrderPlaced, At: placed, Label: id, Order: h.Sum64(), Node: from, Dest: dest, SKU: sku,
		Size: b.Size.Class(), Measured: true}, env.MsgID)
}

// step hands one event to the core and carries out its effects.
func (t *Twin) step(ev model.Event, msgID string) {
	effs := t.core.Step(ev)
	for i := range effs {
		e := &effs[i]
		switch e.Type {
		case model.EffSetTimer:
			k := timerKey{e.Label, e.Timer}
			g := t.timerGen[k] + 1
			if g == 0 {
				g = 1
			}
			// generations only grow per key while the key is live
			t.timerGen[k] = g
			t.pushTimer(timer{at: e.At, kind: tkCore, tk: e.Timer, label: e.Label, gen: g})
		case model.EffCancelTimer:
			delete(t.timerGen, timerKey{e.Label, e.Timer})
		case model.EffRestock:
			if t.replenish && e.Amount > 0 {
				t.pushTimer(timer{at: ev.At.Add(t.cfg.RestockLead), kind: tkRestock, node: e.Node, sku: e.SKU, qty: int32(e.Amount)})
			}
		case model.EffReject:
			t.counters.Rejected[e.Reason.String()]++
			if t.m != nil {
				t.m.rejected(e.Reason.String())
			}
		case model.EffReroute:
			if lr := t.rec(e.Label); lr != nil {
				lr.reroutes = append(lr.reroutes, decision{at: e.At, to: e.To})
				t.pushCore(e.Label, true, len(lr.reroutes)-1, e.At)
			}
		case model.EffRefund:
			if lr := t.rec(e.Label); lr != nil {
				lr.refunds = append(lr.refunds, decision{at: e.At, amount: minor(e.Amount)})
				t.pushCore(e.Label, false, len(lr.refunds)-1, e.At)
			}
		}
	}
}

func minor(amount float64) uint64 {
	m := math.Round(amount * 100)
	if m < 0 {
		return 0
	}
	return uint64(m)
}

func (t *Twin) rec(id model.LabelID) *labelRec { return t.labels[id] }

// onFinish queues a label that reached a terminal state for forgetting.
func (t *Twin) onFinish(l *model.Label) {
	t.finished = append(t.finished, finished{at: lastAt(l), id: l.ID})
}

// forgetLabels releases the labels that finished more than LabelRetention
// before at (core state, provenance chain, message ids), so memory and
// snapshots stay bounded however long the twin runs. A message about a
// forgotten label is treated as one about an unknown label.
func (t *Twin) forgetLabels(at model.Instant) {
	if t.cfg.LabelRetention < 0 {
		return
	}
	horizon := at - model.Instant(t.cfg.LabelRetention)
	for t.finHead < len(t.finished) && t.finished[t.finHead].at < horizon {
		f := t.finished[t.finHead]
		t.finHead++
		if lr := t.labels[f.id]; lr != nil && t.core.Forget(f.id) {
			delete(t.labelIDs, lr.name)
			delete(t.labels, f.id)
			t.counters.Forgotten++
			if t.m != nil {
				t.m.Forgotten.Inc()
				t.m.Labels.Set(float64(len(t.labels)))
			}
		}
	}
	if t.finHead > 1024 && t.finHead*2 > len(t.finished) {
		t.finished = append(t.finished[:0], t.finished[t.finHead:]...)
		t.finHead = 0
	}
}

func (t *Twin) nodeName(i model.NodeIndex) string {
	if i < 0 || int(i) >= len(t.net.Nodes) {
		return "hub"
	}
	return t.net.Nodes[i].ID
}

func (t *Twin) where(l *model.Label) string {
	if l.State == model.ReadyForPickup {
		return "ready_for_pickup:" + t.nodeName(l.At)
	}
	return l.State.String()
}

func lastAt(l *model.Label) model.Instant {
	if n := len(l.Chain); n > 0 {
		return l.Chain[n-1].At
	}
	return 0
}

// Counters returns a copy of the ingest counters.
func (t *Twin) Counters() Counters {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counters
	c.Quarantined = copyMap(c.Quarantined)
	c.ByType = copyMap(c.ByType)
	c.Rejected = copyMap(c.Rejected)
	c.Ignored = copyMap(c.Ignored)
	c.Divergences = copyMap(c.Divergences)
	return c
}

func copyMap(m map[string]uint64) map[string]uint64 {
	o := make(map[string]uint64, len(m))
	for k, v := range m {
		o[k] = v
	}
	return o
}

// Quarantine returns the quarantined messages, oldest first.
func (t *Twin) Quarantine() []Quarantined {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Quarantined, 0, len(t.quar))
	out = append(out, t.quar[t.quarHead:]...)
	out = append(out, t.quar[:t.quarHead]...)
	return out
}

// Gaps lists the sequence numbers never seen, per source, sorted.
func (t *Twin) Gaps() []Gap {
	t.mu.Lock()
	defer t.mu.Unlock()
	srcs := make([]string, 0, len(t.src))
	for s, st := range t.src {
		if st.missing() > 0 {
			srcs = append(srcs, s)
		}
	}
	sort.Strings(srcs)
	var out []Gap
	for _, s := range srcs {
		st := t.src[s]
		seen := make([]uint64, 0, len(st.above))
		for q := range st.above {
			seen = append(seen, q)
		}
		sort.Slice(seen, func(i, j int) bool { return seen[i] < seen[j] })
		prev := st.hw
		emit := func(from, to uint64) {
			for from <= to {
				if _, ok := st.reserved[from]; ok {
					out = append(out, Gap{Source: s, From: from, To: from, Will: true})
					from++
					continue
				}
				end := from
				for end < to {
					if _, ok := st.reserved[end+1]; ok {
						break
					}
					end++
				}
				out = append(out, Gap{Source: s, From: from, To: end})
				from = end + 1
			}
		}
		for _, q := range seen {
			if q > prev+1 {
				emit(prev+1, q-1)
			}
			prev = q
		}
	}
	return out
}

// LabelView is a label as the API shows it.
type LabelView struct {
	Label    string       `json:"label"`
	State    string       `json:"state"`
	Node     string       `json:"node,omitempty"` // where it is held when ready
	From     string       `json:"from"`
	Dest     string       `json:"destination"`
	Hops     int          `json:"hops"`
	At       string       `json:"at"`
	Late     bool         `json:"late,omitempty"`
	Verified bool         `json:"chain_verified"`
	Chain    []EntryView  `json:"chain,omitempty"`
	Messages []string     `json:"messages,omitempty"`
	Timers   []TimerState `json:"-"`
}

// EntryView is one provenance entry.
type EntryView struct {
	State  string `json:"state"`
	At     string `json:"at"`
	Node   string `json:"node"`
	Reason string `json:"reason,omitempty"`
	Prev   string `json:"prev"`
}

// TimerState is unused in views (reserved).
type TimerState struct{}

func (t *Twin) view(id model.LabelID, chain bool) (LabelView, bool) {
	l := t.core.Label(id)
	lr := t.rec(id)
	if l == nil || lr == nil {
		return LabelView{}, false
	}
	v := LabelView{Label: lr.name, State: l.State.String(), From: t.nodeName(l.From), Dest: t.nodeName(l.Dest), Hops: l.Hops,
		At: lastAt(l).String(), Late: l.Late, Verified: l.Verify() == -1}
	if l.State == model.ReadyForPickup {
		v.Node = t.nodeName(l.At)
	}
	if chain {
		for _, e := range l.Chain {
			v.Chain = append(v.Chain, EntryView{State: e.State.String(), At: e.At.String(), Node: t.nodeName(e.Node), Reason: e.Reason.String(),
				Prev: fmt.Sprintf("%016x", e.Prev)})
		}
		v.Messages = append([]string(nil), lr.msgs...)
	}
	return v, true
}

// Label returns the core's view of a production label id.
func (t *Twin) Label(name string) (LabelView, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.labelIDs[name]
	if !ok {
		return LabelView{}, false
	}
	return t.view(id, true)
}

// Labels returns every label's final view (no chain), sorted by label id.
func (t *Twin) Labels() []LabelView {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]LabelView, 0, len(t.labels))
	for id := range t.labels {
		if v, ok := t.view(id, false); ok {
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
func (t *Twin) Nodes() []NodeView {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]NodeView, len(t.net.Nodes))
	for i := range t.net.Nodes {
		nd := &t.net.Nodes[i]
		st := t.core.Node(model.NodeIndex(i))
		free := map[string]int32{}
		for k := model.Small; k < model.NumSizes; k++ {
			if nd.Slots[k] > 0 {
				free[k.String()] = st.Free[k]
			}
		}
		out[i] = NodeView{ID: nd.ID, Kind: nd.Kind.String(), Online: st.Online, Session: t.session[i], Free: free, Held: st.Held,
			Occupied: st.Occupied, Owned: t.ownsNode(model.NodeIndex(i))}
	}
	return out
}

// Clock is the core's current instant.
func (t *Twin) Clock() model.Instant {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clock
}
