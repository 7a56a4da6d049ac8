package sim

import (
	"math"
	"math/rand/v2"

	"github.com/lockstep-sim/lockstep/model"
)

// Expiry is how simulated customers react to the locker expiry reminder
// (model.Expiry). The reminder reaches a customer who has not come and would
// not come before the ready-for-pickup TTL expires (a customer whose visit is
// planned later, or a no-show). Of those, Respond come before the expiry (at
// a uniformly drawn instant between the reminder and the expiry, then the
// node's opening hours); of the rest, AskExtension ask for the one extension
// and, when it is granted, come during it (uniformly between the old and the
// new expiry) unless their planned visit already falls within it. Everyone
// else keeps their plan. Draws come from the "customers/expiry" stream.
type Expiry struct {
	Respond, AskExtension float64
}

// kExtend: a customer asks for the extension. A: label, B: hops when reminded.
const kExtend Kind = 200

// ttlState is the world's bookkeeping for the TTL rules.
type ttlState struct {
	rng *rand.Rand
	// superseded holds, per label, the instant of its customer's planned
	// visit (a kPickup event with C&1 == 0) that a reminder replaced; that
	// visit is dropped when it comes, rather than counted as a missed pickup.
	superseded map[model.LabelID]model.Instant
}

func (w *world) ttlInit(st Streams) {
	w.ttl = ttlState{rng: st.Rand("customers/expiry"), superseded: map[model.LabelID]model.Instant{}}
}

// ttlEffect carries out the effects of the TTL rules.
func (w *world) ttlEffect(e *model.Effect) {
	switch e.Type {
	case model.EffRedispatch:
		w.redispatch(e)
	case model.EffRedirect:
		w.redirect(e)
		if w.labs[e.Slab].measured {
			w.accs[e.Node].cost += e.Amount
			w.accs[e.Node].reroutes++
		}
	case model.EffRemind:
		w.reminded(e)
	case model.EffExtended:
		w.extended(e)
	}
}

// redispatch: picked, the packing is done at once (the pending pack event
// then finds the label packed and is dropped); packed, the parcel moves to
// the front of its base's courier queue, behind the parcels escalated before
// it (escalated parcels stay first-come first-served among themselves: a
// newer escalation never overtakes an older one), and is marked to be
// delivered first on its courier's route.
func (w *world) redispatch(e *model.Effect) {
	id := int32(e.Label)
	if e.State == model.Picked {
		w.k.Schedule(w.k.Now, kPacked, id, 0, 0)
		return
	}
	w.labs[e.Slab].prio = true
	bi := int32(0)
	if e.Node != model.NoNode {
		bi = w.baseOf[e.Node]
	}
	b := &w.bases[bi]
	front := b.head
	for j := b.head; j < len(b.queue); j++ {
		if b.queue[j] == id {
			copy(b.queue[front+1:j+1], b.queue[front:j])
			b.queue[front] = id
			break
		}
		if l := w.core.Label(model.LabelID(b.queue[j])); l != nil && l.State == model.Packed && w.labs[l.Slab()].prio {
			front = j + 1
		}
	}
	if !b.queued {
		b.queued = true
		w.pending = append(w.pending, bi)
	}
}

// redirect: the courier carrying the parcel takes it to e.To instead (it
// arrives there when it would have arrived at the old destination; the
// legs after it start from the new one).
func (w *world) redirect(e *model.Effect) {
	id := int32(e.Label)
	for ci := range w.cour {
		c := &w.cour[ci]
		// the last stop of the parcel is the one still ahead: a parcel a
		// node refused stays on the courier with a new stop appended
		for j := len(c.load) - 1; j >= 0; j-- {
			if c.load[j] == id {
				c.dest[j] = e.To
				return
			}
		}
	}
}

// routeOrder orders a courier's batch: parcels with priority first, each
// group in nearest-neighbour order from the base.
func (w *world) routeOrder(c *courier, from point) {
	k := 0
	for i, id := range c.load {
		if w.net.Policy.Escalate[model.Packed] != model.EscalateRedispatch {
			break
		}
		if l := w.core.Label(model.LabelID(id)); l != nil && w.labs[l.Slab()].prio {
			c.load[i], c.load[k] = c.load[k], c.load[i]
			c.dest[i], c.dest[k] = c.dest[k], c.dest[i]
			k++
		}
	}
	at := w.nearestOrder(c, 0, k, from)
	w.nearestOrder(c, k, len(c.load), at)
}

