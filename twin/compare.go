package twin

import (
	"container/heap"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Divergence kinds.
const (
	// production reported a transition the core did not make (within the tolerance)
	KindStateMismatch = "state_mismatch"
	// the same transition at another node
	KindNodeMismatch = "node_mismatch"
	// both rerouted, to different targets
	KindRerouteTarget = "reroute_target"
	// production rerouted, the core kept the label
	KindRerouteUnexpected = "reroute_unexpected"
	// the core rerouted, production never did
	KindRerouteMissing = "reroute_missing"
	// the core refunded, production never did
	KindRefundMissing = "refund_missing"
	// production refunded, the core did not
	KindRefundUnexpected = "refund_unexpected"
	// both refunded, different amounts
	KindRefundAmount = "refund_amount"
	// a locker reported a parcel in a slot the core does not hold there
	KindSlotMismatch = "slot_mismatch"
	// production reported on a label the twin never saw ordered
	KindUnknownLabel = "unknown_label"
	// an order with a pickup window whose sla_deadline is not the core's
	// (the window's opening; touch.go)
	KindDeadlineMismatch = "deadline_mismatch"
	// the core credited a reward at the pickup, production's picked_up
	// report has none
	KindRewardMissing = "reward_missing"
	// production's picked_up report has a reward, the core credited none
	KindRewardUnexpected = "reward_unexpected"
	// both credited a reward, different amounts
	KindRewardAmount = "reward_amount"
)

// Kinds lists every divergence kind.
var Kinds = []string{KindStateMismatch, KindNodeMismatch, KindRerouteTarget, KindRerouteUnexpected, KindRerouteMissing,
	KindRefundMissing, KindRefundUnexpected, KindRefundAmount, KindSlotMismatch, KindUnknownLabel, KindDeadlineMismatch,
	KindRewardMissing, KindRewardUnexpected, KindRewardAmount, KindBoxMismatch}

// Divergence is one place where production and the core disagree.
type Divergence struct {
	Label        string        `json:"label"`
	Kind         string        `json:"kind"`
	Node         string        `json:"node,omitempty"`
	Production   string        `json:"production"`
	Core         string        `json:"core"`
	ProductionAt model.Instant `json:"-"`
	CoreAt       model.Instant `json:"-"`
	// Messages are the ids of the messages that led there (the label's
	// last messages, then production's report).
	Messages []string `json:"messages"`
}

// MarshalJSON writes instants as RFC 3339.
func (d Divergence) MarshalJSON() ([]byte, error) {
	type plain Divergence
	var pa, ca string
	if d.ProductionAt != 0 {
		pa = wire.FormatInstant(d.ProductionAt)
	}
	if d.CoreAt != 0 {
		ca = wire.FormatInstant(d.CoreAt)
	}
	return json.Marshal(struct {
		plain
		ProductionAt string `json:"production_at,omitempty"`
		CoreAt       string `json:"core_at,omitempty"`
	}{plain(d), pa, ca})
}

func (d *Divergence) at() model.Instant {
	if d.ProductionAt != 0 {
		return d.ProductionAt
	}
	return d.CoreAt
}

// SortDivergences orders divergences by label, instant, kind, then values.
func SortDivergences(ds []Divergence) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := &ds[i], &ds[j]
		if a.Label != b.Label {
			return a.Label < b.Label
		}
		if a.at() != b.at() {
			return a.at() < b.at()
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Production != b.Production {
			return a.Production < b.Production
		}
		return a.Core < b.Core
	})
}

// CompareConfig configures a Comparer.
type CompareConfig struct {
	// Tolerance is how far production's transition may lag or lead the
	// core's and still match. Zero means DefaultTolerance.
	Tolerance model.Duration
	// Logger receives a line per divergence (nil discards).
	Logger *slog.Logger
	// Metrics, if set, counts divergences.
	Metrics *Metrics
}

func (c CompareConfig) withDefaults() CompareConfig {
	if c.Tolerance <= 0 {
		c.Tolerance = DefaultTolerance
	}
	return c
}

