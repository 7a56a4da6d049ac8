package model

import "fmt"

// Stage TTLs that act, the dynamic ready-for-pickup TTL and the locker expiry
// practice (reminder, one extension, return to sender). The rules:
//
//   - A stage TTL (picked, packed, in_transit) that expires before the next
//     scan always raises an alert (EffAlert, counted by stage in
//     Stats.TTL.Alerts), then the stage's Escalation acts: EscalateAlert
//     does nothing more; EscalateRedispatch emits EffRedispatch (picked: the
//     packing is expedited; packed: the parcel goes to the front of its
//     courier queue and first on its courier's route); EscalateReroute (in
//     transit only) diverts the carrying courier to the nearest partner with
//     space (EffRedirect, a hop, the reroute cost, the in_transit TTL re-armed
//     for the new leg; with hops exhausted or no partner with space it stays
//     an alert). A stage TTL fires at most once per visit of the stage,
//     except that a diversion starts a new in-transit leg.
//   - The ready-for-pickup TTL is the first matching Policy.ReadyRules entry
//     (node occupancy when the parcel becomes ready, subscriber status, local
//     day of week), or Policy.TTL[ReadyForPickup] when no rule matches.
//   - Expiry practice: Policy.Expiry.Reminder before the ready TTL expires
//     the core emits EffRemind (a reminder to the customer); a customer may
//     ask for one extension (EvExtend), granted when Policy.Expiry.Extension
//     is set and the label has not had one: the TTL moves by the extension
//     (EffExtended). An expired ready TTL reroutes to the nearest partner
//     with space, or with Policy.Expiry.Return returns the parcel to sender.

// Escalation is what the core does after the alert when a stage TTL expires.
type Escalation uint8

// Escalations.
const (
	// EscalateAlert: the alert only.
	EscalateAlert Escalation = iota
	// EscalateRedispatch: picked, the packing is expedited; packed, the
	// parcel takes priority for a courier.
	EscalateRedispatch
	// EscalateReroute: in transit, the courier takes the parcel to the
	// nearest partner with space instead.
	EscalateReroute
	numEscalations
)

var escalationNames = [numEscalations]string{"alert", "redispatch", "reroute"}

func (e Escalation) String() string { return enumName(escalationNames[:], int(e), "escalation") }

// ParseEscalation is the inverse of Escalation.String.
func ParseEscalation(s string) (Escalation, bool) {
	i, ok := parseEnum(escalationNames[:], s)
	return Escalation(i), ok
}

// Escalates reports whether escalation e is defined for stage s: alert for
// every stage with a TTL, redispatch for picked and packed, reroute for
// in_transit.
func Escalates(s State, e Escalation) bool {
	switch e {
	case EscalateAlert:
		return true
	case EscalateRedispatch:
		return s == Picked || s == Packed
	case EscalateReroute:
		return s == InTransit
	}
	return false
}

// ReadyRule is one rule of the dynamic ready-for-pickup TTL. A rule matches
// when every condition it sets holds at the instant the parcel becomes ready.
type ReadyRule struct {
	// OccupancyAbove matches when the node's occupied share of its slots and
	// counter space (the parcel included) is above it; < 0 means any.
	OccupancyAbove float64
	// Subscriber: 0 any customer, 1 subscribers only, -1 others only.
	Subscriber int8
	// Weekdays: bit d set matches local day of week d (0 Sunday .. 6
	// Saturday); 0 means any day.
	Weekdays uint8
	TTL      Duration
}

// Matches reports whether the rule matches occupancy occ, subscriber status
// sub and day of week wd.
func (r ReadyRule) Matches(occ float64, sub bool, wd int) bool {
	if r.OccupancyAbove >= 0 && !(occ > r.OccupancyAbove) {
		return false
	}
	if (r.Subscriber > 0 && !sub) || (r.Subscriber < 0 && sub) {
		return false
	}
	return r.Weekdays == 0 || r.Weekdays&(1<<uint(wd)) != 0
}

