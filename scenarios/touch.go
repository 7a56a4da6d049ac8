package scenarios

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// Touch is the customer touch layer (touch:): pickup windows chosen at
// checkout and rewards for micro-touchpoints (docs/scenario.md, "Customer
// touch layer"; the model in sim.Touch and model.Touch). Absent: off.
type Touch struct {
	Windows *TouchWindows `yaml:"windows"`
	Rewards TouchRewards  `yaml:"rewards"`
}

// TouchWindows are the pickup windows offered at checkout and how customers
// keep them.
type TouchWindows struct {
	// Share of the customers offered windows who choose one (required).
	Share Fraction `yaml:"share"`
	// Slot is a window's length; Hours the daily spans the windows tile.
	Slot  Duration `yaml:"slot"`
	Hours Hours    `yaml:"hours"`
	// Windows opening between MinLead and Ahead after the order are offered.
	MinLead Duration `yaml:"min_lead"`
	Ahead   Duration `yaml:"ahead"`
	// PerWindow caps the parcels booked per node and window (0: the node's
	// slots plus counter space).
	PerWindow int `yaml:"per_window"`
	// DeliverLead: a windowed order is released for picking this long
	// before its window opens.
	DeliverLead Duration `yaml:"deliver_lead"`
	// BetaPerHour is the window choice's utility per hour until the window
	// opens (negative: sooner is preferred).
	BetaPerHour *float64 `yaml:"beta_per_hour"`
	// Keep is the share who collect inside their window (required); Miss
	// the delay after the window's close of the others.
	Keep Fraction `yaml:"keep"`
	Miss Dist     `yaml:"miss"`
}

// TouchRewards are the credits paid to customers and their effect.
type TouchRewards struct {
	Quick   *QuickReward   `yaml:"quick"`
	OffPeak *OffPeakReward `yaml:"off_peak"`
	// Elasticity: a reward of R converts a share 1 - exp(-Elasticity R) of
	// the customers who would not otherwise earn it (per currency unit).
	Elasticity float64 `yaml:"elasticity"`
}

// QuickReward credits Amount for a pickup within Within of the ready
// notification.
type QuickReward struct {
	Amount float64  `yaml:"amount"`
	Within Duration `yaml:"within"`
}

// OffPeakReward credits Amount for collecting inside a chosen window that
// opens within Hours.
type OffPeakReward struct {
	Amount float64 `yaml:"amount"`
	Hours  Hours   `yaml:"hours"`
}

// Touch defaults.
var (
	DefaultWindowSlot        = Duration(2 * model.Hour)
	DefaultWindowHours       = MustHours("08:00-22:00")
	DefaultWindowMinLead     = Duration(3 * model.Hour)
	DefaultWindowAhead       = Duration(48 * model.Hour)
	DefaultWindowDeliverLead = Duration(2 * model.Hour)
	DefaultWindowBetaPerHour = -0.05
	DefaultWindowMiss        = Dist{Dist: DistExponential, Mean: Duration(3 * model.Hour)}
)

func (c *checker) touchDefaults() {
	t := c.s.Touch
	if t == nil || t.Windows == nil {
		return
	}
	w := t.Windows
	const p = "touch.windows."
	if !c.has(p+"slot", w.Slot != 0) {
		w.Slot = DefaultWindowSlot
	}
	if !c.has(p+"hours", w.Hours != nil) {
		w.Hours = DefaultWindowHours
	}
	if !c.has(p+"min_lead", w.MinLead != 0) {
		w.MinLead = DefaultWindowMinLead
	}
	if !c.has(p+"ahead", w.Ahead != 0) {
		w.Ahead = DefaultWindowAhead
	}
	if !c.has(p+"deliver_lead", w.DeliverLead != 0) {
		w.DeliverLead = DefaultWindowDeliverLead
	}
	if w.BetaPerHour == nil {
		b := DefaultWindowBetaPerHour
		w.BetaPerHour = &b
	}
	if !c.has(p+"miss", w.Miss.Dist != "") {
		w.Miss = DefaultWindowMiss
	}
}

