package twin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

const statusTopic = "lockstep/v1/nodes/L1/status"

func sha256Hex(p []byte) string {
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:])
}

// bigPayload is a payload of n bytes that is JSON up to its size, so that only its
// size makes it invalid.
func bigPayload(n int, fill byte) []byte {
	p := bytes.Repeat([]byte{fill}, n)
	copy(p, `{"msg_id":"`)
	return p
}

// A quarantine entry holds the payload's length and SHA-256, and of the
// payload at most its first 64 KiB (the largest payload the twin accepts).
// A payload larger than that is too_large, with wire.Decode's detail.
func TestQuarantineEntry(t *testing.T) {
	in := NewIngest(IngestConfig{})
	small := []byte("not json")
	huge := bigPayload(10<<20, 'x')
	for _, p := range [][]byte{small, huge} {
		_, _ = in.Offer(wire.CaptureRecord{Topic: statusTopic, Payload: p, RecvAt: min_(1)}, time.Time{}, nil)
	}
	q := in.Quarantine()
	require.Len(t, q, 2)
	assert.Equal(t, Quarantined{Topic: statusTopic, Reason: wire.ReasonBadJSON, Detail: "wire: bad_json: payload is not valid JSON",
		RecvAt: min_(1), Recv: min_(1).String(), Size: len(small), SHA256: sha256Hex(small), Payload: small}, q[0])
	_, err := wire.Decode(statusTopic, huge)
	assert.Equal(t, Quarantined{Topic: statusTopic, Reason: wire.ReasonTooLarge, Detail: err.Error(), RecvAt: min_(1), Recv: min_(1).String(),
		Size: len(huge), SHA256: sha256Hex(huge), Payload: huge[:QuarantinePrefix]}, q[1])
	assert.Equal(t, map[string]uint64{wire.ReasonBadJSON: 1, wire.ReasonTooLarge: 1}, in.Counters().Quarantined)

	// the largest payload accepted is kept whole
	edge := bigPayload(wire.MaxPayload, 'y')
	_, _ = in.Offer(wire.CaptureRecord{Topic: statusTopic, Payload: edge}, time.Time{}, nil)
	q = in.Quarantine()
	assert.Equal(t, wire.ReasonBadJSON, q[2].Reason, "64 KiB is not too large")
	assert.Equal(t, edge, q[2].Payload)
}

// The quarantine holds at most QuarantineBytes of payloads: past it the
// oldest entries lose their payload and keep its length and SHA-256. A
// snapshot carries that state: restored, the quarantine goes on exactly as
// the uninterrupted one.
func TestQuarantineBudget(t *testing.T) {
	no := false
	mk := func() *Twin {
		tw, err := New(Config{Network: quickstart(t), Window: -1, Replenish: &no, QuarantineMax: 4, QuarantineBytes: 2*QuarantinePrefix + 10})
		require.NoError(t, err)
		return tw
	}
	var recs []wire.CaptureRecord
	for i := range 7 {
		p := bigPayload(QuarantinePrefix+1+i, byte('a'+i))
		if i == 4 {
			p = []byte("short")
		}
		recs = append(recs, wire.CaptureRecord{Topic: statusTopic, Payload: p, RecvAt: min_(int64(i))})
	}
	ref := mk()
	for _, r := range recs {
		ref.Ingest(r)
	}
	q := ref.Quarantine()
	require.Len(t, q, 4, "the newest QuarantineMax")
	var kept []int
	for i, e := range q {
		r := recs[3+i]
		assert.Equal(t, len(r.Payload), e.Size)
		assert.Equal(t, sha256Hex(r.Payload), e.SHA256)
		if len(e.Payload) > 0 {
			kept = append(kept, 3+i)
			assert.Equal(t, r.Payload[:min(len(r.Payload), QuarantinePrefix)], e.Payload)
		}
	}
	assert.Equal(t, []int{4, 5, 6}, kept, "the oldest payloads are released until the rest fit in the budget")

	for cut := range recs {
		a, b := mk(), mk()
		for _, r := range recs[:cut] {
			a.Ingest(r)
		}
		snap, err := a.MarshalBinary()
		require.NoError(t, err)
		require.NoError(t, b.UnmarshalBinary(snap))
		for _, r := range recs[cut:] {
			b.Ingest(r)
		}
		assert.Equal(t, q, b.Quarantine(), "snapshot after %d records", cut)
	}
}

// heapInUse is the heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// TestQuarantineMemoryBounded feeds 10 MB payloads through a twin: its heap
// (after GC, sampled after each message) grows by about 64 KiB per
// message, not 10 MB. The control keeps each payload whole, as the
// quarantine did before, and exceeds the same bound.
func TestQuarantineMemoryBounded(t *testing.T) {
	const n, size = 12, 10 << 20
	payload := bigPayload(size, 'x')
	bound := int64(n*QuarantinePrefix + 8<<20)
	peak := func(keep func(wire.CaptureRecord)) int64 {
		base, most := heapInUse(), int64(0)
		for i := range n {
			payload[len(payload)-1] = byte('a' + i)
			keep(wire.CaptureRecord{Topic: statusTopic, Payload: payload, RecvAt: min_(int64(i))})
			most = max(most, heapInUse()-base)
		}
		return most
	}

	tw := newTwin(t, -1)
	grew := peak(tw.Ingest)
	assert.Less(t, grew, bound, "the twin's heap grew by %d MiB", grew>>20)
	q := tw.Quarantine()
	require.Len(t, q, n)
	assert.Equal(t, size, q[n-1].Size)
	assert.Equal(t, sha256Hex(payload), q[n-1].SHA256)

	var whole [][]byte
	old := peak(func(r wire.CaptureRecord) { whole = append(whole, append([]byte(nil), r.Payload...)) })
	assert.Greater(t, old, bound, "keeping whole payloads grows the heap by %d MiB", old>>20)
	assert.Len(t, whole, n)
	t.Logf("peak heap growth over %d payloads of %d MiB: twin %d KiB, whole payloads kept %d MiB (bound %d MiB)", n, size>>20, grew>>10, old>>20, bound>>20)
}

