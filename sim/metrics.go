package sim

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// Metrics that mean what they say (issue 15): refunds split into a
// fulfilment cost (late refunds of orders the customer collected) and lost
// revenue (every refund of an order that never reached its customer), the
// revenue of local inventory (collected orders and counter sales) over the
// cached floor area in use, and the results by microstore (fulfilling node)
// and by neighborhood.
//
// Vocabulary: an order is *ready* when it is first made ready for pickup at
// a node (locker slot or partner counter), *collected* when its customer
// picks it up (the label state picked_up).

// MicrostoreResult is what the pickup nodes a microstore serves did: the
// microstore itself and every node whose nearest microstore it is (the
// nodes whose orders it fulfils, sim/world.go fulfilFrom). Cost sums those
// nodes' NodeResult.Cost; Collected their collected orders.
type MicrostoreResult struct {
	ID        string
	Node      model.NodeIndex
	Nodes     []string // the pickup nodes it serves, itself included
	Orders    uint64   // orders whose customer chose one of those nodes
	Collected uint64
	Cost      float64
	// FCPO is Cost / Collected (0 when nothing was collected).
	FCPO float64
	// Revenue is the collected orders' prices and the counter sales at
	// those nodes; M2Days the cached floor area in use there (m² × active
	// days in the window); RSMI = Revenue / M2Days (0 without cached area).
	Revenue, M2Days, RSMI float64
	LostRevenue           float64
}

// HoodResult is one neighborhood's cohort: the orders its customers placed
// in the measured window.
type HoodResult struct {
	Name                         string
	Orders, Collected, WithinSLA uint64
	// Friction is the minutes from the first ready notification to the
	// verified pickup of its collected orders.
	Friction MinuteHist
	// Cost is its share of the nodes' costs: each pickup node's cost is
	// shared among the neighborhoods in proportion to the orders their
	// customers sent to it; a node no customer chose (a microstore that is
	// only a fulfilling node) shares its cost among the orders of the
	// nodes its microstore serves. FCPO = Cost / Collected.
	Cost, FCPO  float64
	LostRevenue float64
}

// metricsState is the world's bookkeeping for the results above.
type metricsState struct {
	hoods []HoodResult
	// hoodNode: per neighborhood, the measured orders sent to each node,
	// sparse (a neighborhood's customers use a handful of nodes; a dense
	// [hood][node] table is 224 MB at 5 000 neighborhoods x 5 600 nodes)
	hoodNode []nodeCounts
	// late: refunds of collected orders (a cost); lost: refunds of orders
	// cancelled or returned (lost revenue)
	late, lost float64
	// counterOK is cleared by a stockout while a counter sale is stepped
	counterOK bool
	// placing is the neighborhood of the order being placed (-1: none): a
	// label that finishes within its placement has no world label yet.
	placing int16
	// friction per neighborhood, in the core's one-minute bins, paged
	// (a full model.Histogram per neighborhood would cost 160 kB each)
	friction []MinuteHist
	// lateRef holds the late-SLA refunds of measured labels not finished
	// yet (only late labels have one: nothing per on-time label).
	lateRef map[model.LabelID]float64
}

func (w *world) metricsInit() {
	m := &w.mx
	m.placing = -1
	w.hl = make([]histOp, 0, histLogLen) // histlog.go
	m.lateRef = map[model.LabelID]float64{}
	m.hoods = make([]HoodResult, len(w.cfg.Neighborhoods))
	m.friction = make([]MinuteHist, len(w.cfg.Neighborhoods))
	m.hoodNode = make([]nodeCounts, len(w.cfg.Neighborhoods))
	for i := range m.hoods {
		m.hoods[i].Name = w.cfg.Neighborhoods[i].Name
	}
}

// metricsOrder records a measured order of neighborhood hi sent to dest.
func (w *world) metricsOrder(hi int, dest model.NodeIndex) {
	w.mx.hoods[hi].Orders++
	w.mx.hoodNode[hi].add(dest)
}

// nodeCounts counts per node, sparse: the nodes seen, in first-seen order
// until sorted, with a map index once there are many.
type nodeCounts struct {
	node []model.NodeIndex
	n    []uint64
	idx  map[model.NodeIndex]int32 // nil while len(node) <= nodeCountsScan
}

