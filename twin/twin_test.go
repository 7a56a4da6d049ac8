package twin

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func quickstart(t testing.TB) *model.Network {
	t.Helper()
	sc, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	net, err := sc.Network()
	require.NoError(t, err)
	return net
}

// zone loads a time zone (the quickstart's is Europe/Berlin).
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// t0 is 2026-03-02 10:00 (the microstore and partner are open).
var t0 = model.Instant(1772445600000)

func min_(n int64) model.Instant { return t0 + model.Instant(n*int64(model.Minute)) }

type feed struct {
	t   testing.TB
	seq map[string]uint64
}

func newFeed(t testing.TB) *feed { return &feed{t: t, seq: map[string]uint64{}} }

func (f *feed) msg(src string, at model.Instant, body wire.Body) wire.CaptureRecord {
	f.t.Helper()
	f.seq[src]++
	env := wire.Envelope{Source: src, Seq: f.seq[src], At: at, Body: body}
	p, err := wire.Encode(env)
	require.NoError(f.t, err)
	topic, err := wire.Topics{}.TopicFor(env)
	require.NoError(f.t, err)
	return wire.CaptureRecord{Topic: topic, Payload: p, RecvAt: at}
}

// lifecycle is a label's full clean life: order at M1, picked, packed,
// handed off, slotted at L1 15 minutes later, picked up; production's
// reports beside it.
func (f *feed) lifecycle(label string, start int64, pickup bool) []wire.CaptureRecord {
	return f.lifecycleTravel(label, start, pickup, 15)
}

// lifecycleTravel is lifecycle with travel minutes from hand-off to
// delivery.
func (f *feed) lifecycleTravel(label string, start int64, pickup bool, travel int64) []wire.CaptureRecord {
	at := func(m int64) model.Instant {
		if m >= 35 {
			m += travel - 15
		}
		return min_(start + m)
	}
	ls := func(m int64, s wire.LabelStatus, node string) wire.CaptureRecord {
		return f.msg("prod-core", at(m), wire.LabelState{LabelID: label, State: s, Node: node, Reason: reasonFor(s)})
	}
	recs := []wire.CaptureRecord{
		f.msg("prod-oms", at(0), wire.Order{OrderID: "O" + label, LabelID: label, SKU: "S01", Size: wire.SizeS, Node: "M1", Destination: "L1",
			PlacedAt: at(0), SameDay: true, SLADeadline: at(600)}),
		ls(0, wire.LabelIssued, "M1"),
		f.msg("scn-M1", at(5), wire.Scan{LabelID: label, OrderID: "O" + label, Node: "M1", Stage: wire.StagePick, Symbology: wire.SymCode128, Code: label}),
		ls(5, wire.LabelPicked, "M1"),
		f.msg("scn-M1", at(7), wire.Scan{LabelID: label, OrderID: "O" + label, Node: "M1", Stage: wire.StagePack, Symbology: wire.SymCode128, Code: label}),
		ls(7, wire.LabelPacked, "M1"),
		f.msg("scn-M1", at(20), wire.Scan{LabelID: label, OrderID: "O" + label, Node: "M1", Stage: wire.StageHandoff, Symbology: wire.SymDataMatrix, Code: label}),
		ls(20, wire.LabelInTransit, "M1"),
		f.msg("scn-L1", at(35), wire.Scan{LabelID: label, OrderID: "O" + label, Node: "L1", Stage: wire.StageDelivery, Symbology: wire.SymDataMatrix, Code: label}),
		f.msg("L1", at(35), wire.Slot{Compartment: "S01", Size: wire.SizeS, State: wire.SlotOccupied, LabelID: label}),
		ls(35, wire.LabelReadyForPickup, "L1"),
	}
	if pickup {
		recs = append(recs,
			f.msg("L1", at(90), wire.Pickup{Compartment: "S01", LabelID: label, Verified: true, Method: wire.MethodQR}),
			ls(90, wire.LabelPickedUp, "L1"))
	}
	return recs
}

