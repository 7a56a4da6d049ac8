package wire

import "github.com/lockstep-sim/lockstep/model"

// BoxEvent is what happened to a reusable box (type "box").
type BoxEvent string

// Box events. packed is production's claim of the box a label was packed
// in (the twin checks it against the core's choice); the others are
// inputs: the customer returned the box at a node, a courier collected it
// there, it came back to a microstore, or it left the loop (kept by the
// customer, lost, found damaged).
const (
	BoxPacked    BoxEvent = "packed"
	BoxReturned  BoxEvent = "returned"
	BoxCollected BoxEvent = "collected"
	BoxHome      BoxEvent = "home"
	BoxKept      BoxEvent = "kept"
	BoxLost      BoxEvent = "lost"
	BoxDamaged   BoxEvent = "damaged"
)

var boxEvents = []BoxEvent{BoxPacked, BoxReturned, BoxCollected, BoxHome, BoxKept, BoxLost, BoxDamaged}

// Box is a scan of a reusable box by a node's scanner (type "box", topic
// scanners/{id}/scan; added to schema v1 compatibly: a feed without
// reusable packaging never carries it). LabelID is required when Event is
// packed and must be absent otherwise. BoxID is the core's box id
// (model.BoxID.String, "box-12").
type Box struct {
	BoxID   string   `json:"box_id"`
	Node    string   `json:"node"`
	Event   BoxEvent `json:"event"`
	LabelID string   `json:"label_id,omitempty"`
}

func (Box) MsgType() Type { return TypeBox }
func (Box) isBody()       {}

// BoxFate is the core's fate of a box that left the loop with event e
// (model.FateNone for the events that keep it in the loop).
func (e BoxEvent) BoxFate() model.BoxFate {
	switch e {
	case BoxKept:
		return model.FateKept
	case BoxLost:
		return model.FateLost
	case BoxDamaged:
		return model.FateDamaged
	}
	return model.FateNone
}

func decodeBox(f *fields) Body {
	b := Box{BoxID: f.id("box_id", true), Node: f.id("node", true), Event: enum(f, "event", boxEvents)}
	b.LabelID = f.id("label_id", false)
	if f.err == nil {
		if _, ok := model.ParseBoxID(b.BoxID); !ok {
			f.fail(derr(ReasonBadValue, "body.box_id %q is not a box id (box-N, N >= 1)", b.BoxID))
		} else if b.Event == BoxPacked && b.LabelID == "" {
			f.fail(derr(ReasonMissingField, "body.label_id is required when event is packed"))
		} else if b.Event != BoxPacked && b.LabelID != "" {
			f.fail(derr(ReasonBadValue, "body.label_id is only allowed when event is packed"))
		}
	}
	return b
}
