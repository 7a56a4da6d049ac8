package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// Berlin-ish test network: a microstore, two lockers, a partner.
func testNet(t testing.TB) *Network {
	t.Helper()
	cell := func(lat, lng float64) Cell {
		c, err := CellAt(lat, lng, 8)
		require.NoError(t, err)
		return c
	}
	n := &Network{
		Resolution: 8,
		Nodes: []Node{
			{ID: "M1", Kind: Microstore, Cell: cell(52.50, 13.40), Counter: 0},
			{ID: "L1", Kind: Locker, Cell: cell(52.51, 13.41), Slots: [NumSizes]int32{1, 1, 0}},
			{ID: "L2", Kind: Locker, Cell: cell(52.52, 13.42), Slots: [NumSizes]int32{0, 2, 1}},
			{ID: "P1", Kind: Partner, Cell: cell(52.515, 13.415), Counter: 1, Hours: Hours{{From: 9 * Hour, To: 20 * Hour}}},
		},
		SKUs: []SKU{{ID: "S1", Size: Small, Price: 10}, {ID: "S2", Size: Medium, Price: 20}, {ID: "S3", Size: Large, Price: 30}},
		Policy: Policy{
			MaxHops: 2, RerouteCost: 3, RerouteDelay: 30 * Minute,
			Cutoff: 14 * Hour, ReadyBy: 22 * Hour, PickupWindow: 24 * Hour,
		},
	}
	n.Policy.TTL[ReadyForPickup] = 24 * Hour
	require.NoError(t, n.Validate())
	return n
}

// day0 is a Monday midnight (local wall clock).
const day0 = Instant(1772409600000) // 2026-03-02T00:00:00Z

func at(h, m int) Instant { return day0 + Instant(Duration(h)*Hour+Duration(m)*Minute) }

const (
	m1 NodeIndex = 0
	l1 NodeIndex = 1
	l2 NodeIndex = 2
	p1 NodeIndex = 3
)