func reasonFor(s wire.LabelStatus) string {
	switch s {
	case wire.LabelIssued:
		return "order"
	case wire.LabelPicked:
		return "scan_pick"
	case wire.LabelPacked:
		return "scan_pack"
	case wire.LabelInTransit:
		return "handoff"
	case wire.LabelReadyForPickup:
		return "arrived"
	case wire.LabelPickedUp:
		return "pickup"
	}
	return ""
}

// TestSameInstantCausalOrder: a hand-off and the delivery it leads to
// stamped with the same millisecond by two devices (zero travel, e.g. two
// nodes in one H3 cell) are applied hand-off first, whatever the devices'
// ids (here the delivering scanner and locker sort before the hand-off's
// scanner); no divergence.
func TestSameInstantCausalOrder(t *testing.T) {
	for _, window := range []model.Duration{5 * model.Minute, -1} {
		f := newFeed(t)
		tw := newTwin(t, window)
		recs := f.lifecycleTravel("L-0", 0, true, 0)
		for _, r := range recs {
			tw.Ingest(r)
		}
		tw.Finish()
		assert.Equal(t, "picked_up", state(t, tw, "L-0"), "window %v", window)
		assert.Empty(t, tw.Divergences(Filter{}), "window %v", window)
	}
}

func newTwin(t testing.TB, window model.Duration) *Twin {
	t.Helper()
	no := false
	tw, err := New(Config{Network: quickstart(t), Window: window, Replenish: &no})
	require.NoError(t, err)
	return tw
}

func state(t *testing.T, tw *Twin, label string) string {
	t.Helper()
	v, ok := tw.Label(label)
	require.True(t, ok, "label %s unknown", label)
	return v.State
}

func TestIngestFaults(t *testing.T) {
	f := newFeed(t)
	clean := f.lifecycle("L-A", 0, true)
	dup := clean[2]
	conflict := clean[2]
	conflict.Payload = bytes.Replace(conflict.Payload, []byte(`"msg_id":"scn-M1-1"`), []byte(`"msg_id":"scn-M1-other"`), 1)
	idConflict := clean[2] // the same msg_id, (source, seq) and instant, another code
	idConflict.Payload = bytes.Replace(idConflict.Payload, []byte(`"code":"L-A"`), []byte(`"code":"L-X"`), 1)
	require.NotEqual(t, clean[2].Payload, idConflict.Payload)
	tests := []struct {
		name  string
		recs  []wire.CaptureRecord
		check func(t *testing.T, tw *Twin)
	}{
		{"clean", clean, func(t *testing.T, tw *Twin) {
			assert.Equal(t, "picked_up", state(t, tw, "L-A"))
			c := tw.Counters()
			assert.Zero(t, c.Late)
			assert.Zero(t, c.Duplicates)
			assert.Empty(t, tw.Gaps())
			assert.Empty(t, tw.Divergences(Filter{}))
		}},
		{"quarantine", append(append([]wire.CaptureRecord{}, clean...),
			wire.CaptureRecord{Topic: "lockstep/v1/lockers/L1/event", Payload: []byte("not json")},
			wire.CaptureRecord{Topic: "lockstep/v1/elsewhere", Payload: clean[0].Payload},
			wire.CaptureRecord{Topic: "lockstep/v1/lockers/L2/event", Payload: clean[9].Payload}),
			func(t *testing.T, tw *Twin) {
				c := tw.Counters()
				assert.Equal(t, map[string]uint64{wire.ReasonBadJSON: 1, wire.ReasonBadTopic: 1, wire.ReasonTopicMismatch: 1}, c.Quarantined)
				q := tw.Quarantine()
				require.Len(t, q, 3)
				assert.Equal(t, []byte("not json"), q[0].Payload)
				assert.Equal(t, "picked_up", state(t, tw, "L-A"))
			}},
		{"duplicates", append(append([]wire.CaptureRecord{}, clean[:3]...), append([]wire.CaptureRecord{dup, conflict, idConflict}, clean[3:]...)...),
			func(t *testing.T, tw *Twin) {
				c := tw.Counters()
				assert.Equal(t, uint64(1), c.Duplicates)
				assert.Equal(t, uint64(2), c.Conflicts)
				assert.Equal(t, map[string]uint64{ReasonSeqConflict: 1, ReasonMsgIDConflict: 1}, c.Quarantined)
				q := tw.Quarantine()
				require.Len(t, q, 2)
				assert.Equal(t, []string{"scn-M1-other", "scn-M1-1"}, []string{q[0].MsgID, q[1].MsgID})
				assert.Equal(t, idConflict.Payload, q[1].Payload)
				assert.Equal(t, "picked_up", state(t, tw, "L-A"))
				assert.Empty(t, tw.Divergences(Filter{}))
			}},
		{"reorder within window", swap(clean, 2, 4), func(t *testing.T, tw *Twin) {
			// pack before pick on the wire; the window puts them back in order
			assert.Equal(t, "picked_up", state(t, tw, "L-A"))
			assert.Zero(t, tw.Counters().Late)
			assert.Empty(t, tw.Divergences(Filter{}))
		}},
		{"late beyond window", moveToEnd(clean, 2), func(t *testing.T, tw *Twin) {
			c := tw.Counters()
			assert.Equal(t, uint64(1), c.Late)
			assert.NotZero(t, c.Rejected["illegal_transition"], "the pack scan came before the pick")
		}},
		{"gap", append(append([]wire.CaptureRecord{}, clean[:2]...), clean[3:]...), func(t *testing.T, tw *Twin) {
			// the pick scan (scn-M1 seq 1) was lost; scn-M1 2.. arrived
			assert.Equal(t, []Gap{{Source: "scn-M1", From: 1, To: 1}}, tw.Gaps())
			assert.Equal(t, uint64(1), tw.Counters().Missing)
			assert.Equal(t, "issued", state(t, tw, "L-A"))
			assert.NotEmpty(t, tw.Divergences(Filter{Kind: KindStateMismatch}))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tw := newTwin(t, 10*model.Minute)
			for _, r := range tc.recs {
				tw.Ingest(r)
			}
			tw.Finish()
			tc.check(t, tw)
		})
	}
}