// CoreView is what the comparer reads of the driven core. Driver
// implements it.
type CoreView interface {
	// LabelID resolves production's label id (false: never ordered, or
	// forgotten).
	LabelID(name string) (model.LabelID, bool)
	// CoreLabel returns the core's label, production's id for it and the
	// ids of its last messages; a nil label if unknown or forgotten.
	CoreLabel(id model.LabelID) (l *model.Label, name string, msgs []string)
	// NodeName is a node's id.
	NodeName(i model.NodeIndex) string
}

// report is a production label-state report waiting to be compared.
type report struct {
	due   model.Instant
	ord   uint64
	at    model.Instant
	msgID string
	body  wire.LabelState
}

type reportHeap []report

func (h reportHeap) Len() int { return len(h) }
func (h reportHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].ord < h[j].ord
}
func (h reportHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *reportHeap) Push(x any)   { *h = append(*h, x.(report)) }
func (h *reportHeap) Pop() any {
	o := *h
	x := o[len(o)-1]
	*h = o[:len(o)-1]
	return x
}

// coreCheck is a core decision to check against production once the
// tolerance has passed on both sides.
type coreCheck struct {
	due     model.Instant
	ord     uint64
	label   model.LabelID
	reroute bool
	idx     int
}

type decisionHeap []coreCheck

func (h decisionHeap) Len() int { return len(h) }
func (h decisionHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].ord < h[j].ord
}
func (h decisionHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *decisionHeap) Push(x any)   { *h = append(*h, x.(coreCheck)) }
func (h *decisionHeap) Pop() any {
	o := *h
	x := o[len(o)-1]
	*h = o[:len(o)-1]
	return x
}

// decision is a core decision and whether a production report matched it.
type decision struct {
	at      model.Instant
	to      model.NodeIndex // reroute target
	amount  uint64          // refund, minor units
	matched bool
}

// cmpLabel is what the comparer keeps per label: which chain entries a
// production report matched, and the core's reroutes and refunds.
type cmpLabel struct {
	matched  []bool
	reroutes []decision
	refunds  []decision
	rewards  []decision // touch.go
}

// Comparer is the twin's third stage: it compares production's label_state
// reports with the core's provenance chains, once the clock has passed a
// report's instant plus the Tolerance, and checks that production reported
// each reroute and refund the core decided (after twice the tolerance); a
// locker's slot report is checked against where the core holds the label.
// Every disagreement is a Divergence. It reads the core through a CoreView
// and is fed by the driver as its Observer. It is not safe for concurrent
// use (Twin serialises it).
type Comparer struct {
	cfg    CompareConfig
	core   CoreView
	log    *slog.Logger
	m      *Metrics
	labels map[model.LabelID]*cmpLabel
	// pending reports and core checks, due in order; ord breaks ties in the
	// order they were queued
	pending reportHeap
	checks  decisionHeap
	ord     uint64
	divs    []Divergence
	counts  map[string]uint64
}

// NewComparer returns a comparer reading the core through core.
func NewComparer(cfg CompareConfig, core CoreView) *Comparer {
	cfg = cfg.withDefaults()
	return &Comparer{cfg: cfg, core: core, log: logger(cfg.Logger), m: cfg.Metrics, labels: map[model.LabelID]*cmpLabel{},
		counts: map[string]uint64{}}
}

func (c *Comparer) rec(id model.LabelID) *cmpLabel {
	cl := c.labels[id]
	if cl == nil {
		cl = &cmpLabel{}
		c.labels[id] = cl
	}
	return cl
}

// Decided records a reroute or refund the core decided, to be checked
// against production's reports twice the tolerance later.
func (c *Comparer) Decided(id model.LabelID, d Decision) {
	cl := c.rec(id)
	if d.Reward {
		cl.rewards = append(cl.rewards, decision{at: d.At, amount: d.Amount})
		return
	}
	idx := 0
	if d.Refund {
		cl.refunds = append(cl.refunds, decision{at: d.At, amount: d.Amount})
		idx = len(cl.refunds) - 1
	} else {
		cl.reroutes = append(cl.reroutes, decision{at: d.At, to: d.To})
		idx = len(cl.reroutes) - 1
	}
	c.ord++
	heap.Push(&c.checks, coreCheck{due: d.At.Add(2 * c.cfg.Tolerance), ord: c.ord, label: id, reroute: !d.Refund, idx: idx})
}

