package twin

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// The tests of this file exercise Ingest alone: no core, no driver.

// offerAll offers recs in turn and returns the ids of the messages released
// ("late:" before a late one) and how many hourly beats were reported.
func offerAll(in *Ingest, recs ...wire.CaptureRecord) (ids []string, beats int) {
	for _, r := range recs {
		out, hourly := in.Offer(r, time.Time{}, nil)
		if hourly {
			beats++
		}
		ids = append(ids, msgIDs(out)...)
	}
	return ids, beats
}

func msgIDs(ms []*Message) []string {
	var ids []string
	for _, m := range ms {
		id := m.Env.MsgID
		if m.Late {
			id = "late:" + id
		}
		ids = append(ids, id)
	}
	return ids
}

func heartbeat(f *feed, src string, at model.Instant) wire.CaptureRecord {
	return f.msg(src, at, wire.Heartbeat{Session: 1})
}

func TestIngestReleaseOrder(t *testing.T) {
	f := newFeed(t)
	a1 := heartbeat(f, "A", min_(0))
	b1 := heartbeat(f, "B", min_(2)) // B-1
	a2 := heartbeat(f, "A", min_(1)) // earlier than B-1
	a3 := heartbeat(f, "A", min_(9))
	a4 := heartbeat(f, "A", min_(12))

	in := NewIngest(IngestConfig{Window: 10 * model.Minute})
	ids, _ := offerAll(in, a1, b1, a2, a3)
	assert.Empty(t, ids, "nothing is a window older than the newest")
	ids, _ = offerAll(in, a4) // releases up to minute 2
	assert.Equal(t, []string{"A-1", "A-2", "B-1"}, ids, "released in event-time order, whatever the arrival")
	assert.Equal(t, []string{"A-3", "A-4"}, msgIDs(in.Release(model.Never, nil)))
	assert.Empty(t, in.Release(model.Never, nil))

	// without a window every message is released as it comes; an older one
	// after it is late: handed on at once, flagged
	in = NewIngest(IngestConfig{Window: -1})
	ids, _ = offerAll(in, a1, b1, a2)
	assert.Equal(t, []string{"A-1", "B-1", "late:A-2"}, ids)
	c := in.Counters()
	assert.Equal(t, uint64(1), c.Late)
	assert.Equal(t, uint64(3), c.Accepted)
	assert.Equal(t, map[string]uint64{"heartbeat": 3}, c.ByType)
}

// At one instant, messages go in a parcel's life order (status, order,
// pick, pack, hand-off, delivery, locker events, pickup, reports), not by
// source id.
func TestIngestSameInstantRank(t *testing.T) {
	f := newFeed(t)
	scan := func(src string, stage wire.Stage) wire.CaptureRecord {
		return f.msg(src, min_(0), wire.Scan{LabelID: "L-A", OrderID: "O-A", Node: "M1", Stage: stage, Symbology: wire.SymQR, Code: "x"})
	}
	recs := []wire.CaptureRecord{
		f.msg("prod-core", min_(0), wire.LabelState{LabelID: "L-A", State: wire.LabelIssued, Node: "M1"}),
		f.msg("a-locker", min_(0), wire.Pickup{Compartment: "S01", LabelID: "L-A", Verified: true, Method: wire.MethodPIN}),
		f.msg("a-locker", min_(0), wire.Slot{Compartment: "S01", Size: wire.SizeS, State: wire.SlotOccupied, LabelID: "L-A"}),
		scan("a-scn", wire.StageDelivery),
		scan("b-scn", wire.StageHandoff),
		scan("c-scn", wire.StagePack),
		scan("d-scn", wire.StagePick),
		f.msg("z-oms", min_(0), wire.Order{OrderID: "O-A", LabelID: "L-A", SKU: "S01", Size: wire.SizeS, Node: "M1", Destination: "L1",
			PlacedAt: min_(0), SLADeadline: min_(60)}),
		f.msg("z-node", min_(0), wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 1}),
	}
	in := NewIngest(IngestConfig{Window: time5m})
	ids, _ := offerAll(in, recs...)
	assert.Empty(t, ids)
	assert.Equal(t, []string{"z-node-1", "z-oms-1", "d-scn-1", "c-scn-1", "b-scn-1", "a-scn-1", "a-locker-2", "a-locker-1", "prod-core-1"},
		msgIDs(in.Release(model.Never, nil)))
}

