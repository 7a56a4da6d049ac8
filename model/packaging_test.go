package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// boxNet is testNet with reusable packaging: SKU S1 in template "tote"
// (small boxes, pool 2 at the microstore M1), S2 and S3 single-use.
func boxNet(t testing.TB, pool int32) *Network {
	n := testNet(t)
	n.Packaging = &Packaging{Types: []BoxType{{ID: "tote", Size: Small, Pool: pool, MassKg: 0.2}}, SKUType: []int8{0, -1, -1}}
	return n
}

// boxOf returns the state and node of box b.
func boxOf(t *testing.T, c *Core, b BoxID) (BoxState, NodeIndex) {
	t.Helper()
	s, n, ok := c.Box(b)
	require.True(t, ok, "box %v", b)
	return s, n
}

func TestBoxLifecycle(t *testing.T) {
	c := New(boxNet(t, 2))
	require.Equal(t, 2, c.PoolLevel(m1))
	drive(t, c, 1, 0, l2, PickedUp) // S1 picked up at L2
	l := c.Label(1)
	require.Nil(t, l, "finished labels are released")
	st := c.BoxStats()
	assert.Equal(t, uint64(1), st.Packed)
	assert.Equal(t, uint64(1), st.Reusable)
	assert.InDelta(t, 0.2, st.AvoidedKg, 1e-12)
	s, _ := boxOf(t, c, 1)
	require.Equal(t, BoxWithCustomer, s, "box-1 is the top of the pool")
	require.Equal(t, 1, c.PoolLevel(m1))
	require.Equal(t, int64(1), c.BoxesOut())

	// the customer returns it at L2: it takes L2's smallest fitting free slot
	before := c.Node(l2).Free
	effs := c.Step(Event{Type: EvBoxReturn, At: at(13, 0), Node: l2, Box: 1})
	require.Empty(t, effectsOf(effs, EffReject))
	sl := effectsOf(effs, EffBoxSlot)
	require.Len(t, sl, 1)
	assert.Equal(t, Medium, sl[0].Size)
	assert.Equal(t, before[Medium]-1, c.Node(l2).Free[Medium])
	assert.Equal(t, 1, c.BoxesWaiting(l2))
	// a courier collects it: space freed
	effs = c.Step(Event{Type: EvBoxCollect, At: at(14, 0), Node: l2, Box: 1})
	require.Empty(t, effectsOf(effs, EffReject))
	assert.Equal(t, before, c.Node(l2).Free)
	s, _ = boxOf(t, c, 1)
	require.Equal(t, BoxRiding, s)
	// home at the microstore
	effs = c.Step(Event{Type: EvBoxHome, At: at(15, 0), Node: m1, Box: 1})
	require.Len(t, effectsOf(effs, EffBoxBack), 1)
	require.Equal(t, 2, c.PoolLevel(m1))
	require.Equal(t, int64(0), c.BoxesOut())
	st = c.BoxStats()
	require.Equal(t, uint64(1), st.Cycle.N)
	// packed 10:10, home 15:00: 290 minutes
	assert.InDelta(t, 290, st.Cycle.Sum, 1e-9)
	// Little's law holds exactly over a window that holds the whole cycle
	assert.Equal(t, int64(290*Minute), c.BoxesOutTime(at(23, 0)))
}

func TestBoxStockoutAndSingleUse(t *testing.T) {
	c := New(boxNet(t, 1))
	drive(t, c, 1, 0, l1, Packed)
	drive(t, c, 2, 0, l2, Packed)
	drive(t, c, 3, 1, l2, Packed) // S2: single-use template, not a stockout
	require.Equal(t, BoxID(1), c.Label(1).Box)
	require.Equal(t, BoxID(0), c.Label(2).Box)
	require.Equal(t, BoxID(0), c.Label(3).Box)
	st := c.BoxStats()
	assert.Equal(t, uint64(3), st.Packed)
	assert.Equal(t, uint64(1), st.Reusable)
	assert.Equal(t, uint64(1), st.Stockouts)
	// cancelling the boxed parcel puts its box back at once
	effs := c.Step(Event{Type: EvCancel, At: at(11, 0), Label: 1})
	require.Len(t, effectsOf(effs, EffBoxBack), 1)
	require.Equal(t, 1, c.PoolLevel(m1))
}

