package twin

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"io"
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
)

// Kinds lists every divergence kind.
var Kinds = []string{KindStateMismatch, KindNodeMismatch, KindRerouteTarget, KindRerouteUnexpected, KindRerouteMissing,
	KindRefundMissing, KindRefundUnexpected, KindRefundAmount, KindSlotMismatch, KindUnknownLabel}

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

func (t *Twin) pushCore(id model.LabelID, reroute bool, idx int, at model.Instant) {
	t.timerOrd++
	heap.Push(&t.corePending, coreCheck{due: at.Add(2 * t.cfg.Tolerance), ord: t.timerOrd, label: id, reroute: reroute, idx: idx})
}

// report queues production's label-state report until the core's clock has
// passed its instant plus the tolerance.
func (t *Twin) report(env wire.Envelope, b wire.LabelState, at model.Instant) {
	if _, ok := t.labelIDs[b.LabelID]; !ok && t.owned != nil {
		t.ignore("foreign")
		return
	}
	t.timerOrd++
	heap.Push(&t.pending, report{due: at.Add(t.cfg.Tolerance), ord: t.timerOrd, at: at, msgID: env.MsgID, body: b})
}

// evaluate settles the comparisons that are due (all of them when final).
func (t *Twin) evaluate(final bool) {
	for len(t.pending) > 0 && (final || t.pending[0].due <= t.clock) {
		r := heap.Pop(&t.pending).(report)
		t.compare(r)
	}
	for len(t.corePending) > 0 && (final || t.corePending[0].due <= t.clock) {
		c := heap.Pop(&t.corePending).(coreCheck)
		lr := t.rec(c.label)
		l := t.core.Label(c.label)
		if lr == nil || l == nil {
			continue
		}
		if c.reroute {
			d := lr.reroutes[c.idx]
			if !d.matched {
				t.diverge(Divergence{Label: lr.name, Kind: KindRerouteMissing, Node: t.nodeName(d.to), Production: "no_reroute",
					Core: "rerouting:" + t.nodeName(d.to), CoreAt: d.at, Messages: lr.msgs})
			}
		} else {
			d := lr.refunds[c.idx]
			if !d.matched {
				t.diverge(Divergence{Label: lr.name, Kind: KindRefundMissing, Production: "no_refund",
					Core: "refund:" + strconv.FormatUint(d.amount, 10), CoreAt: d.at, Messages: lr.msgs})
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

func (t *Twin) compare(r report) {
	b := r.body
	id, lr := t.label(b.LabelID)
	if lr == nil {
		t.diverge(Divergence{Label: b.LabelID, Kind: KindUnknownLabel, Node: b.Node, Production: string(b.State), Core: "none",
			ProductionAt: r.at, Messages: []string{r.msgID}})
		return
	}
	l := t.core.Label(id)
	msgs := append(append([]string(nil), lr.msgs...), r.msgID)
	tol := t.cfg.Tolerance
	if len(lr.matched) < len(l.Chain) {
		lr.matched = append(lr.matched, make([]bool, len(l.Chain)-len(lr.matched))...)
	}
	want, _ := model.ParseState(string(b.State))
	// 1. the core's transition to the same state within the tolerance
	match := -1
	for i, e := range l.Chain {
		if !lr.matched[i] && e.State == want && within(e.At, r.at, tol) {
			match = i
			break
		}
	}
	if match >= 0 {
		lr.matched[match] = true
		e := l.Chain[match]
		if node := t.nodeName(e.Node); node != b.Node {
			t.diverge(Divergence{Label: lr.name, Kind: KindNodeMismatch, Node: b.Node, Production: string(b.State) + "@" + b.Node,
				Core: e.State.String() + "@" + node, ProductionAt: r.at, CoreAt: e.At, Messages: msgs})
		}
		if want == model.Rerouting {
			for k := range lr.reroutes {
				d := &lr.reroutes[k]
				if !d.matched && d.at == e.At {
					d.matched = true
					if to := t.nodeName(d.to); to != b.RerouteTo {
						t.diverge(Divergence{Label: lr.name, Kind: KindRerouteTarget, Node: b.Node, Production: b.RerouteTo, Core: to,
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
			t.diverge(Divergence{Label: lr.name, Kind: kind, Node: b.Node, Production: string(b.State), Core: cur.String(),
				ProductionAt: r.at, CoreAt: curAt, Messages: msgs})
		}
	}
	if b.Refund != nil {
		found := false
		for k := range lr.refunds {
			d := &lr.refunds[k]
			if !d.matched && within(d.at, r.at, tol) {
				d.matched, found = true, true
				if d.amount != b.Refund.Amount {
					t.diverge(Divergence{Label: lr.name, Kind: KindRefundAmount, Node: b.Node, Production: strconv.FormatUint(b.Refund.Amount, 10),
						Core: strconv.FormatUint(d.amount, 10), ProductionAt: r.at, CoreAt: d.at, Messages: msgs})
				}
				break
			}
		}
		if !found {
			t.diverge(Divergence{Label: lr.name, Kind: KindRefundUnexpected, Node: b.Node, Production: "refund:" + strconv.FormatUint(b.Refund.Amount, 10),
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

func (t *Twin) diverge(d Divergence) {
	d.Messages = append([]string(nil), d.Messages...)
	t.divs = append(t.divs, d)
	t.counters.Divergences[d.Kind]++
	if t.m != nil {
		t.m.diverged(d.Kind)
	}
	t.log.Info("divergence", "label", d.Label, "kind", d.Kind, "production", d.Production, "core", d.Core)
}

// Filter selects divergences.
type Filter struct {
	Kind, Node   string
	Since, Until model.Instant // 0: open
}

// Divergences returns the divergences so far matching f, sorted.
func (t *Twin) Divergences(f Filter) []Divergence {
	t.mu.Lock()
	out := make([]Divergence, 0, len(t.divs))
	for _, d := range t.divs {
		if (f.Kind != "" && d.Kind != f.Kind) || (f.Node != "" && d.Node != f.Node) {
			continue
		}
		if at := d.at(); (f.Since != 0 && at < f.Since) || (f.Until != 0 && at >= f.Until) {
			continue
		}
		out = append(out, d)
	}
	t.mu.Unlock()
	SortDivergences(out)
	return out
}

// WriteReport writes the divergences as sorted NDJSON, one per line: the
// same input gives the same bytes.
func (t *Twin) WriteReport(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, d := range t.Divergences(Filter{}) {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteStates writes every label's final state as sorted NDJSON.
func (t *Twin) WriteStates(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, v := range t.Labels() {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return bw.Flush()
}