func TestIngestDuplicatesAndQuarantine(t *testing.T) {
	f := newFeed(t)
	a1 := heartbeat(f, "A", min_(0))
	a2 := heartbeat(f, "A", min_(1))
	// A's seq 1 again, with another msg_id
	p, err := wire.Encode(wire.Envelope{MsgID: "other", Source: "A", Seq: 1, At: min_(5), Body: wire.Heartbeat{Session: 1}})
	require.NoError(t, err)
	conflict := wire.CaptureRecord{Topic: a1.Topic, Payload: p}

	in := NewIngest(IngestConfig{Window: -1, QuarantineMax: 2})
	ids, _ := offerAll(in, a1, a1, a2, conflict)
	assert.Equal(t, []string{"A-1", "A-2"}, ids)
	for i := range 3 {
		_, _ = in.Offer(wire.CaptureRecord{Topic: "lockstep/v1/nodes/A/status", Payload: []byte(fmt.Sprint("junk ", i)), RecvAt: min_(int64(i))}, time.Time{}, nil)
	}
	_, _ = in.Offer(wire.CaptureRecord{Topic: "elsewhere", Payload: a1.Payload}, time.Time{}, nil)
	c := in.Counters()
	assert.Equal(t, uint64(8), c.Received)
	assert.Equal(t, uint64(2), c.Accepted)
	assert.Equal(t, uint64(1), c.Duplicates, "the repeat")
	assert.Equal(t, uint64(1), c.Conflicts)
	assert.Equal(t, map[string]uint64{wire.ReasonBadJSON: 3, wire.ReasonBadTopic: 1, ReasonSeqConflict: 1}, c.Quarantined)
	q := in.Quarantine()
	require.Len(t, q, 2, "bounded by QuarantineMax, oldest dropped")
	assert.Equal(t, []byte("junk 2"), q[0].Payload)
	assert.Equal(t, "elsewhere", q[1].Topic)
	assert.Equal(t, []string{"A-1", "A"}, []string{q[1].MsgID, q[1].Source}, "the envelope on a topic it does not belong on is named")
	assert.Empty(t, q[0].MsgID, "junk has no ids")
}

// Gaps: every seq up to the highest seen that never arrived; the seq a node
// reserved for its will at connect is a gap of its own, flagged.
func TestIngestGaps(t *testing.T) {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i := range 8 {
		recs = append(recs, heartbeat(f, "A", min_(int64(i))))
	}
	f.seq["N"] = 4 // N-5 is "online", having reserved N-4 for its will
	online := f.msg("N", min_(0), wire.Status{State: wire.NodeOnline, Reason: wire.ReasonReconnect, Session: 2})
	in := NewIngest(IngestConfig{})
	offerAll(in, recs[0], recs[3], recs[4], recs[7], online)
	assert.Equal(t, []Gap{{"A", 2, 3, false}, {"A", 6, 7, false}, {"N", 1, 3, false}, {"N", 4, 4, true}}, in.Gaps())
	assert.Equal(t, uint64(2+2+4), in.Counters().Missing)
	offerAll(in, recs[1], recs[2])
	assert.Equal(t, []Gap{{"A", 6, 7, false}, {"N", 1, 3, false}, {"N", 4, 4, true}}, in.Gaps())
}

// A last will is applied at the instant it was received: its at is the
// instant its connection opened.
func TestIngestWillInstant(t *testing.T) {
	f := newFeed(t)
	will := f.msg("L1", min_(0), wire.Status{State: wire.NodeOffline, Reason: wire.ReasonLWT, Session: 1})
	will.RecvAt = min_(30)
	in := NewIngest(IngestConfig{Window: -1})
	out, _ := in.Offer(will, time.Time{}, nil)
	require.Len(t, out, 1)
	assert.Equal(t, min_(30), out[0].At)
	assert.Equal(t, min_(0), out[0].Env.At)
}