// Reported queues production's label-state report until the clock has
// passed its instant plus the tolerance.
func (c *Comparer) Reported(msgID string, b wire.LabelState, at model.Instant) {
	c.ord++
	heap.Push(&c.pending, report{due: at.Add(c.cfg.Tolerance), ord: c.ord, at: at, msgID: msgID, body: b})
}

// Forget drops what the comparer keeps of a label the driver released.
func (c *Comparer) Forget(id model.LabelID) { delete(c.labels, id) }

// SlotOccupied checks a locker's report that it holds label id: the core
// must hold it ready for pickup there (after the arrival, when the driver
// just applied it).
func (c *Comparer) SlotOccupied(id model.LabelID, locker model.NodeIndex, at model.Instant, arrived bool) {
	l, name, msgs := c.core.CoreLabel(id)
	if l == nil || (l.State == model.ReadyForPickup && l.At == locker) {
		return
	}
	node := c.core.NodeName(locker)
	d := Divergence{Label: name, Kind: KindSlotMismatch, Node: node, Production: "occupied:" + node, ProductionAt: at, Messages: msgs}
	if arrived {
		d.Core, d.CoreAt = l.State.String(), at
	} else {
		d.Core, d.CoreAt = c.where(l), lastAt(l)
	}
	c.diverge(d)
}

func (c *Comparer) where(l *model.Label) string {
	if l.State == model.ReadyForPickup {
		return "ready_for_pickup:" + c.core.NodeName(l.At)
	}
	return l.State.String()
}

// Settle settles the comparisons that are due at clock (all of them when
// final).
func (c *Comparer) Settle(clock model.Instant, final bool) {
	for len(c.pending) > 0 && (final || c.pending[0].due <= clock) {
		r := heap.Pop(&c.pending).(report)
		c.compare(r)
	}
	for len(c.checks) > 0 && (final || c.checks[0].due <= clock) {
		k := heap.Pop(&c.checks).(coreCheck)
		cl := c.labels[k.label]
		l, name, msgs := c.core.CoreLabel(k.label)
		if cl == nil || l == nil {
			continue
		}
		if k.reroute {
			d := cl.reroutes[k.idx]
			if !d.matched {
				to := c.core.NodeName(d.to)
				c.diverge(Divergence{Label: name, Kind: KindRerouteMissing, Node: to, Production: "no_reroute",
					Core: "rerouting:" + to, CoreAt: d.at, Messages: msgs})
			}
		} else {
			d := cl.refunds[k.idx]
			if !d.matched {
				c.diverge(Divergence{Label: name, Kind: KindRefundMissing, Production: "no_refund",
					Core: "refund:" + strconv.FormatUint(d.amount, 10), CoreAt: d.at, Messages: msgs})
			}
		}
	}
}

func within(a, b model.Instant, tol model.Duration) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return model.Duration(d) <= tol
}

