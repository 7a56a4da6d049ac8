package scenarios

import (
	"strconv"
	"strings"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// Escalation says what an expired stage TTL does after its alert: alert
// (nothing more), redispatch (picked, packed) or reroute (in_transit).
type Escalation struct {
	Picked    string `yaml:"picked"`
	Packed    string `yaml:"packed"`
	InTransit string `yaml:"in_transit"`
}

// ReadyTTLRule is one rule of the dynamic ready-for-pickup TTL: the first
// rule whose conditions all hold when a parcel becomes ready gives its TTL.
type ReadyTTLRule struct {
	When ReadyWhen `yaml:"when"`
	TTL  Duration  `yaml:"ttl"`
}

// ReadyWhen are the conditions of a ReadyTTLRule; an absent one always holds.
type ReadyWhen struct {
	OccupancyAbove *Fraction `yaml:"occupancy_above"`
	Subscriber     *bool     `yaml:"subscriber"`
	Weekday        []string  `yaml:"weekday"`
}

// conditional reports whether w sets any condition.
func (w ReadyWhen) conditional() bool {
	return w.OccupancyAbove != nil || w.Subscriber != nil || len(w.Weekday) > 0
}

// Expiry actions.
const (
	ExpiryReroute = "reroute"
	ExpiryReturn  = "return"
)

// Expiry is the locker expiry practice: what an expired ready-for-pickup TTL
// does, the reminder before it, the one extension, and how customers react
// to the reminder.
type Expiry struct {
	Action       string   `yaml:"action"`
	Reminder     Duration `yaml:"reminder"`
	Extension    Duration `yaml:"extension"`
	Respond      Fraction `yaml:"respond"`
	AskExtension Fraction `yaml:"ask_extension"`
}

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func weekdayIndex(s string) int {
	for i, w := range weekdays {
		if strings.EqualFold(s, w) {
			return i
		}
	}
	return -1
}

// ttlPolicy sets the core's TTL rules from labels.escalation, labels.ready_ttl
// and labels.expiry.
func (s *Scenario) ttlPolicy(p *model.Policy) {
	l := &s.Labels
	for st, v := range map[model.State]string{model.Picked: l.Escalation.Picked, model.Packed: l.Escalation.Packed, model.InTransit: l.Escalation.InTransit} {
		p.Escalate[st], _ = model.ParseEscalation(v)
	}
	for _, r := range l.ReadyTTL {
		mr := model.ReadyRule{OccupancyAbove: -1, TTL: r.TTL.Model()}
		if r.When.OccupancyAbove != nil {
			mr.OccupancyAbove = float64(*r.When.OccupancyAbove)
		}
		if r.When.Subscriber != nil {
			mr.Subscriber = -1
			if *r.When.Subscriber {
				mr.Subscriber = 1
			}
		}
		for _, d := range r.When.Weekday {
			if i := weekdayIndex(d); i >= 0 {
				mr.Weekdays |= 1 << uint(i)
			}
		}
		p.ReadyRules = append(p.ReadyRules, mr)
	}
	p.Expiry = model.Expiry{Return: l.Expiry.Action == ExpiryReturn, Reminder: l.Expiry.Reminder.Model(), Extension: l.Expiry.Extension.Model()}
}

// ttlConfig is how the simulated customers react to the expiry practice.
func (s *Scenario) ttlConfig() sim.Expiry {
	return sim.Expiry{Respond: float64(s.Labels.Expiry.Respond), AskExtension: float64(s.Labels.Expiry.AskExtension)}
}

func (c *checker) ttlDefaults() {
	e := &c.s.Labels.Escalation
	for _, f := range []*string{&e.Picked, &e.Packed, &e.InTransit} {
		if *f == "" {
			*f = model.EscalateAlert.String()
		}
	}
	if c.s.Labels.Expiry.Action == "" {
		c.s.Labels.Expiry.Action = ExpiryReroute
	}
}

func (c *checker) validateTTL() {
	l := &c.s.Labels
	for _, f := range []struct {
		key string
		st  model.State
		v   string
		ttl Duration
	}{{"picked", model.Picked, l.Escalation.Picked, l.TTL.Picked}, {"packed", model.Packed, l.Escalation.Packed, l.TTL.Packed},
		{"in_transit", model.InTransit, l.Escalation.InTransit, l.TTL.InTransit}} {
		p := "labels.escalation." + f.key
		e, ok := model.ParseEscalation(f.v)
		switch {
		case !ok || !model.Escalates(f.st, e):
			want := "alert or redispatch"
			if f.st == model.InTransit {
				want = "alert or reroute"
			}
			c.errf(p, "must be %s for the %s stage (got %q)", want, f.key, f.v)
		case e != model.EscalateAlert && f.ttl == 0:
			c.errf(p, "%s needs a TTL for the stage (set labels.ttl.%s)", f.v, f.key)
		}
	}
	uncond := -1
	for i, r := range l.ReadyTTL {
		p := elemPath("labels.ready_ttl", strconv.Itoa(i))
		if uncond >= 0 {
			c.errf(p, "unreachable: rule %d has no conditions and always matches first", uncond)
		}
		if r.TTL <= 0 {
			c.errf(p+".ttl", "required, > 0 (e.g. 24h)")
		}
		seen := map[int]bool{}
		for j, d := range r.When.Weekday {
			dp := elemPath(p+".when.weekday", strconv.Itoa(j))
			k := weekdayIndex(d)
			switch {
			case k < 0:
				c.errf(dp, "must be a day of week mon, tue, wed, thu, fri, sat or sun (got %q)", d)
			case seen[k]:
				c.errf(dp, "day %s listed twice", d)
			}
			seen[k] = true
		}
		if !r.When.conditional() && uncond < 0 {
			uncond = i
		}
	}
	if uncond >= 0 && c.set != nil && c.set["labels.ttl.ready_for_pickup"] {
		c.errf("labels.ttl.ready_for_pickup", "unused: labels.ready_ttl[%d] has no conditions and always gives the TTL (drop that rule to make this the default, or drop this key)", uncond)
	}
	if len(l.ReadyTTL) > 0 && uncond < 0 && l.TTL.ReadyForPickup == 0 {
		c.errf("labels.ready_ttl", "needs a final rule without conditions (e.g. {ttl: 24h}) or labels.ttl.ready_for_pickup as the default")
	}
	x := l.Expiry
	switch x.Action {
	case ExpiryReroute, ExpiryReturn:
	default:
		c.errf("labels.expiry.action", "must be reroute or return (got %q)", x.Action)
	}
	ready := l.TTL.ReadyForPickup > 0 || len(l.ReadyTTL) > 0
	if (x.Reminder > 0 || x.Extension > 0) && !ready {
		c.errf("labels.expiry", "reminder and extension need a ready-for-pickup TTL (labels.ttl.ready_for_pickup or labels.ready_ttl)")
	}
	if x.Respond > 0 && x.Reminder == 0 {
		c.errf("labels.expiry.respond", "only used with expiry.reminder (customers respond to the reminder)")
	}
	if x.Extension > 0 && x.Reminder == 0 {
		c.errf("labels.expiry.extension", "needs expiry.reminder (customers ask for the extension when reminded)")
	}
	if (x.Extension > 0) != (x.AskExtension > 0) {
		if x.Extension > 0 {
			c.errf("labels.expiry.ask_extension", "required with expiry.extension (share of reminded customers who ask, > 0)")
		} else {
			c.errf("labels.expiry.ask_extension", "only used with expiry.extension")
		}
	}
	if x.Reminder > 0 && x.Respond == 0 && x.Extension == 0 {
		c.errf("labels.expiry.reminder", "changes nothing without expiry.respond or expiry.extension")
	}
}
