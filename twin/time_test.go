package twin

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// The tests of this file are about time: the city's zone, daylight-saving
// changes, the plausibility window, per-source watermarks and the wall
// clock.

// utc parses an RFC 3339 instant.
func utc(t testing.TB, s string) model.Instant {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return model.InstantOf(tm)
}

// parcel is one label's life as production sees it, at real instants: an
// S01 order at M1 for dest, picked, packed, handed off, delivered (a
// partner keeps it at the counter, a locker in compartment S01); and
// production's reports beside it. extra are more of production's reports.
func (f *feed) parcel(label, dest string, order, handoff, delivery model.Instant, extra ...wire.CaptureRecord) []wire.CaptureRecord {
	ls := func(at model.Instant, s wire.LabelStatus, node string) wire.CaptureRecord {
		return f.msg("prod-core", at, wire.LabelState{LabelID: label, State: s, Node: node, Reason: reasonFor(s)})
	}
	scan := func(at model.Instant, node string, stage wire.Stage) wire.CaptureRecord {
		return f.msg("scn-"+node, at, wire.Scan{LabelID: label, OrderID: "O" + label, Node: node, Stage: stage, Symbology: wire.SymCode128, Code: label})
	}
	slot := "S01"
	if dest == "P1" {
		slot = "C01"
	}
	recs := []wire.CaptureRecord{
		f.msg("prod-oms", order, wire.Order{OrderID: "O" + label, LabelID: label, SKU: "S01", Size: wire.SizeS, Node: "M1", Destination: dest,
			PlacedAt: order, SameDay: true, SLADeadline: order.Add(12 * model.Hour)}),
		ls(order, wire.LabelIssued, "M1"),
		scan(order.Add(5*model.Minute), "M1", wire.StagePick), ls(order.Add(5*model.Minute), wire.LabelPicked, "M1"),
		scan(order.Add(7*model.Minute), "M1", wire.StagePack), ls(order.Add(7*model.Minute), wire.LabelPacked, "M1"),
		scan(handoff, "M1", wire.StageHandoff), ls(handoff, wire.LabelInTransit, "M1"),
	}
	recs = append(recs, extra...)
	return append(recs,
		scan(delivery, dest, wire.StageDelivery),
		f.msg(dest, delivery, wire.Slot{Compartment: slot, Size: wire.SizeS, State: wire.SlotOccupied, LabelID: label}),
		ls(delivery, wire.LabelReadyForPickup, dest))
}

// zoneFeed is one real-world day as production in Berlin saw it, at real
// instants (2026-03-02, Berlin is UTC+1, Tokyo UTC+9):
//
//   - L-A, ordered at 08:00Z for partner P1 (open 09:00-20:00), is
//     delivered there at 08:30Z: 09:30 in Berlin, open.
//   - L-B, ordered at 08:10Z for locker L1 (same day: ready by 22:00), is
//     handed off at 20:40Z and delivered at 21:30Z: 22:30 in Berlin, late;
//     production refunds it when 22:00 passes (21:00Z).
//
// A heartbeat at 23:30Z ends the day (before any 24 h TTL).
func zoneFeed(t testing.TB) []wire.CaptureRecord {
	f := newFeed(t)
	recs := f.parcel("L-A", "P1", utc(t, "2026-03-02T08:00:00Z"), utc(t, "2026-03-02T08:15:00Z"), utc(t, "2026-03-02T08:30:00Z"))
	refund := f.msg("prod-core", utc(t, "2026-03-02T21:00:00Z"), wire.LabelState{LabelID: "L-B", State: wire.LabelInTransit, Node: "M1",
		Reason: "late_delivery", Refund: &wire.Refund{Amount: 990, Currency: "EUR"}})
	recs = append(recs, f.parcel("L-B", "L1", utc(t, "2026-03-02T08:10:00Z"), utc(t, "2026-03-02T20:40:00Z"), utc(t, "2026-03-02T21:30:00Z"), refund)...)
	return append(recs, f.msg("L1", utc(t, "2026-03-02T23:30:00Z"), wire.Heartbeat{Session: 1}))
}

func zoneTwin(t testing.TB, zone string, recs []wire.CaptureRecord) *Twin {
	t.Helper()
	no := false
	tw, err := New(Config{Network: quickstart(t), Location: zoneOf(t, zone), Replenish: &no})
	require.NoError(t, err)
	for _, r := range recs {
		tw.Ingest(r)
	}
	tw.Finish()
	return tw
}

