package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lockstep-sim/lockstep/model"
)

// Reasons a payload is rejected, as DecodeError.Reason. They are short,
// stable, machine-readable codes meant as metric labels.
const (
	ReasonTooLarge           = "too_large"           // payload larger than MaxPayload
	ReasonBadJSON            = "bad_json"            // not valid UTF-8 JSON
	ReasonBadTopic           = "bad_topic"           // topic not under the prefix or not a feed topic
	ReasonMissingField       = "missing_field"       // a required field is absent
	ReasonExtraField         = "extra_field"         // a field the schema does not define
	ReasonDuplicateField     = "duplicate_field"     // the same key twice in one object
	ReasonWrongType          = "wrong_type"          // a field has the wrong JSON type (null included)
	ReasonBadValue           = "bad_value"           // right type, value out of its domain (enum, pattern, range)
	ReasonUnknownType        = "unknown_type"        // envelope "type" is not a known message type
	ReasonUnsupportedVersion = "unsupported_version" // envelope "v" is not Version
	ReasonBadSeq             = "bad_seq"             // seq is 0
	ReasonBadInstant         = "bad_instant"         // an instant is not RFC 3339 with at most millisecond precision
	ReasonTopicMismatch      = "topic_mismatch"      // type or id does not belong on the topic
)

// DecodeError is the error Decode returns for every rejected payload.
type DecodeError struct {
	Reason string // one of the Reason* codes
	Detail string // human-readable detail, usually starting with the field path
}

func (e *DecodeError) Error() string { return "wire: " + e.Reason + ": " + e.Detail }

// ErrorReason returns the DecodeError reason of err, or "" if err is not (or
// does not wrap) a *DecodeError.
func ErrorReason(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return ""
}