func effectsOf(effs []Effect, typ EffectType) []Effect {
	var out []Effect
	for _, e := range effs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// drive runs a label from order to the given state on a fresh core.
func drive(t *testing.T, c *Core, id LabelID, sku SKUIndex, dest NodeIndex, upto State) {
	t.Helper()
	steps := []Event{
		{Type: EvOrderPlaced, At: at(10, 0), Label: id, SKU: sku, Node: m1, Dest: dest, Size: NoSize, Measured: true},
		{Type: EvScanPicked, At: at(10, 5), Label: id, Node: m1},
		{Type: EvScanPacked, At: at(10, 10), Label: id, Node: m1},
		{Type: EvHandoff, At: at(10, 15), Label: id, Node: m1},
		{Type: EvArrived, At: at(10, 40), Label: id, Node: dest},
		{Type: EvPickup, At: at(12, 0), Label: id, Node: dest},
	}
	for _, ev := range steps {
		l := c.Label(id)
		if l != nil && l.State == upto {
			return
		}
		effs := c.Step(ev)
		require.Empty(t, effectsOf(effs, EffReject), "event %v", ev.Type)
	}
}

func TestTransitionsHappyPath(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		from State
		to   State
		want []EffectType
	}{
		{"order", Event{Type: EvOrderPlaced, At: at(10, 0), Label: 1, SKU: 0, Node: m1, Dest: l1, Size: NoSize}, None, Issued, []EffectType{EffState, EffSetTimer}},
		{"pick", Event{Type: EvScanPicked, At: at(10, 5), Label: 1, Node: m1}, Issued, Picked, []EffectType{EffState}},
		{"pack", Event{Type: EvScanPacked, At: at(10, 10), Label: 1, Node: m1}, Picked, Packed, []EffectType{EffState, EffDispatch}},
		{"handoff", Event{Type: EvHandoff, At: at(10, 15), Label: 1, Node: m1}, Packed, InTransit, []EffectType{EffState}},
		{"arrive", Event{Type: EvArrived, At: at(10, 40), Label: 1, Node: l1}, InTransit, ReadyForPickup, []EffectType{EffState, EffSetTimer, EffSlot, EffCancelTimer, EffNotify}},
		{"pickup", Event{Type: EvPickup, At: at(12, 0), Label: 1, Node: l1}, ReadyForPickup, PickedUp, []EffectType{EffSlot, EffState, EffCancelTimer}},
	}
	c := New(testNet(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if l := c.Label(1); l != nil {
				require.Equal(t, tt.from, l.State)
			}
			effs := c.Step(tt.ev)
			var types []EffectType
			for _, e := range effs {
				types = append(types, e.Type)
			}
			require.Equal(t, tt.want, types)
			st := effectsOf(effs, EffState)
			require.Len(t, st, 1)
			require.Equal(t, tt.from, st[0].Prev)
			require.Equal(t, tt.to, st[0].State)
		})
	}
	require.Nil(t, c.Label(1), "finished labels are released")
	require.Equal(t, 0, c.Live())
	require.Equal(t, uint64(0), c.Stats.RejectedTotal())
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name  string
		setup State // drive label 1 to this state first (None: no label)
		ev    Event
		why   Reason
	}{
		{"unknown label", None, Event{Type: EvScanPicked, Label: 9, At: at(10, 0)}, RejectUnknownLabel},
		{"duplicate label", Issued, Event{Type: EvOrderPlaced, Label: 1, At: at(10, 1), SKU: 0, Node: m1, Dest: l1}, RejectDuplicateLabel},
		{"unknown sku", None, Event{Type: EvOrderPlaced, Label: 2, At: at(10, 1), SKU: 7, Node: m1, Dest: l1}, RejectUnknownSKU},
		{"unknown dest", None, Event{Type: EvOrderPlaced, Label: 2, At: at(10, 1), SKU: 0, Node: m1, Dest: 42}, RejectUnknownNode},
		{"unknown from", None, Event{Type: EvOrderPlaced, Label: 2, At: at(10, 1), SKU: 0, Node: 17, Dest: l1}, RejectUnknownNode},
		{"pack before pick", Issued, Event{Type: EvScanPacked, Label: 1, At: at(10, 1)}, RejectIllegalTransition},
		{"pick twice", Picked, Event{Type: EvScanPicked, Label: 1, At: at(10, 6)}, RejectIllegalTransition},
		{"handoff before pack", Picked, Event{Type: EvHandoff, Label: 1, At: at(10, 6)}, RejectIllegalTransition},
		{"arrive before handoff", Packed, Event{Type: EvArrived, Label: 1, At: at(10, 11), Node: l1}, RejectIllegalTransition},
		{"pickup in transit", InTransit, Event{Type: EvPickup, Label: 1, At: at(10, 20), Node: l1}, RejectIllegalTransition},
		{"arrive at wrong node", InTransit, Event{Type: EvArrived, Label: 1, At: at(10, 20), Node: l2}, RejectWrongNode},
		{"pickup at wrong node", ReadyForPickup, Event{Type: EvPickup, Label: 1, At: at(11, 0), Node: l2}, RejectWrongNode},
		{"cancel when ready", ReadyForPickup, Event{Type: EvCancel, Label: 1, At: at(11, 0)}, RejectIllegalTransition},
		{"ttl timer early", ReadyForPickup, Event{Type: EvTimer, Timer: TimerTTL, Label: 1, At: at(11, 0)}, RejectStaleTimer},
		{"ttl timer with no ttl", Issued, Event{Type: EvTimer, Timer: TimerTTL, Label: 1, At: at(11, 0)}, RejectStaleTimer},
		{"sla timer after ready", ReadyForPickup, Event{Type: EvTimer, Timer: TimerSLA, Label: 1, At: at(22, 0)}, RejectStaleTimer},
		{"sla timer early", Issued, Event{Type: EvTimer, Timer: TimerSLA, Label: 1, At: at(21, 0)}, RejectStaleTimer},
		{"bad timer kind", Issued, Event{Type: EvTimer, Timer: 9, Label: 1, At: at(21, 0)}, RejectBadEvent},
		{"bad event type", Issued, Event{Type: 200, Label: 1, At: at(21, 0)}, RejectIllegalTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(testNet(t))
			if tt.setup != None {
				drive(t, c, 1, 0, l1, tt.setup)
				require.Equal(t, tt.setup, c.Label(1).State)
			}
			before := c.Stats.Transitions
			var chainLen int
			if l := c.Label(1); l != nil {
				chainLen = len(l.Chain)
			}
			effs := c.Step(tt.ev)
			require.Len(t, effs, 1)
			require.Equal(t, EffReject, effs[0].Type)
			require.Equal(t, tt.why, effs[0].Reason)
			require.Equal(t, uint64(1), c.Stats.Rejected[tt.why])
			require.Equal(t, before, c.Stats.Transitions, "a rejected event changes nothing")
			if l := c.Label(1); l != nil {
				require.Equal(t, chainLen, len(l.Chain))
				require.Equal(t, tt.setup, l.State)
			}
		})
	}
}