func zoneOf(t testing.TB, name string) *time.Location {
	if name == "" {
		return nil
	}
	return zone(t, name)
}

func labelKinds(ds []Divergence) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		out[d.Label+" "+d.Kind]++
	}
	return out
}

// TestZones: the same real-world feed read in three zones. In Berlin (the
// city's zone) the core agrees with production everywhere. In UTC 08:30Z
// is 08:30, before P1 opens: the core reroutes L-A (which then misses its
// 22:00 and is refunded); and L-B, due at 22:00 UTC, is on time:
// production's refund is unexpected. In Tokyo the orders
// come after the 14:00 cut-off (17:00 there), so L-B is due the next day:
// on time, the refund unexpected again; P1 is open at 17:30. Whatever the
// zone, outputs carry the same real instants.
func TestZones(t *testing.T) {
	recs := zoneFeed(t)
	labelAt := func(tw *Twin, label string) (LabelView, string) {
		v, ok := tw.Label(label)
		require.True(t, ok)
		return v, v.Chain[0].At
	}

	berlin := zoneTwin(t, "Europe/Berlin", recs)
	assert.Empty(t, berlin.Divergences(Filter{}), "the city's own zone")
	a, issued := labelAt(berlin, "L-A")
	assert.Equal(t, "ready_for_pickup", a.State)
	assert.Equal(t, "P1", a.Node)
	assert.Equal(t, "2026-03-02T08:30:00.000Z", a.At, "outputs are real instants")
	assert.Equal(t, "2026-03-02T08:00:00.000Z", issued)
	b, _ := labelAt(berlin, "L-B")
	assert.True(t, b.Late, "22:30 in Berlin is after 22:00")

	for _, tc := range []struct {
		zone string
		want map[string]int
	}{
		{"", map[string]int{ // nil: UTC
			"L-A " + KindRerouteMissing: 1, "L-A " + KindStateMismatch: 1, "L-A " + KindSlotMismatch: 1, "L-A " + KindRefundMissing: 1,
			"L-B " + KindRefundUnexpected: 1}},
		{"UTC", map[string]int{
			"L-A " + KindRerouteMissing: 1, "L-A " + KindStateMismatch: 1, "L-A " + KindSlotMismatch: 1, "L-A " + KindRefundMissing: 1,
			"L-B " + KindRefundUnexpected: 1}},
		{"Asia/Tokyo", map[string]int{"L-B " + KindRefundUnexpected: 1}},
	} {
		tw := zoneTwin(t, tc.zone, recs)
		assert.Equal(t, tc.want, labelKinds(tw.Divergences(Filter{})), "zone %q", tc.zone)
		a, issued := labelAt(tw, "L-A")
		assert.Equal(t, "2026-03-02T08:00:00.000Z", issued, "zone %q: outputs are real instants", tc.zone)
		if tc.zone == "Asia/Tokyo" {
			assert.Equal(t, "ready_for_pickup", a.State, "17:30 in Tokyo: P1 is open")
		} else {
			assert.Equal(t, "node_closed", a.Chain[len(a.Chain)-1].Reason, "08:30 UTC: P1 is closed")
		}
		b, _ := labelAt(tw, "L-B")
		assert.False(t, b.Late, "zone %q: L-B is on time", tc.zone)
	}
}

