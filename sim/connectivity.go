package sim

import (
	"math/rand/v2"

	"github.com/lockstep-sim/lockstep/model"
)

// Sub-kinds of kConn.
const (
	connFail   = iota // random drop (an up-time drawn from MTBF elapsed)
	connRepair        // random drop repaired (a time drawn from MTTR elapsed)
	connDown          // scheduled or area outage starts
	connUp            // scheduled or area outage ends
)

// retryDelay is how long after a refusing node comes back a turned-away
// customer returns.
const retryDelay = 30 * model.Minute

type retry struct{ label, hops int32 }

// edge is the state of the cache-first world: connectivity, counter trade,
// replenishment and the work waiting for nodes to come back.
type edge struct {
	on        bool // any node has a cache, counter trade or drops
	cached    bool // any node has a cache
	down      []int32
	conn      []*rand.Rand
	counter   []*rand.Rand
	rate      []float64 // counter sales per ms while open
	skus      [][]model.SKUIndex
	skuCum    [][]float64
	deferPick [][]int32
	retries   [][]retry
	hourDrift int64
}

func (w *world) edgeInit(st Streams) {
	cfg := w.cfg
	net := w.net
	e := &w.edge
	e.on = net.EdgeLog || len(cfg.AreaOutages) > 0
	for i := range net.Nodes {
		if len(net.Nodes[i].Cache) > 0 {
			e.on, e.cached = true, true
		}
	}
	for _, n := range cfg.Nodes {
		if n.drops() || len(n.Outages) > 0 || n.CounterSalesPerDay > 0 {
			e.on = true
		}
	}
	if !e.on {
		return
	}
	n := len(net.Nodes)
	e.down = make([]int32, n)
	e.conn = make([]*rand.Rand, n)
	e.counter = make([]*rand.Rand, n)
	e.rate = make([]float64, n)
	e.skus = make([][]model.SKUIndex, n)
	e.skuCum = make([][]float64, n)
	e.deferPick = make([][]int32, n)
	e.retries = make([][]retry, n)
	for i := range cfg.Nodes {
		nw := &cfg.Nodes[i]
		nd := &net.Nodes[i]
		if nw.drops() {
			e.conn[i] = st.Rand("connectivity/" + nd.ID)
		}
		if nw.CounterSalesPerDay > 0 && len(nd.Cache) > 0 {
			e.counter[i] = st.Rand("counter/" + nd.ID)
			open := openPerDay(nd.Hours)
			e.rate[i] = nw.CounterSalesPerDay / float64(open)
			var acc float64
			for _, it := range nd.Cache {
				if it.Capacity > 0 {
					acc += float64(it.Capacity)
					e.skus[i] = append(e.skus[i], it.SKU)
					e.skuCum[i] = append(e.skuCum[i], acc)
				}
			}
			if acc == 0 {
				e.counter[i] = nil
			}
		}
	}
}

// openPerDay is how long the hours are open per day.
func openPerDay(h model.Hours) model.Duration {
	if len(h) == 0 {
		return model.Day
	}
	var d model.Duration
	for _, s := range h {
		if s.To > s.From {
			d += s.To - s.From
		}
	}
	if d <= 0 {
		return model.Day
	}
	return d
}

func expDur(r *rand.Rand, mean model.Duration) model.Duration {
	return model.Duration(r.ExpFloat64()*float64(mean)) + 1
}

// connDur draws one up-time or repair time from d (see NodeWorld.MTBF): an
// exponential one with expDur, which drew every drop before distributions
// other than the exponential were allowed, so the same scenario and seed
// draw the same numbers; any other with d.Sample, at least 1 ms, so a node
// never fails and recovers at the same instant.
func connDur(r *rand.Rand, d *Dist) model.Duration {
	if d.Kind == Exponential {
		return expDur(r, d.Mean)
	}
	return max(d.Sample(r), 1)
}

func (w *world) edgeStart() {
	e := &w.edge
	if !e.on {
		return
	}
	k := w.k
	cfg := w.cfg
	end := cfg.Start.Add(cfg.Horizon)
	for i := range cfg.Nodes {
		nw := &cfg.Nodes[i]
		if r := e.conn[i]; r != nil {
			k.Schedule(k.Now.Add(connDur(r, &nw.MTBF)), kConn, int32(i), connFail, 0)
		}
		for _, o := range nw.Outages {
			if o.Duration > 0 && o.Start < end {
				k.Schedule(o.Start, kConn, int32(i), connDown, 0)
				k.Schedule(o.Start.Add(o.Duration), kConn, int32(i), connUp, 0)
			}
		}
		if r := e.counter[i]; r != nil {
			k.Schedule(k.Now.Add(model.Duration(r.ExpFloat64()/e.rate[i])+1), kCounter, int32(i), 0, 0)
		}
	}
	for _, a := range cfg.AreaOutages {
		if a.Duration <= 0 || a.Start >= end {
			continue
		}
		for _, n := range a.Nodes {
			k.Schedule(a.Start, kConn, int32(n), connDown, 0)
			k.Schedule(a.Start.Add(a.Duration), kConn, int32(n), connUp, 0)
		}
	}
	if e.cached {
		at := model.DayStart(cfg.Start) + model.Instant(w.replenishAt())
		if at < cfg.Start {
			at += model.Instant(model.Day)
		}
		k.Schedule(at, kReplenish, 0, 0, 0)
	}
}