func TestEveryTableRowIsExercised(t *testing.T) {
	// Each row of Transitions is produced by some scenario below; the test
	// collects the (from, event, to) triples seen and compares.
	seen := map[Transition]bool{}
	record := func(c *Core, ev Event) []Effect {
		effs := c.Step(ev)
		for _, e := range effs {
			if e.Type == EffState {
				seen[Transition{From: e.Prev, On: ev.Type, To: e.State}] = true
			}
		}
		return effs
	}
	net := testNet(t)
	c := New(net)
	// happy path
	for _, ev := range []Event{
		{Type: EvOrderPlaced, At: at(10, 0), Label: 1, SKU: 0, Node: m1, Dest: l1, Size: NoSize},
		{Type: EvScanPicked, At: at(10, 5), Label: 1}, {Type: EvScanPacked, At: at(10, 10), Label: 1},
		{Type: EvHandoff, At: at(10, 15), Label: 1, Node: m1}, {Type: EvArrived, At: at(10, 40), Label: 1, Node: l1},
		{Type: EvPickup, At: at(12, 0), Label: 1, Node: l1},
	} {
		record(c, ev)
	}
	// full locker on arrival -> rerouting -> handoff -> ready, TTL -> rerouting to partner, then returned
	c = New(net)
	drive(t, c, 1, 2, l2, ReadyForPickup) // takes L2's only large slot
	drive(t, c, 2, 2, l2, InTransit)
	record(c, Event{Type: EvArrived, At: at(10, 41), Label: 2, Node: l2})
	require.Equal(t, Rerouting, c.Label(2).State)
	record(c, Event{Type: EvHandoff, At: at(11, 15), Label: 2, Node: l2})
	record(c, Event{Type: EvCancel, At: at(11, 16), Label: 3}) // unknown, ignored
	// TTL expiry of label 1 -> partner P1 (counter 1)
	record(c, Event{Type: EvTimer, Timer: TimerTTL, At: at(10, 40) + Instant(24*Hour), Label: 1})
	require.Equal(t, Rerouting, c.Label(1).State)
	// cancel while rerouting
	record(c, Event{Type: EvCancel, At: at(10, 50) + Instant(24*Hour), Label: 1})
	// cancel in issued, picked, packed
	for i, st := range []State{Issued, Picked, Packed} {
		id := LabelID(10 + i)
		drive(t, c, id, 0, l1, st)
		record(c, Event{Type: EvCancel, At: at(11, 0), Label: id})
	}
	// hops exhausted: MaxHops 0 -> arrival at a full node returns; TTL returns
	net0 := testNet(t)
	net0.Policy.MaxHops = 0
	c = New(net0)
	drive(t, c, 1, 2, l2, ReadyForPickup)
	drive(t, c, 2, 2, l2, InTransit)
	record(c, Event{Type: EvArrived, At: at(10, 41), Label: 2, Node: l2})
	record(c, Event{Type: EvTimer, Timer: TimerTTL, At: at(10, 40) + Instant(24*Hour), Label: 1})
	// in-transit TTL escalated by reroute: the courier diverts to the partner
	netT := testNet(t)
	netT.Policy.TTL[InTransit] = Hour
	netT.Policy.Escalate[InTransit] = EscalateReroute
	c = New(netT)
	drive(t, c, 1, 0, l1, InTransit)
	record(c, Event{Type: EvTimer, Timer: TimerTTL, At: at(11, 15), Label: 1})
	require.Equal(t, p1, c.Label(1).Dest)
	// stockout at placement
	c = New(cacheNet(t, 0, 0, OfflineServe))
	record(c, order(1, at(9, 0)))
	require.Nil(t, c.Label(1))
	// conflicts lost at reconciliation: moved to M2, then cancelled
	for _, m2Stock := range []int32{1, 0} {
		c = New(cacheNet(t, 1, m2Stock, OfflineServe))
		record(c, Event{Type: EvNodeOffline, At: at(9, 0), Node: m1})
		record(c, order(1, at(9, 10)))
		record(c, Event{Type: EvCounterSale, At: at(9, 20), Node: m1, SKU: 0})
		record(c, Event{Type: EvNodeOnline, At: at(10, 0), Node: m1})
	}
	// the first order placement
	seen[Transition{From: None, On: EvOrderPlaced, To: Issued}] = true
	for _, row := range Transitions {
		require.True(t, seen[Transition{From: row.From, On: row.On, To: row.To}], "row %v --%v--> %v never exercised", row.From, row.On, row.To)
	}
	for tr := range seen {
		require.True(t, legalState(tr.From, tr.To), "transition %v -> %v not in the table", tr.From, tr.To)
	}
}

