package twin

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// A scan or locker event about a label the twin has no order for is an
// anomaly, recorded with its ids and counted (not a core rejection); so is,
// for a driver fed without Ingest's network check, a message naming an
// unknown node or SKU. The store keeps the newest AnomalyMax.
func TestDriverAnomalies(t *testing.T) {
	f := newFeed(t)
	m := NewMetrics()
	d, _ := newDriver(t, DriverConfig{AnomalyMax: 3, Metrics: m})
	scan := func(label, node string) wire.Body {
		return wire.Scan{LabelID: label, OrderID: "O" + label, Node: node, Stage: wire.StagePick, Symbology: wire.SymQR, Code: label}
	}
	order := func(node, dest, sku string) wire.Body {
		return wire.Order{OrderID: "O-2", LabelID: "L-2", SKU: sku, Size: wire.SizeS, Node: node, Destination: dest, PlacedAt: min_(0), SLADeadline: min_(60)}
	}
	recs := []wire.CaptureRecord{
		f.msg("scn-M1", min_(1), scan("L-1", "M1")),
		f.msg("L1", min_(2), wire.Slot{Compartment: "S01", Size: wire.SizeS, State: wire.SlotOccupied, LabelID: "L-1"}),
		f.msg("L1", min_(3), wire.Pickup{Compartment: "S01", LabelID: "L-1", Verified: true, Method: wire.MethodPIN}),
		f.msg("scn-X", min_(4), scan("L-1", "X9")),
		f.msg("L9", min_(5), wire.Slot{Compartment: "S01", Size: wire.SizeS, State: wire.SlotOccupied, LabelID: "L-1"}),
		f.msg("N9", min_(6), wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 1}),
		f.msg("oms", min_(7), order("X9", "L1", "S01")),
		f.msg("oms", min_(8), order("M1", "X8", "S01")),
		f.msg("oms", min_(9), order("M1", "L1", "S99")),
	}
	for _, msg := range messages(t, recs...) {
		d.Apply(msg)
	}
	c := d.Counters()
	assert.Equal(t, map[string]uint64{AnomalyUnknownLabel: 3, AnomalyUnknownNode: 5, AnomalyUnknownSKU: 1}, c.Anomalies)
	assert.Empty(t, c.Rejected, "the core never saw them")
	assert.Empty(t, c.Ignored)
	assert.Equal(t, []Anomaly{
		{Reason: AnomalyUnknownNode, MsgID: "oms-2", Source: "oms", Type: "order", Label: "L-2", Node: "X8", At: wire.FormatInstant(min_(8))},
		{Reason: AnomalyUnknownSKU, MsgID: "oms-3", Source: "oms", Type: "order", Label: "L-2", At: wire.FormatInstant(min_(9))},
	}, d.Anomalies()[1:], "the newest three are kept")
	assert.Equal(t, 3.0, metricValue(t, m.Anomalies.WithLabelValues(AnomalyUnknownLabel)))
	assert.Equal(t, 5.0, metricValue(t, m.Anomalies.WithLabelValues(AnomalyUnknownNode)))

	d, _ = newDriver(t, DriverConfig{})
	for _, msg := range messages(t, recs[:3]...) {
		d.Apply(msg)
	}
	assert.Equal(t, []Anomaly{
		{Reason: AnomalyUnknownLabel, MsgID: "scn-M1-1", Source: "scn-M1", Type: "scan", Label: "L-1", Node: "M1", At: wire.FormatInstant(min_(1))},
		{Reason: AnomalyUnknownLabel, MsgID: "L1-1", Source: "L1", Type: "slot", Label: "L-1", Node: "L1", At: wire.FormatInstant(min_(2))},
		{Reason: AnomalyUnknownLabel, MsgID: "L1-2", Source: "L1", Type: "pickup", Label: "L-1", Node: "L1", At: wire.FormatInstant(min_(3))},
	}, d.Anomalies())
}

// Behind a Twin's ingest, unknown nodes and SKUs are quarantined: only
// unknown labels reach the driver's anomalies. A snapshot carries them.
func TestTwinAnomalies(t *testing.T) {
	f := newFeed(t)
	tw := newTwin(t, -1)
	life := f.lifecycle("L-1", 0, true)
	for _, r := range life[2:] { // the order (and production's first report) never came
		tw.Ingest(r)
	}
	tw.Ingest(f.msg("scn-X", min_(100), wire.Scan{LabelID: "L-1", OrderID: "O-1", Node: "X9", Stage: wire.StagePick, Symbology: wire.SymQR, Code: "x"}))
	c := tw.Counters()
	assert.Equal(t, map[string]uint64{AnomalyUnknownLabel: 6}, c.Anomalies, "four scans, the slot and the pickup")
	assert.Equal(t, map[string]uint64{ReasonUnknownNode: 1}, c.Quarantined)
	a := tw.Anomalies()
	require.Len(t, a, 6)
	assert.Equal(t, Anomaly{Reason: AnomalyUnknownLabel, MsgID: "L1-2", Source: "L1", Type: "pickup", Label: "L-1", Node: "L1",
		At: wire.FormatInstant(min_(90))}, a[5])

	snap, err := tw.MarshalBinary()
	require.NoError(t, err)
	again := newTwin(t, -1)
	require.NoError(t, again.UnmarshalBinary(snap))
	assert.Equal(t, a, again.Anomalies())
	assert.Equal(t, c, again.Counters())
}

