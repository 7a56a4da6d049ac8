package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// QoS is the MQTT quality of service every feed message is published and
// subscribed with: at least once. Duplicates are removed by the receiver
// (see docs/feed.md, "Ordering and de-duplication").
const QoS byte = 1

// Retained reports whether messages of type t are published with the MQTT
// retain flag: only node status (including the last will).
func Retained(t Type) bool { return t == TypeStatus }

type wireEnvelope struct {
	MsgID  string `json:"msg_id"`
	Source string `json:"source"`
	Seq    uint64 `json:"seq"`
	At     string `json:"at"`
	Type   Type   `json:"type"`
	V      int    `json:"v"`
	Body   Body   `json:"body"`
}

// Encode validates env and returns its JSON payload. Zero fields are
// defaulted: V to Version, Type to Body.MsgType(), MsgID to
// MsgID(Source, Seq). Encode rejects whatever Decode would reject, with the
// same *DecodeError, so a producer can never emit an invalid message.
func Encode(env Envelope) ([]byte, error) {
	if env.Body == nil {
		return nil, errors.New("wire: encode: envelope has no body")
	}
	if env.V == 0 {
		env.V = Version
	}
	if env.Type == "" {
		env.Type = env.Body.MsgType()
	}
	if env.Type != env.Body.MsgType() {
		return nil, fmt.Errorf("wire: encode: type %q does not match body of type %q", env.Type, env.Body.MsgType())
	}
	if env.MsgID == "" {
		env.MsgID = MsgID(env.Source, env.Seq)
	}
	raw, err := json.Marshal(wireEnvelope{
		MsgID: env.MsgID, Source: env.Source, Seq: env.Seq, At: FormatInstant(env.At),
		Type: env.Type, V: env.V, Body: env.Body,
	})
	if err != nil {
		return nil, fmt.Errorf("wire: encode: %w", err)
	}
	if _, err := DecodeEnvelope(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// TopicFor returns the topic env must be published on under t's prefix:
// the source's scanner, locker or node topic, the fulfilling node's order
// topic, or the label's state topic.
func (t Topics) TopicFor(env Envelope) (string, error) {
	if env.Body == nil {
		return "", errors.New("wire: envelope has no body")
	}
	typ := env.Body.MsgType()
	id := env.Source
	switch b := env.Body.(type) {
	case Order:
		id = b.Node
	case LabelState:
		id = b.LabelID
	}
	return t.Topic(typ.Kind(), id)
}