// Expiry is the locker expiry practice for parcels not picked up in time.
type Expiry struct {
	// Return: an expired ready TTL returns the parcel to sender instead of
	// rerouting it to the nearest partner with space.
	Return bool
	// Reminder: the customer is reminded this long before the ready TTL
	// expires (0: no reminder).
	Reminder Duration
	// Extension: one extension of this length on request (0: none).
	Extension Duration
}

// TTLStats count what the TTL rules did, for measured labels.
type TTLStats struct {
	// Alerts counts expired stage TTLs by stage (picked, packed, in_transit).
	Alerts [numStates]uint64
	// Redispatches counts EscalateRedispatch actions, Diversions in-transit
	// reroutes by EscalateReroute.
	Redispatches, Diversions uint64
	// ReadyExpired counts expired ready-for-pickup TTLs; Reminders and
	// Extensions the reminders sent and extensions granted.
	ReadyExpired, Reminders, Extensions uint64
}

// Weekday is the local day of week of t, 0 Sunday .. 6 Saturday (instant 0,
// 1970-01-01, was a Thursday).
func Weekday(t Instant) int {
	d := int64(DayStart(t)) / int64(Day)
	return int(((d+4)%7 + 7) % 7)
}

// Occupancy is node i's occupied share of its slots and counter space.
func (c *Core) Occupancy(i NodeIndex) float64 {
	nd := &c.Net.Nodes[i]
	cap := nd.Counter + nd.Slots[Small] + nd.Slots[Medium] + nd.Slots[Large]
	if cap <= 0 {
		return 0
	}
	return float64(c.nodes[i].Occupied) / float64(cap)
}

// stageTTL is the TTL of stage s for l entering it at instant at.
func (c *Core) stageTTL(l *Label, s State, at Instant) Duration {
	p := &c.Net.Policy
	if s != ReadyForPickup || (len(p.ReadyRules) == 0 && p.Touch == nil) || l.At == NoNode {
		return p.TTL[s]
	}
	ttl := p.TTL[s]
	occ, wd := c.Occupancy(l.At), Weekday(at)
	for _, r := range p.ReadyRules {
		if r.Matches(occ, l.Subscriber, wd) {
			ttl = r.TTL
			break
		}
	}
	return c.touchReadyTTL(l, ttl, at)
}

// armReminder sets the reminder timer of a label that just became ready.
func (c *Core) armReminder(l *Label) {
	r := c.Net.Policy.Expiry.Reminder
	if l.State != ReadyForPickup || r <= 0 || l.TTLAt == 0 {
		return
	}
	at := l.TTLAt.Add(-r)
	if at <= l.Chain[len(l.Chain)-1].At {
		return
	}
	l.RemindAt = at
	c.emit(Effect{Type: EffSetTimer, Timer: TimerReminder, Label: l.ID, Slab: l.slab, At: at})
}

// cancelReminder drops a pending reminder (the label left ready-for-pickup).
func (c *Core) cancelReminder(l *Label) {
	if l.RemindAt == 0 {
		return
	}
	l.RemindAt = 0
	c.emit(Effect{Type: EffCancelTimer, Timer: TimerReminder, Label: l.ID, Slab: l.slab})
}

// ttlExpired acts on a stage TTL that fired when due.
func (c *Core) ttlExpired(l *Label, at Instant) {
	if l.State != ReadyForPickup {
		c.escalate(l, at)
		return
	}
	if l.Measured {
		c.Stats.TTL.ReadyExpired++
	}
	from := l.At
	c.release(l, at)
	if c.Net.Policy.Expiry.Return {
		c.returned(l, from, at, ReasonTTLExpired)
		return
	}
	c.reroute(l, from, at, ReasonTTLExpired, true)
}

