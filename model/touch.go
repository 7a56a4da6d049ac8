package model

import (
	"fmt"
	"math"
)

// The customer touch layer: pickup windows chosen at checkout and rewards
// for micro-touchpoints. It acts only when Policy.Touch is set (nil: off,
// and every order is treated as before: the hot path pays a nil check).
// The rules:
//
//   - An order may carry a pickup window (Event.SetWindow on EvOrderPlaced): the
//     customer chose to collect between Window.Open and Window.Close. The
//     parcel must be ready before the window opens, so a windowed order's
//     SLA deadline (Label.Due) is the window's opening, whatever the
//     same-day cutoff says; a parcel not ready by then is refunded by the
//     SLA rule like any late order. A window that does not close after it
//     opens, or opens before the order, is rejected (RejectBadEvent).
//   - The ready-for-pickup TTL of a windowed parcel runs from the later of
//     its arrival and the window's close, so a parcel delivered before its
//     window is never moved on before the customer's window has passed.
//   - At a verified pickup the core credits rewards (EffReward, Amount): a
//     quick-pickup reward Touch.RewardAmount when the pickup comes within
//     Touch.RewardWithin of the first ready notification, and an off-peak
//     reward Touch.OffPeakReward when the parcel had a window that opens
//     within Touch.OffPeak and is collected inside it. Both can apply.
//   - Stats.Touch counts windowed orders, pickups before, inside and after
//     their windows, windowed parcels not ready when their window opened,
//     and the rewards and their cost (measured labels).

// Window is a pickup window [Open, Close) the customer chose at checkout
// (zero: none).
type Window struct{ Open, Close Instant }

// Has reports whether the window is set.
func (w Window) Has() bool { return w.Open != 0 }

// Touch is the touch layer's policy (Policy.Touch).
type Touch struct {
	// RewardWithin and RewardAmount: a customer who collects within
	// RewardWithin of the first ready notification is credited
	// RewardAmount (either 0: no quick-pickup reward).
	RewardWithin Duration
	RewardAmount float64
	// OffPeak are the daily spans whose windows are off-peak; a parcel
	// whose window opens in one and is collected inside its window earns
	// OffPeakReward (0: no off-peak reward).
	OffPeak       Hours
	OffPeakReward float64
}

// OffPeakWindow reports whether window w opens in the off-peak spans (and
// the policy rewards them).
func (t *Touch) OffPeakWindow(w Window) bool {
	return t.OffPeakReward > 0 && w.Has() && len(t.OffPeak) > 0 && t.OffPeak.OpenAt(w.Open)
}

// TouchStats count what the touch layer did, for measured labels.
type TouchStats struct {
	// Windowed counts orders placed with a pickup window; ReadyLate those
	// whose parcel was first ready after its window opened.
	Windowed, ReadyLate uint64
	// Pickups of windowed parcels: before the window opened, inside it,
	// after it closed.
	BeforeWindow, InWindow, AfterWindow uint64
	// QuickRewards and OffPeakRewards count the rewards credited;
	// RewardCost is their sum.
	QuickRewards, OffPeakRewards uint64
	RewardCost                   float64
}

// touchPlace checks an order's window and makes its opening the SLA
// deadline. It reports false (after rejecting the event) for a bad window.
func (c *Core) touchPlace(ev *Event) bool {
	w := ev.Window()
	if !w.Has() {
		return true
	}
	if w.Close <= w.Open || w.Open < ev.At {
		c.reject(ev, RejectBadEvent)
		return false
	}
	return true
}

// Window is the pickup window of label l (zero: none, or no touch policy).
func (c *Core) Window(l *Label) Window {
	if c.windows == nil || int(l.slab) >= len(c.windows) {
		return Window{}
	}
	return c.windows[l.slab]
}

// touchPlaced records a placed label's window (kept by slab, off the label,
// so labels stay as small as without the touch layer).
func (c *Core) touchPlaced(l *Label, w Window) {
	for int(l.slab) >= len(c.windows) {
		c.windows = append(c.windows, Window{})
	}
	c.windows[l.slab] = w
	if !w.Has() {
		return
	}
	l.Due = w.Open
	if l.Measured {
		c.Stats.Touch.Windowed++
	}
}

// touchReadyTTL is the ready-for-pickup TTL of a windowed label becoming
// ready at instant at: it runs from the later of at and the window's close.
func (c *Core) touchReadyTTL(l *Label, ttl Duration, at Instant) Duration {
	w := c.Window(l)
	if ttl <= 0 || !w.Has() || w.Close <= at {
		return ttl
	}
	return ttl + w.Close.Sub(at)
}

// touchArrived counts a windowed parcel first ready after its window opened.
func (c *Core) touchArrived(l *Label, at Instant) {
	if w := c.Window(l); w.Has() && l.Measured && at > w.Open {
		c.Stats.Touch.ReadyLate++
	}
}

// touchPickup classifies a windowed pickup and credits the rewards.
func (c *Core) touchPickup(l *Label, node NodeIndex, at Instant) {
	t := c.Net.Policy.Touch
	inWindow := false
	w := c.Window(l)
	if w.Has() {
		inWindow = at >= w.Open && at < w.Close
		if l.Measured {
			s := &c.Stats.Touch
			switch {
			case at < w.Open:
				s.BeforeWindow++
			case inWindow:
				s.InWindow++
			default:
				s.AfterWindow++
			}
		}
	}
	var amount float64
	quick := t.RewardAmount > 0 && t.RewardWithin > 0 && l.ReadyAt != 0 && at.Sub(l.ReadyAt) <= t.RewardWithin
	if quick {
		amount += t.RewardAmount
	}
	offPeak := inWindow && t.OffPeakWindow(w)
	if offPeak {
		amount += t.OffPeakReward
	}
	if amount == 0 {
		return
	}
	c.emit(Effect{Type: EffReward, Label: l.ID, Slab: l.slab, Node: node, At: at, Amount: amount, Hops: int32(l.Hops)})
	if l.Measured {
		s := &c.Stats.Touch
		if quick {
			s.QuickRewards++
		}
		if offPeak {
			s.OffPeakRewards++
		}
		s.RewardCost += amount
	}
}

// validateTouch checks the touch policy.
func (p *Policy) validateTouch() error {
	t := p.Touch
	if t == nil {
		return nil
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }
	if t.RewardWithin < 0 || !finite(t.RewardAmount) || !finite(t.OffPeakReward) {
		return fmt.Errorf("policy: touch: reward time and amounts must be >= 0")
	}
	for _, s := range t.OffPeak {
		if s.From < 0 || s.To > Day || s.To <= s.From {
			return fmt.Errorf("policy: touch: off-peak spans must lie within a day, from before to")
		}
	}
	return nil
}
