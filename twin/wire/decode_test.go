package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	scanTopic = "lockstep/v1/scanners/scn-7/scan"
	goodScan  = `{"msg_id":"scn-7-1","source":"scn-7","seq":1,"at":"2025-06-02T09:30:00.251Z","type":"scan","v":1,"body":{"label_id":"L-1001","order_id":"O-1001","node":"mfc-north","stage":"pick","symbology":"code128","code":"LS1001"}}`
)

// mut replaces old by new in goodScan (exactly once).
func mut(t *testing.T, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(goodScan, old), "mutation %q", old)
	return strings.Replace(goodScan, old, new, 1)
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, topic, payload, reason string
	}{
		{"empty", scanTopic, ``, ReasonBadJSON},
		{"garbage", scanTopic, `not json`, ReasonBadJSON},
		{"truncated", scanTopic, goodScan[:40], ReasonBadJSON},
		{"trailing", scanTopic, goodScan + `{}`, ReasonBadJSON},
		{"invalid utf8", scanTopic, mut(t, `LS1001`, "LS\xff"), ReasonBadJSON},
		{"array", scanTopic, `[1,2]`, ReasonWrongType},
		{"too large", scanTopic, mut(t, `LS1001`, strings.Repeat("x", MaxPayload)), ReasonTooLarge},
		{"bad topic prefix", "other/v1/scanners/scn-7/scan", goodScan, ReasonBadTopic},
		{"bad topic shape", "lockstep/v1/scanners/scn-7", goodScan, ReasonBadTopic},
		{"bad topic id", "lockstep/v1/scanners/-x/scan", goodScan, ReasonBadTopic},
		{"missing msg_id", scanTopic, mut(t, `"msg_id":"scn-7-1",`, ``), ReasonMissingField},
		{"missing body", scanTopic, mut(t, `,"body":{"label_id":"L-1001","order_id":"O-1001","node":"mfc-north","stage":"pick","symbology":"code128","code":"LS1001"}`, ``), ReasonMissingField},
		{"missing body field", scanTopic, mut(t, `"node":"mfc-north",`, ``), ReasonMissingField},
		{"extra envelope field", scanTopic, mut(t, `"v":1,`, `"v":1,"x":2,`), ReasonExtraField},
		{"extra body field", scanTopic, mut(t, `"code":"LS1001"`, `"code":"LS1001","color":"red"`), ReasonExtraField},
		{"duplicate field", scanTopic, mut(t, `"seq":1,`, `"seq":1,"seq":2,`), ReasonDuplicateField},
		{"null field", scanTopic, mut(t, `"source":"scn-7"`, `"source":null`), ReasonWrongType},
		{"seq string", scanTopic, mut(t, `"seq":1`, `"seq":"1"`), ReasonWrongType},
		{"seq negative", scanTopic, mut(t, `"seq":1`, `"seq":-1`), ReasonWrongType},
		{"seq float", scanTopic, mut(t, `"seq":1`, `"seq":1.0`), ReasonWrongType},
		{"seq exponent", scanTopic, mut(t, `"seq":1`, `"seq":1e3`), ReasonWrongType},
		{"seq overflow", scanTopic, mut(t, `"seq":1`, `"seq":18446744073709551616`), ReasonBadValue},
		{"seq zero", scanTopic, mut(t, `"seq":1`, `"seq":0`), ReasonBadSeq},
		{"body not object", scanTopic, `{"msg_id":"a","source":"scn-7","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"scan","v":1,"body":[]}`, ReasonWrongType},
		{"version 2", scanTopic, mut(t, `"v":1`, `"v":2`), ReasonUnsupportedVersion},
		{"unknown type", scanTopic, mut(t, `"type":"scan"`, `"type":"weigh"`), ReasonUnknownType},
		{"type on wrong topic", "lockstep/v1/lockers/scn-7/event", goodScan, ReasonTopicMismatch},
		{"source not topic id", "lockstep/v1/scanners/scn-8/scan", goodScan, ReasonTopicMismatch},
		{"bad stage", scanTopic, mut(t, `"stage":"pick"`, `"stage":"weigh"`), ReasonBadValue},
		{"bad id", scanTopic, mut(t, `"label_id":"L-1001"`, `"label_id":"L 1001"`), ReasonBadValue},
		{"empty code", scanTopic, mut(t, `"code":"LS1001"`, `"code":""`), ReasonBadValue},
		{"instant no zone", scanTopic, mut(t, `09:30:00.251Z`, `09:30:00.251`), ReasonBadInstant},
		{"instant micros", scanTopic, mut(t, `09:30:00.251Z`, `09:30:00.251123Z`), ReasonBadInstant},
		{"instant bad day", scanTopic, mut(t, `2025-06-02`, `2025-02-30`), ReasonBadInstant},
		{"instant number", scanTopic, mut(t, `"at":"2025-06-02T09:30:00.251Z"`, `"at":1748856600251`), ReasonWrongType},
		{"slot occupied without label", "lockstep/v1/lockers/lkr-1/event",
			`{"msg_id":"a","source":"lkr-1","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"slot","v":1,"body":{"compartment":"A1","size":"s","state":"occupied"}}`, ReasonMissingField},
		{"slot free with label", "lockstep/v1/lockers/lkr-1/event",
			`{"msg_id":"a","source":"lkr-1","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"slot","v":1,"body":{"compartment":"A1","size":"s","state":"free","label_id":"L1"}}`, ReasonBadValue},
		{"occupancy free > total", "lockstep/v1/lockers/lkr-1/event",
			`{"msg_id":"a","source":"lkr-1","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"occupancy","v":1,"body":{"counts":{"s":{"free":3,"total":2}}}}`, ReasonBadValue},
		{"occupancy unknown size", "lockstep/v1/lockers/lkr-1/event",
			`{"msg_id":"a","source":"lkr-1","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"occupancy","v":1,"body":{"counts":{"xxl":{"free":3,"total":2}}}}`, ReasonExtraField},
		{"occupancy empty", "lockstep/v1/lockers/lkr-1/event",
			`{"msg_id":"a","source":"lkr-1","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"occupancy","v":1,"body":{"counts":{}}}`, ReasonBadValue},
		{"status online lwt", "lockstep/v1/nodes/lkr-1/status",
			`{"msg_id":"a","source":"lkr-1","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"status","v":1,"body":{"state":"online","reason":"lwt","session":1,"backlog":0}}`, ReasonBadValue},
		{"status session 0", "lockstep/v1/nodes/lkr-1/status",
			`{"msg_id":"a","source":"lkr-1","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"status","v":1,"body":{"state":"online","reason":"connect","session":0,"backlog":0}}`, ReasonBadValue},
		{"order on other node", "lockstep/v1/orders/mfc-south",
			`{"msg_id":"a","source":"oms","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"order","v":1,"body":{"order_id":"O1","label_id":"L1","sku":"s1","size":"m","node":"mfc-north","destination":"lkr-1","placed_at":"2025-06-02T09:30:00.000Z","same_day":true,"sla_deadline":"2025-06-02T13:30:00.000Z"}}`, ReasonTopicMismatch},
		{"order same_day string", "lockstep/v1/orders/mfc-north",
			`{"msg_id":"a","source":"oms","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"order","v":1,"body":{"order_id":"O1","label_id":"L1","sku":"s1","size":"m","node":"mfc-north","destination":"lkr-1","placed_at":"2025-06-02T09:30:00.000Z","same_day":"yes","sla_deadline":"2025-06-02T13:30:00.000Z"}}`, ReasonWrongType},
		{"order customer_cell not a cell", "lockstep/v1/orders/mfc-north",
			`{"msg_id":"a","source":"oms","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"order","v":1,"body":{"order_id":"O1","label_id":"L1","sku":"s1","size":"m","node":"mfc-north","destination":"lkr-1","placed_at":"2025-06-02T09:30:00.000Z","same_day":true,"sla_deadline":"2025-06-02T13:30:00.000Z","customer_cell":"kreuzberg"}}`, ReasonBadValue},
		{"rerouting without target", "lockstep/v1/labels/L1/state",
			`{"msg_id":"a","source":"core","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"label_state","v":1,"body":{"label_id":"L1","state":"rerouting","node":"lkr-1"}}`, ReasonMissingField},
		{"target without rerouting", "lockstep/v1/labels/L1/state",
			`{"msg_id":"a","source":"core","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"label_state","v":1,"body":{"label_id":"L1","state":"returned","node":"lkr-1","reroute_to":"p-2"}}`, ReasonBadValue},
		{"refund zero", "lockstep/v1/labels/L1/state",
			`{"msg_id":"a","source":"core","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"label_state","v":1,"body":{"label_id":"L1","state":"picked_up","node":"lkr-1","refund":{"amount":0,"currency":"EUR"}}}`, ReasonBadValue},
		{"refund extra", "lockstep/v1/labels/L1/state",
			`{"msg_id":"a","source":"core","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"label_state","v":1,"body":{"label_id":"L1","state":"picked_up","node":"lkr-1","refund":{"amount":1,"currency":"EUR","tax":1}}}`, ReasonExtraField},
		{"label on other topic", "lockstep/v1/labels/L2/state",
			`{"msg_id":"a","source":"core","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"label_state","v":1,"body":{"label_id":"L1","state":"picked_up","node":"lkr-1"}}`, ReasonTopicMismatch},
	}
	_, err := Decode(scanTopic, []byte(goodScan))
	require.NoError(t, err, "the base payload must be valid")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.topic, []byte(tt.payload))
			require.Error(t, err)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.reason, de.Reason, de.Detail)
			assert.Equal(t, tt.reason, ErrorReason(err))
			assert.NotEmpty(t, de.Detail)
		})
	}
}

