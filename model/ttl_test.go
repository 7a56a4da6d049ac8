package model

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// stageEntry is when drive() moves a label into each stage.
var stageEntry = map[State]Instant{Picked: at(10, 5), Packed: at(10, 10), InTransit: at(10, 15)}

func TestStageTTLFiresExactlyWhenDue(t *testing.T) {
	tests := []struct {
		stage  State
		esc    Escalation
		action EffectType // EffNone: the alert only
	}{
		{Picked, EscalateAlert, EffNone},
		{Picked, EscalateRedispatch, EffRedispatch},
		{Packed, EscalateAlert, EffNone},
		{Packed, EscalateRedispatch, EffRedispatch},
		{InTransit, EscalateAlert, EffNone},
		{InTransit, EscalateReroute, EffRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.stage.String()+"/"+tt.esc.String(), func(t *testing.T) {
			net := testNet(t)
			net.Policy.TTL[tt.stage] = 30 * Minute
			net.Policy.Escalate[tt.stage] = tt.esc
			c := New(net)
			drive(t, c, 1, 0, l1, tt.stage)
			due := stageEntry[tt.stage].Add(30 * Minute)
			require.Equal(t, due, c.Label(1).TTLAt)

			// a millisecond early: stale, nothing happens
			effs := c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: due - 1, Label: 1})
			require.Len(t, effs, 1)
			require.Equal(t, RejectStaleTimer, effs[0].Reason)
			require.Zero(t, c.Stats.Alerts)

			effs = c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: due, Label: 1})
			alerts := effectsOf(effs, EffAlert)
			require.Len(t, alerts, 1)
			require.Equal(t, tt.stage, alerts[0].State)
			require.Equal(t, ReasonTTLExpired, alerts[0].Reason)
			require.Equal(t, uint64(1), c.Stats.TTL.Alerts[tt.stage])
			require.Equal(t, uint64(1), c.Stats.Alerts)
			for _, typ := range []EffectType{EffRedispatch, EffRedirect} {
				got := effectsOf(effs, typ)
				if typ != tt.action {
					require.Empty(t, got, "%v", typ)
					continue
				}
				require.Len(t, got, 1)
				e := got[0]
				switch typ {
				case EffRedispatch:
					require.Equal(t, tt.stage, e.State)
					require.Equal(t, m1, e.Node)
					require.Equal(t, uint64(1), c.Stats.TTL.Redispatches)
				case EffRedirect:
					require.Equal(t, l1, e.Node)
					require.Equal(t, p1, e.To, "nearest partner with space")
					require.Equal(t, int32(1), e.Hops)
					require.Equal(t, uint64(1), c.Stats.Reroutes)
					require.Equal(t, uint64(1), c.Stats.TTL.Diversions)
				}
			}
			l := c.Label(1)
			require.Equal(t, tt.stage, l.State, "no state change but the diversion's self-loop")
			if tt.action == EffRedirect {
				require.Equal(t, p1, l.Dest)
				require.Equal(t, due.Add(30*Minute), l.TTLAt, "a new leg gets a new TTL")
				require.Equal(t, -1, l.Verify())
				// the diverted parcel is accepted at the partner
				effs = c.Step(Event{Type: EvArrived, At: due.Add(10 * Minute), Label: 1, Node: p1})
				require.Empty(t, effectsOf(effs, EffReject))
				require.Equal(t, ReadyForPickup, c.Label(1).State)
			} else {
				require.Zero(t, l.TTLAt, "a stage TTL fires once per visit")
				// the same timer again is stale
				effs = c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: due.Add(Hour), Label: 1})
				require.Equal(t, RejectStaleTimer, effs[0].Reason)
			}
		})
	}
}

