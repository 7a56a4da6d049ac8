package model

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func touchNet(t *testing.T, tp *Touch) *Network {
	net := testNet(t)
	net.Policy.Touch = tp
	require.NoError(t, net.Validate())
	return net
}

// windowOrder places label id for locker L1 at 10:00 with the given window.
func windowOrder(id LabelID, w Window) Event {
	ev := Event{Type: EvOrderPlaced, At: at(10, 0), Label: id, SKU: 0, Node: m1, Dest: l1, Size: NoSize, Measured: true}
	ev.SetWindow(w)
	return ev
}

func TestTouchWindowSetsDeadlineAndTTL(t *testing.T) {
	w := Window{Open: at(18, 0), Close: at(20, 0)}
	tests := []struct {
		name    string
		touch   *Touch
		wantDue Instant
		wantTTL Instant // ready TTL deadline after the 10:40 arrival
	}{
		{"off: the window is ignored", nil, at(22, 0), at(10, 40).Add(24 * Hour)},
		{"on: due at the opening, TTL from the close", &Touch{}, at(18, 0), at(20, 0).Add(24 * Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(touchNet(t, tt.touch))
			require.Empty(t, effectsOf(c.Step(windowOrder(1, w)), EffReject))
			require.Equal(t, tt.wantDue, c.Label(1).Due)
			for _, ev := range []Event{
				{Type: EvScanPicked, At: at(10, 5), Label: 1}, {Type: EvScanPacked, At: at(10, 10), Label: 1},
				{Type: EvHandoff, At: at(10, 15), Label: 1, Node: m1}, {Type: EvArrived, At: at(10, 40), Label: 1, Node: l1},
			} {
				require.Empty(t, effectsOf(c.Step(ev), EffReject))
			}
			require.Equal(t, tt.wantTTL, c.Label(1).TTLAt)
			if tt.touch != nil {
				require.Equal(t, uint64(1), c.Stats.Touch.Windowed)
				require.Zero(t, c.Stats.Touch.ReadyLate)
			}
		})
	}
}

func TestTouchBadWindowRejected(t *testing.T) {
	for name, w := range map[string]Window{
		"closes before it opens": {Open: at(18, 0), Close: at(17, 0)},
		"empty":                  {Open: at(18, 0), Close: at(18, 0)},
		"opens before the order": {Open: at(9, 0), Close: at(11, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			c := New(touchNet(t, &Touch{}))
			effs := c.Step(windowOrder(1, w))
			require.Len(t, effs, 1)
			require.Equal(t, RejectBadEvent, effs[0].Reason)
			require.Nil(t, c.Label(1))
		})
	}
}

func TestTouchLateWindowRefundedAndCounted(t *testing.T) {
	c := New(touchNet(t, &Touch{}))
	c.Step(windowOrder(1, Window{Open: at(10, 30), Close: at(12, 30)}))
	effs := c.Step(Event{Type: EvTimer, Timer: TimerSLA, At: at(10, 30), Label: 1})
	require.Len(t, effectsOf(effs, EffRefund), 1, "not ready when the window opens: the SLA refund")
	for _, ev := range []Event{
		{Type: EvScanPicked, At: at(10, 35), Label: 1}, {Type: EvScanPacked, At: at(10, 36), Label: 1},
		{Type: EvHandoff, At: at(10, 37), Label: 1, Node: m1}, {Type: EvArrived, At: at(10, 50), Label: 1, Node: l1},
	} {
		c.Step(ev)
	}
	require.Equal(t, uint64(1), c.Stats.Touch.ReadyLate)
}

