package sim

import (
	"fmt"
	"math"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// Node operators, pickup friction with censoring, and operator bonuses.
//
// Every node has an operator (a locker network, a partner storefront's
// owner); Operators.Of names it, by default the node's own id. Each stay of
// a measured parcel at a node, from its ready-for-pickup notification there
// until it leaves, is a friction episode: collected (verified pickup: an
// event at its duration) or not (rerouted or returned after the TTL, or
// still waiting when the run stopped: right-censored at that moment, never
// dropped). Per node and per operator the run reports the Kaplan–Meier
// median and 90th percentile of the friction, and the share of stays that
// ended in a pickup. With a bonus rule the operator earns PerCollected for
// every parcel collected among a period's stays (by the day the parcel was
// made ready, or the whole measured window) when its Kaplan–Meier median
// friction over that period's stays is below the target; the cost is
// CostBreakdown.Bonuses, part of Total (so of FCPO), and each node's share
// (its collected parcels of a paid period) is in its Cost.

// BonusPeriod is the span a bonus rule is evaluated over.
type BonusPeriod uint8

// Bonus periods.
const (
	BonusDaily  BonusPeriod = iota // each local day, by the day parcels were made ready
	BonusWindow                    // the whole measured window at once
)

// Operators names the nodes' operators and the bonus rule.
type Operators struct {
	// Of is each node's operator, indexed like Network.Nodes (nil, or ""
	// for a node: the node's id).
	Of []string
	// Bonus, if set, pays operators for collected parcels in periods of
	// low friction.
	Bonus *BonusRule
}

// BonusRule pays PerCollected per parcel collected at an operator's nodes,
// over each Period in which the operator's Kaplan–Meier median friction is
// below FrictionP50Below (strictly; a median not reached, with more than
// half of the stays uncollected, never qualifies).
type BonusRule struct {
	PerCollected     float64
	FrictionP50Below model.Duration
	Period           BonusPeriod
}

func (o *Operators) validate(name string, nodes int) error {
	if o.Of != nil && len(o.Of) != nodes {
		return fmt.Errorf("config %q: operators: %d names for %d nodes", name, len(o.Of), nodes)
	}
	if b := o.Bonus; b != nil {
		if !(b.PerCollected > 0) || math.IsInf(b.PerCollected, 0) || b.FrictionP50Below <= 0 || b.Period > BonusWindow {
			return fmt.Errorf("config %q: bonus rule: need per_collected > 0, a friction target > 0 and a known period", name)
		}
	}
	return nil
}

// PickupResult is one node's or operator's pickup friction and success
// over the cohort's stays.
type PickupResult struct {
	Ready     uint64 // stays: parcels made ready for pickup (once per node they were ready at)
	Collected uint64 // stays that ended in a verified pickup
	// FrictionP50 and FrictionP90 are Kaplan–Meier quantiles of the minutes
	// from the ready notification to the verified pickup, stays not
	// collected censored; +Inf when not reached (too few collected).
	FrictionP50, FrictionP90 float64
}

// SuccessShare is Collected / Ready (NaN without stays).
func (p PickupResult) SuccessShare() float64 {
	if p.Ready == 0 {
		return math.NaN()
	}
	return float64(p.Collected) / float64(p.Ready)
}

// OperatorResult is one operator's share of a replication.
type OperatorResult struct {
	Name  string
	Nodes []model.NodeIndex
	PickupResult
	// Periods counts the bonus periods with stays at the operator's nodes,
	// PaidPeriods those in which the rule held; Bonus is what it earned.
	Periods, PaidPeriods int
	Bonus                float64
}

// episode is one stay of a measured parcel at a node (the bonus rule's
// view of it).
type episode struct {
	start     model.Instant
	dur       model.Duration
	collected bool
}

// opState holds the cohort's stays: per node, counted by duration in
// stayHist bins (always; memory per node, not per parcel), and, only with a
// bonus rule, each stay with its start (the rule's periods need them).
type opState struct {
	hist []*stayHist // per node, nil until its first stay
	eps  [][]episode // per node, with a bonus rule only
}

// opEnd records a stay that ended at a node (cohortState: a measured
// label left ready for pickup).
func (w *world) opEnd(node model.NodeIndex, start, end model.Instant, collected bool) {
	o := &w.ops
	if o.hist == nil {
		o.hist = make([]*stayHist, len(w.net.Nodes))
		if w.cfg.Operators.Bonus != nil {
			o.eps = make([][]episode, len(w.net.Nodes))
		}
	}
	w.logHist(histOp{kind: histStay, idx: int32(node), d: end.Sub(start), collected: collected}) // histlog.go
	if o.eps != nil {
		o.eps[node] = append(o.eps[node], episode{start: start, dur: end.Sub(start), collected: collected})
	}
}

// stayAdd counts a stay in node's histogram (flushHists).
func (w *world) stayAdd(node model.NodeIndex, d model.Duration, collected bool) {
	o := &w.ops
	h := o.hist[node]
	if h == nil {
		h = new(stayHist)
		o.hist[node] = h
	}
	h.add(d, collected)
}

// operatorsFinish censors the stays still open when the run stopped, fills
// the per-node and per-operator results and pays the bonuses (into the
// nodes' costs and Costs.Bonuses). Call it after the drain, before node
// FCPO and the total are computed.
func (w *world) operatorsFinish() {
	r := w.res
	now := w.k.Now
	w.core.EachLabel(func(l *model.Label) {
		if l.Measured && l.State == model.ReadyForPickup {
			w.opEnd(l.At, w.labs[l.Slab()].mark, now, false)
		}
	})
	w.flushHists() // histlog.go
	n := len(w.net.Nodes)
	o := &w.ops
	rule := w.cfg.Operators.Bonus
	hist := o.hist
	if hist == nil {
		hist = make([]*stayHist, n)
	}
	r.Pickup = make([]PickupResult, n)
	for i := range r.Pickup {
		r.Pickup[i] = hist[i].result()
	}
	names, of := operatorNames(w.net, w.cfg.Operators.Of)
	r.Operators = make([]OperatorResult, len(names))
	for k, name := range names {
		r.Operators[k] = OperatorResult{Name: name}
	}
	for i, k := range of {
		if k >= 0 {
			r.Operators[k].Nodes = append(r.Operators[k].Nodes, model.NodeIndex(i))
		}
	}
	for k := range r.Operators {
		op := &r.Operators[k]
		if len(op.Nodes) == 1 {
			op.PickupResult = r.Pickup[op.Nodes[0]]
		} else {
			var pooled stayHist
			for _, i := range op.Nodes {
				if hist[i] != nil {
					pooled.merge(hist[i])
				}
			}
			op.PickupResult = pooled.result()
		}
		if rule == nil {
			continue
		}
		sets := make([][]episode, len(op.Nodes))
		for j, i := range op.Nodes {
			if o.eps != nil {
				sets[j] = o.eps[i]
			}
		}
		var pay []float64
		pay, op.Periods, op.PaidPeriods = evalBonus(rule, sets)
		for j, i := range op.Nodes {
			op.Bonus += pay[j]
			r.Nodes[i].Cost += pay[j]
		}
		r.Costs.Bonuses += op.Bonus
	}
}

// evalBonus applies rule to one operator's stays (sets: one per node) and
// returns what each node earns, the periods with stays and the periods
// paid.
func evalBonus(rule *BonusRule, sets [][]episode) (pay []float64, periods, paid int) {
	pay = make([]float64, len(sets))
	for _, p := range bonusPeriods(sets, rule.Period) {
		periods++
		keep := func(e *episode) bool { return rule.Period == BonusWindow || model.DayStart(e.start) == p }
		if pr := pickupOf(sets, keep); !(pr.FrictionP50 < rule.FrictionP50Below.Minutes()) { // +Inf: not reached
			continue
		}
		paid++
		for j, s := range sets {
			var c uint64
			for e := range s {
				if s[e].collected && keep(&s[e]) {
					c++
				}
			}
			pay[j] += float64(c) * rule.PerCollected
		}
	}
	return pay, periods, paid
}

// operatorNames lists the operators of the nodes that hold parcels for
// pickup (a microstore that only fulfils is nobody's pickup point), sorted,
// and each node's index in the list (of[i] for node i; -1 for a node that
// holds no parcels).
func operatorNames(net *model.Network, names []string) ([]string, []int) {
	op := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return net.Nodes[i].ID
	}
	seen := map[string]bool{}
	var out []string
	for i := range net.Nodes {
		if !net.Nodes[i].Holds() {
			continue
		}
		if s := op(i); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	idx := make(map[string]int, len(out))
	for k, s := range out {
		idx[s] = k
	}
	of := make([]int, len(net.Nodes))
	for i := range of {
		of[i] = -1
		if net.Nodes[i].Holds() {
			of[i] = idx[op(i)]
		}
	}
	return out, of
}

// bonusPeriods lists the periods (local day starts, sorted; one for
// BonusWindow) with stays in sets.
func bonusPeriods(sets [][]episode, p BonusPeriod) []model.Instant {
	days := map[model.Instant]bool{}
	for _, s := range sets {
		for _, e := range s {
			if p == BonusWindow {
				return []model.Instant{0}
			}
			days[model.DayStart(e.start)] = true
		}
	}
	out := make([]model.Instant, 0, len(days))
	for d := range days {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// pickupOf pools the stays of sets that keep accepts (nil: all), binned as
// a node's stays are (stayHist), so a rule judges the same estimate the
// results report.
func pickupOf(sets [][]episode, keep func(*episode) bool) PickupResult {
	var h stayHist
	for _, s := range sets {
		for e := range s {
			if keep == nil || keep(&s[e]) {
				h.add(s[e].dur, s[e].collected)
			}
		}
	}
	return h.result()
}

// kmEps absorbs rounding in the product of survival factors when it lands
// exactly on a quantile's level.
const kmEps = 1e-12

// Survival is a Kaplan–Meier survival curve: S[j] is the estimated
// probability of surviving (here: not yet collected) past T[j], the
// distinct event times in increasing order.
type Survival struct {
	T, S []float64
}

// KaplanMeier estimates the survival function from times and whether each
// was observed (an event) or right-censored. At a time with both, events
// count first and the censored are still at risk (the usual convention):
// S(t) = Π over event times t_j <= t of (1 - d_j / n_j), with d_j events at
// t_j and n_j subjects whose time is >= t_j.
func KaplanMeier(times []float64, observed []bool) Survival {
	idx := make([]int, len(times))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	var sv Survival
	s := 1.0
	atRisk := len(times)
	for k := 0; k < len(idx); {
		t := times[idx[k]]
		d, c := 0, 0
		for ; k < len(idx) && times[idx[k]] == t; k++ {
			if observed[idx[k]] {
				d++
			} else {
				c++
			}
		}
		if d > 0 {
			s *= 1 - float64(d)/float64(atRisk)
			sv.T = append(sv.T, t)
			sv.S = append(sv.S, s)
		}
		atRisk -= d + c
	}
	return sv
}

// Quantile is the smallest event time t with S(t) <= 1 - q (the q-quantile
// of the time to event), +Inf when the curve never gets that low (the
// quantile lies beyond every observed time).
func (sv Survival) Quantile(q float64) float64 {
	for j, s := range sv.S {
		if s <= 1-q+kmEps {
			return sv.T[j]
		}
	}
	return math.Inf(1)
}
