package hwsim

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Reusable packaging (issue 14): the node's scanner reads the box when it
// is packed (production's claim of the label's box), handed back, collected
// by a courier, back at a microstore, or leaves the loop. Messages go
// through emit, so an offline node buffers them and every fault applies.

// boxEvent emits the box message of a box event the world handed the core
// (whatever the core made of it: a twin's core must see the same input).
func (g *Generator) boxEvent(ev model.Event) {
	var e wire.BoxEvent
	switch ev.Type {
	case model.EvBoxReturn:
		e = wire.BoxReturned
	case model.EvBoxCollect:
		e = wire.BoxCollected
	case model.EvBoxHome:
		e = wire.BoxHome
	case model.EvBoxLost:
		switch ev.Fate {
		case model.FateKept:
			e = wire.BoxKept
		case model.FateDamaged:
			e = wire.BoxDamaged
		default:
			e = wire.BoxLost
		}
	default:
		return
	}
	g.box(ev.Node, wire.Box{BoxID: ev.Box.String(), Event: e})
}

// boxPacked emits production's claim that a label was packed in a box.
func (g *Generator) boxPacked(e *model.Effect) {
	l := g.labels[e.Label]
	if l == nil {
		return
	}
	g.box(e.Node, wire.Box{BoxID: e.Box.String(), Event: wire.BoxPacked, LabelID: l.id})
}

func (g *Generator) box(node model.NodeIndex, b wire.Box) {
	n := g.nodeIdx(node)
	if n < 0 || b.BoxID == "" {
		return
	}
	gw := &g.nodes[n]
	b.Node = gw.id
	g.emit(gw.scanner, n, g.topics.Scan(gw.scanner), b, g.now)
	g.truth.Counts.Boxes++
}
