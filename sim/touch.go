package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lockstep-sim/lockstep/model"
)

// Touch is the customer touch layer of the simulated city: pickup windows
// chosen at checkout and the customers' response to rewards. The rewards
// themselves (what is paid, when) are the core's rule, Network.Policy.Touch,
// which must be set with it. Config.Touch nil: off (no window is offered,
// no draw is made, results are those of a city without it).
//
// Windows. At checkout, once the customer has chosen a pickup node
// (choice.go), the node's windows are offered: Slot-long windows tiling
// each daily span of Hours (from its start), that open at least MinLead and
// at most Ahead after the order, while the node is active and open (at the
// window's start and its last instant), and that
// have fewer than PerWindow parcels booked at the node (0: as many as the
// node's slots and counter space hold). A share Share of the customers
// offered at least one window choose one, by a logit over the offered
// windows with utility BetaPerHour per hour until the window opens, plus
// Elasticity times the off-peak reward for an off-peak window (model.Touch);
// the others collect as soon as they like, as without the touch layer. A
// windowed order is released for picking DeliverLead before its window
// opens (at once when that has passed), so the parcel waits at the
// microstore rather than in a locker, and must be ready when the window
// opens (the core's SLA rule).
//
// Pickups. At the ready notification a windowed customer (no-shows aside,
// as before) keeps the window with probability Keep, raised for an
// off-peak window by the reward to Keep + (1 - Keep)(1 - exp(-Elasticity *
// OffPeakReward)), and then comes uniformly within what is left of the
// window; the others come Miss after the window closes. A customer without
// a window draws the usual pickup delay; when it exceeds the quick-pickup
// reward time, the reward brings them within it (uniformly over the reward
// time after the notification) with probability 1 - exp(-Elasticity *
// RewardAmount). Visits then wait for the node's opening hours. Draws come
// from the streams "touch/checkout", "touch/window", "touch/keep",
// "touch/when" and "touch/miss"; each ready notification draws the same
// numbers with or without a reward, so scenarios that differ only in their
// rewards share their random numbers.
type Touch struct {
	Share       float64
	Slot        model.Duration
	Hours       model.Hours
	MinLead     model.Duration
	Ahead       model.Duration
	PerWindow   int32
	DeliverLead model.Duration
	BetaPerHour float64
	Keep        float64
	Miss        Dist
	Elasticity  float64
}

// kTouchRelease releases a windowed order for picking. A: label.
const kTouchRelease Kind = 140

func (t *Touch) validate(net *model.Network) error {
	if net.Policy.Touch == nil {
		return fmt.Errorf("touch: the network has no touch policy (model.Touch) to pay its rewards")
	}
	share := func(v float64) bool { return v >= 0 && v <= 1 }
	if !share(t.Share) || !share(t.Keep) {
		return fmt.Errorf("touch: share and keep must be within [0, 1]")
	}
	if t.Slot <= 0 || t.MinLead < 0 || t.Ahead < t.MinLead || t.DeliverLead < 0 || t.PerWindow < 0 {
		return fmt.Errorf("touch: need slot > 0, 0 <= min lead <= ahead, deliver lead >= 0, per window >= 0")
	}
	if len(t.Hours) == 0 {
		return fmt.Errorf("touch: window hours must list at least one span")
	}
	for _, s := range t.Hours {
		if s.From < 0 || s.To > model.Day || s.To-s.From < t.Slot {
			return fmt.Errorf("touch: every window-hours span must lie within a day and hold at least one slot")
		}
	}
	if math.IsNaN(t.BetaPerHour) || math.IsInf(t.BetaPerHour, 0) || !(t.Elasticity >= 0) || math.IsInf(t.Elasticity, 0) {
		return fmt.Errorf("touch: beta per hour must be finite and elasticity >= 0")
	}
	if err := t.Miss.Validate(); err != nil {
		return fmt.Errorf("touch: miss: %w", err)
	}
	return nil
}

// touchState is the world's touch-layer bookkeeping (nil cfg: off).
type touchState struct {
	cfg                       *Touch
	windows                   bool // cfg.Share > 0: windows are offered
	pol                       *model.Touch
	checkout, window          *rand.Rand
	keep, when, miss          *rand.Rand
	booked                    []map[model.Instant]int32 // per node: parcels booked per window opening
	opens                     []model.Instant           // checkout scratch: offered windows
	weights                   []float64
	quickP, offPeakKeep       float64 // conversion shares of the rewards
	windowCapacity            []int32
	offeredOrders, noCapacity uint64 // measured orders offered windows, and with every window full
}