func swap(recs []wire.CaptureRecord, i, j int) []wire.CaptureRecord {
	out := append([]wire.CaptureRecord{}, recs...)
	out[i], out[j] = out[j], out[i]
	return out
}

func moveToEnd(recs []wire.CaptureRecord, i int) []wire.CaptureRecord {
	out := append([]wire.CaptureRecord{}, recs[:i]...)
	out = append(out, recs[i+1:]...)
	return append(out, recs[i])
}

// TestDivergenceRerouteBug: production reroutes one label (as if its
// ready-for-pickup TTL were much shorter) while the core keeps it: exactly
// that label diverges. Without the bug nothing does.
func TestDivergenceRerouteBug(t *testing.T) {
	run := func(bug bool) []Divergence {
		f := newFeed(t)
		var recs []wire.CaptureRecord
		recs = append(recs, f.lifecycle("L-A", 0, true)...)
		b := f.lifecycle("L-B", 1, false)
		if bug {
			b = append(b, f.msg("prod-core", min_(1+35+60), wire.LabelState{LabelID: "L-B", State: wire.LabelRerouting, Node: "L1",
				Reason: "ttl_expired", RerouteTo: "P1"}))
		}
		recs = append(recs, b...)
		recs = append(recs, f.lifecycle("L-C", 2, true)...)
		recs = append(recs, f.msg("L1", min_(300), wire.Heartbeat{Session: 1}))
		tw := newTwin(t, 10*model.Minute)
		for _, r := range recs {
			tw.Ingest(r)
		}
		tw.Finish()
		return tw.Divergences(Filter{})
	}
	assert.Empty(t, run(false))
	ds := run(true)
	require.Len(t, ds, 1)
	assert.Equal(t, "L-B", ds[0].Label)
	assert.Equal(t, KindRerouteUnexpected, ds[0].Kind)
	assert.Equal(t, "rerouting", ds[0].Production)
	assert.Equal(t, "ready_for_pickup", ds[0].Core)
	assert.Contains(t, ds[0].Messages, "prod-core-12")
}