func TestStageTTLNoAlertWhenScannedInTime(t *testing.T) {
	for _, stage := range []State{Picked, Packed, InTransit} {
		t.Run(stage.String(), func(t *testing.T) {
			net := testNet(t)
			net.Policy.TTL[stage] = 30 * Minute
			net.Policy.Escalate[stage] = map[State]Escalation{Picked: EscalateRedispatch, Packed: EscalateRedispatch, InTransit: EscalateReroute}[stage]
			c := New(net)
			drive(t, c, 1, 0, l1, stage)
			// the next scan (drive's steps are 5 to 25 minutes apart) cancels the TTL
			next := map[State]State{Picked: Packed, Packed: InTransit, InTransit: ReadyForPickup}[stage]
			var effs []Effect
			for c.Label(1).State != next {
				l := c.Label(1)
				ev := map[State]Event{
					Picked:    {Type: EvScanPacked, At: at(10, 10), Label: 1},
					Packed:    {Type: EvHandoff, At: at(10, 15), Label: 1, Node: m1},
					InTransit: {Type: EvArrived, At: at(10, 40), Label: 1, Node: l1},
				}[l.State]
				effs = c.Step(ev)
			}
			cancels := effectsOf(effs, EffCancelTimer)
			require.NotEmpty(t, cancels)
			require.Equal(t, TimerTTL, cancels[0].Timer)
			// the cancelled timer, had the driver fired it anyway, is stale
			// (after a handoff no TTL runs; after arrival the 24h ready TTL
			// does, and is not due yet)
			due := stageEntry[stage].Add(30 * Minute)
			effs = c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: due, Label: 1})
			require.Equal(t, RejectStaleTimer, effs[0].Reason)
			require.Zero(t, c.Stats.Alerts)
			require.Zero(t, c.Stats.TTL.Alerts[stage])
			require.Empty(t, effectsOf(effs, EffRedispatch))
		})
	}
}

func TestStageTTLRerouteBoundedByHops(t *testing.T) {
	net := testNet(t)
	net.Policy.TTL[InTransit] = 30 * Minute
	net.Policy.Escalate[InTransit] = EscalateReroute
	net.Policy.MaxHops = 0
	c := New(net)
	drive(t, c, 1, 0, l1, InTransit)
	effs := c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: at(10, 45), Label: 1})
	require.Len(t, effectsOf(effs, EffAlert), 1)
	require.Empty(t, effectsOf(effs, EffRedirect), "hops exhausted: the alert only")
	require.Equal(t, l1, c.Label(1).Dest)
}

func TestWeekday(t *testing.T) {
	for d, want := range []int{1, 2, 3, 4, 5, 6, 0} { // day0 is a Monday
		day := day0 + Instant(Duration(d)*Day)
		require.Equal(t, want, Weekday(day), "day %d", d)
		require.Equal(t, want, Weekday(day+Instant(Day-1)), "day %d, last ms", d)
	}
}