func (w *world) touchInit(st Streams) {
	t := w.cfg.Touch
	if t == nil {
		return
	}
	ts := &w.tc
	ts.cfg, ts.pol = t, w.net.Policy.Touch
	ts.windows = t.Share > 0
	ts.checkout, ts.window = st.Rand("touch/checkout"), st.Rand("touch/window")
	ts.keep, ts.when, ts.miss = st.Rand("touch/keep"), st.Rand("touch/when"), st.Rand("touch/miss")
	ts.booked = make([]map[model.Instant]int32, len(w.net.Nodes))
	ts.windowCapacity = make([]int32, len(w.net.Nodes))
	for i := range w.net.Nodes {
		nd := &w.net.Nodes[i]
		ts.booked[i] = map[model.Instant]int32{}
		c := t.PerWindow
		if c == 0 {
			c = nd.Counter + nd.Slots[model.Small] + nd.Slots[model.Medium] + nd.Slots[model.Large]
		}
		ts.windowCapacity[i] = c
	}
	if p := ts.pol; p.RewardAmount > 0 && p.RewardWithin > 0 {
		ts.quickP = 1 - math.Exp(-t.Elasticity*p.RewardAmount)
	}
	ts.offPeakKeep = t.Keep
	if p := ts.pol; p.OffPeakReward > 0 {
		ts.offPeakKeep = t.Keep + (1-t.Keep)*(1-math.Exp(-t.Elasticity*p.OffPeakReward))
	}
}

// touchWindow is the checkout's window offer at node dest: the window the
// customer chose, or none.
func (w *world) touchWindow(dest model.NodeIndex) model.Window {
	ts := &w.tc
	t := ts.cfg
	now := w.k.Now
	u := ts.checkout.Float64()
	uw := ts.window.Float64()
	ts.opens, ts.weights = ts.opens[:0], ts.weights[:0]
	nd := &w.net.Nodes[dest]
	earliest, latest := now.Add(t.MinLead), now.Add(t.Ahead)
	full := false
	var total float64
	for day := model.DayStart(earliest); day <= latest; day += model.Instant(model.Day) {
		for _, s := range t.Hours {
			for o := s.From; o+t.Slot <= s.To; o += t.Slot {
				open := day + model.Instant(o)
				end := open.Add(t.Slot)
				if open < earliest || open > latest || !nd.ActiveAt(open) || !nd.ActiveAt(end-1) || !nd.Hours.OpenAt(open) || !nd.Hours.OpenAt(end-1) {
					continue
				}
				if ts.booked[dest][open] >= ts.windowCapacity[dest] {
					full = true
					continue
				}
				v := t.BetaPerHour * float64(open.Sub(now)) / float64(model.Hour)
				if ts.pol.OffPeakWindow(model.Window{Open: open, Close: end}) {
					v += t.Elasticity * ts.pol.OffPeakReward
				}
				wt := math.Exp(v)
				total += wt
				ts.opens = append(ts.opens, open)
				ts.weights = append(ts.weights, wt)
			}
		}
	}
	measured := !w.k.InWarmup()
	if len(ts.opens) == 0 {
		if full && measured {
			ts.noCapacity++
		}
		return model.Window{}
	}
	if measured {
		ts.offeredOrders++
	}
	if u >= t.Share || !(total > 0) {
		return model.Window{}
	}
	x, k := uw*total, 0
	for k < len(ts.weights)-1 && x >= ts.weights[k] {
		x -= ts.weights[k]
		k++
	}
	open := ts.opens[k]
	ts.booked[dest][open]++
	return model.Window{Open: open, Close: open.Add(t.Slot)}
}

// touchRelease is when a windowed order is released for picking.
func (w *world) touchRelease(win model.Window) model.Instant {
	return win.Open.Add(-w.tc.cfg.DeliverLead)
}

// touchReleased: a windowed order's release time came.
func (w *world) touchReleased(id int32) {
	if l := w.core.Label(model.LabelID(id)); l != nil && l.State == model.Issued {
		w.toPick(id, false)
	}
}

// touchVisit is the instant the customer of l, notified now and otherwise
// coming after delay d, comes under the touch layer.
func (w *world) touchVisit(l *model.Label, d model.Duration) model.Instant {
	ts := &w.tc
	now := w.k.Now
	uk, uw := ts.keep.Float64(), ts.when.Float64()
	miss := ts.cfg.Miss.Sample(ts.miss)
	if win := w.core.Window(l); win.Has() {
		keep := ts.cfg.Keep
		if ts.pol.OffPeakWindow(win) {
			keep = ts.offPeakKeep
		}
		from := max(now, win.Open)
		if uk < keep && from < win.Close {
			return from.Add(model.Duration(uw * float64(win.Close.Sub(from))))
		}
		return max(now, win.Close).Add(miss)
	}
	if within := ts.pol.RewardWithin; d > within && uk < ts.quickP {
		return now.Add(model.Duration(uw * float64(within)))
	}
	return now.Add(d)
}

// touchReward books a reward the core credited.
func (w *world) touchReward(e *model.Effect) {
	if w.labs[e.Slab].measured {
		w.accs[e.Node].cost += e.Amount
	}
}

// TouchResult is the touch layer's checkout over the measured orders.
type TouchResult struct {
	// Offered counts orders whose customer was offered at least one window;
	// Full those whose node had windows in range but all of them booked up.
	Offered, Full uint64
}

func (w *world) touchResult() {
	if w.tc.cfg == nil {
		return
	}
	w.res.Touch = &TouchResult{Offered: w.tc.offeredOrders, Full: w.tc.noCapacity}
}
