package hwsim

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// window is the order's pickup window on the wire (the touch layer; nil
// without one), in real instants like every other instant of the feed.
func (g *Generator) window(ev model.Event) *wire.PickupWindow {
	if !ev.Window.Has() {
		return nil
	}
	return &wire.PickupWindow{Opens: g.real(ev.Window.Open), Closes: g.real(ev.Window.Close)}
}