func derr(reason, format string, args ...any) *DecodeError {
	return &DecodeError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

const instantLayout = "2006-01-02T15:04:05.000Z07:00"

var instantRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// FormatInstant formats t as the feed writes instants: RFC 3339, UTC, milliseconds.
func FormatInstant(t model.Instant) string { return t.Time().Format(instantLayout) }

// ParseInstant parses an RFC 3339 instant with at most millisecond
// precision and any UTC offset, as the feed accepts it.
func ParseInstant(s string) (model.Instant, error) {
	if !instantRE.MatchString(s) {
		return 0, fmt.Errorf("%q is not RFC 3339 with at most millisecond precision", s)
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", s, err)
	}
	return model.InstantOf(tm), nil
}

// Decode strictly decodes and validates a payload received on topic under
// DefaultPrefix. See Topics.Decode.
func Decode(topic string, raw []byte) (Envelope, error) { return Topics{}.Decode(topic, raw) }

// Decode strictly decodes and validates a payload received on topic: the
// topic must be a feed topic under t's prefix, the envelope and body must
// match the schema exactly (no missing, extra or duplicate fields, no
// nulls), the type must belong on the topic and the topic id must match the
// message (see docs/feed.md). Every rejection is a *DecodeError. Decode
// never panics.
func (t Topics) Decode(topic string, raw []byte) (Envelope, error) {
	kind, id, err := t.ParseTopic(topic)
	if err != nil {
		return Envelope{}, derr(ReasonBadTopic, "%v", err)
	}
	env, err := DecodeEnvelope(raw)
	if err != nil {
		return Envelope{}, err
	}
	if env.Type.Kind() != kind {
		return Envelope{}, derr(ReasonTopicMismatch, "type %q is not published on %s topics", env.Type, kind)
	}
	var want, got, field string
	switch b := env.Body.(type) {
	case Order:
		want, got, field = id, b.Node, "body.node"
	case LabelState:
		want, got, field = id, b.LabelID, "body.label_id"
	default:
		want, got, field = id, env.Source, "source"
	}
	if want != got {
		return Envelope{}, derr(ReasonTopicMismatch, "%s %q does not match topic id %q", field, got, want)
	}
	return env, nil
}

// DecodeEnvelope strictly decodes and validates a payload like Decode, except
// for the checks that need the topic.
func DecodeEnvelope(raw []byte) (Envelope, error) {
	if len(raw) > MaxPayload {
		return Envelope{}, derr(ReasonTooLarge, "payload of %d bytes exceeds %d", len(raw), MaxPayload)
	}
	if !utf8.Valid(raw) {
		return Envelope{}, derr(ReasonBadJSON, "payload is not valid UTF-8")
	}
	if !json.Valid(raw) {
		return Envelope{}, derr(ReasonBadJSON, "payload is not valid JSON")
	}
	f := parseObject("", raw)
	var env Envelope
	if v, ok := f.uint("v", true); ok && v != Version {
		f.fail(derr(ReasonUnsupportedVersion, "v is %d, want %d", v, Version))
	}
	env.V = Version
	env.MsgID = f.id("msg_id", true)
	env.Source = f.id("source", true)
	if seq, ok := f.uint("seq", true); ok && seq == 0 {
		f.fail(derr(ReasonBadSeq, "seq must be >= 1"))
	} else {
		env.Seq = seq
	}
	env.At = f.instant("at", true)
	typ, _ := f.str("type", true)
	if f.err == nil && !slices.Contains(AllTypes, Type(typ)) {
		f.fail(derr(ReasonUnknownType, "type %q", typ))
	}
	env.Type = Type(typ)
	b := f.object("body", true)
	if f.err == nil {
		env.Body = decodeBody(env.Type, b)
		f.fail(b.finish())
	}
	if err := f.finish(); err != nil {
		return Envelope{}, err
	}
	return env, nil
}

func decodeBody(t Type, f *fields) Body {
	switch t {
	case TypeScan:
		s := Scan{
			LabelID:   f.id("label_id", true),
			OrderID:   f.id("order_id", true),
			Node:      f.id("node", true),
			Stage:     enum(f, "stage", stages),
			Symbology: enum(f, "symbology", symbologies),
		}
		s.Code, _ = f.str("code", true)
		if n := utf8.RuneCountInString(s.Code); f.err == nil && (n == 0 || n > maxRawCode) {
			f.fail(derr(ReasonBadValue, "body.code must have 1..%d characters, has %d", maxRawCode, n))
		}
		s.OperatorID = f.id("operator_id", false)
		return s
	case TypeDoor:
		return Door{Compartment: f.id("compartment", true), State: enum(f, "state", doorStates)}
	case TypeSlot:
		s := Slot{Compartment: f.id("compartment", true), Size: enum(f, "size", sizes), State: enum(f, "state", slotStates)}
		s.LabelID = f.id("label_id", false)
		if f.err == nil {
			if s.State == SlotOccupied && s.LabelID == "" {
				f.fail(derr(ReasonMissingField, "body.label_id is required when state is occupied"))
			} else if s.State == SlotFree && s.LabelID != "" {
				f.fail(derr(ReasonBadValue, "body.label_id must be absent when state is free"))
			}
		}
		return s
	case TypePickup:
		p := Pickup{Compartment: f.id("compartment", true), LabelID: f.id("label_id", true)}
		p.Verified = f.boolean("verified", true)
		p.Method = enum(f, "method", methods)
		return p
	case TypeOccupancy:
		o := Occupancy{Counts: map[Size]SlotCount{}}
		c := f.object("counts", true)
		if f.err != nil {
			return o
		}
		for _, k := range c.keys {
			if !slices.Contains(sizes, Size(k)) {
				f.fail(derr(ReasonExtraField, "%s%s is not a size class", c.path, k))
				return o
			}
			sc := c.object(k, true)
			if c.err != nil {
				break
			}
			free, _ := sc.uint("free", true)
			total, _ := sc.uint("total", true)
			if sc.err == nil && (total > maxCount || free > total) {
				sc.fail(derr(ReasonBadValue, "%s: need free <= total <= %d, have free %d total %d", sc.path, maxCount, free, total))
			}
			c.fail(sc.finish())
			o.Counts[Size(k)] = SlotCount{Free: free, Total: total}
		}
		if c.err == nil && len(c.keys) == 0 {
			c.fail(derr(ReasonBadValue, "body.counts must hold at least one size class"))
		}
		f.fail(c.finish())
		return o
	case TypeStatus:
		s := Status{State: enum(f, "state", nodeStates), Reason: enum(f, "reason", reasons)}
		s.Session = f.positive("session")
		s.Backlog, _ = f.uint("backlog", true)
		if f.err == nil {
			off := s.Reason == ReasonShutdown || s.Reason == ReasonLWT
			if off != (s.State == NodeOffline) {
				f.fail(derr(ReasonBadValue, "body.reason %q does not go with state %q", s.Reason, s.State))
			}
		}
		return s
	case TypeHeartbeat:
		h := Heartbeat{Session: f.positive("session")}
		h.Backlog, _ = f.uint("backlog", true)
		return h
	case TypeOrder:
		o := Order{
			OrderID:     f.id("order_id", true),
			LabelID:     f.id("label_id", true),
			SKU:         f.id("sku", true),
			Size:        enum(f, "size", sizes),
			Node:        f.id("node", true),
			Destination: f.id("destination", true),
			PlacedAt:    f.instant("placed_at", true),
			SameDay:     f.boolean("same_day", true),
			SLADeadline: f.instant("sla_deadline", true),
		}
		if c, ok := f.str("customer_cell", false); ok && f.err == nil {
			if _, err := model.ParseCell(c); err != nil || len(c) != 15 {
				f.fail(derr(ReasonBadValue, "body.customer_cell %q is not an H3 cell (15 hex digits)", c))
			}
			o.CustomerCell = c
		}
		if w := f.object("window", false); w != nil && f.err == nil {
			pw := PickupWindow{Opens: w.instant("opens", true), Closes: w.instant("closes", true)}
			if w.err == nil && pw.Closes <= pw.Opens {
				w.fail(derr(ReasonBadValue, "body.window.closes must be after body.window.opens"))
			}
			if w.err == nil && pw.Opens < o.PlacedAt {
				w.fail(derr(ReasonBadValue, "body.window.opens is before body.placed_at"))
			}
			f.fail(w.finish())
			o.Window = &pw
		}
		return o
	case TypeLabelState:
		l := LabelState{LabelID: f.id("label_id", true), State: enum(f, "state", labelStates), Node: f.id("node", true)}
		if r, ok := f.str("reason", false); ok && f.err == nil {
			if !codeRE.MatchString(r) {
				f.fail(derr(ReasonBadValue, "body.reason %q must match %s", r, codeRE))
			}
			l.Reason = r
		}
		l.RerouteTo = f.id("reroute_to", false)
		if f.err == nil {
			if l.State == LabelRerouting && l.RerouteTo == "" {
				f.fail(derr(ReasonMissingField, "body.reroute_to is required when state is rerouting"))
			} else if l.State != LabelRerouting && l.RerouteTo != "" {
				f.fail(derr(ReasonBadValue, "body.reroute_to is only allowed when state is rerouting"))
			}
		}
		if r := f.object("refund", false); r != nil && f.err == nil {
			amount, _ := r.uint("amount", true)
			cur, _ := r.str("currency", true)
			if r.err == nil && (amount == 0 || amount > maxRefundMin) {
				r.fail(derr(ReasonBadValue, "body.refund.amount must be 1..%d minor units", maxRefundMin))
			}
			if r.err == nil && !currencyRE.MatchString(cur) {
				r.fail(derr(ReasonBadValue, "body.refund.currency %q is not an ISO 4217 code", cur))
			}
			f.fail(r.finish())
			l.Refund = &Refund{Amount: amount, Currency: cur}
		}
		if r := f.object("reward", false); r != nil && f.err == nil {
			amount, _ := r.uint("amount", true)
			cur, _ := r.str("currency", true)
			if r.err == nil && (amount == 0 || amount > maxRefundMin) {
				r.fail(derr(ReasonBadValue, "body.reward.amount must be 1..%d minor units", maxRefundMin))
			}
			if r.err == nil && !currencyRE.MatchString(cur) {
				r.fail(derr(ReasonBadValue, "body.reward.currency %q is not an ISO 4217 code", cur))
			}
			if r.err == nil && l.State != LabelPickedUp {
				r.fail(derr(ReasonBadValue, "body.reward is only allowed when state is picked_up"))
			}
			f.fail(r.finish())
			l.Reward = &Reward{Amount: amount, Currency: cur}
		}
		return l
	case TypeBox:
		return decodeBox(f)
	}
	return nil
}

// fields is one parsed JSON object with a sticky first error.
type fields struct {
	path string // "" or "body." etc.
	keys []string
	m    map[string]json.RawMessage
	used map[string]bool
	err  *DecodeError
}

// parseObject parses raw as an object, rejecting duplicate keys. raw must be
// valid JSON (every caller checks json.Valid on the whole payload, and a
// nested value of valid JSON is valid JSON), so a small scanner that only
// splits the top-level members is enough: this is the twin's hottest path,
// and encoding/json's Decoder spends a third of its time building errors
// for the "next value" it peeks at.
func parseObject(path string, raw []byte) *fields {
	f := &fields{path: path, m: make(map[string]json.RawMessage, 8), used: make(map[string]bool, 8)}
	where := path
	if where == "" {
		where = "payload"
	} else {
		where = where[:len(where)-1]
	}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		f.fail(derr(ReasonWrongType, "%s must be an object", where))
		return f
	}
	bad := func() *fields {
		f.fail(derr(ReasonBadJSON, "%s: malformed object", where))
		return f
	}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] != '}' {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		ke := endOfValue(raw, i)
		if ke < 0 || raw[i] != '"' {
			return bad()
		}
		k, err := unquote(raw[i:ke])
		if err != nil {
			return bad()
		}
		i = skipSpace(raw, ke)
		if i >= len(raw) || raw[i] != ':' {
			return bad()
		}
		vs := skipSpace(raw, i+1)
		ve := endOfValue(raw, vs)
		if ve < 0 {
			return bad()
		}
		if _, dup := f.m[k]; dup {
			f.fail(derr(ReasonDuplicateField, "%s%s appears twice", path, k))
			return f
		}
		f.keys = append(f.keys, k)
		f.m[k] = json.RawMessage(raw[vs:ve:ve])
		i = skipSpace(raw, ve)
	}
	if i >= len(raw) {
		return bad()
	}
	if skipSpace(raw, i+1) != len(raw) {
		f.fail(derr(ReasonBadJSON, "%s: trailing data", where))
	}
	return f
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfValue returns the index just past the JSON value starting at b[i]
// (valid JSON assumed), or -1.
func endOfValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				e := endOfValue(b, i)
				if e < 0 {
					return -1
				}
				i = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// unquote decodes a JSON string literal (quotes included).