func TestDecodeAcceptsOffsetsAndShortFractions(t *testing.T) {
	tests := []struct{ at, want string }{
		{"2025-06-02T11:30:00.251+02:00", "2025-06-02T09:30:00.251Z"},
		{"2025-06-02T09:30:00Z", "2025-06-02T09:30:00.000Z"},
		{"2025-06-02T09:30:00.5Z", "2025-06-02T09:30:00.500Z"},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			env, err := Decode(scanTopic, []byte(mut(t, "2025-06-02T09:30:00.251Z", tt.at)))
			require.NoError(t, err)
			assert.Equal(t, tt.want, FormatInstant(env.At))
		})
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	tests := []struct {
		name   string
		env    Envelope
		reason string
	}{
		{"seq zero", Envelope{Source: "s1", Body: Door{Compartment: "A1", State: DoorOpen}}, ReasonBadSeq},
		{"bad source", Envelope{Source: "s 1", Seq: 1, Body: Door{Compartment: "A1", State: DoorOpen}}, ReasonBadValue},
		{"bad enum", Envelope{Source: "s1", Seq: 1, Body: Door{Compartment: "A1", State: "ajar"}}, ReasonBadValue},
		{"missing compartment", Envelope{Source: "s1", Seq: 1, Body: Door{State: DoorOpen}}, ReasonBadValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.env)
			assert.Equal(t, tt.reason, ErrorReason(err), "%v", err)
		})
	}
	_, err := Encode(Envelope{Source: "s1", Seq: 1})
	assert.Error(t, err, "no body")
	_, err = Encode(Envelope{Source: "s1", Seq: 1, Type: TypeSlot, Body: Door{Compartment: "A1", State: DoorOpen}})
	assert.Error(t, err, "type/body mismatch")
}

