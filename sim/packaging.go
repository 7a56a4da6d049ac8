package sim

import (
	"math/rand/v2"

	"github.com/lockstep-sim/lockstep/model"
)

// Reusable packaging in the simulated city (issue 14; the books are the
// core's, model/packaging.go).
//
// When a customer collects a parcel packed in a reusable box (the core's
// EffBoxCustomer), the customer hands the box back at the same node at once
// with probability ReturnAtPickup, brings it back to that node on a later
// visit (ReturnDelay after the pickup, at the next opening time) with
// probability ReturnLater, and keeps it otherwise (EvBoxLost, fate kept).
// A returned box waits at the node, in a slot or at the counter (the core
// decides which, or refuses it when the node is full), until a courier
// stops there: after a delivery stop, or at the collect or drop stop of a
// reroute or return trip. The courier takes the waiting boxes, oldest
// first, while it has room: a courier carries couriers.batch_size items,
// parcels still on board and boxes together. Each box is missing with
// probability Lost (EvBoxLost, fate lost) instead. Boxes ride with the
// courier to its base, a microstore, where each is found damaged with
// probability Damaged (EvBoxLost, fate damaged) or joins the pool
// (EvBoxHome). The draws come from their own streams ("packaging/returns",
// "packaging/losses"), so switching packaging on changes no other random
// number. Without a packaging section none of this runs: the world checks
// one nil pointer at a courier's stop and at its return.

// Packaging is the simulated world's side of reusable packaging (Config;
// nil: none).
type Packaging struct {
	ReturnAtPickup, ReturnLater float64
	ReturnDelay                 Dist
	Lost, Damaged               float64
	Costs                       PackagingCosts
}

// PackagingCosts are the prices of packaging.
type PackagingCosts struct {
	SingleUse, ReusableUse, Wash, BoxLost float64
}

// PackagingResult is a replication's reusable packaging. Packing counts
// cover the cohort; box counts cover events after the warm-up, drain
// included; BoxesOutMean and the window cycles cover [WarmupEnd, End).
type PackagingResult struct {
	// Packed parcels, Reusable of them in a box, Stockouts: packed
	// single-use because the pool was empty.
	Packed, Reusable, Stockouts uint64
	// ReuseRate is Reusable / Packed.
	ReuseRate float64
	// AvoidedKg is the single-use packaging mass the reusable uses replaced.
	AvoidedKg float64
	// Returned: boxes handed back at a node; Collected by couriers; Home:
	// back in a pool.
	Returned, Collected, Home uint64
	// Boxes that left the loop: Kept by customers, Refused (the node had no
	// room), Lost, Damaged; BoxesLost is their sum.
	Kept, Refused, Lost, Damaged, BoxesLost uint64
	// CycleMeanMin and CycleP90Min: minutes from leaving a pool to being
	// back in one or retired, over boxes that left after the warm-up.
	CycleMeanMin, CycleP90Min float64
	// BoxesOutMean is the time-mean number of boxes out of their pools (not
	// retired) over the window; Departures the boxes packed in the window;
	// WindowCycleMeanMin the mean cycle of those whose cycle ended before
	// the run stopped (WindowCycles), CensoredCycles the others. Little's
	// law: BoxesOutMean ≈ Departures / window × WindowCycleMeanMin.
	BoxesOutMean                 float64
	Departures                   uint64
	WindowCycles, CensoredCycles uint64
	WindowCycleMeanMin           float64
	// PoolLevelEnd is the number of boxes in the pools when the run stopped.
	PoolLevelEnd int
	// Cost is the packaging cost (CostBreakdown.Packaging).
	Cost float64
}

// kBox runs a customer's box decision. A: box, B: boxReturn or boxKeep, C: node.
const kBox Kind = 230

const (
	boxReturn int32 = iota
	boxKeep
)

type packWorld struct {
	cfg             *Packaging
	returns, losses *rand.Rand
	waiting         [][]model.BoxID // per node, FIFO
	aboard          [][]model.BoxID // per courier
	outAt           []model.Instant // per box-1: when it left the pool (0: in a pool or retired)
	outWarm, outEnd int64           // core.BoxesOutTime at the window's ends
	departures      uint64
	cycN            uint64
	cycSum          float64 // minutes
}

func (w *world) packagingInit(st Streams) {
	if w.cfg.Packaging == nil || w.net.Packaging == nil {
		return
	}
	w.pk = &packWorld{cfg: w.cfg.Packaging, returns: st.Rand("packaging/returns"), losses: st.Rand("packaging/losses"),
		waiting: make([][]model.BoxID, len(w.net.Nodes)), aboard: make([][]model.BoxID, len(w.cour))}
}