func TestTouchRewards(t *testing.T) {
	offPeak := Hours{{From: 18 * Hour, To: 22 * Hour}}
	tp := &Touch{RewardWithin: 4 * Hour, RewardAmount: 1, OffPeak: offPeak, OffPeakReward: 0.5}
	tests := []struct {
		name       string
		window     Window
		pickup     Instant
		amount     float64 // 0: no reward effect
		quick, off uint64
		before     uint64
		in, after  uint64
	}{
		{"quick, no window", Window{}, at(14, 40), 1, 1, 0, 0, 0, 0},
		{"one ms too late, no window", Window{}, at(14, 40) + 1, 0, 0, 0, 0, 0, 0},
		{"off-peak window kept, late for quick", Window{Open: at(18, 0), Close: at(20, 0)}, at(19, 0), 0.5, 0, 1, 0, 1, 0},
		{"off-peak window, quick too (before it)", Window{Open: at(18, 0), Close: at(20, 0)}, at(12, 0), 1, 1, 0, 1, 0, 0},
		{"off-peak window missed", Window{Open: at(18, 0), Close: at(20, 0)}, at(20, 0), 0, 0, 0, 0, 0, 1},
		{"peak window kept: no off-peak reward", Window{Open: at(15, 0), Close: at(17, 0)}, at(16, 0), 0, 0, 0, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(touchNet(t, tp))
			c.Step(windowOrder(1, tt.window))
			for _, ev := range []Event{
				{Type: EvScanPicked, At: at(10, 5), Label: 1}, {Type: EvScanPacked, At: at(10, 10), Label: 1},
				{Type: EvHandoff, At: at(10, 15), Label: 1, Node: m1}, {Type: EvArrived, At: at(10, 40), Label: 1, Node: l1},
			} {
				c.Step(ev)
			}
			effs := c.Step(Event{Type: EvPickup, At: tt.pickup, Label: 1, Node: l1})
			require.Empty(t, effectsOf(effs, EffReject))
			rw := effectsOf(effs, EffReward)
			if tt.amount == 0 {
				require.Empty(t, rw)
			} else {
				require.Len(t, rw, 1)
				require.Equal(t, tt.amount, rw[0].Amount)
				require.Equal(t, l1, rw[0].Node)
			}
			s := c.Stats.Touch
			require.Equal(t, tt.amount, s.RewardCost)
			require.Equal(t, tt.quick, s.QuickRewards)
			require.Equal(t, tt.off, s.OffPeakRewards)
			require.Equal(t, [3]uint64{tt.before, tt.in, tt.after}, [3]uint64{s.BeforeWindow, s.InWindow, s.AfterWindow})
		})
	}
}

func TestTouchPolicyValidate(t *testing.T) {
	for name, tp := range map[string]*Touch{
		"negative time":   {RewardWithin: -1},
		"negative amount": {RewardAmount: -1},
		"bad span":        {OffPeak: Hours{{From: 20 * Hour, To: 18 * Hour}}},
	} {
		net := testNet(t)
		net.Policy.Touch = tp
		require.Error(t, net.Validate(), name)
	}
}

// The event holds a window in two int32 offsets: every window the core
// accepts comes back exactly; one it cannot hold, or a bad one, comes back
// as a window the core rejects.
func TestEventWindowRoundTrip(t *testing.T) {
	at0 := at(10, 0)
	for _, tc := range []struct {
		name string
		w    Window
		ok   bool
	}{
		{"none", Window{}, true},
		{"evening", Window{Open: at(18, 0), Close: at(20, 0)}, true},
		{"opens at the order", Window{Open: at0, Close: at0 + Instant(Hour)}, true},
		{"20 days ahead", Window{Open: at0 + Instant(20*Day), Close: at0 + Instant(20*Day+2*Hour)}, true},
		{"30 days ahead: beyond what the event holds", Window{Open: at0 + Instant(30*Day), Close: at0 + Instant(30*Day+Hour)}, false},
		{"opens before the order", Window{Open: at0 - Instant(Hour), Close: at0 + Instant(Hour)}, false},
		{"closes as it opens", Window{Open: at(18, 0), Close: at(18, 0)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := Event{Type: EvOrderPlaced, At: at0}
			ev.SetWindow(tc.w)
			got := ev.Window()
			if tc.ok {
				require.Equal(t, tc.w, got)
				return
			}
			require.True(t, got.Has(), "a bad window is not dropped silently")
			require.LessOrEqual(t, got.Close, got.Open, "and the core rejects it")
		})
	}
	require.LessOrEqual(t, unsafe.Sizeof(Event{}), uintptr(80), "the event is copied on every step: a Window field made it 88 bytes")
}