func TestReadyTTLRuleSelection(t *testing.T) {
	const weekend = 1<<0 | 1<<6
	rules := []ReadyRule{
		{OccupancyAbove: 0.85, Subscriber: 0, TTL: 12 * Hour},
		{OccupancyAbove: -1, Subscriber: 1, TTL: 48 * Hour},
		{OccupancyAbove: -1, Weekdays: weekend, TTL: 36 * Hour},
		{OccupancyAbove: -1, Subscriber: -1, Weekdays: 1 << 1, TTL: 20 * Hour},
	}
	tests := []struct {
		name string
		occ  float64
		sub  bool
		wd   int
		want Duration // 0: no rule matches, the constant applies
	}{
		{"full node wins over subscriber", 0.9, true, 6, 12 * Hour},
		{"exactly at the threshold is not above", 0.85, false, 2, 0},
		{"subscriber", 0.5, true, 6, 48 * Hour},
		{"weekend", 0.5, false, 0, 36 * Hour},
		{"monday non-subscriber", 0.5, false, 1, 20 * Hour},
		{"monday subscriber hits rule 2 first", 0.5, true, 1, 48 * Hour},
		{"weekday, nothing matches", 0.5, false, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Duration
			for _, r := range rules {
				if r.Matches(tt.occ, tt.sub, tt.wd) {
					got = r.TTL
					break
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestReadyTTLDynamicInTheCore(t *testing.T) {
	tests := []struct {
		name    string
		rules   []ReadyRule
		sub     bool
		dayOff  int // days after day0 (a Monday)
		fill    bool
		wantTTL Duration
	}{
		{"constant without rules", nil, false, 0, false, 24 * Hour},
		{"no match falls back to the constant", []ReadyRule{{OccupancyAbove: -1, Subscriber: 1, TTL: 48 * Hour}}, false, 0, false, 24 * Hour},
		{"subscriber", []ReadyRule{{OccupancyAbove: -1, Subscriber: 1, TTL: 48 * Hour}}, true, 0, false, 48 * Hour},
		{"saturday", []ReadyRule{{OccupancyAbove: -1, Weekdays: 1 << 6, TTL: 36 * Hour}}, false, 5, false, 36 * Hour},
		{"occupancy counts the parcel itself", []ReadyRule{{OccupancyAbove: 0.4, TTL: 12 * Hour}}, false, 0, false, 12 * Hour},
		{"occupancy below", []ReadyRule{{OccupancyAbove: 0.6, TTL: 12 * Hour}}, false, 0, false, 24 * Hour},
		{"occupancy above with the other slot taken", []ReadyRule{{OccupancyAbove: 0.6, TTL: 12 * Hour}}, false, 0, true, 12 * Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := testNet(t)
			net.Policy.ReadyRules = tt.rules
			c := New(net)
			off := Instant(Duration(tt.dayOff) * Day)
			if tt.fill { // label 9 takes L1's medium slot first (L1 has 2 slots)
				c.Step(Event{Type: EvOrderPlaced, At: at(9, 0) + off, Label: 9, SKU: 1, Node: m1, Dest: l1, Size: NoSize})
				for _, ev := range []Event{{Type: EvScanPicked}, {Type: EvScanPacked}, {Type: EvHandoff, Node: m1}, {Type: EvArrived, Node: l1}} {
					ev.At, ev.Label = at(9, 30)+off, 9
					c.Step(ev)
				}
				require.Equal(t, ReadyForPickup, c.Label(9).State)
			}
			c.Step(Event{Type: EvOrderPlaced, At: at(10, 0) + off, Label: 1, SKU: 0, Node: m1, Dest: l1, Size: NoSize, Subscriber: tt.sub})
			var effs []Effect
			for _, ev := range []Event{{Type: EvScanPicked}, {Type: EvScanPacked}, {Type: EvHandoff, Node: m1}, {Type: EvArrived, Node: l1}} {
				ev.At, ev.Label = at(10, 30)+off, 1
				effs = c.Step(ev)
			}
			require.Equal(t, ReadyForPickup, c.Label(1).State)
			ready := at(10, 30) + off
			require.Equal(t, ready.Add(tt.wantTTL), c.Label(1).TTLAt)
			timers := effectsOf(effs, EffSetTimer)
			require.Len(t, timers, 1)
			require.Equal(t, ready.Add(tt.wantTTL), timers[0].At)
		})
	}
}

// readyWithExpiry returns a core whose label 1 became ready at L1 at 10:40
// (TTL 24h), with the given expiry practice.
func readyWithExpiry(t *testing.T, x Expiry) *Core {
	net := testNet(t)
	net.Policy.Expiry = x
	c := New(net)
	drive(t, c, 1, 0, l1, ReadyForPickup)
	require.Equal(t, ReadyForPickup, c.Label(1).State)
	return c
}

func TestExpiryReminderExtensionReturn(t *testing.T) {
	ready := at(10, 40)
	expiry := ready.Add(24 * Hour)
	c := readyWithExpiry(t, Expiry{Return: true, Reminder: 6 * Hour, Extension: 12 * Hour})
	l := c.Label(1)
	require.Equal(t, expiry, l.TTLAt)
	require.Equal(t, expiry.Add(-6*Hour), l.RemindAt)

	// reminder: early is stale, on time reminds with the time left
	effs := c.Step(Event{Type: EvTimer, Timer: TimerReminder, At: l.RemindAt - 1, Label: 1})
	require.Equal(t, RejectStaleTimer, effs[0].Reason)
	effs = c.Step(Event{Type: EvTimer, Timer: TimerReminder, At: expiry.Add(-6 * Hour), Label: 1})
	rem := effectsOf(effs, EffRemind)
	require.Len(t, rem, 1)
	require.Equal(t, 6*Hour, rem[0].Delay)
	require.Equal(t, l1, rem[0].Node)
	require.Equal(t, uint64(1), c.Stats.TTL.Reminders)
	require.Zero(t, c.Label(1).RemindAt)

	// one extension, granted once
	effs = c.Step(Event{Type: EvExtend, At: expiry.Add(-5 * Hour), Label: 1})
	ext := effectsOf(effs, EffExtended)
	require.Len(t, ext, 1)
	require.Equal(t, expiry.Add(12*Hour), ext[0].At)
	require.Equal(t, 12*Hour, ext[0].Delay)
	require.Equal(t, expiry.Add(12*Hour), effectsOf(effs, EffSetTimer)[0].At)
	require.Equal(t, TimerTTL, effectsOf(effs, EffCancelTimer)[0].Timer)
	require.True(t, c.Label(1).Extended)
	effs = c.Step(Event{Type: EvExtend, At: expiry.Add(-4 * Hour), Label: 1})
	require.Equal(t, RejectIllegalTransition, effs[0].Reason, "only one extension")
	require.Equal(t, uint64(1), c.Stats.TTL.Extensions)

	// the old expiry is stale now; the new one returns the parcel to sender
	effs = c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: expiry, Label: 1})
	require.Equal(t, RejectStaleTimer, effs[0].Reason)
	require.Equal(t, ReadyForPickup, c.Label(1).State)
	effs = c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: expiry.Add(12 * Hour), Label: 1})
	require.Len(t, effectsOf(effs, EffReturn), 1)
	require.Empty(t, effectsOf(effs, EffReroute))
	require.Empty(t, effectsOf(effs, EffRefund), "a no-show return is not refunded")
	require.Equal(t, uint64(1), c.Stats.TTL.ReadyExpired)
	require.Equal(t, uint64(1), c.Stats.Returned)
	require.Zero(t, c.Stats.Reroutes)
}