func TestSmallestFittingSlot(t *testing.T) {
	c := New(testNet(t))
	// L2 has 0 small, 2 medium, 1 large: a small parcel takes a medium slot.
	drive(t, c, 1, 0, l2, ReadyForPickup)
	require.Equal(t, Medium, c.Label(1).SlotSize)
	drive(t, c, 2, 0, l2, ReadyForPickup)
	require.Equal(t, Medium, c.Label(2).SlotSize)
	drive(t, c, 3, 0, l2, ReadyForPickup)
	require.Equal(t, Large, c.Label(3).SlotSize)
	require.Equal(t, [NumSizes]int32{0, 0, 0}, c.Node(l2).Free)
	require.Equal(t, int32(3), c.Node(l2).Occupied)
	// a fourth is rerouted to the nearest node that can take it
	drive(t, c, 4, 0, l2, InTransit)
	effs := c.Step(Event{Type: EvArrived, At: at(10, 41), Label: 4, Node: l2})
	rr := effectsOf(effs, EffReroute)
	require.Len(t, rr, 1)
	require.Equal(t, ReasonNodeFull, rr[0].Reason)
	require.Equal(t, int32(1), rr[0].Hops)
	require.Equal(t, 30*Minute, rr[0].Delay)
	require.Equal(t, 3.0, rr[0].Amount)
	// candidates ordered by grid distance from L2: P1 and L1 — whichever is nearer and open
	want := c.Nearest(l2, Small, at(10, 41)+Instant(30*Minute), false)
	require.Equal(t, want, rr[0].To)
	require.Equal(t, want, c.Label(4).Dest)
}

func TestClosedPartnerAndOpeningHours(t *testing.T) {
	net := testNet(t)
	require.True(t, net.Nodes[p1].Hours.OpenAt(at(9, 0)))
	require.False(t, net.Nodes[p1].Hours.OpenAt(at(20, 0)))
	require.Equal(t, at(9, 0)+Instant(Day), net.Nodes[p1].Hours.NextOpen(at(21, 0)))
	require.Equal(t, at(9, 0), net.Nodes[p1].Hours.NextOpen(at(3, 0)))
	c := New(net)
	drive(t, c, 1, 0, p1, Packed)
	c.Step(Event{Type: EvHandoff, At: at(21, 0), Label: 1, Node: m1})
	effs := c.Step(Event{Type: EvArrived, At: at(21, 30), Label: 1, Node: p1})
	rr := effectsOf(effs, EffReroute)
	require.Len(t, rr, 1)
	require.Equal(t, ReasonNodeClosed, rr[0].Reason)
}

func TestPopupActiveWindow(t *testing.T) {
	net := testNet(t)
	net.Nodes[l1].Kind = Popup
	net.Nodes[l1].ActiveFrom, net.Nodes[l1].ActiveUntil = at(0, 0)+Instant(Day), at(0, 0)+Instant(3*Day)
	c := New(net)
	drive(t, c, 1, 0, l1, InTransit)
	effs := c.Step(Event{Type: EvArrived, At: at(10, 40), Label: 1, Node: l1})
	require.Equal(t, ReasonNodeClosed, effectsOf(effs, EffReroute)[0].Reason)
}

func TestSLALateRefund(t *testing.T) {
	tests := []struct {
		name    string
		placed  Instant
		due     Instant
		sameDay bool
	}{
		{"before cutoff", at(13, 59), at(22, 0), true},
		{"after cutoff", at(14, 0), at(22, 0) + Instant(Day), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(testNet(t))
			effs := c.Step(Event{Type: EvOrderPlaced, At: tt.placed, Label: 1, SKU: 1, Node: m1, Dest: l1, Size: NoSize, Measured: true})
			l := c.Label(1)
			require.Equal(t, tt.due, l.Due)
			require.Equal(t, tt.sameDay, l.SameDay)
			timers := effectsOf(effs, EffSetTimer)
			require.Len(t, timers, 1)
			require.Equal(t, TimerSLA, timers[0].Timer)
			require.Equal(t, tt.due, timers[0].At)
			effs = c.Step(Event{Type: EvTimer, Timer: TimerSLA, At: tt.due, Label: 1})
			ref := effectsOf(effs, EffRefund)
			require.Len(t, ref, 1)
			require.Equal(t, 20.0, ref[0].Amount)
			require.True(t, c.Label(1).Late)
			require.Equal(t, uint64(1), c.Stats.Refunds)
			// a second firing is stale, no second refund
			effs = c.Step(Event{Type: EvTimer, Timer: TimerSLA, At: tt.due, Label: 1})
			require.Equal(t, RejectStaleTimer, effs[0].Reason)
			require.Equal(t, uint64(1), c.Stats.Refunds)
		})
	}
}