// nodeCountsScan is the number of nodes nodeCounts searches linearly: a
// neighborhood's orders go to the pickup nodes within the choice radius and
// their reroute targets, some 20–30 nodes in the bench cities, where a scan
// of 4-byte node indexes is cheaper than a map (map access was 4 % of
// locker-region's profile at 16).
const nodeCountsScan = 64

func (c *nodeCounts) add(j model.NodeIndex) {
	if c.idx != nil {
		if k, ok := c.idx[j]; ok {
			c.n[k]++
			return
		}
	} else {
		for k, x := range c.node {
			if x == j {
				c.n[k]++
				return
			}
		}
	}
	c.node = append(c.node, j)
	c.n = append(c.n, 1)
	if c.idx != nil {
		c.idx[j] = int32(len(c.node) - 1)
	} else if len(c.node) > nodeCountsScan {
		c.idx = make(map[model.NodeIndex]int32, 2*len(c.node))
		for k, x := range c.node {
			c.idx[x] = int32(k)
		}
	}
}

// sorted orders the counts by node index (add must not be called after),
// in place: it runs for every neighborhood at the end of a run, beside the
// whole world.
func (c *nodeCounts) sorted() {
	c.idx = nil
	sort.Sort(byNode{c})
}

// byNode sorts a nodeCounts' two slices together (the nodes are distinct).
type byNode struct{ c *nodeCounts }

func (b byNode) Len() int           { return len(b.c.node) }
func (b byNode) Less(i, j int) bool { return b.c.node[i] < b.c.node[j] }
func (b byNode) Swap(i, j int) {
	b.c.node[i], b.c.node[j] = b.c.node[j], b.c.node[i]
	b.c.n[i], b.c.n[j] = b.c.n[j], b.c.n[i]
}

// metricsFinished folds a measured label in a terminal state: where its
// refunds belong, and its neighborhood's outcome. node is where it was
// collected (PickedUp only).
func (w *world) metricsFinished(l *model.Label, node model.NodeIndex) {
	hood := w.mx.placing // cancelled as it was placed: no world label yet
	if hood < 0 {
		hood = w.labs[l.Slab()].hood
	}
	h := &w.mx.hoods[hood]
	var late float64 // the late-SLA refund paid for it, if any
	if l.Late {
		late = w.mx.lateRef[l.ID]
		delete(w.mx.lateRef, l.ID)
	}
	switch l.State {
	case model.PickedUp:
		h.Collected++
		wait := l.Chain[len(l.Chain)-1].At.Sub(l.ReadyAt)
		w.logHist(histOp{kind: histFriction, idx: int32(hood), v: wait.Minutes()}) // histlog.go
		if !l.Late && l.ReadyAt <= l.Due && wait <= w.net.Policy.PickupWindow {
			h.WithinSLA++
		}
		if late > 0 {
			w.mx.late += late
			w.accs[node].cost += late
		}
	default: // cancelled, returned: never reached the customer
		if late > 0 {
			w.mx.lost += late
			w.accs[l.Dest].lost += late
			h.LostRevenue += late
		}
	}
}

// refunded books a refund of a measured label: a refund of an order that
// will never reach its customer (cancelled, or returned before it was ever
// ready: any reason but none) is lost revenue at once; a late-SLA refund
// (reason none) waits for the label's end (metricsFinished).
func (w *world) refunded(e *model.Effect, wl *wlabel) {
	if e.Reason == model.ReasonNone {
		w.mx.lateRef[e.Label] += e.Amount
		return
	}
	w.mx.lost += e.Amount
	w.accs[e.Node].lost += e.Amount
	w.mx.hoods[wl.hood].LostRevenue += e.Amount
}

// counterSold books a counter sale's revenue at node n when the sale found
// stock (no stockout effect, not rejected: rej is the core's rejection count
// before it) in the measured window.
func (w *world) counterSold(n int, sku model.SKUIndex, rej uint64) {
	if w.mx.counterOK && w.core.Stats.RejectedTotal() == rej && w.k.Now >= w.res.WarmupEnd {
		w.accs[n].counterRev += w.net.SKUs[sku].Price
	}
}

// metricsRefunds runs once the node results exist, before their FCPO is
// computed: refunds of orders still unfinished when the run stopped
// (censored) stay a cost (their outcome is unknown), at the node they were
// headed for.
func (w *world) metricsRefunds() {
	r := w.res
	w.core.EachLabel(func(l *model.Label) {
		if !l.Measured || !l.Late || l.State.Terminal() {
			return
		}
		if a := w.mx.lateRef[l.ID]; a > 0 {
			w.mx.late += a
			r.Nodes[l.Dest].Cost += a
		}
	})
	r.Costs.LateRefunds = w.mx.late
	r.LostRevenue = w.mx.lost
}