func TestExpiryRerouteIsTheDefault(t *testing.T) {
	c := readyWithExpiry(t, Expiry{})
	require.Zero(t, c.Label(1).RemindAt, "no reminder configured")
	effs := c.Step(Event{Type: EvTimer, Timer: TimerTTL, At: at(10, 40).Add(24 * Hour), Label: 1})
	require.Len(t, effectsOf(effs, EffReroute), 1)
	require.Equal(t, Rerouting, c.Label(1).State)
}

func TestExpiryReminderCancelledOnPickup(t *testing.T) {
	c := readyWithExpiry(t, Expiry{Reminder: 6 * Hour})
	remind := c.Label(1).RemindAt
	effs := c.Step(Event{Type: EvPickup, At: at(12, 0), Label: 1, Node: l1})
	var kinds []TimerKind
	for _, e := range effectsOf(effs, EffCancelTimer) {
		kinds = append(kinds, e.Timer)
	}
	require.Contains(t, kinds, TimerReminder)
	require.Equal(t, uint64(1), c.Stats.PickedUp)
	// KeepFinished is off: the label is gone and its reminder would be unknown
	effs = c.Step(Event{Type: EvTimer, Timer: TimerReminder, At: remind, Label: 1})
	require.Equal(t, RejectUnknownLabel, effs[0].Reason)
}