// TestDaylightSaving: across Berlin's changes of 2026 the core keeps the
// local wall clock. A parcel ready at 18:00 the day before a change is
// rerouted when its 24 h TTL expires at 18:00 local the next day: 23 h of
// real time after the spring change, 25 h after the autumn one, as
// production (on the local clock too) reports it; no divergence. Read in
// UTC the same feed diverges. In the repeated autumn hour the local clock
// holds at 03:00 and never goes back.
func TestDaylightSaving(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		order, ready, ttl, last string // real instants
	}{
		{"spring forward", "2026-03-28T08:00:00Z", "2026-03-28T17:00:00Z", "2026-03-29T16:00:00Z", "2026-03-29T20:00:00Z"},
		{"fall back", "2026-10-24T06:00:00Z", "2026-10-24T16:00:00Z", "2026-10-25T17:00:00Z", "2026-10-25T20:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeed(t)
			ready := utc(t, tc.ready)
			recs := f.parcel("L-D", "L1", utc(t, tc.order), ready.Add(-20*model.Minute), ready)
			// L1's heartbeats every 30 minutes through the night of the change
			for at := ready.Add(30 * model.Minute); at < utc(t, tc.ttl); at = at.Add(30 * model.Minute) {
				recs = append(recs, f.msg("L1", at, wire.Heartbeat{Session: 1}))
			}
			recs = append(recs,
				f.msg("prod-core", utc(t, tc.ttl), wire.LabelState{LabelID: "L-D", State: wire.LabelRerouting, Node: "L1",
					Reason: "ttl_expired", RerouteTo: "P1"}),
				f.msg("L1", utc(t, tc.last), wire.Heartbeat{Session: 1}))

			no := false
			tw, err := New(Config{Network: quickstart(t), Location: zone(t, "Europe/Berlin"), Window: -1, Replenish: &no})
			require.NoError(t, err)
			var prev model.Instant
			for _, r := range recs {
				tw.Ingest(r)
				require.GreaterOrEqual(t, tw.drv.Clock(), prev, "the local clock went back")
				prev = tw.drv.Clock()
				if tc.name == "fall back" && r.RecvAt == utc(t, "2026-10-25T01:30:00Z") {
					assert.Equal(t, "2026-10-25T03:00:00.000Z", tw.drv.Clock().String(), "02:30 CET, the repeated hour: held at 03:00")
				}
			}
			tw.Finish()
			assert.Empty(t, tw.Divergences(Filter{}))
			v, ok := tw.Label("L-D")
			require.True(t, ok)
			last := v.Chain[len(v.Chain)-1]
			assert.Equal(t, "rerouting", last.State)
			assert.Equal(t, utc(t, tc.ttl).String(), last.At, "18:00 local the next day")

			inUTC, err := New(Config{Network: quickstart(t), Window: -1, Replenish: &no})
			require.NoError(t, err)
			inUTC.IngestBatch(recs)
			inUTC.Finish()
			assert.NotEmpty(t, inUTC.Divergences(Filter{}), "read in UTC the TTL expires at another real instant")
		})
	}
}

// recvAt stamps a record with another receive instant.
func recvAt(r wire.CaptureRecord, recv model.Instant) wire.CaptureRecord {
	r.RecvAt = recv
	return r
}