// escalate raises the alert of an expired picked, packed or in-transit TTL
// and carries out the stage's escalation.
func (c *Core) escalate(l *Label, at Instant) {
	if l.Measured {
		c.Stats.Alerts++
		c.Stats.TTL.Alerts[l.State]++
	}
	c.emit(Effect{Type: EffAlert, Label: l.ID, Slab: l.slab, Node: l.Dest, State: l.State, At: at, Reason: ReasonTTLExpired})
	p := &c.Net.Policy
	switch esc := p.Escalate[l.State]; {
	case esc == EscalateRedispatch && Escalates(l.State, esc):
		if l.Measured {
			c.Stats.TTL.Redispatches++
		}
		c.emit(Effect{Type: EffRedispatch, Label: l.ID, Slab: l.slab, Node: l.From, To: l.Dest, State: l.State, At: at, Size: l.Size, Reason: ReasonTTLExpired})
	case esc == EscalateReroute && Escalates(l.State, esc):
		if l.Hops >= p.MaxHops {
			return
		}
		old := l.Dest
		to := c.Nearest(old, l.Size, at, true)
		if to == NoNode {
			return
		}
		l.Hops++
		l.Dest = to
		c.move(l, InTransit, at, old, ReasonTTLExpired)
		c.emit(Effect{Type: EffRedirect, Label: l.ID, Slab: l.slab, Node: old, To: to, At: at, Amount: p.RerouteCost, Reason: ReasonTTLExpired, Hops: int32(l.Hops), Size: l.Size})
		if l.Measured {
			c.Stats.TTL.Diversions++
			c.Stats.Reroutes++
			c.Stats.RerouteCost += p.RerouteCost
		}
	}
}

// remind handles the reminder timer: the customer is reminded of the
// parcel waiting at l.At, due to move on at l.TTLAt.
func (c *Core) remind(l *Label, ev *Event) {
	if l.RemindAt == 0 || ev.At < l.RemindAt || l.State != ReadyForPickup {
		c.reject(ev, RejectStaleTimer)
		return
	}
	l.RemindAt = 0
	if l.Measured {
		c.Stats.TTL.Reminders++
	}
	c.emit(Effect{Type: EffRemind, Label: l.ID, Slab: l.slab, Node: l.At, At: ev.At, Delay: l.TTLAt.Sub(ev.At), Hops: int32(l.Hops)})
}

// extend handles a customer's request for the one extension of a parcel
// waiting for pickup: granted when the policy has an extension, the parcel
// is ready with a TTL running and has not been extended; otherwise rejected
// (RejectIllegalTransition).
func (c *Core) extend(l *Label, ev *Event) {
	ext := c.Net.Policy.Expiry.Extension
	if ext <= 0 || l.State != ReadyForPickup || l.TTLAt == 0 || l.Extended {
		c.reject(ev, RejectIllegalTransition)
		return
	}
	l.Extended = true
	l.TTLAt = l.TTLAt.Add(ext)
	c.emit(Effect{Type: EffCancelTimer, Timer: TimerTTL, Label: l.ID, Slab: l.slab})
	c.emit(Effect{Type: EffSetTimer, Timer: TimerTTL, Label: l.ID, Slab: l.slab, At: l.TTLAt})
	if l.Measured {
		c.Stats.TTL.Extensions++
	}
	c.emit(Effect{Type: EffExtended, Label: l.ID, Slab: l.slab, Node: l.At, At: l.TTLAt, Delay: ext, Hops: int32(l.Hops)})
}

// validateTTL checks the TTL rules of a policy.
func (p *Policy) validateTTL() error {
	for s, e := range p.Escalate {
		if e >= numEscalations || (e != EscalateAlert && !Escalates(State(s), e)) {
			return fmt.Errorf("policy: escalation %s is not defined for stage %s", e, State(s))
		}
	}
	for i, r := range p.ReadyRules {
		if r.TTL <= 0 || r.OccupancyAbove > 1 || r.Subscriber < -1 || r.Subscriber > 1 || r.Weekdays >= 1<<7 {
			return fmt.Errorf("policy: ready rule %d: need a TTL > 0, occupancy <= 1, subscriber -1..1, weekdays 0..6", i)
		}
	}
	if p.Expiry.Reminder < 0 || p.Expiry.Extension < 0 {
		return fmt.Errorf("policy: expiry reminder and extension must be >= 0")
	}
	return nil
}