// A message naming a node or SKU the network does not have is quarantined
// (unknown_node, unknown_sku) with its ids; the hub is a node where a
// parcel starts or is scanned. Its seq arrived, and a redelivery of it is a
// duplicate.
func TestIngestUnknownIDs(t *testing.T) {
	f := newFeed(t)
	order := func(node, dest, sku string) wire.Body {
		return wire.Order{OrderID: "O-1", LabelID: "L-1", SKU: sku, Size: wire.SizeS, Node: node, Destination: dest, PlacedAt: min_(0), SLADeadline: min_(60)}
	}
	scan := func(node string) wire.Body {
		return wire.Scan{LabelID: "L-1", OrderID: "O-1", Node: node, Stage: wire.StagePick, Symbology: wire.SymQR, Code: "x"}
	}
	report := func(node, to string) wire.Body {
		st := wire.LabelIssued
		if to != "" {
			st = wire.LabelRerouting
		}
		return wire.LabelState{LabelID: "L-1", State: st, Node: node, RerouteTo: to}
	}
	tests := []struct {
		src    string
		body   wire.Body
		reason string
		detail string
	}{
		{"scn-X", scan("M1"), "", ""},
		{"scn-X", scan("hub"), "", ""},
		{"scn-X", scan("X9"), ReasonUnknownNode, `body.node "X9" is not a node of the network`},
		{"L1", wire.Slot{Compartment: "S01", Size: wire.SizeS, State: wire.SlotFree}, "", ""},
		{"L9", wire.Slot{Compartment: "S01", Size: wire.SizeS, State: wire.SlotFree}, ReasonUnknownNode, `source "L9" is not a node of the network`},
		{"L9", wire.Door{Compartment: "S01", State: wire.DoorOpen}, ReasonUnknownNode, `source "L9" is not a node of the network`},
		{"L9", wire.Pickup{Compartment: "S01", LabelID: "L-1", Verified: true, Method: wire.MethodPIN}, ReasonUnknownNode, `source "L9" is not a node of the network`},
		{"L9", wire.Occupancy{Counts: map[wire.Size]wire.SlotCount{wire.SizeS: {Free: 1, Total: 2}}}, ReasonUnknownNode, `source "L9" is not a node of the network`},
		{"N9", wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 1}, ReasonUnknownNode, `source "N9" is not a node of the network`},
		{"N9", wire.Heartbeat{Session: 1}, ReasonUnknownNode, `source "N9" is not a node of the network`},
		{"oms", order("M1", "L1", "S01"), "", ""},
		{"oms", order("hub", "L1", "S01"), "", ""},
		{"oms", order("X9", "L1", "S01"), ReasonUnknownNode, `body.node "X9" is not a node of the network`},
		{"oms", order("M1", "hub", "S01"), ReasonUnknownNode, `body.destination "hub" is not a node of the network`},
		{"oms", order("M1", "L1", "S99"), ReasonUnknownSKU, `body.sku "S99" is not a SKU of the network`},
		{"prod", report("hub", ""), "", ""},
		{"prod", report("L1", "P1"), "", ""},
		{"prod", report("X9", ""), ReasonUnknownNode, `body.node "X9" is not a node of the network`},
		{"prod", report("L1", "X9"), ReasonUnknownNode, `body.reroute_to "X9" is not a node of the network`},
	}
	in := NewIngest(IngestConfig{Window: -1, Network: quickstart(t)})
	unchecked := NewIngest(IngestConfig{Window: -1})
	for _, tc := range tests {
		rec := f.msg(tc.src, min_(0), tc.body)
		env := mustEnv(t, rec)
		name := fmt.Sprintf("%s %+v", tc.src, tc.body)
		out, _ := unchecked.Offer(rec, time.Time{}, nil)
		assert.Len(t, out, 1, "without a network: %s", name)
		before := len(in.Quarantine())
		out, _ = in.Offer(rec, time.Time{}, nil)
		if tc.reason == "" {
			assert.Len(t, out, 1, name)
			assert.Len(t, in.Quarantine(), before, name)
			continue
		}
		assert.Empty(t, out, name)
		q := in.Quarantine()
		require.Len(t, q, before+1, name)
		assert.Equal(t, Quarantined{Topic: rec.Topic, Reason: tc.reason, Detail: tc.detail, RecvAt: rec.RecvAt, Recv: rec.RecvAt.String(),
			MsgID: env.MsgID, Source: env.Source, Size: len(rec.Payload), SHA256: sha256Hex(rec.Payload), Payload: rec.Payload}, q[before], name)
		dups := in.Counters().Duplicates
		out, _ = in.Offer(rec, time.Time{}, nil)
		assert.Empty(t, out)
		assert.Equal(t, dups+1, in.Counters().Duplicates, "a redelivery of %s is a duplicate", name)
	}
	assert.Empty(t, in.Gaps(), "quarantined messages arrived")
	assert.Equal(t, map[string]uint64{ReasonUnknownNode: 11, ReasonUnknownSKU: 1}, in.Counters().Quarantined)
}