func TestRefundRules(t *testing.T) {
	for _, tt := range []struct {
		kind        RefundKind
		amount, shr float64
		want        float64
	}{{RefundFull, 0, 0, 20}, {RefundFixed, 5, 0, 5}, {RefundFixed, 50, 0, 20}, {RefundShare, 0, 0.25, 5}} {
		net := testNet(t)
		net.Policy.Refund, net.Policy.RefundAmount, net.Policy.RefundShare = tt.kind, tt.amount, tt.shr
		c := New(net)
		c.Step(Event{Type: EvOrderPlaced, At: at(10, 0), Label: 1, SKU: 1, Node: m1, Dest: l1, Size: NoSize, Measured: true})
		effs := c.Step(Event{Type: EvTimer, Timer: TimerSLA, At: at(22, 0), Label: 1})
		require.InDelta(t, tt.want, effectsOf(effs, EffRefund)[0].Amount, 1e-9)
		// cancelling afterwards refunds the rest of the price
		effs = c.Step(Event{Type: EvCancel, At: at(22, 1), Label: 1})
		if rest := 20 - tt.want; rest > 0 {
			require.InDelta(t, rest, effectsOf(effs, EffRefund)[0].Amount, 1e-9)
		} else {
			require.Empty(t, effectsOf(effs, EffRefund))
		}
	}
}

func TestPickupWithinSLA(t *testing.T) {
	c := New(testNet(t))
	drive(t, c, 1, 0, l1, PickedUp)
	require.Equal(t, uint64(1), c.Stats.PickedUpWithinSLA)
	require.Equal(t, uint64(1), c.Stats.ReadyOnTime)
	// picked up after the window: picked up, not within SLA
	drive(t, c, 2, 0, l1, ReadyForPickup)
	c.Step(Event{Type: EvPickup, At: at(10, 40) + Instant(24*Hour) + 1, Label: 2, Node: l1})
	require.Equal(t, uint64(2), c.Stats.PickedUp)
	require.Equal(t, uint64(1), c.Stats.PickedUpWithinSLA)
	require.InDelta(t, (80.0+24*60)/2, c.Stats.Friction.Mean(), 0.01)
}

func TestProvenanceChain(t *testing.T) {
	c := New(testNet(t))
	c.KeepFinished = true
	var finished []*Label
	c.OnFinish = func(l *Label) { finished = append(finished, l) }
	drive(t, c, 1, 0, l1, PickedUp)
	require.Len(t, finished, 1)
	l := c.Label(1)
	require.NotNil(t, l, "KeepFinished keeps the label")
	require.Len(t, l.Chain, 6)
	require.Equal(t, -1, l.Verify())
	for i := range l.Chain {
		for _, tamper := range []func(e *Entry){
			func(e *Entry) { e.At++ },
			func(e *Entry) { e.Node++ },
			func(e *Entry) { e.Reason++ },
		} {
			cp := *l
			cp.Chain = append([]Entry(nil), l.Chain...)
			tamper(&cp.Chain[i])
			got := cp.Verify()
			require.NotEqual(t, -1, got, "tampering entry %d not detected", i)
			require.LessOrEqual(t, got, i+1)
		}
	}
	// dropping an entry breaks the chain
	cp := *l
	cp.Chain = append(append([]Entry(nil), l.Chain[:2]...), l.Chain[3:]...)
	require.Equal(t, 2, cp.Verify())
}

// TestForget: a finished label kept for the twin can be released; a live
// one cannot; the slab is reused and statistics are untouched.
func TestForget(t *testing.T) {
	c := New(testNet(t))
	c.KeepFinished = true
	drive(t, c, 1, 0, l1, PickedUp)
	drive(t, c, 2, 0, l1, ReadyForPickup)
	stats := c.Stats
	require.False(t, c.Forget(2), "a live label is not released")
	require.False(t, c.Forget(99), "unknown label")
	require.NotNil(t, c.Label(2))
	slab := c.Label(1).Slab()
	require.True(t, c.Forget(1))
	require.Nil(t, c.Label(1))
	require.False(t, c.Forget(1), "already released")
	require.Equal(t, 1, c.Live())
	require.Equal(t, stats, c.Stats)
	drive(t, c, 3, 0, l1, PickedUp)
	require.Equal(t, slab, c.Label(3).Slab(), "the slab is reused")
	require.Len(t, c.Label(3).Chain, 6)
}

