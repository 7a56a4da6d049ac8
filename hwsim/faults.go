package hwsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Duration is a simulated duration written like scenario durations
// ("500ms", "30s", "2m", "1h30m").
type Duration model.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: duration: %w", n.Line, err)
	}
	v, err := scenarios.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v.Model())
	return nil
}

// ParseDuration parses a duration as the fault file writes it.
func ParseDuration(s string) (Duration, error) {
	v, err := scenarios.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return Duration(v.Model()), nil
}

// Malformed payload kinds and the wire.Decode reason each one must produce.
const (
	MalformedBadJSON      = "bad_json"      // payload cut in half: wire.ReasonBadJSON
	MalformedMissingField = "missing_field" // envelope "at" removed: wire.ReasonMissingField
	MalformedWrongType    = "wrong_type"    // envelope "seq" as a string: wire.ReasonWrongType
	MalformedUnknownType  = "unknown_type"  // envelope "type" unknown: wire.ReasonUnknownType
)

// MalformedKinds lists every malformed kind in a fixed order.
var MalformedKinds = []string{MalformedBadJSON, MalformedMissingField, MalformedWrongType, MalformedUnknownType}

// MalformedReason is the wire.Decode reason a payload malformed with kind k is rejected with.
func MalformedReason(k string) string {
	switch k {
	case MalformedBadJSON:
		return wire.ReasonBadJSON
	case MalformedMissingField:
		return wire.ReasonMissingField
	case MalformedWrongType:
		return wire.ReasonWrongType
	case MalformedUnknownType:
		return wire.ReasonUnknownType
	}
	return ""
}

// Faults configures the injected faults. Every rate is a probability in
// [0, 1]: per message for drop, duplicate, reorder, delay, malformed and
// disconnect; per device for skew. The zero value injects nothing.
type Faults struct {
	// Drop: the message takes its sequence number but is never published
	// (the receiver sees a gap). Recorded in Truth.Faults.Dropped.
	Drop float64 `yaml:"drop" json:"drop"`
	// Duplicate: the message is published twice (same msg_id and payload).
	Duplicate float64 `yaml:"duplicate" json:"duplicate"`
	// Reorder: the message is held back and published after the next
	// 1..Window messages of the same source.
	Reorder ReorderFault `yaml:"reorder" json:"reorder"`
	// Delay: the message is published 1 ms..Max of simulated time late.
	Delay DelayFault `yaml:"delay" json:"delay"`
	// Skew: this share of the hardware devices (scanners and node
	// gateways) have a clock off by a fixed amount uniform in [-Max, +Max];
	// their envelopes' "at" carries the skew.
	Skew SkewFault `yaml:"skew" json:"skew"`
	// Malformed: the payload is replaced by a broken one of one of Kinds
	// (all kinds when empty), chosen uniformly. It keeps its sequence number.
	Malformed MalformedFault `yaml:"malformed" json:"malformed"`
	// Disconnect: before this message the publisher's broker connection
	// drops; messages of the next ReconnectAfter (simulated time) are held
	// in a backlog and flushed, in order, after the reconnect.
	Disconnect DisconnectFault `yaml:"disconnect" json:"disconnect"`
}

// ReorderFault configures reordering within a source.
type ReorderFault struct {
	Rate   float64 `yaml:"rate" json:"rate"`
	Window int     `yaml:"window" json:"window"` // default 5
}

// DelayFault configures delayed messages.
type DelayFault struct {
	Rate float64  `yaml:"rate" json:"rate"`
	Max  Duration `yaml:"max" json:"max_ms"` // default 2m
}

// SkewFault configures per-device clock skew.
type SkewFault struct {
	Rate float64  `yaml:"rate" json:"rate"`
	Max  Duration `yaml:"max" json:"max_ms"` // default 30s
}

// MalformedFault configures malformed payloads.
type MalformedFault struct {
	Rate  float64  `yaml:"rate" json:"rate"`
	Kinds []string `yaml:"kinds" json:"kinds,omitempty"`
}

// DisconnectFault configures broker disconnects.
type DisconnectFault struct {
	Rate           float64  `yaml:"rate" json:"rate"`
	ReconnectAfter Duration `yaml:"reconnect_after" json:"reconnect_after_ms"` // default 30s
}

// Defaults fills in the defaults of unset sub-settings.
func (f *Faults) Defaults() {
	if f.Reorder.Window == 0 {
		f.Reorder.Window = 5
	}
	if f.Delay.Max == 0 {
		f.Delay.Max = Duration(2 * model.Minute)
	}
	if f.Skew.Max == 0 {
		f.Skew.Max = Duration(30 * model.Second)
	}
	if f.Disconnect.ReconnectAfter == 0 {
		f.Disconnect.ReconnectAfter = Duration(30 * model.Second)
	}
	if len(f.Malformed.Kinds) == 0 {
		f.Malformed.Kinds = slices.Clone(MalformedKinds)
	}
}

// Validate checks the rates and settings.
func (f *Faults) Validate() error {
	var errs []error
	rate := func(name string, v float64) {
		if !(v >= 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("%s: rate %v must be between 0 and 1", name, v))
		}
	}
	rate("drop", f.Drop)
	rate("duplicate", f.Duplicate)
	rate("reorder.rate", f.Reorder.Rate)
	rate("delay.rate", f.Delay.Rate)
	rate("skew.rate", f.Skew.Rate)
	rate("malformed.rate", f.Malformed.Rate)
	rate("disconnect.rate", f.Disconnect.Rate)
	if f.Reorder.Window < 0 || f.Reorder.Window > 1000 {
		errs = append(errs, fmt.Errorf("reorder.window %d must be 1..1000", f.Reorder.Window))
	}
	if f.Delay.Max < 0 || f.Skew.Max < 0 || f.Disconnect.ReconnectAfter < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	for _, k := range f.Malformed.Kinds {
		if !slices.Contains(MalformedKinds, k) {
			errs = append(errs, fmt.Errorf("malformed.kinds: unknown kind %q (want one of %v)", k, MalformedKinds))
		}
	}
	if f.Drop+f.Malformed.Rate > 1 {
		errs = append(errs, errors.New("drop + malformed.rate must not exceed 1"))
	}
	return errors.Join(errs...)
}

// Any reports whether some fault is enabled.
func (f *Faults) Any() bool {
	return f.Drop > 0 || f.Duplicate > 0 || f.Reorder.Rate > 0 || f.Delay.Rate > 0 || f.Skew.Rate > 0 ||
		f.Malformed.Rate > 0 || f.Disconnect.Rate > 0
}

// ParseFaults strictly parses a fault file (unknown fields are errors),
// fills in defaults and validates it.
func ParseFaults(name string, data []byte) (Faults, error) {
	var f Faults
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Faults{}, fmt.Errorf("faults %s: %w", name, err)
	}
	f.Defaults()
	if err := f.Validate(); err != nil {
		return Faults{}, fmt.Errorf("faults %s: %w", name, err)
	}
	return f, nil
}

// LoadFaults reads and parses a fault file.
func LoadFaults(path string) (Faults, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Faults{}, fmt.Errorf("faults: %w", err)
	}
	return ParseFaults(path, raw)
}
