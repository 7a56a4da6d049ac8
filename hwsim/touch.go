package hwsim

import (
	"math"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// window is the order's pickup window on the wire (the touch layer; nil
// without one), in real instants like every other instant of the feed.
func (g *Generator) window(ev model.Event) *wire.PickupWindow {
	w := ev.Window()
	if !w.Has() {
		return nil
	}
	return &wire.PickupWindow{Opens: g.real(w.Open), Closes: g.real(w.Close)}
}

// reward is a reward the core credited at a pickup, in minor units, as
// production reports it with the picked_up state (nil below one cent).
func (g *Generator) reward(amount float64) *wire.Reward {
	minor := math.Round(amount * 100)
	if minor < 1 {
		return nil
	}
	return &wire.Reward{Amount: uint64(min(minor, 100_000_000)), Currency: g.cfg.Currency}
}