func TestSlabReuseAllocationFree(t *testing.T) {
	c := New(testNet(t))
	id := LabelID(0)
	run := func() {
		id++
		for _, ev := range []Event{
			{Type: EvOrderPlaced, At: at(10, 0), Label: id, SKU: 0, Node: m1, Dest: l1, Size: NoSize, Measured: true},
			{Type: EvScanPicked, At: at(10, 5), Label: id}, {Type: EvScanPacked, At: at(10, 10), Label: id},
			{Type: EvHandoff, At: at(10, 15), Label: id, Node: m1}, {Type: EvArrived, At: at(10, 40), Label: id, Node: l1},
			{Type: EvPickup, At: at(12, 0), Label: id, Node: l1},
		} {
			c.Step(ev)
		}
	}
	for i := 0; i < 100; i++ {
		run()
	}
	require.Zero(t, testing.AllocsPerRun(1000, run))
	require.Equal(t, 0, c.Live())
}

// A label that outgrows the small chain moves into a large one, and the
// chains labels give up wait for the next: alternating labels with and
// without a TTL reroute (9 entries, 6) allocate nothing once warm, and
// each holds a chain of its class.
func TestChainsOfTwoSizesReused(t *testing.T) {
	c := New(testNet(t))
	id, day := LabelID(0), Instant(0)
	// what the cycles saw, checked after them (require allocates)
	var rejects, rerouted, broken int
	var caps, lens [2]int
	step := func(e Event) {
		e.Label, e.At = id, e.At+day
		for _, ef := range c.Step(e) {
			if ef.Type == EffReject {
				rejects++
			}
		}
	}
	cycle := func(reroute bool) {
		id++
		day += 2 * Instant(Day)
		step(Event{Type: EvOrderPlaced, At: at(10, 0), SKU: 0, Node: m1, Dest: l1, Size: NoSize, Measured: true})
		step(Event{Type: EvScanPicked, At: at(10, 5)})
		step(Event{Type: EvScanPacked, At: at(10, 10)})
		step(Event{Type: EvHandoff, At: at(10, 15), Node: m1})
		step(Event{Type: EvArrived, At: at(10, 40), Node: l1})
		k, to, later := 0, l1, Instant(0)
		if reroute {
			step(Event{Type: EvTimer, Timer: TimerTTL, At: at(10, 40) + Instant(24*Hour)})
			if c.Label(id).State == Rerouting {
				rerouted++
			}
			k, to, later = 1, c.Label(id).Dest, Instant(24*Hour)
			step(Event{Type: EvHandoff, At: at(11, 15) + later, Node: l1})
			step(Event{Type: EvArrived, At: at(11, 40) + later, Node: to})
		}
		l := c.Label(id)
		caps[k], lens[k] = cap(l.Chain), len(l.Chain)
		if l.Verify() != -1 {
			broken++
		}
		step(Event{Type: EvPickup, At: at(12, 0) + later, Node: to})
	}
	both := func() { cycle(false); cycle(true) }
	for i := 0; i < 10; i++ {
		both()
	}
	require.Zero(t, testing.AllocsPerRun(200, both))
	require.Zero(t, rejects)
	require.Zero(t, broken)
	require.Equal(t, 10+1+200, rerouted, "AllocsPerRun runs it once more to warm up")
	require.Equal(t, [2]int{5, 8}, lens, "entries before the pickup")
	require.Equal(t, [2]int{chainSmall, chainCap}, caps)
	require.Equal(t, 0, c.Live())
	require.Len(t, c.smallFree, 1, "the small chain the rerouted label gave up")
	require.Len(t, c.bigFree, 1, "the large chain the last (rerouted) label gave back when it finished")
}

func TestNearestTiesById(t *testing.T) {
	net := testNet(t)
	// put L2 on the same cell as P1: equal distance from L1, P1 < L2? no: "L2" < "P1"
	net.Nodes[l2].Cell = net.Nodes[p1].Cell
	c := New(net)
	got := c.Nearest(l1, Small, at(10, 0), false)
	require.Equal(t, l2, got)
	require.Equal(t, p1, c.Nearest(l1, Small, at(10, 0), true))
	// nothing open with space -> partner closed at night still chosen on second pass
	require.Equal(t, p1, c.Nearest(l1, Small, at(23, 0), true))
}

func TestGridDistanceFallback(t *testing.T) {
	a, err := CellAt(52.5, 13.4, 8)
	require.NoError(t, err)
	b, err := CellAt(-33.9, 151.2, 8) // Sydney: h3 cannot compute this distance
	require.NoError(t, err)
	d := GridDistance(a, b)
	require.Greater(t, d, 10000)
	require.Equal(t, 0, GridDistance(a, a))
	_, err = CellAt(95, 0, 8)
	require.Error(t, err)
	_, err = ParseCell("nonsense")
	require.Error(t, err)
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 0; i < 1000; i++ {
		h.Add(float64(i % 100))
	}
	require.InDelta(t, 50, h.Quantile(0.5), 1)
	require.InDelta(t, 90, h.Quantile(0.9), 1)
	require.InDelta(t, 49.5, h.Mean(), 1e-9)
}