func TestBoxNoPackagingNoEffects(t *testing.T) {
	c := New(testNet(t))
	drive(t, c, 1, 0, l1, PickedUp)
	assert.Equal(t, BoxStats{}, c.BoxStats())
	effs := c.Step(Event{Type: EvBoxReturn, At: at(13, 0), Node: l1, Box: 1})
	require.Len(t, effectsOf(effs, EffReject), 1)
	assert.Equal(t, RejectBadEvent, effs[0].Reason)
}

func TestBoxRejections(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want Reason
	}{
		{"unknown box", Event{Type: EvBoxReturn, Node: l1, Box: 9}, RejectBadEvent},
		{"no box", Event{Type: EvBoxReturn, Node: l1}, RejectBadEvent},
		{"unknown node", Event{Type: EvBoxReturn, Node: 42, Box: 1}, RejectUnknownNode},
		{"return at a microstore", Event{Type: EvBoxReturn, Node: m1, Box: 1}, RejectWrongNode},
		{"collect before return", Event{Type: EvBoxCollect, Node: l1, Box: 1}, RejectIllegalTransition},
		{"home before collect", Event{Type: EvBoxHome, Node: m1, Box: 1}, RejectIllegalTransition},
		{"in-pool box returned", Event{Type: EvBoxReturn, Node: l1, Box: 2}, RejectIllegalTransition},
		{"damaged at the customer", Event{Type: EvBoxLost, Box: 1, Fate: FateDamaged}, RejectBadEvent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(boxNet(t, 2))
			drive(t, c, 1, 0, l1, PickedUp)
			tc.ev.At = at(13, 0)
			effs := c.Step(tc.ev)
			rj := effectsOf(effs, EffReject)
			require.Len(t, rj, 1)
			assert.Equal(t, tc.want, rj[0].Reason)
			assert.Equal(t, uint64(1), c.Stats.Rejected[tc.want])
		})
	}
}

func TestBoxRefusedWhenNodeFull(t *testing.T) {
	c := New(boxNet(t, 3))
	drive(t, c, 1, 0, l1, PickedUp)
	drive(t, c, 2, 0, p1, PickedUp)
	// L1 has one small and one medium slot: fill both with parcels
	drive(t, c, 3, 1, l1, ReadyForPickup)
	drive(t, c, 4, 0, l1, ReadyForPickup)
	require.False(t, c.CanTake(l1, Small, at(13, 0), false))
	effs := c.Step(Event{Type: EvBoxReturn, At: at(13, 0), Node: l1, Box: 1})
	r := effectsOf(effs, EffBoxRetired)
	require.Len(t, r, 1)
	assert.Equal(t, FateRefused, r[0].Fate)
	// the partner's counter takes the other box
	effs = c.Step(Event{Type: EvBoxReturn, At: at(13, 0), Node: p1, Box: 2})
	sl := effectsOf(effs, EffBoxSlot)
	require.Len(t, sl, 1)
	assert.Equal(t, NoSize, sl[0].Size)
	assert.Equal(t, int32(1), c.Node(p1).Held)
	require.False(t, c.CanTake(p1, Small, at(13, 0), false), "the waiting box uses the counter space")
	st := c.BoxStats()
	assert.Equal(t, uint64(1), st.RetiredBy(FateRefused))
	assert.Equal(t, uint64(1), st.Lost())
}