func TestTopics(t *testing.T) {
	tests := []struct {
		name   string
		topics Topics
		kind   Kind
		id     string
		topic  string
	}{
		{"scan", Topics{}, KindScan, "scn-7", "lockstep/v1/scanners/scn-7/scan"},
		{"locker", Topics{}, KindLockerEvent, "lkr-12", "lockstep/v1/lockers/lkr-12/event"},
		{"status", Topics{}, KindNodeStatus, "lkr-12", "lockstep/v1/nodes/lkr-12/status"},
		{"order", Topics{}, KindOrder, "mfc-north", "lockstep/v1/orders/mfc-north"},
		{"label", Topics{}, KindLabelState, "L-1", "lockstep/v1/labels/L-1/state"},
		{"custom prefix", Topics{Prefix: "acme/prod/"}, KindScan, "s1", "acme/prod/scanners/s1/scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic, err := tt.topics.Topic(tt.kind, tt.id)
			require.NoError(t, err)
			assert.Equal(t, tt.topic, topic)
			k, id, err := tt.topics.ParseTopic(topic)
			require.NoError(t, err)
			assert.Equal(t, tt.kind, k)
			assert.Equal(t, tt.id, id)
			assert.Contains(t, tt.kind.Types(), tt.kind.Types()[0])
			for _, typ := range tt.kind.Types() {
				assert.Equal(t, tt.kind, typ.Kind())
			}
		})
	}
	_, err := Topics{}.Topic(KindScan, "a/b")
	assert.Error(t, err)
	_, err = Topics{}.Topic(KindScan, "+")
	assert.Error(t, err)
	for _, bad := range []string{"", "lockstep/v1", "lockstep/v1/scanners//scan", "lockstep/v1/scanners/a/b/scan", "lockstep/v1/orders/n/x", "lockstep/v1/nodes/n/state"} {
		_, _, err := ParseTopic(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "lockstep/v1/lockers/+/event", Topics{}.Filter(KindLockerEvent))
	assert.Equal(t, "$share/twin/lockstep/v1/#", Shared("twin", Topics{}.All()))
}

// An order's customer_cell is optional: absent it decodes empty, present it
// round-trips.
func TestOrderCustomerCell(t *testing.T) {
	const body = `{"msg_id":"a","source":"oms","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"order","v":1,"body":{"order_id":"O1","label_id":"L1","sku":"s1","size":"m","node":"mfc-north","destination":"lkr-1","placed_at":"2025-06-02T09:30:00.000Z","same_day":true,"sla_deadline":"2025-06-02T13:30:00.000Z"CELL}}`
	env, err := Decode("lockstep/v1/orders/mfc-north", []byte(strings.Replace(body, "CELL", "", 1)))
	require.NoError(t, err)
	assert.Empty(t, env.Body.(Order).CustomerCell)
	env, err = Decode("lockstep/v1/orders/mfc-north", []byte(strings.Replace(body, "CELL", `,"customer_cell":"881f1d4887fffff"`, 1)))
	require.NoError(t, err)
	assert.Equal(t, "881f1d4887fffff", env.Body.(Order).CustomerCell)
}