// TestRefundOnReturn: an order returned before it was ever ready never
// reaches its customer and is refunded its price (less a late refund already
// paid); a parcel returned after it was ready (nobody collected it) is not.
func TestRefundOnReturn(t *testing.T) {
	setup := func(t *testing.T, share float64) *Core {
		net := testNet(t)
		net.Policy.MaxHops = 0 // no reroute: a refused parcel is returned
		if share > 0 {
			net.Policy.Refund, net.Policy.RefundShare = RefundShare, share
		}
		return New(net)
	}
	t.Run("returned on arrival", func(t *testing.T) {
		c := setup(t, 0)
		drive(t, c, 1, 2, l1, InTransit) // SKU 3, large: L1 has no large slot
		effs := stepOK(t, c, Event{Type: EvArrived, At: at(10, 40), Label: 1, Node: l1})
		require.Len(t, effectsOf(effs, EffReturn), 1)
		rf := effectsOf(effs, EffRefund)
		require.Len(t, rf, 1)
		require.InDelta(t, 30, rf[0].Amount, 1e-9)
		require.Equal(t, uint64(1), c.Stats.Refunds)
	})
	t.Run("late, then returned", func(t *testing.T) {
		c := setup(t, 0.25)
		drive(t, c, 1, 2, l1, InTransit)
		effs := stepOK(t, c, Event{Type: EvTimer, Timer: TimerSLA, At: at(22, 0), Label: 1})
		require.InDelta(t, 7.5, effectsOf(effs, EffRefund)[0].Amount, 1e-9)
		effs = stepOK(t, c, Event{Type: EvArrived, At: at(22, 30), Label: 1, Node: l1})
		require.InDelta(t, 22.5, effectsOf(effs, EffRefund)[0].Amount, 1e-9, "the rest of the price")
		require.InDelta(t, 30, c.Stats.RefundAmount, 1e-9)
	})
	t.Run("returned after it was ready", func(t *testing.T) {
		c := setup(t, 0)
		drive(t, c, 1, 0, l1, ReadyForPickup)
		effs := stepOK(t, c, Event{Type: EvTimer, Timer: TimerTTL, At: at(10, 40) + Instant(24*Hour), Label: 1})
		require.Len(t, effectsOf(effs, EffReturn), 1)
		require.Empty(t, effectsOf(effs, EffRefund))
		require.Zero(t, c.Stats.Refunds)
	})
}

// A slab hint (Event.SetSlab, Core.LabelAt) never changes what the core
// does: right, wrong, stale (the label finished and its slab went to
// another) or out of range, every step gives the same effects as the step
// without it, with and without KeepFinished. Neither does prefetching
// with the same hints (Core.Prefetch, PrefetchStep) before each step.
func TestSlabHintNeverChangesAStep(t *testing.T) {
	for _, keep := range []bool{false, true} {
		plain, hinted := New(testNet(t)), New(testNet(t))
		plain.KeepFinished, hinted.KeepFinished = keep, keep
		rng := rand.New(rand.NewPCG(7, uint64(len(fmt.Sprint(keep)))))
		type life struct {
			id   LabelID
			step int
		}
		var lives []life
		next := LabelID(1)
		used := map[string]int{}
		for i := 0; i < 4000; i++ {
			if len(lives) < 6 {
				lives = append(lives, life{id: next})
				next++
			}
			k := rng.IntN(len(lives))
			lf := &lives[k]
			dest := []NodeIndex{l1, l2}[int(lf.id)%2]
			path := []Event{
				{Type: EvOrderPlaced, Label: lf.id, SKU: SKUIndex(lf.id % 2), Node: m1, Dest: dest, Size: NoSize, Measured: true},
				{Type: EvScanPicked, Label: lf.id, Node: m1},
				{Type: EvScanPacked, Label: lf.id, Node: m1},
				{Type: EvHandoff, Label: lf.id, Node: m1},
				{Type: EvArrived, Label: lf.id, Node: dest},
				{Type: EvPickup, Label: lf.id, Node: dest},
				{Type: EvPickup, Label: lf.id, Node: dest}, // after the end: rejected
			}
			ev := path[lf.step]
			ev.At = at(10, 0) + Instant(Duration(i)*Second)
			if lf.step++; lf.step == len(path) {
				lives = append(lives[:k], lives[k+1:]...)
			}
			hev := ev
			kind := "none"
			if l := hinted.Label(ev.Label); l != nil && ev.Type != EvOrderPlaced {
				switch rng.IntN(4) {
				case 0:
					hev.SetSlab(l.Slab())
					kind = "right"
				case 1:
					hev.SetSlab(int32(rng.IntN(hinted.labels.len()+4)) - 2)
					kind = "any"
				case 2:
					hev.SetSlab(-1)
					kind = "none-set"
				}
			} else if ev.Type != EvOrderPlaced {
				hev.SetSlab(int32(rng.IntN(hinted.labels.len() + 1)))
				kind = "stale"
			}
			used[kind]++
			// prefetching reads, never writes: it comes before every
			// hinted step, and the effects must still match
			ps, ss := hinted.Prefetch(ev.Label, hev.slab-1), hinted.PrefetchStep(ev.Label, hev.slab-1)
			require.Equal(t, ps, ss)
			if l := hinted.Label(ev.Label); l != nil && kind != "any" && kind != "stale" {
				require.Equal(t, l.Slab(), ps, "prefetched the label's slab")
			} else if l == nil && uint(hev.slab-1) >= uint(hinted.labels.len()) {
				require.Equal(t, int32(-1), ps, "nothing to prefetch")
			}
			want := append([]Effect(nil), plain.Step(ev)...)
			got := append([]Effect(nil), hinted.StepEvent(&hev)...)
			require.Equal(t, want, got, "event %d (%v of label %d, hint %s)", i, ev.Type, ev.Label, kind)
			if l := plain.Label(ev.Label); l != nil {
				require.Same(t, hinted.Label(ev.Label), hinted.LabelAt(ev.Label, hev.slab-1))
			}
		}
		require.Equal(t, plain.Stats, hinted.Stats)
		kinds := []string{"right", "any", "none-set"}
		if !keep {
			kinds = append(kinds, "stale") // kept labels stay in the index
		}
		for _, kind := range kinds {
			require.Greater(t, used[kind], 50, "hint kind %s exercised (keep %v)", kind, keep)
		}
	}
}