func (c *Comparer) compare(r report) {
	b := r.body
	id, known := c.core.LabelID(b.LabelID)
	var l *model.Label
	var name string
	var lmsgs []string
	if known {
		l, name, lmsgs = c.core.CoreLabel(id)
	}
	if l == nil {
		c.diverge(Divergence{Label: b.LabelID, Kind: KindUnknownLabel, Node: b.Node, Production: string(b.State), Core: "none",
			ProductionAt: r.at, Messages: []string{r.msgID}})
		return
	}
	cl := c.rec(id)
	msgs := append(append([]string(nil), lmsgs...), r.msgID)
	tol := c.cfg.Tolerance
	if len(cl.matched) < len(l.Chain) {
		cl.matched = append(cl.matched, make([]bool, len(l.Chain)-len(cl.matched))...)
	}
	want, _ := model.ParseState(string(b.State))
	// 1. the core's transition to the same state within the tolerance
	match := -1
	for i, e := range l.Chain {
		if !cl.matched[i] && e.State == want && within(e.At, r.at, tol) {
			match = i
			break
		}
	}
	if match >= 0 {
		cl.matched[match] = true
		e := l.Chain[match]
		if node := c.core.NodeName(e.Node); node != b.Node {
			c.diverge(Divergence{Label: name, Kind: KindNodeMismatch, Node: b.Node, Production: string(b.State) + "@" + b.Node,
				Core: e.State.String() + "@" + node, ProductionAt: r.at, CoreAt: e.At, Messages: msgs})
		}
		if want == model.PickedUp {
			c.compareReward(cl, name, b, r.at, e.At, msgs)
		}
		if want == model.Rerouting {
			for k := range cl.reroutes {
				d := &cl.reroutes[k]
				if !d.matched && d.at == e.At {
					d.matched = true
					if to := c.core.NodeName(d.to); to != b.RerouteTo {
						c.diverge(Divergence{Label: name, Kind: KindRerouteTarget, Node: b.Node, Production: b.RerouteTo, Core: to,
							ProductionAt: r.at, CoreAt: d.at, Messages: msgs})
					}
					break
				}
			}
		}
	} else {
		// 2. a report that repeats the state the core holds (e.g. a refund
		// without a state change)
		cur, curAt := stateAt(l, r.at.Add(tol))
		if cur != want {
			kind := KindStateMismatch
			if want == model.Rerouting {
				kind = KindRerouteUnexpected
			}
			c.diverge(Divergence{Label: name, Kind: kind, Node: b.Node, Production: string(b.State), Core: cur.String(),
				ProductionAt: r.at, CoreAt: curAt, Messages: msgs})
		}
	}
	if b.Refund != nil {
		found := false
		for k := range cl.refunds {
			d := &cl.refunds[k]
			if !d.matched && within(d.at, r.at, tol) {
				d.matched, found = true, true
				if d.amount != b.Refund.Amount {
					c.diverge(Divergence{Label: name, Kind: KindRefundAmount, Node: b.Node, Production: strconv.FormatUint(b.Refund.Amount, 10),
						Core: strconv.FormatUint(d.amount, 10), ProductionAt: r.at, CoreAt: d.at, Messages: msgs})
				}
				break
			}
		}
		if !found {
			c.diverge(Divergence{Label: name, Kind: KindRefundUnexpected, Node: b.Node, Production: "refund:" + strconv.FormatUint(b.Refund.Amount, 10),
				Core: "no_refund", ProductionAt: r.at, Messages: msgs})
		}
	}
}

// stateAt is the label's state as of instant at, from its provenance chain.
func stateAt(l *model.Label, at model.Instant) (model.State, model.Instant) {
	s, when := model.None, model.Instant(0)
	for _, e := range l.Chain {
		if e.At > at {
			break
		}
		s, when = e.State, e.At
	}
	return s, when
}

func (c *Comparer) diverge(d Divergence) {
	d.Messages = append([]string(nil), d.Messages...)
	c.divs = append(c.divs, d)
	c.counts[d.Kind]++
	if c.m != nil {
		c.m.diverged(d.Kind)
	}
	c.log.Info("divergence", "label", d.Label, "kind", d.Kind, "production", d.Production, "core", d.Core)
}

// Counts returns the number of divergences so far, by kind.
func (c *Comparer) Counts() map[string]uint64 { return copyMap(c.counts) }

// Filter selects divergences.
type Filter struct {
	Kind, Node   string
	Since, Until model.Instant // 0: open
}

// Divergences returns the divergences so far matching f, sorted.
func (c *Comparer) Divergences(f Filter) []Divergence {
	out := make([]Divergence, 0, len(c.divs))
	for _, d := range c.divs {
		if (f.Kind != "" && d.Kind != f.Kind) || (f.Node != "" && d.Node != f.Node) {
			continue
		}
		if at := d.at(); (f.Since != 0 && at < f.Since) || (f.Until != 0 && at >= f.Until) {
			continue
		}
		out = append(out, d)
	}
	SortDivergences(out)
	return out
}