func TestRefundAndSlotDivergences(t *testing.T) {
	f := newFeed(t)
	recs := f.lifecycle("L-A", 0, false)
	// production refunds without a reason the core knows of
	recs = append(recs, f.msg("prod-core", min_(50), wire.LabelState{LabelID: "L-A", State: wire.LabelReadyForPickup, Node: "L1",
		Refund: &wire.Refund{Amount: 990, Currency: "EUR"}}))
	// a locker says it holds a label the core has at L1 in another locker
	recs = append(recs, f.msg("L2", min_(55), wire.Slot{Compartment: "S02", Size: wire.SizeS, State: wire.SlotOccupied, LabelID: "L-A"}))
	// production reports a label nobody ordered
	recs = append(recs, f.msg("prod-core", min_(56), wire.LabelState{LabelID: "L-Z", State: wire.LabelIssued, Node: "M1"}))
	tw := newTwin(t, time5m)
	for _, r := range recs {
		tw.Ingest(r)
	}
	tw.Finish()
	kinds := map[string]int{}
	for _, d := range tw.Divergences(Filter{}) {
		kinds[d.Kind]++
	}
	assert.Equal(t, map[string]int{KindRefundUnexpected: 1, KindSlotMismatch: 1, KindUnknownLabel: 1}, kinds)
	assert.Len(t, tw.Divergences(Filter{Node: "L2"}), 1)
	assert.Len(t, tw.Divergences(Filter{Since: min_(56)}), 1)
}

const time5m = 5 * model.Minute

func TestWriteReportDeterministic(t *testing.T) {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i, l := range []string{"L-3", "L-1", "L-2"} {
		recs = append(recs, f.lifecycle(l, int64(i), false)...)
		recs = append(recs, f.msg("prod-core", min_(int64(100+i)), wire.LabelState{LabelID: l, State: wire.LabelRerouting, Node: "L1", RerouteTo: "P1"}))
	}
	var outs [2]bytes.Buffer
	for k := range outs {
		tw := newTwin(t, time5m)
		for _, r := range recs {
			tw.Ingest(r)
		}
		tw.Finish()
		require.NoError(t, tw.WriteReport(&outs[k]))
	}
	assert.Equal(t, outs[0].String(), outs[1].String())
	assert.Equal(t, 3, bytes.Count(outs[0].Bytes(), []byte("\n")))
	assert.True(t, bytes.Index(outs[0].Bytes(), []byte(`"L-1"`)) < bytes.Index(outs[0].Bytes(), []byte(`"L-2"`)))
}

// TestIDRetention: msg_ids older than the retention are forgotten, so the
// de-duplication set stays bounded however long the feed; a duplicate of
// such an old message is still dropped by its (source, seq).
func TestIDRetention(t *testing.T) {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i := range 100 { // a label every 30 minutes: 50 hours of feed
		recs = append(recs, f.lifecycle(fmt.Sprintf("L-%03d", i), int64(i*30), true)...)
	}
	no := false
	mk := func() *Twin {
		tw, err := New(Config{Network: quickstart(t), Window: 5 * model.Minute, Replenish: &no, IDRetention: 3 * model.Hour})
		require.NoError(t, err)
		return tw
	}
	ref, tw := mk(), mk()
	most := 0
	for _, r := range recs {
		ref.Ingest(r)
		tw.Ingest(r)
		most = max(most, len(tw.in.ids))
	}
	// about 4 h of messages at most (retention + the hourly prune), not 50 h
	perLabel := len(recs) / 100
	assert.Less(t, most, perLabel*2*(4+1), "ids kept: %d of %d", most, len(recs))
	assert.Less(t, len(tw.in.ids), len(recs)/5)
	old := recs[:perLabel] // the first label's messages, two days old
	for _, r := range old {
		_, kept := tw.in.ids[mustEnv(t, r).MsgID]
		require.False(t, kept, "an id older than the retention is forgotten")
		tw.Ingest(r)
	}
	ref.Finish()
	tw.Finish()
	assert.Equal(t, ref.Counters().Duplicates+uint64(len(old)), tw.Counters().Duplicates, "old duplicates still dropped by (source, seq)")
	assert.Equal(t, ref.Counters().Conflicts, tw.Counters().Conflicts, "an old duplicate whose id was pruned is not a conflict")
	assert.Equal(t, ref.Counters().Applied, tw.Counters().Applied)
	var a, b bytes.Buffer
	require.NoError(t, ref.WriteStates(&a))
	require.NoError(t, tw.WriteStates(&b))
	assert.Equal(t, a.String(), b.String())
}