// metricsResults runs once the node costs are final: revenue, cached area
// and RSMI of the nodes and the run, microstores and neighborhoods.
func (w *world) metricsResults() {
	r := w.res
	for i := range r.Nodes {
		nd := &w.net.Nodes[i]
		nr := &r.Nodes[i]
		nr.LostRevenue = w.accs[i].lost
		nr.CounterRevenue = w.accs[i].counterRev
		nr.Revenue = w.accs[i].revenue + nr.CounterRevenue
		r.CounterRevenue += nr.CounterRevenue
		if len(nd.Cache) > 0 {
			nr.M2Days = nd.FloorArea * w.activeDays(nd, r.WarmupEnd, r.End)
		}
		if nr.M2Days > 0 {
			nr.RSMI = nr.Revenue / nr.M2Days
		}
		r.M2Days += nr.M2Days
	}
	if r.M2Days > 0 {
		r.RSMI = (r.Revenue + r.CounterRevenue) / r.M2Days
	}
	w.microstoreResults()
	w.hoodResults()
}

func (w *world) microstoreResults() {
	r := w.res
	idx := make([]int, len(w.net.Nodes)) // node -> microstore result, -1 none
	for i := range idx {
		idx[i] = -1
	}
	for i := range w.net.Nodes {
		if w.net.Nodes[i].Kind == model.Microstore && w.fulfil[i] == model.NodeIndex(i) {
			idx[i] = len(r.Microstores)
			r.Microstores = append(r.Microstores, MicrostoreResult{ID: w.net.Nodes[i].ID, Node: model.NodeIndex(i)})
		}
	}
	for i := range r.Nodes {
		f := w.fulfil[i]
		if f == model.NoNode || idx[f] < 0 {
			continue
		}
		m := &r.Microstores[idx[f]]
		n := &r.Nodes[i]
		m.Nodes = append(m.Nodes, n.ID)
		m.Orders += n.Orders
		m.Collected += n.PickedUp
		m.Cost += n.Cost
		m.Revenue += n.Revenue
		m.M2Days += n.M2Days
		m.LostRevenue += n.LostRevenue
	}
	for i := range r.Microstores {
		m := &r.Microstores[i]
		if m.Collected > 0 {
			m.FCPO = m.Cost / float64(m.Collected)
		}
		if m.M2Days > 0 {
			m.RSMI = m.Revenue / m.M2Days
		}
	}
}