// boxEffect carries out a box effect of the core.
func (w *world) boxEffect(e *model.Effect) {
	p := w.pk
	if p == nil {
		return
	}
	k := w.k
	switch e.Type {
	case model.EffBoxOut:
		for int(e.Box) > len(p.outAt) {
			p.outAt = append(p.outAt, 0)
		}
		p.outAt[e.Box-1] = k.Now
		if k.Now >= k.WarmupEnd && k.Now < w.co.horizon {
			p.departures++
		}
	case model.EffBoxBack, model.EffBoxRetired:
		if int(e.Box) <= len(p.outAt) {
			if t := p.outAt[e.Box-1]; t >= k.WarmupEnd && t < w.co.horizon && t != 0 {
				p.cycN++
				p.cycSum += k.Now.Sub(t).Minutes()
			}
			p.outAt[e.Box-1] = 0
		}
	case model.EffBoxCustomer:
		u := p.returns.Float64()
		switch {
		case u < p.cfg.ReturnAtPickup:
			k.Schedule(k.Now, kBox, int32(e.Box), boxReturn, uint32(e.Node))
		case u < p.cfg.ReturnAtPickup+p.cfg.ReturnLater:
			at := k.Now.Add(p.cfg.ReturnDelay.Sample(p.returns))
			at = w.net.Nodes[e.Node].Hours.NextOpen(at)
			k.Schedule(at, kBox, int32(e.Box), boxReturn, uint32(e.Node))
		default:
			k.Schedule(k.Now, kBox, int32(e.Box), boxKeep, uint32(e.Node))
		}
	case model.EffBoxSlot:
		if e.Amount > 0 {
			p.waiting[e.Node] = append(p.waiting[e.Node], e.Box)
		}
	}
}

// boxVisit runs a kBox event: a customer returns or keeps a box.
func (w *world) boxVisit(ev Event) {
	ty := model.EvBoxReturn
	if ev.B == boxKeep {
		ty = model.EvBoxLost
	}
	e := model.Event{Type: ty, At: w.k.Now, Node: model.NodeIndex(ev.C), Box: model.BoxID(ev.A)}
	if ty == model.EvBoxLost {
		e.Fate = model.FateKept
	}
	w.step(&e)
}

// boxCollect lets courier ci, at node here with parcels still on board,
// take the boxes waiting there while it has room.
func (w *world) boxCollect(ci int32, here model.NodeIndex, parcels int) {
	p := w.pk
	if here == model.NoNode || len(p.waiting[here]) == 0 {
		return
	}
	room := w.cfg.Couriers.BatchSize - parcels - len(p.aboard[ci])
	q := p.waiting[here]
	n := 0
	for n < len(q) && room > 0 {
		b := q[n]
		n++
		if p.losses.Float64() < p.cfg.Lost {
			w.step(&model.Event{Type: model.EvBoxLost, At: w.k.Now, Node: here, Box: b, Fate: model.FateLost})
			continue
		}
		w.step(&model.Event{Type: model.EvBoxCollect, At: w.k.Now, Node: here, Box: b})
		p.aboard[ci] = append(p.aboard[ci], b)
		room--
	}
	m := copy(q, q[n:])
	p.waiting[here] = q[:m]
}

// boxesHome unloads courier ci's boxes at its base.
func (w *world) boxesHome(ci int32) {
	p := w.pk
	ld := p.aboard[ci]
	if len(ld) == 0 {
		return
	}
	node := w.bases[w.cour[ci].base].node
	for _, b := range ld {
		if p.losses.Float64() < p.cfg.Damaged {
			w.step(&model.Event{Type: model.EvBoxLost, At: w.k.Now, Node: node, Box: b, Fate: model.FateDamaged})
			continue
		}
		w.step(&model.Event{Type: model.EvBoxHome, At: w.k.Now, Node: node, Box: b})
	}
	p.aboard[ci] = ld[:0]
}

// packagingResult fills Result.Packaging and the packaging cost.
func (w *world) packagingResult() {
	p := w.pk
	if p == nil {
		return
	}
	r := w.res
	s := w.core.BoxStats()
	pr := &PackagingResult{Packed: s.Packed, Reusable: s.Reusable, Stockouts: s.Stockouts, AvoidedKg: s.AvoidedKg,
		Returned: s.Returned, Collected: s.Collected, Home: s.Home,
		Kept: s.RetiredBy(model.FateKept), Refused: s.RetiredBy(model.FateRefused), Lost: s.RetiredBy(model.FateLost),
		Damaged: s.RetiredBy(model.FateDamaged), BoxesLost: s.Lost(),
		Departures: p.departures, WindowCycles: p.cycN}
	if s.Packed > 0 {
		pr.ReuseRate = float64(s.Reusable) / float64(s.Packed)
	}
	if s.Cycle.N > 0 {
		pr.CycleMeanMin = s.Cycle.Mean()
		pr.CycleP90Min = s.Cycle.Quantile(0.9)
	}
	if window := float64(r.End - r.WarmupEnd); window > 0 {
		pr.BoxesOutMean = float64(p.outEnd-p.outWarm) / window
	}
	if p.cycN > 0 {
		pr.WindowCycleMeanMin = p.cycSum / float64(p.cycN)
	}
	pr.CensoredCycles = p.departures - p.cycN
	for i := range w.net.Nodes {
		pr.PoolLevelEnd += w.core.PoolLevel(model.NodeIndex(i))
	}
	c := &p.cfg.Costs
	pr.Cost = float64(s.Packed-s.Reusable)*c.SingleUse + float64(s.Reusable)*c.ReusableUse + float64(s.Home)*c.Wash +
		float64(s.Lost())*c.BoxLost
	r.Costs.Packaging = pr.Cost
	r.Packaging = pr
}