// TestIngestPlausibility: an instant more than MaxPast before or MaxFuture
// after its receive instant is quarantined and moves nothing; so is an
// order's placed_at. A will's own at (its connect instant) is not checked:
// it is applied when received. Without a receive instant (EventClock, or a
// record without one) only MaxPast is checked, against the newest instant
// accepted.
func TestIngestPlausibility(t *testing.T) {
	f := newFeed(t)
	now := min_(0)
	order := func(at, placed model.Instant) wire.CaptureRecord {
		return recvAt(f.msg("prod-oms", at, wire.Order{OrderID: "O-1", LabelID: "L-1", SKU: "S01", Size: wire.SizeS, Node: "M1", Destination: "L1",
			PlacedAt: placed, SLADeadline: at.Add(model.Hour)}), now)
	}
	will := recvAt(f.msg("L1", now.Add(-30*model.Day), wire.Status{State: wire.NodeOffline, Reason: wire.ReasonLWT, Session: 1}), now)
	for _, tc := range []struct {
		name   string
		cfg    IngestConfig
		rec    wire.CaptureRecord
		detail string // "" accepted
	}{
		{"on time", IngestConfig{}, recvAt(heartbeat(f, "A", now.Add(-model.Second)), now), ""},
		{"2099", IngestConfig{}, recvAt(heartbeat(f, "A", utc(t, "2099-01-01T00:00:00Z")), now), "after the receive instant"},
		{"just beyond 5m", IngestConfig{}, recvAt(heartbeat(f, "A", now.Add(5*model.Minute+1)), now), "max future 5m"},
		{"within 5m", IngestConfig{}, recvAt(heartbeat(f, "A", now.Add(5*model.Minute)), now), ""},
		{"1990", IngestConfig{}, recvAt(heartbeat(f, "A", utc(t, "1990-01-01T00:00:00Z")), now), "before the receive clock"},
		{"25h old", IngestConfig{}, recvAt(heartbeat(f, "A", now.Add(-25*model.Hour)), now), "max past 1d"},
		{"25h old, max past 2d", IngestConfig{MaxPast: 2 * model.Day}, recvAt(heartbeat(f, "A", now.Add(-25*model.Hour)), now), ""},
		{"2099, no future bound", IngestConfig{MaxFuture: -1}, recvAt(heartbeat(f, "A", utc(t, "2099-01-01T00:00:00Z")), now), ""},
		{"placed_at in 2001", IngestConfig{}, order(now, utc(t, "2001-09-09T01:46:40Z")), "placed_at 2001-09-09"},
		{"a will of a month-old connection", IngestConfig{}, will, ""},
		{"no receive instant", IngestConfig{}, recvAt(heartbeat(f, "A", utc(t, "2099-01-01T00:00:00Z")), 0), ""},
		{"event clock", IngestConfig{EventClock: true}, recvAt(heartbeat(f, "A", utc(t, "2099-01-01T00:00:00Z")), now), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := NewIngest(tc.cfg)
			_, _ = in.Offer(recvAt(heartbeat(f, "B", now.Add(-2*model.Second)), now.Add(-time5m)), time.Time{}, nil)
			now0, max0 := in.now, in.maxAt
			out, _ := in.Offer(tc.rec, time.Time{}, nil)
			out = in.Release(model.Never, out)
			q := in.Quarantine()
			if tc.detail == "" {
				assert.Empty(t, q)
				require.NotEmpty(t, out)
				return
			}
			assert.Len(t, out, 1, "only B's message")
			require.Len(t, q, 1)
			assert.Equal(t, ReasonInstantOutOfRange, q[0].Reason)
			assert.Contains(t, q[0].Detail, tc.detail)
			assert.Equal(t, map[string]uint64{ReasonInstantOutOfRange: 1}, in.Counters().Quarantined)
			assert.Equal(t, max0, in.maxAt, "the newest instant did not move")
			assert.Equal(t, max(now0, now), in.now, "the receive clock moved with the receive instant only")
			assert.Len(t, in.src, 1, "a quarantined message is not accepted: no seq state for its source")
		})
	}
	// without a receive instant: MaxPast against the newest accepted instant
	for _, cfg := range []IngestConfig{{EventClock: true}, {}} {
		in := NewIngest(cfg)
		offerAll(in, recvAt(heartbeat(f, "A", now), 0))
		offerAll(in, recvAt(heartbeat(f, "A", utc(t, "1990-01-01T00:00:00Z")), 0), recvAt(heartbeat(f, "A", now.Add(-time5m)), 0))
		assert.Equal(t, map[string]uint64{ReasonInstantOutOfRange: 1}, in.Counters().Quarantined, "event clock %v", cfg.EventClock)
		assert.Equal(t, uint64(2), in.Counters().Accepted)
	}
}

// TestPoisonedFeed is the feed: among a clean label's messages,
// some of them reordered within the window, a heartbeat stamped 2099 and
// an order and a scan stamped 1990 and 2001. They are quarantined; the rest
// is applied in order (nothing late), the label ends picked up, nothing
// diverges, and shutdown does not run the clock to 2099. Without the
// plausibility window the same feed, at shutdown, fires every timer up to
// 2099 and reports false divergences.
func TestPoisonedFeed(t *testing.T) {
	f := newFeed(t)
	clean := swap(f.lifecycle("L-A", 0, true), 2, 4) // pack before pick on the wire
	bad := []wire.CaptureRecord{
		recvAt(heartbeat(f, "L2", utc(t, "2099-06-01T00:00:00Z")), min_(1)),
		recvAt(f.msg("prod-oms", utc(t, "1990-01-01T00:00:00Z"), wire.Order{OrderID: "O-X", LabelID: "L-X", SKU: "S01", Size: wire.SizeS, Node: "M1",
			Destination: "L1", PlacedAt: utc(t, "1990-01-01T00:00:00Z"), SLADeadline: utc(t, "1990-01-01T04:00:00Z")}), min_(2)),
		recvAt(f.msg("scn-M1", utc(t, "2001-01-01T00:00:00Z"), wire.Scan{LabelID: "L-A", OrderID: "OL-A", Node: "M1", Stage: wire.StagePick,
			Symbology: wire.SymQR, Code: "x"}), min_(3)),
	}
	feed := append(append(append([]wire.CaptureRecord{}, clean[:2]...), bad...), clean[2:]...)
	run := func(cfg Config) *Twin {
		no := false
		cfg.Network, cfg.Location, cfg.Window, cfg.Replenish = quickstart(t), zone(t, "Europe/Berlin"), 10*model.Minute, &no
		tw, err := New(cfg)
		require.NoError(t, err)
		for _, r := range feed {
			tw.Ingest(r)
		}
		tw.Finish()
		return tw
	}
	tw := run(Config{})
	c := tw.Counters()
	assert.Equal(t, map[string]uint64{ReasonInstantOutOfRange: 3}, c.Quarantined)
	assert.Zero(t, c.Late)
	assert.Empty(t, c.Rejected)
	assert.Equal(t, "picked_up", state(t, tw, "L-A"))
	_, ok := tw.Label("L-X")
	assert.False(t, ok)
	assert.Empty(t, tw.Divergences(Filter{}))
	assert.Less(t, tw.Clock(), utc(t, "2027-01-01T00:00:00Z"))

	loose := run(Config{MaxPast: -1, MaxFuture: -1})
	assert.Greater(t, loose.Clock(), utc(t, "2099-01-01T00:00:00Z"), "shutdown ran the clock to 2099")
	assert.NotEmpty(t, loose.Divergences(Filter{}))
}