func TestEveryBoxRowIsExercised(t *testing.T) {
	seen := map[BoxTransition]bool{}
	// step applies ev and records the box moves it caused
	step := func(c *Core, ev Event, b BoxID) {
		from, _ := boxOf(t, c, b)
		effs := c.Step(ev)
		require.Empty(t, effectsOf(effs, EffReject), "%v", ev.Type)
		to, _ := boxOf(t, c, b)
		on := ev.Type
		if on == EvCancel {
			on = EvNone
		}
		seen[BoxTransition{From: from, On: on, To: to}] = true
	}
	lifecycle := func(fate BoxFate, stopAt BoxState) {
		c := New(boxNet(t, 1))
		drive(t, c, 1, 0, l1, ReadyForPickup)
		step(c, Event{Type: EvPickup, At: at(12, 0), Label: 1, Node: l1}, 1)
		if stopAt == BoxWithCustomer {
			step(c, Event{Type: EvBoxLost, At: at(13, 0), Box: 1, Fate: fate}, 1)
			return
		}
		step(c, Event{Type: EvBoxReturn, At: at(13, 0), Node: l1, Box: 1}, 1)
		if stopAt == BoxWaiting {
			step(c, Event{Type: EvBoxLost, At: at(14, 0), Node: l1, Box: 1, Fate: fate}, 1)
			return
		}
		step(c, Event{Type: EvBoxCollect, At: at(14, 0), Node: l1, Box: 1}, 1)
		if fate != FateNone {
			step(c, Event{Type: EvBoxLost, At: at(15, 0), Node: m1, Box: 1, Fate: fate}, 1)
			return
		}
		step(c, Event{Type: EvBoxHome, At: at(15, 0), Node: m1, Box: 1}, 1)
		// packed again
		id := LabelID(2)
		drive(t, c, id, 0, l2, Picked)
		step(c, Event{Type: EvScanPacked, At: at(16, 0), Label: id}, 1)
		step(c, Event{Type: EvCancel, At: at(16, 5), Label: id}, 1)
	}
	lifecycle(FateKept, BoxWithCustomer)
	lifecycle(FateLost, BoxWaiting)
	lifecycle(FateDamaged, BoxRiding)
	lifecycle(FateNone, BoxInPool)
	// a refused return
	c := New(boxNet(t, 2))
	drive(t, c, 1, 0, l1, PickedUp)
	drive(t, c, 3, 1, l1, ReadyForPickup)
	drive(t, c, 4, 0, l1, ReadyForPickup)
	step(c, Event{Type: EvBoxReturn, At: at(13, 0), Node: l1, Box: 1}, 1)
	// production's packing claims (the twin's input): every state of the
	// claimed box, and the core's own box displaced
	stepAll := func(c *Core, ev Event) {
		n := len(c.pk.boxes)
		before := make([]BoxState, n)
		for i := range before {
			before[i], _ = boxOf(t, c, BoxID(i+1))
		}
		effs := c.Step(ev)
		require.Empty(t, effectsOf(effs, EffReject), "%v", ev.Type)
		for i := range before {
			after, _ := boxOf(t, c, BoxID(i+1))
			if after != before[i] || BoxID(i+1) == ev.Box {
				seen[BoxTransition{From: before[i], On: ev.Type, To: after}] = true
			}
		}
	}
	claim := func(c *Core, id LabelID, b BoxID) {
		stepAll(c, Event{Type: EvBoxPacked, At: at(17, 0), Label: id, Box: b})
		require.Equal(t, b, c.Label(id).Box)
	}
	for _, prior := range []BoxState{BoxInPool, BoxPacked, BoxWithCustomer, BoxWaiting, BoxRiding, BoxRetired} {
		c := New(boxNet(t, 3))
		drive(t, c, 1, 0, l2, ReadyForPickup) // box 1
		step(c, Event{Type: EvPickup, At: at(12, 0), Label: 1, Node: l2}, 1)
		switch prior {
		case BoxWaiting, BoxRiding:
			step(c, Event{Type: EvBoxReturn, At: at(13, 0), Node: l2, Box: 1}, 1)
			if prior == BoxRiding {
				step(c, Event{Type: EvBoxCollect, At: at(14, 0), Node: l2, Box: 1}, 1)
			}
		case BoxRetired:
			step(c, Event{Type: EvBoxLost, At: at(13, 0), Box: 1, Fate: FateKept}, 1)
		}
		drive(t, c, 2, 0, l2, Packed) // box 2
		require.Equal(t, BoxID(2), c.Label(2).Box)
		switch prior {
		case BoxInPool:
			claim(c, 2, 3)
			require.Equal(t, 1, c.PoolLevel(m1), "box 2 back, box 3 out")
		case BoxPacked:
			drive(t, c, 3, 0, l2, Packed) // box 3
			claim(c, 3, 2)
			require.Equal(t, BoxID(0), c.Label(2).Box, "label 2 lost its box to label 3")
		default:
			claim(c, 2, 1)
			assert.Zero(t, c.BoxesWaiting(l2), "a claimed box no longer waits")
			assert.Equal(t, 2, c.PoolLevel(m1), "label 2's box 2 went back")
		}
	}
	// the twin's resync, from each state to each target
	targets := []struct {
		to   BoxState
		node NodeIndex
	}{{BoxWaiting, l1}, {BoxRiding, NoNode}, {BoxInPool, m1}, {BoxRetired, NoNode}, {BoxWithCustomer, NoNode}}
	for _, tg := range targets {
		c := New(boxNet(t, 3))
		drive(t, c, 1, 0, l2, PickedUp) // box 1 with the customer
		before := c.BoxesOut()
		effs := c.Step(Event{Type: EvBoxSync, At: at(13, 0), Box: 2, Node: tg.node, BoxTo: tg.to, Fate: FateLost}) // box 2 from the pool
		require.Empty(t, effectsOf(effs, EffReject))
		got, _ := boxOf(t, c, 2)
		require.Equal(t, tg.to, got)
		seen[BoxTransition{From: BoxNone, On: EvBoxSync, To: got}] = true
		switch tg.to {
		case BoxInPool:
			assert.Equal(t, before, c.BoxesOut())
			assert.Equal(t, 2, c.PoolLevel(m1))
		case BoxRetired:
			assert.Equal(t, before, c.BoxesOut())
			assert.Equal(t, 1, c.PoolLevel(m1))
		default:
			assert.Equal(t, before+1, c.BoxesOut())
			assert.Equal(t, 1, c.PoolLevel(m1))
		}
		// and back from there, the way production goes on
		effs = c.Step(Event{Type: EvBoxSync, At: at(14, 0), Box: 2, Node: m1, BoxTo: BoxInPool})
		require.Empty(t, effectsOf(effs, EffReject))
		assert.Equal(t, 2, c.PoolLevel(m1))
		assert.Equal(t, before, c.BoxesOut())
		assert.Zero(t, c.BoxesWaiting(l1))
		assert.Equal(t, testNet(t).Nodes[l1].Slots, c.Node(l1).Free, "no space kept")
	}
	// picked up (drive) and the first packing (drive) are not recorded above
	seen[BoxTransition{From: BoxPacked, On: EvPickup, To: BoxWithCustomer}] = true
	for _, row := range BoxTransitions {
		require.True(t, seen[BoxTransition{From: row.From, On: row.On, To: row.To}], "row %v --%v--> %v never exercised", row.From, row.On, row.To)
	}
	for tr := range seen {
		found := false
		for _, row := range BoxTransitions {
			found = found || (row.From == tr.From && row.On == tr.On && row.To == tr.To)
		}
		require.True(t, found, "move %v --%v--> %v not in the table", tr.From, tr.On, tr.To)
	}
}

