package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func instantOf(ms int64) model.Instant { return model.Instant(ms) }

func TestCaptureRoundTrip(t *testing.T) {
	recs := []CaptureRecord{
		{Topic: scanTopic, Payload: []byte(goodScan), RecvAt: at0, Retain: false},
		{Topic: "lockstep/v1/nodes/lkr-1/status", Payload: []byte(`{"a":1}`), Retain: true},
		{Topic: scanTopic, Payload: []byte("not json\n at all")},
		{Topic: scanTopic, Payload: []byte(`{ "not": "compact" }`)},
		{Topic: scanTopic, Payload: []byte(`[1,2]`)},
		{Topic: scanTopic, Payload: []byte("{\"bad\":\"\xff\"}")},
		{Topic: scanTopic, Payload: nil},
		{Topic: scanTopic, Payload: []byte(`{"html":"<b>&</b>"}`)},
	}
	var buf bytes.Buffer
	w := NewCaptureWriter(&buf)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Flush())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, len(recs))
	assert.Contains(t, lines[0], `"payload":{"msg_id"`, "valid compact JSON is embedded")
	assert.Contains(t, lines[1], `"retain":true`)
	assert.Contains(t, lines[2], `"payload_b64":`)
	assert.Contains(t, lines[3], `"payload_b64":`, "non-compact JSON is base64 so replay is byte-exact")
	assert.Contains(t, lines[7], `"payload":{"html":"<b>&</b>"}`, "embedded as is, no HTML escaping")

	r := NewCaptureReader(&buf)
	for i, want := range recs {
		got, err := r.Next()
		require.NoError(t, err, "record %d", i)
		assert.Equal(t, want.Topic, got.Topic)
		assert.Equal(t, string(want.Payload), string(got.Payload))
		assert.Equal(t, want.RecvAt, got.RecvAt)
		assert.Equal(t, want.Retain, got.Retain)
	}
	_, err := r.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestCaptureReaderErrors(t *testing.T) {
	long := `{"topic":"t","payload_b64":"` + strings.Repeat("A", 200) + `"}`
	input := strings.Join([]string{
		`{"topic":"t","payload":{"a":1}}`,
		``,
		`not json`,
		long,
		`{"topic":"t","payload":{"a":1},"payload_b64":"AA=="}`,
		`{"topic":"t"}`,
		`{"topic":"","payload_b64":""}`,
		`{"topic":"t","payload":"str"}`,
		`{"topic":"t","payload_b64":"!!"}`,
		`{"topic":"t","payload_b64":"","extra":1}`,
		`{"topic":"t","payload_b64":"QQ==","recv_at":"yesterday"}`,
		`{"topic":"last","payload_b64":"QQ=="}`,
	}, "\n") // no final newline
	r := NewCaptureReader(strings.NewReader(input))
	r.SetMaxLine(100)
	tests := []struct {
		line   int
		reason string
		long   bool
	}{
		{1, "", false}, {3, ReasonBadJSON, false}, {4, "", true}, {5, ReasonExtraField, false},
		{6, ReasonMissingField, false}, {7, ReasonBadValue, false}, {8, ReasonWrongType, false},
		{9, ReasonBadValue, false}, {10, ReasonExtraField, false}, {11, ReasonBadInstant, false}, {12, "", false},
	}
	for _, tt := range tests {
		rec, err := r.Next()
		assert.Equal(t, tt.line, r.Line())
		switch {
		case tt.long:
			assert.ErrorIs(t, err, ErrLineTooLong, "line %d", tt.line)
		case tt.reason == "":
			require.NoError(t, err, "line %d", tt.line)
			assert.NotEmpty(t, rec.Topic)
		default:
			var ce *CaptureError
			require.True(t, errors.As(err, &ce), "line %d: %v", tt.line, err)
			assert.Equal(t, tt.line, ce.Line)
			assert.Equal(t, tt.reason, ErrorReason(err), "line %d: %v", tt.line, err)
		}
	}
	_, err := r.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestCaptureWriterRejects(t *testing.T) {
	w := NewCaptureWriter(io.Discard)
	assert.Error(t, w.Write(CaptureRecord{Topic: "", Payload: []byte("x")}))
	assert.Error(t, w.Write(CaptureRecord{Topic: "t", Payload: make([]byte, MaxCaptureLine)}))
}