func mustEnv(t *testing.T, r wire.CaptureRecord) wire.Envelope {
	env, err := wire.Decode(r.Topic, r.Payload)
	require.NoError(t, err)
	return env
}

// TestLabelRetention: labels are forgotten LabelRetention after they
// finish, so memory stays bounded on a long feed; what is kept, the
// divergences and the counters match a twin that keeps everything; a
// snapshot carries what is still to be forgotten.
func TestLabelRetention(t *testing.T) {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i := range 100 { // a label every 30 minutes, each done in 90 min: 50 hours
		recs = append(recs, f.lifecycle(fmt.Sprintf("L-%03d", i), int64(i*30), i%10 != 0)...)
	}
	recs = append(recs, f.msg("prod-core", min_(99*30+100), wire.LabelState{LabelID: "L-095", State: wire.LabelRerouting, Node: "L1", RerouteTo: "P1"}))
	no := false
	mk := func(keep model.Duration) *Twin {
		tw, err := New(Config{Network: quickstart(t), Window: 5 * model.Minute, Replenish: &no, LabelRetention: keep, Metrics: NewMetrics()})
		require.NoError(t, err)
		return tw
	}
	all, tw := mk(-1), mk(3*model.Hour)
	most := 0
	for i, r := range recs {
		all.Ingest(r)
		tw.Ingest(r)
		most = max(most, len(tw.drv.labels), tw.drv.core.Live())
		if i == len(recs)/2 { // a snapshot mid-way carries the retention state
			snap, err := tw.MarshalBinary()
			require.NoError(t, err)
			tw = mk(3 * model.Hour)
			require.NoError(t, tw.UnmarshalBinary(snap))
		}
	}
	all.Finish()
	tw.Finish()
	// every tenth label is never collected and lives through its 24 h
	// ready TTL; with the quickstart's central supply none is cancelled for
	// lack of stock any more, so ten of them, not six, outlive the rest
	assert.Less(t, most, 25, "labels held at once: about 4 h of labels plus the uncollected, not 50 h")
	kept := tw.Labels()
	require.NotEmpty(t, kept)
	assert.Equal(t, uint64(100-len(kept)), tw.Counters().Forgotten)
	assert.Equal(t, float64(tw.Counters().Forgotten), metricValue(t, tw.cfg.Metrics.Forgotten), "metric survives the restore")
	assert.Equal(t, float64(len(kept)), metricValue(t, tw.cfg.Metrics.Labels))
	byName := map[string]LabelView{}
	for _, v := range all.Labels() {
		byName[v.Label] = v
	}
	for _, v := range kept {
		assert.Equal(t, byName[v.Label], v)
	}
	// kept: exactly the labels not finished, or finished within the
	// retention of the clock at the last hourly check
	keptSet := map[string]bool{}
	for _, v := range kept {
		keptSet[v.Label] = true
	}
	for _, v := range all.Labels() {
		at, err := wire.ParseInstant(v.At)
		require.NoError(t, err)
		terminal := v.State == "picked_up" || v.State == "returned" || v.State == "cancelled"
		if !terminal || at >= tw.Clock()-model.Instant(3*model.Hour) {
			assert.True(t, keptSet[v.Label], "%s (%s at %s) is kept", v.Label, v.State, v.At)
		} else if at < tw.Clock()-model.Instant(5*model.Hour) {
			assert.False(t, keptSet[v.Label], "%s (%s at %s) is forgotten", v.Label, v.State, v.At)
		}
	}
	_, ok := tw.Label("L-001")
	assert.False(t, ok, "picked up two days ago: forgotten")
	assert.Equal(t, all.Divergences(Filter{}), tw.Divergences(Filter{}))
	assert.NotEmpty(t, tw.Divergences(Filter{}))
}
