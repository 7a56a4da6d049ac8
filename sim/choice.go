package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// ChoiceModel is how a customer picks the pickup node of an order.
type ChoiceModel uint8

// Choice models. The zero value is ChoiceNearest, the rule of a Config built
// in Go before the choice model existed; scenarios default to ChoiceLogit.
const (
	// ChoiceNearest: the nearest pickup node (the customer's cell centre to
	// the node's cell centre, ties by id) open now, else the nearest active.
	ChoiceNearest ChoiceModel = iota
	// ChoiceLogit: a multinomial logit over the pickup nodes within
	// RadiusKm of the customer's cell centre.
	ChoiceLogit
)

// Choice is the customers' choice of pickup node.
//
// With ChoiceLogit a customer in cell c picks node j among the offered
// nodes (pickup nodes within RadiusKm, active and open now) with
// probability exp(V_cj) / sum_k exp(V_ck), where
//
//	V_cj = BetaPerKm * d(c, j) + KindUtility[kind j] + HomeBonus * [subscriber and j is the cell's home node]
//
// d(c, j) is the great-circle distance in km from the centre of c to the
// node's own lat/lng (not its cell's centre: two nodes in one cell differ).
// Lockers are the reference kind (their constant is usually 0). The home
// node of a cell's subscribers is drawn once per replication from the
// cell's non-subscriber choice probabilities over its permanent nodes
// (stream "choice/home"). A cell with no pickup node within RadiusKm is
// offered the nearest one.
//
// With CapacityAware, a node whose fitting slots (locker, pop-up) or counter
// space (partner) are all committed (occupied now plus parcels already sent
// its way and not yet arrived, by size class) is not offered: the customer's first choice is
// drawn over all offered nodes, and if it has no room the choice is redrawn
// among the nodes with room (by the same logit: the same uniform, rescaled).
// When no node has room the first choice stands.
type Choice struct {
	Model     ChoiceModel
	RadiusKm  float64
	BetaPerKm float64
	// KindUtility is the constant added per node kind, indexed by
	// model.NodeKind (microstores are never pickup nodes).
	KindUtility   [model.Microstore + 1]float64
	HomeBonus     float64
	CapacityAware bool
}