// /v1/quarantine names each message by its ids, length and SHA-256;
// /v1/anomalies lists the anomalies; /metrics counts both, and conflicts.
func TestAPIQuarantineAndAnomalies(t *testing.T) {
	m := NewMetrics()
	no := false
	tw, err := New(Config{Network: quickstart(t), Window: -1, Replenish: &no, Metrics: m})
	require.NoError(t, err)
	f := newFeed(t)
	life := f.lifecycle("L-A", 0, true)
	changed := life[2]
	changed.Payload = bytes.Replace(changed.Payload, []byte(`"code":"L-A"`), []byte(`"code":"L-X"`), 1) // another payload under its msg_id
	unknown := f.msg("L2", min_(100), wire.Pickup{Compartment: "S01", LabelID: "L-Q", Verified: true, Method: wire.MethodPIN})
	r := NewRunner(tw, nil)
	require.NoError(t, r.Accept(append(life, changed, unknown)...))
	h := r.Handler(APIConfig{Metrics: m})

	code, v, _ := get(t, h, "/v1/quarantine", "")
	require.Equal(t, 200, code)
	assert.EqualValues(t, 1, v["count"])
	assert.Equal(t, map[string]any{ReasonMsgIDConflict: 1.0}, v["by_reason"])
	q := v["messages"].([]any)[0].(map[string]any)
	assert.Equal(t, "scn-M1-1", q["msg_id"])
	assert.Equal(t, "scn-M1", q["source"])
	assert.EqualValues(t, len(changed.Payload), q["payload_len"])
	assert.Equal(t, sha256Hex(changed.Payload), q["payload_sha256"])

	code, v, _ = get(t, h, "/v1/anomalies", "")
	require.Equal(t, 200, code)
	assert.EqualValues(t, 1, v["count"])
	assert.Equal(t, map[string]any{AnomalyUnknownLabel: 1.0}, v["by_reason"])
	assert.Equal(t, []any{map[string]any{"reason": AnomalyUnknownLabel, "msg_id": "L2-1", "source": "L2", "type": "pickup", "label": "L-Q",
		"node": "L2", "at": wire.FormatInstant(min_(100))}}, v["anomalies"])

	_, _, body := get(t, h, "/metrics", "")
	for _, want := range []string{`lockstep_twin_quarantined_total{reason="msg_id_conflict"} 1`, "lockstep_twin_conflicts_total 1",
		`lockstep_twin_anomalies_total{reason="unknown_label"} 1`, `lockstep_twin_core_rejected_total{reason="stale_timer"} 0`} {
		assert.Contains(t, body, want)
	}
}

// A live twin (not partitioned) subscribes to everything under the prefix:
// a message on a topic the feed does not have reaches it and is
// quarantined (bad_topic) with its ids, not left unseen.
func TestLiveUnknownTopic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	no := false // the feed's instants are the clock: the live receive instant is today's
	tw, err := New(Config{Network: quickstart(t), Window: -1, Replenish: &no, EventClock: true})
	require.NoError(t, err)
	r := NewRunner(tw, nil)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Live(lctx, transport.ClientConfig{URL: b.URL()}, LiveConfig{}) }()
	require.Eventually(t, r.Ready, 10*time.Second, 10*time.Millisecond)

	hb := heartbeat(newFeed(t), "L1", min_(0))
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	for _, topic := range []string{"lockstep/v1/sensors/L1/temperature", "lockstep/v1/nodes/L1/status/extra", hb.Topic} {
		require.NoError(t, pub.Publish(ctx, topic, hb.Payload, wire.QoS, false))
	}
	require.Eventually(t, func() bool { return tw.Counters().Received == 3 }, 10*time.Second, 10*time.Millisecond)
	stop()
	require.NoError(t, <-done)
	assert.Equal(t, map[string]uint64{wire.ReasonBadTopic: 2}, tw.Counters().Quarantined)
	for _, q := range tw.Quarantine() {
		assert.Equal(t, []string{wire.ReasonBadTopic, "L1-1", "L1"}, []string{q.Reason, q.MsgID, q.Source}, q.Topic)
	}
	assert.Equal(t, uint64(1), tw.Counters().Accepted)
}