// hoodResults shares the node costs among the neighborhoods. Each
// neighborhood's cost is the sum, in node order, of one term per node: its
// share of the node's orders, else (a node no customer chose) its share of
// the orders of the node's group (the nodes its fulfilling node serves), else
// its share of all orders. A term is c * k / K with k a count of the
// neighborhood's orders; it is summed only where k > 0 (or the cost c is not
// finite): any other term is a zero, and adding a zero changes no sum that
// is not -0 (a sum of terms starting at +0 is never -0). So the sums are the
// dense loop's to the bit, at a cost of the nodes each neighborhood touches
// instead of neighborhoods x nodes. The counts are summed as integers: their
// float64 sums were exact (below 2^53).
func (w *world) hoodResults() {
	r := w.res
	m := &w.mx
	n := len(r.Nodes)
	// orders per node, and per fulfilling node's group of pickup nodes
	orders := make([]uint64, n)
	group := map[model.NodeIndex]uint64{}
	var all uint64
	for h := range m.hoodNode {
		hn := &m.hoodNode[h]
		hn.sorted()
		for k, i := range hn.node {
			o := hn.n[k]
			orders[i] += o
			group[w.fulfil[i]] += o
			all += o
		}
	}
	// the nodes whose term is not a count of orders sent to them: per
	// group, the nodes no customer chose in a group some did (share of the
	// group); the nodes in groups none did (share of all); and the nodes
	// whose cost is not finite (their zero terms are NaN)
	byGroup := map[model.NodeIndex][]model.NodeIndex{}
	var rest, odd []model.NodeIndex
	for i := range r.Nodes {
		c := r.Nodes[i].Cost
		if math.IsNaN(c) || math.IsInf(c, 0) {
			odd = append(odd, model.NodeIndex(i))
		}
		if orders[i] > 0 {
			continue
		}
		if g := w.fulfil[i]; group[g] > 0 {
			byGroup[g] = append(byGroup[g], model.NodeIndex(i))
		} else if all > 0 {
			rest = append(rest, model.NodeIndex(i))
		}
	}
	var terms []model.NodeIndex // scratch: the nodes of one neighborhood's nonzero terms
	for h := range m.hoods {
		hr := &m.hoods[h]
		hr.Friction, m.friction[h] = m.friction[h], MinuteHist{} // moved, not copied into dense bins
		hn := &m.hoodNode[h]
		hgroup := map[model.NodeIndex]uint64{}
		var hall uint64
		for k, i := range hn.node {
			hgroup[w.fulfil[i]] += hn.n[k]
			hall += hn.n[k]
		}
		terms = append(terms[:0], hn.node...)
		for g := range hgroup {
			terms = append(terms, byGroup[g]...)
		}
		if hall > 0 {
			terms = append(terms, rest...)
		}
		terms = append(terms, odd...)
		slices.Sort(terms)
		terms = slices.Compact(terms)
		k := 0 // hn.node[k] is the next node with orders from h
		for _, i := range terms {
			var ho uint64
			for k < len(hn.node) && hn.node[k] < i {
				k++
			}
			if k < len(hn.node) && hn.node[k] == i {
				ho = hn.n[k]
			}
			c := r.Nodes[i].Cost
			switch g := w.fulfil[i]; {
			case orders[i] > 0:
				hr.Cost += c * float64(ho) / float64(orders[i])
			case group[g] > 0:
				hr.Cost += c * float64(hgroup[g]) / float64(group[g])
			case all > 0:
				hr.Cost += c * float64(hall) / float64(all)
			}
		}
		if hr.Collected > 0 {
			hr.FCPO = hr.Cost / float64(hr.Collected)
		}
	}
	r.Hoods = m.hoods
}

// MinuteHist is a distribution of minutes in one-minute bins, as
// model.Histogram keeps it (values above model.HistogramBins count in the
// last bin), with the counts one byte a bin in pages of 64 (binCounts): a
// neighborhood's waits fill a few pages, where a model.Histogram is 8 bytes
// a bin up to its highest (40 kB for a week's tail) and 160 kB in full.
// Its quantiles are model.Histogram's, to the bit (model.BinsQuantile).
type MinuteHist struct {
	bins binCounts
	top  int     // highest bin used + 1
	N    uint64  // values recorded
	Sum  float64 // their sum
}

func (h *MinuteHist) add(v float64) {
	b := int(v)
	if v < 0 || math.IsNaN(v) {
		b = 0
	}
	b = min(b, model.HistogramBins)
	h.bins.inc(b)
	h.top = max(h.top, b+1)
	h.N++
	h.Sum += v
}

// Quantile returns the q-quantile (0..1), interpolated within its bin, as
// model.Histogram.Quantile does.
func (h *MinuteHist) Quantile(q float64) float64 {
	return model.BinsQuantile(h.N, q, h.top, func(yield func(int, uint64) bool) {
		for pi, pg := range h.bins.bins.pages {
			for k := 0; pg != nil && k < binPage; k++ {
				if i := pi<<binPageBits | k; i < h.top && !yield(i, h.bins.get(i)) {
					return
				}
			}
		}
	})
}

// Histogram is h as a model.Histogram (bins up to the highest used).
func (h *MinuteHist) Histogram() model.Histogram {
	var counts []uint64
	if h.top > 0 {
		counts = make([]uint64, h.top)
		h.bins.each(func(b int, c uint64) {
			if b < h.top {
				counts[b] = c
			}
		})
	}
	return model.Histogram{Counts: counts, N: h.N, Sum: h.Sum}
}

// refundsBooked checks that the late-refund cost and the lost revenue add up
// to the money the core refunded (up to rounding: they are summed in
// another order).
func (r *Result) refundsBooked() error {
	got, want := r.Costs.LateRefunds+r.LostRevenue, r.Stats.RefundAmount
	if math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
		return fmt.Errorf("replication %d: refunds %.6f booked as late-refund cost %.6f + lost revenue %.6f = %.6f",
			r.Replication, want, r.Costs.LateRefunds, r.LostRevenue, got)
	}
	return nil
}