// offerRecv offers a record received at recv (its own at otherwise).
func offerRecv(in *Ingest, r wire.CaptureRecord, recv model.Instant) []string {
	ids, _ := offerAll(in, recvAt(r, recv))
	return ids
}

// TestSourceWatermarks: with per-source watermarks, a source whose clock
// runs ahead cannot release the others' messages early, one that falls
// quiet holds them back for at most SourceIdle, one that lags within
// SourceIdle is waited for, and one that lags more is not.
func TestSourceWatermarks(t *testing.T) {
	s := func(n int64) model.Instant { return t0.Add(model.Duration(n) * model.Second) }
	cfg := IngestConfig{Window: 5 * model.Second, SourceIdle: model.Minute}

	t.Run("ahead", func(t *testing.T) {
		f := newFeed(t)
		in := NewIngest(cfg)
		var got []string
		// A's clock is 4 minutes ahead (plausible); B and C on time, C's
		// message at 3s arriving after B's at 4s (within the window)
		got = append(got, offerRecv(in, heartbeat(f, "A", s(240)), s(0))...)
		got = append(got, offerRecv(in, heartbeat(f, "B", s(1)), s(1))...)
		got = append(got, offerRecv(in, heartbeat(f, "B", s(4)), s(4))...)
		got = append(got, offerRecv(in, heartbeat(f, "C", s(3)), s(5))...)
		got = append(got, offerRecv(in, heartbeat(f, "A", s(250)), s(10))...)
		got = append(got, offerRecv(in, heartbeat(f, "C", s(11)), s(11))...)
		got = append(got, offerRecv(in, heartbeat(f, "B", s(12)), s(12))...)
		assert.Equal(t, []string{"B-1", "C-1", "B-2"}, got, "released up to the receive clock minus the window")
		assert.Zero(t, in.Counters().Late)
		assert.Equal(t, []string{"C-2", "B-3", "A-1", "A-2"}, msgIDs(in.Release(model.Never, nil)))
	})

	t.Run("quiet", func(t *testing.T) {
		f := newFeed(t)
		m := NewMetrics()
		qc := cfg
		qc.Metrics = m
		in := NewIngest(qc)
		got := offerRecv(in, heartbeat(f, "Q", s(0)), s(0)) // Q says one thing, then nothing
		for n := int64(1); n < 60; n += 10 {
			got = append(got, offerRecv(in, heartbeat(f, "B", s(n)), s(n))...)
		}
		assert.Empty(t, got, "Q is current: nothing after its newest instant")
		assert.Equal(t, 7.0, metricValue(t, m.Held), "held in the reorder buffer")
		got = offerRecv(in, heartbeat(f, "B", s(61)), s(61))
		assert.Equal(t, []string{"Q-1", "B-1", "B-2", "B-3", "B-4", "B-5", "B-6"}, got, "Q is a minute behind: no longer current")
		assert.Equal(t, 1.0, metricValue(t, m.Held))
	})

	t.Run("lagging", func(t *testing.T) {
		f := newFeed(t)
		in := NewIngest(cfg)
		var got []string
		// L's clock is 30 s behind, H's 2 hours (plausible, not current);
		// B is on time; each speaks every 5 s
		for n := int64(0); n <= 60; n += 5 {
			got = append(got, offerRecv(in, heartbeat(f, "L", s(n-30)), s(n))...)
			got = append(got, offerRecv(in, heartbeat(f, "H", s(n-7200)), s(n))...)
			got = append(got, offerRecv(in, heartbeat(f, "B", s(n)), s(n))...)
		}
		c := in.Counters()
		assert.Equal(t, uint64(12), c.Late, "H's messages, after its first, are late: it is not waited for")
		assert.NotContains(t, strings.Join(got, " "), "late:L", "L is waited for")
		assert.NotContains(t, got, "B-7", "B's messages wait for L's")
		assert.Contains(t, got, "B-1")
	})
}