// nearestOrder puts stops [lo, hi) of c in nearest-neighbour order from at
// and returns the last stop's position (at when the range is empty).
func (w *world) nearestOrder(c *courier, lo, hi int, at point) point {
	for i := lo; i < hi; i++ {
		best, bj := math.Inf(1), i
		for j := i; j < hi; j++ {
			if d := dist2(at, w.pos[c.dest[j]]); d < best {
				best, bj = d, j
			}
		}
		c.load[i], c.load[bj] = c.load[bj], c.load[i]
		c.dest[i], c.dest[bj] = c.dest[bj], c.dest[i]
		at = w.pos[c.dest[i]]
	}
	return at
}

// reminded: the customer of a parcel waiting at e.Node got the expiry
// reminder (see Expiry).
func (w *world) reminded(e *model.Effect) {
	wl := &w.labs[e.Slab]
	now := w.k.Now
	expiry := now.Add(e.Delay)
	if wl.noShow == 1 && wl.visit != 0 && wl.visit <= expiry {
		return // comes anyway
	}
	x := &w.cfg.Expiry
	r := w.ttl.rng
	switch {
	case r.Float64() < x.Respond:
		at := now.Add(model.Duration(r.Float64() * float64(e.Delay)))
		w.revisit(e, wl, w.net.Nodes[e.Node].Hours.NextOpen(at))
	case x.AskExtension > 0 && r.Float64() < x.AskExtension:
		w.k.Schedule(now, kExtend, int32(e.Label), e.Hops, 0)
	}
}

// ttlExtend: the customer asks for the extension of a parcel still waiting
// where it was when they were reminded.
func (w *world) ttlExtend(ev Event) {
	l := w.core.Label(model.LabelID(ev.A))
	if l == nil || l.State != model.ReadyForPickup || int32(l.Hops) != ev.B || l.Extended {
		return
	}
	w.step(&model.Event{Type: model.EvExtend, At: w.k.Now, Label: l.ID, Node: l.At})
}

// extended: the extension was granted; the customer comes during it unless
// their planned visit already falls within it.
func (w *world) extended(e *model.Effect) {
	wl := &w.labs[e.Slab]
	if wl.noShow == 1 && wl.visit != 0 && wl.visit <= e.At {
		return
	}
	old := e.At.Add(-e.Delay)
	if old < w.k.Now {
		old = w.k.Now
	}
	at := old.Add(model.Duration(w.ttl.rng.Float64() * float64(e.At.Sub(old))))
	w.revisit(e, wl, w.net.Nodes[e.Node].Hours.NextOpen(at))
}

// revisit schedules the customer's visit at instant at, replacing a planned one.
func (w *world) revisit(e *model.Effect, wl *wlabel, at model.Instant) {
	if wl.noShow == 1 && wl.visit != 0 {
		w.ttl.superseded[e.Label] = wl.visit
	}
	wl.noShow, wl.visit = 1, at
	w.k.Schedule(at, kPickup, int32(e.Label), e.Hops, pickupC(true, e.Slab))
}

// pickupC is the C of a kPickup event: bit 0 set for the visit a reminder
// brings forward, and above it the label's slab+1 (a hint for the core,
// model.Event.SetSlab; 0: unknown, as for a customer turned away).
func pickupC(reminder bool, slab int32) uint32 {
	c := (uint32(slab) + 1) << 1
	if reminder {
		c |= 1
	}
	return c
}

// ttlSkip reports whether a pickup event is a planned visit that a
// reminder replaced.
func (w *world) ttlSkip(ev Event) bool {
	id := model.LabelID(ev.A)
	if at, ok := w.ttl.superseded[id]; !ok || ev.C&1 != 0 || at != w.k.Now {
		return false
	}
	delete(w.ttl.superseded, id)
	return true
}
