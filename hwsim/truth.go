package hwsim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Truth is what really happened in a hwsim run: the final state of every
// label, and every fault hwsim injected on purpose. It is written by
// --truth as one JSON document (docs/hwsim.md describes it).
type Truth struct {
	Scenario    string `json:"scenario"`
	Seed        uint64 `json:"seed"`
	Replication int    `json:"replication"`
	Start       string `json:"start"`
	End         string `json:"end"`
	// Prefix is the subscription filter of everything published ("{prefix}/#").
	Prefix string `json:"topics"`
	Faults Faults `json:"faults"`
	Counts Counts `json:"counts"`
	// Skew is the clock skew of each skewed device, in milliseconds.
	Skew map[string]int64 `json:"skew_ms"`
	// Labels holds every label issued, in label id order.
	Labels []LabelTruth `json:"labels"`
	// Dropped messages took a seq but were never published: each is a
	// sequence gap the receiver must see.
	Dropped     []FaultRecord      `json:"dropped"`
	Malformed   []FaultRecord      `json:"malformed"`
	Duplicated  []FaultRecord      `json:"duplicated"`
	Delayed     []FaultRecord      `json:"delayed"`
	Reordered   []FaultRecord      `json:"reordered"`
	Disconnects []DisconnectRecord `json:"disconnects"`
}

// Counts summarises a run.
type Counts struct {
	Devices     int    `json:"devices"`     // hardware devices (node gateways and scanners, hub scanner included)
	Generated   uint64 `json:"generated"`   // envelopes numbered (each took a seq), wills excluded
	Sent        uint64 `json:"sent"`        // envelopes that went to the fault stage (wills and flushed buffers included)
	Published   uint64 `json:"published"`   // MQTT publishes (duplicates included, drops excluded)
	Dropped     uint64 `json:"dropped"`     // deliberately never published
	Duplicated  uint64 `json:"duplicated"`  // published twice
	Malformed   uint64 `json:"malformed"`   // published with a broken payload
	Delayed     uint64 `json:"delayed"`     // published late
	Reordered   uint64 `json:"reordered"`   // held back behind later messages of their source
	Disconnects uint64 `json:"disconnects"` // broker connection drops
	Offline     uint64 `json:"offline"`     // node connectivity drops (wills published)
	Buffered    uint64 `json:"buffered"`    // messages buffered by offline nodes and flushed on reconnect
	// Boxes counts the reusable-box messages generated (reusable packaging;
	// left out when 0).
	Boxes uint64 `json:"boxes,omitempty"`
}

// LabelTruth is the final true state of one label.
type LabelTruth struct {
	LabelID     string `json:"label_id"`
	OrderID     string `json:"order_id"`
	State       string `json:"state"` // wire label state (issued, ..., picked_up, returned, cancelled)
	Node        string `json:"node"`  // node of the last transition
	At          string `json:"at"`    // instant of the last transition
	Reason      string `json:"reason,omitempty"`
	Destination string `json:"destination"` // pickup node the customer chose
	Hops        int    `json:"hops"`        // reroutes
	Refunded    uint64 `json:"refunded"`    // refunds, minor units
	Transitions int    `json:"transitions"` // state changes production reported
}

// FaultRecord is one message a fault was applied to.
type FaultRecord struct {
	Kind   string    `json:"kind"` // drop, malformed, duplicate, delay, reorder
	MsgID  string    `json:"msg_id"`
	Source string    `json:"source"`
	Seq    uint64    `json:"seq"`
	Topic  string    `json:"topic"`
	Type   wire.Type `json:"type"`
	At     string    `json:"at"`               // simulated instant it was (to be) published
	Detail string    `json:"detail,omitempty"` // malformed kind, delay, reorder distance
	Reason string    `json:"reason,omitempty"` // malformed: the wire.Decode reason expected
}

// DisconnectRecord is one broker disconnect, in simulated time.
type DisconnectRecord struct {
	At    string `json:"at"`
	Until string `json:"until"`
}

// WriteTruth writes t as indented JSON.
func WriteTruth(w io.Writer, t *Truth) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(t); err != nil {
		return fmt.Errorf("hwsim: write truth: %w", err)
	}
	return nil
}

// WriteTruthFile writes t to path.
func WriteTruthFile(path string, t *Truth) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("hwsim: truth file: %w", err)
	}
	if err := WriteTruth(fh, t); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("hwsim: truth file: %w", err)
	}
	return nil
}

// ReadTruthFile reads a truth file.
func ReadTruthFile(path string) (*Truth, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hwsim: truth file: %w", err)
	}
	var t Truth
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("hwsim: truth file %s: %w", path, err)
	}
	return &t, nil
}