// Core.Prefetch covers a label with lines 64 bytes apart and its last
// byte: right while a label is 129 to 192 bytes.
func TestPrefetchCoversALabel(t *testing.T) {
	size := unsafe.Sizeof(Label{})
	require.Greater(t, size, uintptr(128))
	require.LessOrEqual(t, size, uintptr(192))
}

// At the end of a run labels finish and give up chains that no new label
// takes: each free list keeps at most a quarter as many chains as there
// are live labels (and at least chainPoolMin), the rest go to the
// collector.
func TestChainFreeListsBounded(t *testing.T) {
	c := New(testNet(t))
	c.index.n = 8000 // live labels, as the bound counts them
	for range 5000 {
		c.putChain(make([]Entry, 0, chainSmall))
	}
	require.Len(t, c.smallFree, 2000)
	c.index.n = 0
	for range 5000 {
		c.putChain(make([]Entry, 0, chainCap))
	}
	require.Len(t, c.bigFree, chainPoolMin)
	c.putChain(make([]Entry, 0, 20)) // a chain that grew past chainCap
	require.Len(t, c.bigFree, chainPoolMin)
}

// Once the core is draining, small chains given up go to the collector
// (no new label would take them), large ones are still kept for reroutes.
func TestDrainingKeepsNoSmallChains(t *testing.T) {
	c := New(testNet(t))
	c.index.n = 8000
	c.putChain(make([]Entry, 0, chainSmall))
	require.Len(t, c.smallFree, 1)
	c.Draining()
	for range 100 {
		c.putChain(make([]Entry, 0, chainSmall))
		c.putChain(make([]Entry, 0, chainCap))
	}
	require.Len(t, c.smallFree, 1, "no small chain kept once draining")
	require.Len(t, c.bigFree, 100)
	// a label issued anyway gets a chain and works
	c.Step(Event{Type: EvOrderPlaced, Label: 1, At: at(10, 0), SKU: 0, Node: NoNode, Dest: l1, Size: NoSize})
	require.Equal(t, -1, c.Label(1).Verify())
}

// The list of free slabs has room for every slab from the start, so labels
// finishing all at once (the end of a run) never grow it.
func TestFreeSlabsHaveRoomForEverySlab(t *testing.T) {
	c := New(testNet(t))
	for i := range labelPage + 10 {
		c.Step(Event{Type: EvOrderPlaced, Label: LabelID(i + 1), At: at(10, 0), SKU: 0, Node: NoNode, Dest: l1, Size: NoSize})
	}
	require.Equal(t, labelPage+10, c.Live())
	require.Equal(t, labelPage+10, c.labels.len())
	require.GreaterOrEqual(t, cap(c.free), c.labels.len())
}