func (c *Choice) validate() error {
	if c.Model > ChoiceLogit {
		return fmt.Errorf("unknown choice model %d", c.Model)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if c.Model == ChoiceLogit && !(c.RadiusKm > 0 && finite(c.RadiusKm)) {
		return fmt.Errorf("choice: logit needs radius_km > 0 (got %v)", c.RadiusKm)
	}
	ok := finite(c.BetaPerKm) && finite(c.HomeBonus)
	for _, v := range c.KindUtility {
		ok = ok && finite(v)
	}
	if !ok {
		return fmt.Errorf("choice: utilities must be finite numbers")
	}
	return nil
}

// choiceCell is the logit's precomputed view of one demand cell.
type choiceCell struct {
	cand []model.NodeIndex // pickup nodes offered to the cell (within the radius)
	w    []float64         // exp(V) of a customer, per candidate
	wSub []float64         // exp(V) of a subscriber (home bonus included)
	home model.NodeIndex
	// static: every candidate is always offered (no opening hours, no
	// active window), so the checkout's cumulative weights are these,
	// summed once in the order the checkout sums them
	static        bool
	cumW, cumWSub []float64
}

// choiceState is the world's pickup-choice bookkeeping.
type choiceState struct {
	rng []stream // per neighborhood: "choice/<name>"
	// committed counts, per node and size class, the parcels sent to a
	// node with slots or a counter that have not arrived there yet
	// (capacity-aware only)
	committed [][model.NumSizes]int32
	limited   []bool    // nodes with slots or a counter
	cum       []float64 // checkout scratch: cumulative weights, per candidate
	// the pickup nodes in a grid (geogrid.go), by their cell's centre
	// (preferences) and by their own position (the logit); built with the
	// world (pickupGrids), nil when the grid does not suit the network
	grid, ownGrid *geoGrid
}

// choiceInit precomputes every demand cell's logit weights and draws the
// subscribers' home nodes.
func (w *world) choiceInit(st Streams) {
	cfg := &w.cfg.Customers.Choice
	ch := &w.ch
	n := len(w.net.Nodes)
	ch.committed = make([][model.NumSizes]int32, n)
	ch.limited = make([]bool, n)
	for i := range w.net.Nodes {
		ch.limited[i] = w.net.Nodes[i].Holds()
	}
	ch.rng = make([]stream, len(w.hoods))
	for i := range w.hoods {
		st.seat("choice/"+w.hoods[i].cfg.Name, &ch.rng[i])
	}
	if cfg.Model != ChoiceLogit {
		return
	}
	home := st.Rand("choice/home")
	for hi := range w.hoods {
		for ci := range w.hoods[hi].cells {
			c := &w.hoods[hi].cells[ci]
			c.choice = w.logitCell(c.cell)
			if n := len(c.choice.cand); n > len(ch.cum) {
				ch.cum = make([]float64, n)
			}
			c.choice.home = c.choice.drawHome(w.net, home)
			for k, j := range c.choice.cand {
				c.choice.wSub[k] = c.choice.w[k]
				if j == c.choice.home {
					c.choice.wSub[k] *= math.Exp(cfg.HomeBonus)
				}
			}
			c.choice.precompute(w.net)
		}
	}
}

// nodeLatLng is the node's own position (its cell's centre when a network
// built in Go gives none).
func (w *world) nodeLatLng(j int) (float64, float64) {
	nd := &w.net.Nodes[j]
	if nd.Lat == 0 && nd.Lng == 0 {
		return w.nodeLat[j], w.nodeLng[j]
	}
	return nd.Lat, nd.Lng
}

// pickupNode reports whether node i is a pickup node: it holds parcels and
// is not a microstore.
func (w *world) pickupNode(i int) bool {
	nd := &w.net.Nodes[i]
	return nd.Kind != model.Microstore && nd.Holds()
}

// pickupGrids builds the grids of the pickup nodes at their cell's centre
// and at their own position.
func (w *world) pickupGrids() {
	for _, own := range []bool{false, true} {
		var ids []int32
		var lat, lng []float64
		for i := range w.net.Nodes {
			if !w.pickupNode(i) {
				continue
			}
			a, b := w.nodeLat[i], w.nodeLng[i]
			if own {
				a, b = w.nodeLatLng(i)
			}
			ids, lat, lng = append(ids, int32(i)), append(lat, a), append(lng, b)
		}
		if own {
			w.ch.ownGrid = newGeoGrid(ids, lat, lng)
		} else {
			w.ch.grid = newGeoGrid(ids, lat, lng)
		}
	}
}

// logitCell lists the pickup nodes within the radius of cell c with their
// weights exp(V - max V). The nodes are searched in a grid (geogrid.go):
// only those near enough to matter are measured.
func (w *world) logitCell(c model.Cell) choiceCell {
	cfg := &w.cfg.Customers.Choice
	ll := c.LatLng()
	var out choiceCell
	var dist []float64
	nearest, best := model.NoNode, math.Inf(1)
	type cand struct {
		i model.NodeIndex
		d float64
	}
	var in []cand
	measure := func(i int32) {
		lat, lng := w.nodeLatLng(int(i))
		d := model.HaversineKm(ll.Lat, ll.Lng, lat, lng)
		if d < best || (d == best && model.NodeIndex(i) < nearest) {
			nearest, best = model.NodeIndex(i), d
		}
		if d <= cfg.RadiusKm {
			in = append(in, cand{model.NodeIndex(i), d})
		}
	}
	if g := w.ch.ownGrid; g.covers(ll.Lat, ll.Lng) {
		g.within(ll.Lat, ll.Lng, cfg.RadiusKm, measure)
		if len(in) == 0 {
			g.nearest(ll.Lat, ll.Lng, func() float64 { return best }, measure)
		}
	} else {
		for i := range w.net.Nodes {
			if w.pickupNode(i) {
				measure(int32(i))
			}
		}
	}
	sort.Slice(in, func(a, b int) bool { return in[a].i < in[b].i })
	for _, x := range in {
		out.cand = append(out.cand, x.i)
		dist = append(dist, x.d)
	}
	if len(out.cand) == 0 && nearest != model.NoNode {
		out.cand, dist = []model.NodeIndex{nearest}, []float64{best}
	}
	v := make([]float64, len(out.cand))
	vmax := math.Inf(-1)
	for k, j := range out.cand {
		v[k] = cfg.BetaPerKm*dist[k] + cfg.KindUtility[w.net.Nodes[j].Kind]
		vmax = math.Max(vmax, v[k])
	}
	out.w, out.wSub = make([]float64, len(v)), make([]float64, len(v))
	for k := range v {
		out.w[k] = math.Exp(v[k] - vmax)
	}
	out.home = model.NoNode
	return out
}

// precompute sets static and the cumulative weights of a cell whose
// candidates are always offered.
func (c *choiceCell) precompute(net *model.Network) {
	c.static = len(c.cand) > 0
	for _, j := range c.cand {
		nd := &net.Nodes[j]
		if nd.ActiveFrom != 0 || nd.ActiveUntil != 0 || len(nd.Hours) != 0 {
			c.static = false
		}
	}
	if !c.static {
		return
	}
	c.cumW, c.cumWSub = make([]float64, len(c.cand)), make([]float64, len(c.cand))
	var a, b float64
	for k := range c.cand {
		a += c.w[k]
		b += c.wSub[k]
		c.cumW[k], c.cumWSub[k] = a, b
	}
}

// drawHome draws the home node of the cell's subscribers from the cell's
// choice probabilities over its permanent nodes (all of them if every
// candidate is a pop-up).
func (c *choiceCell) drawHome(net *model.Network, r *rand.Rand) model.NodeIndex {
	u := r.Float64()
	for _, permanent := range []bool{true, false} {
		var total float64
		for k, j := range c.cand {
			if !permanent || net.Nodes[j].ActiveFrom == 0 && net.Nodes[j].ActiveUntil == 0 {
				total += c.w[k]
			}
		}
		if total == 0 {
			continue
		}
		x, acc := u*total, 0.0
		last := model.NoNode
		for k, j := range c.cand {
			if !permanent || net.Nodes[j].ActiveFrom == 0 && net.Nodes[j].ActiveUntil == 0 {
				acc += c.w[k]
				last = j
				if x < acc {
					return j
				}
			}
		}
		return last
	}
	return model.NoNode
}

// offered reports whether node j is offered at checkout in pass 0 (active
// and open now) or pass 1 (active, open later).
func (w *world) offered(j model.NodeIndex, pass int) bool {
	nd := &w.net.Nodes[j]
	return nd.ActiveAt(w.k.Now) && (pass == 1 || nd.Hours.OpenAt(w.k.Now))
}

// hasRoom reports whether a capacity-aware checkout may offer node j for a
// parcel of size s: when the parcels committed to it plus this one fit its
// free slots (for every size threshold t <= s, the parcels of size >= t fit
// the slots of size >= t) or, for a node with a counter, its free counter
// space. Nodes that hold nothing always have room (they are never offered).
func (w *world) hasRoom(j model.NodeIndex, s model.SizeClass) bool {
	if !w.cfg.Customers.Choice.CapacityAware || !w.ch.limited[j] {
		return true
	}
	st := w.core.NodeView(j)
	com := &w.ch.committed[j]
	var free, need, all int32
	fits := true
	for t := model.NumSizes - 1; ; t-- {
		free += st.Free[t]
		need += com[t]
		if t <= s && need+1 > free {
			fits = false
		}
		if t == 0 {
			break
		}
	}
	all = need
	if counter := w.net.Nodes[j].Counter; counter > 0 {
		// the counter takes what the slots do not
		return fits || all+1 <= free+counter-st.Held
	}
	return fits
}

// choose picks the pickup node of an order of SKU sku placed in cell ci of
// neighborhood hi by a subscriber or not; model.NoNode when no node is
// active.
func (w *world) choose(hi int, ci *cellInfo, sub bool, sku int) model.NodeIndex {
	size := w.net.SKUs[sku].Size
	if w.cfg.Customers.Choice.Model != ChoiceLogit {
		return w.chooseNearest(ci.prefer, size)
	}
	c := &ci.choice
	wt := c.w
	if sub {
		wt = c.wSub
	}
	u := w.ch.rng[hi].r.Float64()
	cum := w.ch.cum[:len(c.cand)]
	if c.static {
		// every candidate offered: the precomputed sums, the same numbers
		// the loop below would add up
		pre := c.cumW
		if sub {
			pre = c.cumWSub
		}
		if total := pre[len(pre)-1]; total > 0 {
			k, v := pickCum(pre, wt, u*total)
			first := c.cand[k]
			if w.hasRoom(first, size) {
				return first
			}
			copy(cum, pre)
			return w.chooseRoom(c, wt, cum, first, v, size)
		}
	}
	for pass := 0; pass < 2; pass++ {
		// cumulative weights of the offered nodes (one pass, no allocation)
		var total float64
		for k, j := range c.cand {
			if w.offered(j, pass) {
				total += wt[k]
			}
			cum[k] = total
		}
		if total == 0 {
			continue
		}
		k, v := pickCum(cum, wt, u*total)
		first := c.cand[k]
		if w.hasRoom(first, size) {
			return first
		}
		return w.chooseRoom(c, wt, cum, first, v, size)
	}
	return model.NoNode
}

// chooseRoom is the checkout when the first choice has no room: the same
// draw (v, rescaled to [0, 1) within the first choice's weight) among the
// offered nodes with room, whose cumulative weights cum holds on entry (it
// is overwritten); the first choice stands when none has room.
func (w *world) chooseRoom(c *choiceCell, wt, cum []float64, first model.NodeIndex, v float64, size model.SizeClass) model.NodeIndex {
	w.firstChoiceUnavailable()
	var room, prev float64
	for k, j := range c.cand {
		if offered := cum[k] > prev; offered && w.hasRoom(j, size) {
			room += wt[k]
		}
		prev = cum[k]
		cum[k] = room
	}
	if room == 0 {
		return first
	}
	k, _ := pickCum(cum, wt, v*room)
	return c.cand[k]
}

// pickCum returns the first k whose cumulative weight exceeds x (x below
// the total) and x's position within k's own weight rescaled to [0, 1): a
// fresh uniform for a second draw.
func pickCum(cum, wt []float64, x float64) (int, float64) {
	// binary search for the first k < len-1 with cum[k] > x (len-1 if none)
	k, hi := 0, len(cum)-1
	for k < hi {
		m := int(uint(k+hi) >> 1)
		if cum[m] > x {
			hi = m
		} else {
			k = m + 1
		}
	}
	for k > 0 && (wt[k] == 0 || cum[k] == cum[k-1]) { // rounding at the very top
		k--
	}
	v := (x - (cum[k] - wt[k])) / wt[k]
	return k, math.Min(math.Max(v, 0), math.Nextafter(1, 0))
}

// chooseNearest is the nearest rule: the first node of prefer open now,
// else the first active; with a capacity-aware checkout, the first of those
// with room (the first choice standing when none has).
func (w *world) chooseNearest(prefer []model.NodeIndex, size model.SizeClass) model.NodeIndex {
	for pass := 0; pass < 2; pass++ {
		first := model.NoNode
		for _, j := range prefer {
			if !w.offered(j, pass) {
				continue
			}
			if first == model.NoNode {
				first = j
				if w.hasRoom(j, size) {
					return j
				}
				w.firstChoiceUnavailable()
				continue
			}
			if w.hasRoom(j, size) {
				return j
			}
		}
		if first != model.NoNode {
			return first
		}
	}
	return model.NoNode
}

func (w *world) firstChoiceUnavailable() {
	if !w.k.InWarmup() {
		w.res.FirstChoiceUnavailable++
	}
}

// commitState keeps the capacity-aware checkout's committed counts: a
// parcel counts at its destination from the order (the label's
// first state) until it leaves the states before arrival (arrived, refused
// and rerouted, cancelled).
func (w *world) commitState(e *model.Effect) {
	ch := &w.ch
	if !w.cfg.Customers.Choice.CapacityAware {
		return
	}
	if e.State == model.Issued && e.Prev == model.None {
		l := w.core.Label(e.Label)
		if l == nil || !ch.limited[l.Dest] {
			return
		}
		wl := w.lab(e.Slab)
		wl.commitNode, wl.commitSize = int32(l.Dest)+1, l.Size
		ch.committed[l.Dest][l.Size]++
		return
	}
	if e.State <= model.InTransit {
		return
	}
	wl := w.lab(e.Slab)
	if wl.commitNode == 0 {
		return
	}
	ch.committed[wl.commitNode-1][wl.commitSize]--
	wl.commitNode = 0
}

// pickCell draws the cell of an order in neighborhood hi: uniformly, or
// weighted by the demand uplifts active now (see calendar.go).
func (w *world) pickCell(hi int, r *rand.Rand) *cellInfo {
	h := &w.hoods[hi]
	seg := w.cal.segment(hi, w.k.Now)
	if seg == nil || seg.cum == nil {
		return &h.cells[r.IntN(len(h.cells))]
	}
	x := r.Float64() * seg.cum[len(seg.cum)-1]
	i := sort.Search(len(seg.cum), func(i int) bool { return seg.cum[i] > x })
	if i >= len(h.cells) {
		i = len(h.cells) - 1
	}
	return &h.cells[i]
}