// Offer reports the hourly beat once the newest event instant passes
// another hour, and then forgets msg_ids older than IDRetention; an old
// duplicate is still caught by (source, seq), and is no conflict.
func TestIngestHourlyPrune(t *testing.T) {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i := range 5 * 6 { // every 10 minutes for 5 hours
		recs = append(recs, heartbeat(f, "A", min_(int64(i*10))))
	}
	in := NewIngest(IngestConfig{Window: -1, IDRetention: 2 * model.Hour})
	_, beats := offerAll(in, recs...)
	assert.Equal(t, 5, beats, "the first message, then every hour")
	assert.LessOrEqual(t, len(in.ids), 3*6+1, "ids within retention plus the hour to the next prune")
	_, kept := in.ids["A-1"]
	require.False(t, kept)
	ids, _ := offerAll(in, recs[0])
	assert.Empty(t, ids)
	c := in.Counters()
	assert.Equal(t, uint64(1), c.Duplicates)
	assert.Zero(t, c.Conflicts)
}

// A msg_id seen again with the same payload is a duplicate; with another
// payload it is a conflict: quarantined (msg_id_conflict), counted, and the
// first message stays. Its seq arrived (no gap). Once the msg_id is pruned,
// an old message is told by its (source, seq) alone: a duplicate.
func TestIngestConflicts(t *testing.T) {
	f := newFeed(t)
	a1 := heartbeat(f, "A", min_(0))
	other := func(src string, seq uint64, session uint64) wire.CaptureRecord {
		p, err := wire.Encode(wire.Envelope{MsgID: "A-1", Source: src, Seq: seq, At: min_(0), Body: wire.Heartbeat{Session: session}})
		require.NoError(t, err)
		return wire.CaptureRecord{Topic: wire.Topics{}.NodeStatus(src), Payload: p}
	}
	changed := other("A", 1, 2)   // A-1 with another session
	elsewhere := other("B", 1, 1) // A-1 from another source
	require.Equal(t, "A-1", mustEnv(t, a1).MsgID)

	m := NewMetrics()
	in := NewIngest(IngestConfig{Window: -1, IDRetention: model.Hour, Metrics: m})
	out, _ := in.Offer(a1, time.Time{}, nil)
	require.Len(t, out, 1)
	f.seq["B"] = 1
	ids, _ := offerAll(in, a1, changed, elsewhere, heartbeat(f, "B", min_(1)))
	assert.Equal(t, []string{"B-2"}, ids)
	c := in.Counters()
	assert.Equal(t, uint64(1), c.Duplicates)
	assert.Equal(t, uint64(2), c.Conflicts)
	assert.Equal(t, map[string]uint64{ReasonMsgIDConflict: 2}, c.Quarantined)
	assert.Empty(t, in.Gaps(), "B's seq 1 arrived, though quarantined")
	q := in.Quarantine()
	require.Len(t, q, 2)
	assert.Equal(t, Quarantined{Topic: changed.Topic, Reason: ReasonMsgIDConflict, Detail: `msg_id "A-1" was accepted with another payload`,
		MsgID: "A-1", Source: "A", Size: len(changed.Payload), SHA256: sha256Hex(changed.Payload), Payload: changed.Payload}, q[0])
	assert.Equal(t, "B", q[1].Source)
	assert.Equal(t, 2.0, metricValue(t, m.Conflicts))
	assert.Equal(t, 2.0, metricValue(t, m.Quarantined.WithLabelValues(ReasonMsgIDConflict)))
	assert.Equal(t, 1.0, metricValue(t, m.Duplicates))

	// three hours later A-1 is pruned: A's seq 1 says it is old news
	offerAll(in, heartbeat(f, "A", min_(3*60)))
	_, kept := in.ids["A-1"]
	require.False(t, kept)
	ids, _ = offerAll(in, changed)
	assert.Empty(t, ids)
	c = in.Counters()
	assert.Equal(t, uint64(2), c.Duplicates)
	assert.Equal(t, uint64(2), c.Conflicts)
}
