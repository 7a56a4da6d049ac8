package twin

import (
	"strconv"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// The customer touch layer in the twin: an order may carry the pickup
// window its customer chose at checkout (wire.Order.Window). The driver
// hands it to the core (on the local clock), whose rule makes the window's
// opening the order's SLA deadline when the network has a touch policy
// (scenario section touch); production's sla_deadline for such an order is
// then checked against the core's deadline at once, and a difference is a
// deadline_mismatch divergence. A reward the core credits at a pickup
// (model.EffReward) is compared with the reward on production's picked_up
// report for that pickup: reward_missing, reward_unexpected, reward_amount.

// window is the order's pickup window on the core's local clock (zero
// without one).
func (d *Driver) window(b wire.Order) model.Window {
	if b.Window == nil {
		return model.Window{}
	}
	return model.Window{Open: d.local(b.Window.Opens), Close: d.local(b.Window.Closes)}
}

// deadlineChecker is implemented by observers that check a windowed
// order's deadline (the Comparer).
type deadlineChecker interface {
	Deadline(id model.LabelID, production, core model.Instant, msgID string)
}

// checkDeadline compares production's sla_deadline of a windowed order with
// the core's.
func (d *Driver) checkDeadline(id model.LabelID, b wire.Order, msgID string) {
	l := d.core.Label(id)
	dc, ok := d.obs.(deadlineChecker)
	if l == nil || !ok {
		return
	}
	if prod := d.local(b.SLADeadline); prod != l.Due {
		dc.Deadline(id, prod, l.Due, msgID)
	}
}

// Deadline records a windowed order whose production deadline is not the
// core's.
func (c *Comparer) Deadline(id model.LabelID, production, core model.Instant, msgID string) {
	l, name, msgs := c.core.CoreLabel(id)
	if l == nil {
		return
	}
	c.diverge(Divergence{Label: name, Kind: KindDeadlineMismatch, Node: c.core.NodeName(l.Home), Production: "sla_deadline",
		Core: "window_opens", ProductionAt: production, CoreAt: core, Messages: append(append([]string(nil), msgs...), msgID)})
}

// compareReward compares the reward on production's picked_up report
// (reported at at) with the core's reward for the pickup it matched (the
// core's transition at coreAt).
func (c *Comparer) compareReward(cl *cmpLabel, name string, b wire.LabelState, at, coreAt model.Instant, msgs []string) {
	var core *decision
	for k := range cl.rewards {
		if d := &cl.rewards[k]; !d.matched && d.at == coreAt {
			core = d
			break
		}
	}
	switch {
	case core == nil && b.Reward == nil:
	case core == nil:
		c.diverge(Divergence{Label: name, Kind: KindRewardUnexpected, Node: b.Node, Production: "reward:" + strconv.FormatUint(b.Reward.Amount, 10),
			Core: "no_reward", ProductionAt: at, CoreAt: coreAt, Messages: msgs})
	case b.Reward == nil:
		core.matched = true
		c.diverge(Divergence{Label: name, Kind: KindRewardMissing, Node: b.Node, Production: "no_reward",
			Core: "reward:" + strconv.FormatUint(core.amount, 10), ProductionAt: at, CoreAt: core.at, Messages: msgs})
	default:
		core.matched = true
		if core.amount != b.Reward.Amount {
			c.diverge(Divergence{Label: name, Kind: KindRewardAmount, Node: b.Node, Production: strconv.FormatUint(b.Reward.Amount, 10),
				Core: strconv.FormatUint(core.amount, 10), ProductionAt: at, CoreAt: core.at, Messages: msgs})
		}
	}
}