func TestExtensionRefused(t *testing.T) {
	tests := []struct {
		name string
		x    Expiry
		upto State
	}{
		{"no extension in the policy", Expiry{Reminder: Hour}, ReadyForPickup},
		{"not ready yet", Expiry{Extension: Hour}, InTransit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := testNet(t)
			net.Policy.Expiry = tt.x
			c := New(net)
			drive(t, c, 1, 0, l1, tt.upto)
			effs := c.Step(Event{Type: EvExtend, At: at(11, 0), Label: 1})
			require.Equal(t, RejectIllegalTransition, effs[0].Reason)
			require.False(t, c.Label(1).Extended)
		})
	}
}

func TestSnapshotKeepsExpiryState(t *testing.T) {
	x := Expiry{Reminder: 6 * Hour, Extension: 12 * Hour}
	c := readyWithExpiry(t, x)
	// label 2 is reminded and extended, label 1 waits for its reminder
	drive(t, c, 2, 1, l1, ReadyForPickup)
	c.Step(Event{Type: EvTimer, Timer: TimerReminder, At: c.Label(2).RemindAt, Label: 2})
	c.Step(Event{Type: EvExtend, At: c.Label(2).TTLAt.Add(-Hour), Label: 2})
	require.True(t, c.Label(2).Extended)
	data, err := c.MarshalBinary()
	require.NoError(t, err)

	d := New(c.Net)
	require.NoError(t, d.UnmarshalBinary(data))
	for _, id := range []LabelID{1, 2} {
		a, b := c.Label(id), d.Label(id)
		require.Equal(t, a.RemindAt, b.RemindAt, "label %d", id)
		require.Equal(t, a.Extended, b.Extended, "label %d", id)
		require.Equal(t, a.TTLAt, b.TTLAt, "label %d", id)
	}
	require.Equal(t, c.Stats.TTL, d.Stats.TTL)
	again, err := d.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, data, again)

	// the restored core goes on like the original: label 2 cannot extend twice
	effs := d.Step(Event{Type: EvExtend, At: d.Label(2).TTLAt.Add(-Hour), Label: 2})
	require.Equal(t, RejectIllegalTransition, effs[0].Reason)
	effs = d.Step(Event{Type: EvTimer, Timer: TimerReminder, At: d.Label(1).RemindAt, Label: 1})
	require.Len(t, effectsOf(effs, EffRemind), 1)

	// another TTL policy is another network
	other := *c.Net
	other.Policy.Expiry.Extension = 24 * Hour
	require.ErrorIs(t, New(&other).UnmarshalBinary(data), ErrSnapshotNetwork)
}

func TestPolicyTTLValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Policy)
		ok   bool
	}{
		{"defaults", func(*Policy) {}, true},
		{"all escalations where defined", func(p *Policy) {
			p.Escalate[Picked], p.Escalate[Packed], p.Escalate[InTransit] = EscalateRedispatch, EscalateRedispatch, EscalateReroute
		}, true},
		{"reroute when packed", func(p *Policy) { p.Escalate[Packed] = EscalateReroute }, false},
		{"redispatch in transit", func(p *Policy) { p.Escalate[InTransit] = EscalateRedispatch }, false},
		{"redispatch when ready", func(p *Policy) { p.Escalate[ReadyForPickup] = EscalateRedispatch }, false},
		{"rule without TTL", func(p *Policy) { p.ReadyRules = []ReadyRule{{OccupancyAbove: -1}} }, false},
		{"occupancy above 1", func(p *Policy) { p.ReadyRules = []ReadyRule{{OccupancyAbove: 1.5, TTL: Hour}} }, false},
		{"negative reminder", func(p *Policy) { p.Expiry.Reminder = -Hour }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := testNet(t)
			tt.edit(&net.Policy)
			if tt.ok {
				require.NoError(t, net.Validate())
			} else {
				require.Error(t, net.Validate())
			}
		})
	}
}