func unquote(q []byte) (string, error) {
	if len(q) < 2 {
		return "", errors.New("short string")
	}
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1]), nil
	}
	var s string
	err := json.Unmarshal(q, &s)
	return s, err
}

func (f *fields) fail(e *DecodeError) {
	if f.err == nil && e != nil {
		f.err = e
	}
}

// get returns the raw value of name, or nil if absent (recording missing_field
// if required, and wrong_type for null).
func (f *fields) get(name string, required bool) json.RawMessage {
	if f.err != nil {
		return nil
	}
	v, ok := f.m[name]
	f.used[name] = true
	if !ok {
		if required {
			f.fail(derr(ReasonMissingField, "%s%s is required", f.path, name))
		}
		return nil
	}
	if string(v) == "null" {
		f.fail(derr(ReasonWrongType, "%s%s must not be null", f.path, name))
		return nil
	}
	return v
}

// finish reports the first error, or extra_field for keys never looked at.
func (f *fields) finish() *DecodeError {
	if f.err != nil {
		return f.err
	}
	for _, k := range f.keys {
		if !f.used[k] {
			return derr(ReasonExtraField, "%s%s is not part of the schema", f.path, k)
		}
	}
	return nil
}

func (f *fields) str(name string, required bool) (string, bool) {
	v := f.get(name, required)
	if v == nil {
		return "", false
	}
	if v[0] != '"' {
		f.fail(derr(ReasonWrongType, "%s%s must be a string", f.path, name))
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		f.fail(derr(ReasonBadJSON, "%s%s: %v", f.path, name, err))
		return "", false
	}
	return s, true
}