// loneOrder is one order, stamped and received at `at`.
func loneOrder(t testing.TB, at model.Instant) wire.CaptureRecord {
	return newFeed(t).msg("prod-oms", at, wire.Order{OrderID: "O-1", LabelID: "L-1", SKU: "S01", Size: wire.SizeS, Node: "M1",
		Destination: "L1", PlacedAt: at, SameDay: true, SLADeadline: at.Add(4 * model.Hour)})
}

// TestWallClockStart: with the wall clock the core's clock starts at
// startup, a window behind it, and a lone message is applied once the wall
// clock is a window past it, without any other message.
func TestWallClockStart(t *testing.T) {
	const window = 5 * model.Second
	tw, err := New(Config{Network: quickstart(t), Location: zone(t, "Europe/Berlin"), Window: window})
	require.NoError(t, err)
	start := utc(t, "2026-03-02T08:00:00Z")
	tw.Advance(start)
	assert.Equal(t, start.Add(-window), tw.Clock(), "the clock runs from startup")
	recv := start.Add(model.Second)
	tw.Ingest(loneOrder(t, recv))
	tw.Advance(recv.Add(window - 1))
	assert.Zero(t, tw.Counters().Applied)
	tw.Advance(recv.Add(window))
	assert.Equal(t, uint64(1), tw.Counters().Applied)
	v, ok := tw.Label("L-1")
	require.True(t, ok)
	assert.Equal(t, "issued", v.State)
	// a message older than the wall clock minus the window is late
	tw.Ingest(heartbeat(newFeed(t), "L1", recv.Add(-window)))
	assert.Equal(t, uint64(1), tw.Counters().Late)
}

// TestLiveLoneMessage: a live twin on the wall clock (here a fake one,
// with fake ticks) applies one order published after startup a window
// after it arrives, with no other message; the API's label appears then.
func TestLiveLoneMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	const window = 5 * model.Second
	tw, err := New(Config{Network: quickstart(t), Location: zone(t, "Europe/Berlin"), Window: window})
	require.NoError(t, err)
	r := NewRunner(tw, nil)
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var clock atomic.Int64 // the fake wall clock, ms
	clock.Store(start.UnixMilli())
	ticks := make(chan time.Time) // unbuffered: a send returns once Live has the tick
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- r.Live(lctx, transport.ClientConfig{URL: b.URL()}, LiveConfig{Now: func() time.Time { return time.UnixMilli(clock.Load()) }, Ticks: ticks})
	}()
	require.Eventually(t, r.Ready, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, model.InstantOf(start).Add(-window), tw.Clock(), "the clock runs from startup, before any message")

	recv := model.InstantOf(start).Add(model.Second)
	clock.Store(int64(recv))
	order := loneOrder(t, recv)
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	require.NoError(t, pub.Publish(ctx, order.Topic, order.Payload, wire.QoS, false))
	require.Eventually(t, func() bool { return tw.Counters().Received == 1 }, 10*time.Second, 10*time.Millisecond)
	// each tick is applied before the next send returns
	tick := func(at model.Instant) {
		ticks <- at.Time()
		ticks <- at.Time()
	}
	tick(recv.Add(window - 1))
	assert.Zero(t, tw.Counters().Applied, "not yet a window past it")
	_, ok := tw.Label("L-1")
	assert.False(t, ok)
	tick(recv.Add(window))
	assert.Equal(t, uint64(1), tw.Counters().Applied)
	v, ok := tw.Label("L-1")
	require.True(t, ok)
	assert.Equal(t, "issued", v.State)
	assert.Equal(t, recv.Add(window).Add(-window), tw.Clock())
	lcancel()
	require.NoError(t, <-done)
}