func (w *world) replenishAt() model.Duration {
	if a := w.cfg.Inventory.ReplenishAt; a > 0 {
		return a
	}
	return model.DefaultReplenishAt
}

// handleEdge runs the cache-first world's events.
func (w *world) handleEdge(k *Kernel, ev Event) {
	e := &w.edge
	switch ev.Kind {
	case kConn:
		n := int(ev.A)
		switch ev.B {
		case connFail:
			w.goDown(n)
			k.Schedule(k.Now.Add(connDur(e.conn[n], &w.cfg.Nodes[n].MTTR)), kConn, ev.A, connRepair, 0)
		case connRepair:
			w.goUp(n)
			k.Schedule(k.Now.Add(connDur(e.conn[n], &w.cfg.Nodes[n].MTBF)), kConn, ev.A, connFail, 0)
		case connDown:
			w.goDown(n)
		case connUp:
			w.goUp(n)
		}
	case kCounter:
		n := int(ev.A)
		r := e.counter[n]
		nd := &w.net.Nodes[n]
		if nd.ActiveAt(k.Now) && nd.Hours.OpenAt(k.Now) {
			var rej uint64
			cum := e.skuCum[n]
			j := 0
			for x := r.Float64() * cum[len(cum)-1]; j < len(cum)-1 && cum[j] <= x; j++ {
			}
			w.mx.counterOK, rej = true, w.core.Stats.RejectedTotal()
			w.step(&model.Event{Type: model.EvCounterSale, At: k.Now, Node: model.NodeIndex(n), SKU: e.skus[n][j], Qty: 1})
			w.counterSold(n, e.skus[n][j], rej)
		}
		k.Schedule(k.Now.Add(model.Duration(r.ExpFloat64()/e.rate[n])+1), kCounter, ev.A, 0, 0)
	case kReplenish:
		w.step(&model.Event{Type: model.EvReplenish, At: k.Now})
		k.Schedule(k.Now.Add(model.Day), kReplenish, 0, 0, 0)
	case kRestock:
		w.step(&model.Event{Type: model.EvRestock, At: k.Now, Node: model.NodeIndex(ev.A), SKU: model.SKUIndex(ev.B), Qty: int32(ev.C)})
	}
}

func (w *world) goDown(n int) {
	e := &w.edge
	e.down[n]++
	if e.down[n] == 1 {
		w.step(&model.Event{Type: model.EvNodeOffline, At: w.k.Now, Node: model.NodeIndex(n)})
	}
}

func (w *world) goUp(n int) {
	e := &w.edge
	if e.down[n] == 0 {
		return
	}
	e.down[n]--
	if e.down[n] > 0 {
		return
	}
	k := w.k
	w.step(&model.Event{Type: model.EvNodeOnline, At: k.Now, Node: model.NodeIndex(n)})
	// orders the node just received can be picked now
	for _, id := range e.deferPick[n] {
		w.toPick(id, true)
	}
	e.deferPick[n] = e.deferPick[n][:0]
	// customers turned away come back
	at := w.net.Nodes[n].Hours.NextOpen(k.Now.Add(retryDelay))
	for _, r := range e.retries[n] {
		k.Schedule(at, kPickup, r.label, r.hops, 0)
	}
	e.retries[n] = e.retries[n][:0]
}

// pickDeferred reports whether the pick of label id has to wait for its
// fulfilling node to receive the order (it was placed while the node was
// offline), and queues it; it also drops picks of orders that ended.
func (w *world) pickDeferred(id int32) bool {
	l := w.core.Label(model.LabelID(id))
	if l == nil || l.State != model.Issued {
		return true
	}
	if l.Stock == model.StockPending {
		w.edge.deferPick[l.From] = append(w.edge.deferPick[l.From], id)
		return true
	}
	return false
}

// driftTrace is the mean drift over the hour ending now, summed over nodes.
func (w *world) driftTrace(now model.Instant) float64 {
	var tot int64
	for i := range w.net.Nodes {
		tot += w.core.DriftTime(model.NodeIndex(i), now)
	}
	d := float64(tot-w.edge.hourDrift) / float64(model.Hour)
	w.edge.hourDrift = tot
	return d
}