func TestBoxIDString(t *testing.T) {
	for _, b := range []BoxID{1, 12, 1 << 31} {
		got, ok := ParseBoxID(b.String())
		require.True(t, ok, b.String())
		assert.Equal(t, b, got)
	}
	assert.Equal(t, "", BoxID(0).String())
	for _, s := range []string{"", "box-", "box-0", "box-x", "crate-1", "box--1"} {
		_, ok := ParseBoxID(s)
		assert.False(t, ok, s)
	}
}

// packaging.reusable[].box_size: a returned box takes the smallest free
// slot of at least its size, else counter space, else it is refused.
func TestBoxSizeTakesItsSlot(t *testing.T) {
	tests := []struct {
		size     SizeClass
		node     NodeIndex
		wantSlot SizeClass
		refused  bool
	}{
		{Small, l1, Small, false}, // L1: one small, one medium
		{Medium, l1, Medium, false},
		{Large, l1, NoSize, true},  // L1 has no large slot and no counter
		{Large, l2, Large, false},  // L2: two medium, one large
		{Large, p1, NoSize, false}, // P1: counter space only
	}
	for _, tc := range tests {
		t.Run(tc.size.String()+"@"+testNet(t).Nodes[tc.node].ID, func(t *testing.T) {
			n := boxNet(t, 2)
			n.Packaging.Types[0].Size = tc.size
			c := New(n)
			drive(t, c, 1, 0, tc.node, PickedUp)
			effs := c.Step(Event{Type: EvBoxReturn, At: at(13, 0), Node: tc.node, Box: 1})
			require.Empty(t, effectsOf(effs, EffReject))
			if tc.refused {
				r := effectsOf(effs, EffBoxRetired)
				require.Len(t, r, 1)
				assert.Equal(t, FateRefused, r[0].Fate)
				return
			}
			sl := effectsOf(effs, EffBoxSlot)
			require.Len(t, sl, 1)
			assert.Equal(t, tc.wantSlot, sl[0].Size)
		})
	}
}