func (c *checker) validateTouch() {
	t := c.s.Touch
	if t == nil {
		return
	}
	if w := t.Windows; w != nil {
		const p = "touch.windows."
		if !c.has(p+"share", w.Share != 0) {
			c.errf(p+"share", "required (share of customers offered windows who choose one, e.g. 60%%)")
		}
		if !c.has(p+"keep", w.Keep != 0) {
			c.errf(p+"keep", "required (share of windowed customers who collect inside their window, e.g. 85%%)")
		}
		if w.Slot <= 0 {
			c.errf(p+"slot", "must be > 0 (got %s)", w.Slot)
		}
		if len(w.Hours) == 0 {
			c.errf(p+"hours", "must list at least one range")
		}
		for _, r := range w.Hours {
			if w.Slot > 0 && Duration(r.To-r.From) < w.Slot {
				c.errf(p+"hours", "range %s is shorter than one slot (%s)", Hours{r}, w.Slot)
				break
			}
		}
		if w.MinLead < 0 {
			c.errf(p+"min_lead", "must be >= 0 (got %s)", w.MinLead)
		}
		if w.Ahead < w.MinLead {
			c.errf(p+"ahead", "must be >= min_lead %s (got %s)", w.MinLead, w.Ahead)
		}
		if w.DeliverLead < 0 {
			c.errf(p+"deliver_lead", "must be >= 0 (got %s)", w.DeliverLead)
		}
		if w.PerWindow < 0 {
			c.errf(p+"per_window", "must be >= 0 (got %d)", w.PerWindow)
		}
		if w.BetaPerHour != nil && *w.BetaPerHour > 0 {
			c.errf(p+"beta_per_hour", "must be <= 0: customers do not prefer later windows (got %v)", *w.BetaPerHour)
		}
		c.dist(p+"miss", w.Miss)
	}
	r := t.Rewards
	const p = "touch.rewards."
	if q := r.Quick; q != nil {
		c.positive(p+"quick.amount", q.Amount)
		if q.Within <= 0 {
			c.errf(p+"quick.within", "required, > 0 (e.g. 4h)")
		}
	}
	if o := r.OffPeak; o != nil {
		c.positive(p+"off_peak.amount", o.Amount)
		if len(o.Hours) == 0 {
			c.errf(p+"off_peak.hours", "required (the daily ranges whose windows are off-peak)")
		}
		if t.Windows == nil {
			c.errf(p+"off_peak", "needs touch.windows: the off-peak reward is for choosing a window")
		}
	}
	if r.Quick != nil || r.OffPeak != nil {
		if c.set != nil && !c.set[p+"elasticity"] {
			c.errf(p+"elasticity", "required with a reward (share converted by a reward R is 1 - exp(-elasticity R); 0 for none)")
		}
		c.nonNegative(p+"elasticity", r.Elasticity)
	} else if c.has(p+"elasticity", r.Elasticity != 0) {
		c.errf(p+"elasticity", "unused: no reward (touch.rewards.quick or off_peak)")
	}
	if t.Windows == nil && r.Quick == nil && r.OffPeak == nil {
		c.errf("touch", "empty: give windows, rewards or both (or drop the section)")
	}
}

// spans converts hours to daily spans, the whole day as one span.
func spans(h Hours) model.Hours {
	if h.IsAllDay() {
		return model.Hours{{From: 0, To: model.Day}}
	}
	return modelHours(h)
}

// touchPolicy is the core's touch rule (nil: no touch section).
func (s *Scenario) touchPolicy() *model.Touch {
	t := s.Touch
	if t == nil {
		return nil
	}
	out := &model.Touch{}
	if q := t.Rewards.Quick; q != nil {
		out.RewardAmount, out.RewardWithin = q.Amount, q.Within.Model()
	}
	if o := t.Rewards.OffPeak; o != nil {
		out.OffPeakReward, out.OffPeak = o.Amount, spans(o.Hours)
	}
	return out
}

// touchConfig is the simulator's touch layer (nil: no touch section).
func (s *Scenario) touchConfig() *sim.Touch {
	t := s.Touch
	if t == nil {
		return nil
	}
	out := &sim.Touch{Elasticity: t.Rewards.Elasticity, Slot: Duration(DefaultWindowSlot).Model(),
		Hours: spans(DefaultWindowHours), Miss: dist(DefaultWindowMiss)}
	if w := t.Windows; w != nil {
		out.Share, out.Keep = float64(w.Share), float64(w.Keep)
		out.Slot, out.Hours = w.Slot.Model(), spans(w.Hours)
		out.MinLead, out.Ahead, out.DeliverLead = w.MinLead.Model(), w.Ahead.Model(), w.DeliverLead.Model()
		out.PerWindow = int32(w.PerWindow)
		if w.BetaPerHour != nil {
			out.BetaPerHour = *w.BetaPerHour
		}
		out.Miss = dist(w.Miss)
	}
	return out
}
