package wire

import (
	"bytes"
	"testing"
)

// FuzzDecode checks Decode never panics, that every accepted payload
// re-encodes to an accepted payload with the same meaning, and that every
// rejection is a *DecodeError.
func FuzzDecode(f *testing.F) {
	topics := Topics{}
	for _, env := range samples() {
		raw, err := Encode(env)
		if err != nil {
			f.Fatal(err)
		}
		topic, _ := topics.TopicFor(env)
		f.Add(topic, raw)
	}
	f.Add(scanTopic, []byte(goodScan))
	f.Add(scanTopic, []byte(`{"msg_id":"a","msg_id":"b"}`))
	f.Add(scanTopic, []byte(`{"body":{"counts":{"s":{"free":1e99}}}}`))
	f.Add("lockstep/v1/labels/L1/state", []byte(`{"body":{"refund":null}}`))
	f.Add("", []byte(`null`))
	f.Add(scanTopic, []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, topic string, raw []byte) {
		env, err := Decode(topic, raw)
		if err != nil {
			if ErrorReason(err) == "" {
				t.Fatalf("error is not a *DecodeError: %v", err)
			}
			return
		}
		again, err := Encode(env)
		if err != nil {
			t.Fatalf("accepted payload does not re-encode: %v\n%s", err, raw)
		}
		env2, err := Decode(topic, again)
		if err != nil {
			t.Fatalf("re-encoded payload rejected: %v\n%s", err, again)
		}
		again2, _ := Encode(env2)
		if !bytes.Equal(again, again2) {
			t.Fatalf("encoding not stable:\n%s\n%s", again, again2)
		}
	})
}

// FuzzCaptureLine checks that any payload survives a capture round trip
// byte for byte, and that parsing arbitrary lines never panics.
func FuzzCaptureLine(f *testing.F) {
	f.Add("lockstep/v1/scanners/s/scan", []byte(goodScan), int64(0), false)
	f.Add("t", []byte("not json"), int64(1748856600250), true)
	f.Add("t", []byte(`{ "spaced": 1 }`), int64(0), false)
	f.Add("t", []byte{}, int64(0), false)
	f.Fuzz(func(t *testing.T, topic string, payload []byte, recv int64, retain bool) {
		_, _ = ParseCaptureLine(payload)
		if recv < 0 || recv > 253402300799999 { // RFC 3339 years 0000..9999
			recv = 0
		}
		rec := CaptureRecord{Topic: topic, Payload: payload, RecvAt: instantOf(recv), Retain: retain}
		line, err := AppendCaptureLine(nil, rec)
		if err != nil {
			return
		}
		got, err := ParseCaptureLine(bytes.TrimSuffix(line, []byte("\n")))
		if err != nil {
			t.Fatalf("own line rejected: %v\n%s", err, line)
		}
		if got.Topic != rec.Topic || !bytes.Equal(got.Payload, rec.Payload) || got.RecvAt != rec.RecvAt || got.Retain != rec.Retain {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", rec, got)
		}
	})
}