func (f *fields) id(name string, required bool) string {
	s, ok := f.str(name, required)
	if ok && !ValidID(s) {
		f.fail(derr(ReasonBadValue, "%s%s %q is not a valid id", f.path, name, truncate(s)))
		return ""
	}
	return s
}

func enum[T ~string](f *fields, name string, allowed []T) T {
	s, ok := f.str(name, true)
	if ok && !slices.Contains(allowed, T(s)) {
		f.fail(derr(ReasonBadValue, "%s%s %q is not one of %v", f.path, name, truncate(s), allowed))
		return ""
	}
	return T(s)
}

var uintRE = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

func (f *fields) uint(name string, required bool) (uint64, bool) {
	v := f.get(name, required)
	if v == nil {
		return 0, false
	}
	if !uintRE.Match(v) {
		f.fail(derr(ReasonWrongType, "%s%s must be a non-negative integer, got %s", f.path, name, truncate(string(v))))
		return 0, false
	}
	u, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		f.fail(derr(ReasonBadValue, "%s%s %s does not fit in 64 bits", f.path, name, truncate(string(v))))
		return 0, false
	}
	return u, true
}

func (f *fields) positive(name string) uint64 {
	u, ok := f.uint(name, true)
	if ok && u == 0 {
		f.fail(derr(ReasonBadValue, "%s%s must be >= 1", f.path, name))
	}
	return u
}

func (f *fields) boolean(name string, required bool) bool {
	v := f.get(name, required)
	switch string(v) {
	case "true":
		return true
	case "false", "":
		return false
	}
	f.fail(derr(ReasonWrongType, "%s%s must be a boolean", f.path, name))
	return false
}

func (f *fields) instant(name string, required bool) model.Instant {
	s, ok := f.str(name, required)
	if !ok {
		return 0
	}
	t, err := ParseInstant(s)
	if err != nil {
		f.fail(derr(ReasonBadInstant, "%s%s: %v", f.path, name, err))
	}
	return t
}

func (f *fields) object(name string, required bool) *fields {
	v := f.get(name, required)
	if v == nil {
		return nil
	}
	if v[0] != '{' {
		f.fail(derr(ReasonWrongType, "%s%s must be an object", f.path, name))
		return nil
	}
	o := parseObject(f.path+name+".", v)
	if o.err != nil {
		f.fail(o.err)
	}
	return o
}

func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
