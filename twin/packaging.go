package twin

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Reusable packaging in the twin (issue 14). A box message either reports
// where a box went — the driver turns it into the core's box event — or
// claims the box production packed a label in, which the driver checks
// against the box the core chose. Disagreements are box_mismatch
// divergences; their Label is the label for a packing claim and the box id
// otherwise. Production's box scans are what physically happened, so after
// a divergence the core's books follow them (EvBoxPacked adopts
// production's box, EvBoxSync puts a box where production saw it): one lost
// message costs a few divergences, not every later packing.

// KindBoxMismatch: production's box scan disagrees with the core's books
// of reusable boxes (another box or single-use packing; a box event
// impossible where the core has the box).
const KindBoxMismatch = "box_mismatch"

// boxObserver is implemented by observers that take box divergences
// (Comparer does).
type boxObserver interface {
	BoxMismatch(Divergence)
}

// BoxMismatch records a box divergence the driver found.
func (c *Comparer) BoxMismatch(d Divergence) { c.diverge(d) }

func (d *Driver) boxMismatch(div Divergence) {
	if o, ok := d.obs.(boxObserver); ok {
		o.BoxMismatch(div)
	}
}

// applyBox applies one box message.
func (d *Driver) applyBox(env wire.Envelope, b wire.Box, at model.Instant) {
	if d.net.Packaging == nil {
		d.ignore("box")
		return
	}
	node, ok := d.nodeIndex(b.Node)
	if !ok {
		d.anomaly(AnomalyUnknownNode, env, at, b.LabelID, b.Node)
		return
	}
	if !d.ownsNode(node) {
		d.ignore("foreign")
		return
	}
	box, _ := model.ParseBoxID(b.BoxID) // checked by the decoder
	if b.Event == wire.BoxPacked {
		id, lr := d.label(b.LabelID)
		if lr == nil {
			d.anomaly(AnomalyUnknownLabel, env, at, b.LabelID, b.Node)
			// the box is out all the same, with a parcel the twin does not know
			d.step(model.Event{Type: model.EvBoxSync, At: at, Node: node, Box: box, BoxTo: model.BoxWithCustomer})
			return
		}
		d.note(lr, env.MsgID)
		l := d.core.Label(id)
		if l != nil && l.Box == box {
			return
		}
		// the core adopts production's box after the divergence is noted,
		// so one lost message does not make every later packing differ
		defer d.step(model.Event{Type: model.EvBoxPacked, At: at, Label: id, Node: node, Box: box})
		core := "single_use"
		var coreAt model.Instant
		if l != nil {
			coreAt = lastAt(l)
			if l.Box != 0 {
				core = l.Box.String()
			} else if l.State < model.Packed {
				core = l.State.String()
			}
		}
		d.boxMismatch(Divergence{Label: lr.name, Kind: KindBoxMismatch, Node: b.Node, Production: "packed:" + b.BoxID,
			Core: core, ProductionAt: at, CoreAt: coreAt, Messages: lr.msgs})
		return
	}
	ev := model.Event{At: at, Node: node, Box: box}
	switch b.Event {
	case wire.BoxReturned:
		ev.Type = model.EvBoxReturn
	case wire.BoxCollected:
		ev.Type = model.EvBoxCollect
	case wire.BoxHome:
		ev.Type = model.EvBoxHome
	default:
		ev.Type, ev.Fate = model.EvBoxLost, b.Event.BoxFate()
	}
	before := d.core.Stats.RejectedTotal()
	st, where, known := d.core.Box(box)
	d.step(ev)
	if d.core.Stats.RejectedTotal() == before {
		return
	}
	core := st.String()
	if where != model.NoNode {
		core += ":" + d.NodeName(where)
	}
	d.boxMismatch(Divergence{Label: b.BoxID, Kind: KindBoxMismatch, Node: b.Node, Production: string(b.Event) + ":" + b.Node,
		Core: core, ProductionAt: at, Messages: []string{env.MsgID}})
	if !known {
		return
	}
	// production's scan is what happened: the core's books follow it
	sync := model.Event{Type: model.EvBoxSync, At: at, Node: node, Box: box, Fate: ev.Fate}
	switch ev.Type {
	case model.EvBoxReturn:
		sync.BoxTo = model.BoxWaiting
	case model.EvBoxCollect:
		sync.BoxTo = model.BoxRiding
	case model.EvBoxHome:
		sync.BoxTo = model.BoxInPool
	default:
		sync.BoxTo = model.BoxRetired
	}
	d.step(sync)
}
