package provenance

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-sim/lockstep/model"
)

// Version is the token format this package writes and reads.
const Version = 1

// KeyIDLen, LinkLen and SignatureLen are the fixed field sizes.
const (
	KeyIDLen     = 8
	LinkLen      = 16
	SignatureLen = ed25519.SignatureSize
)

// maxString bounds a string field (a label, box, state, reason or node id).
const maxString = 1 << 10

// maxTransitions bounds a token's transitions (a label has a handful; a
// bound keeps a hostile token from allocating much).
const maxTransitions = 1 << 12

var (
	sigContext  = []byte("lockstep provenance token v1\x00")
	chainPrefix = []byte("lockstep provenance v1")
)

// KeyID identifies a public key: the first 8 bytes of its SHA-256.
type KeyID [KeyIDLen]byte

func (k KeyID) String() string { return hex.EncodeToString(k[:]) }

// IDOf returns the key id of pub.
func IDOf(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	var k KeyID
	copy(k[:], sum[:KeyIDLen])
	return k
}

// Transition is one link of a label's custody.
type Transition struct {
	State  string    // the state entered (model.State's name)
	Reason string    // why (model.Reason's name)
	Node   string    // node id where it happened
	At     time.Time // to the millisecond, UTC
	Link   [LinkLen]byte
}

// Custody is what a token states about one label.
type Custody struct {
	Label       string
	Box         string // reusable box id ("" for single-use packaging)
	Transitions []Transition
}

// Token is a verified token's content.
type Token struct {
	Version int
	KeyID   KeyID
	Custody
}

// link computes a transition's hash link from the previous one.
func link(prev [LinkLen]byte, t *Transition) [LinkLen]byte {
	h := sha256.New()
	h.Write(prev[:])
	var b []byte
	b = appendString(b, t.State)
	b = appendString(b, t.Reason)
	b = appendString(b, t.Node)
	b = binary.BigEndian.AppendUint64(b, uint64(t.At.UnixMilli()))
	h.Write(b)
	var out [LinkLen]byte
	copy(out[:], h.Sum(nil))
	return out
}

// seed is link(-1): the chain's anchor, bound to the label id.
func seed(label string) [LinkLen]byte {
	h := sha256.New()
	h.Write(chainPrefix)
	h.Write(appendString(nil, label))
	var out [LinkLen]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Seal truncates each transition's instant to the millisecond (in UTC) and
// sets its hash link. Sign seals a copy; call it to compare a Custody with a
// verified token's.
func (c *Custody) Seal() {
	prev := seed(c.Label)
	for i := range c.Transitions {
		t := &c.Transitions[i]
		t.At = time.UnixMilli(t.At.UnixMilli()).UTC()
		t.Link = link(prev, t)
		prev = t.Link
	}
}

// FromLabel builds the custody of a core label: name is the label's id as
// the world knows it, node names a node index, real maps the core's
// instants to real ones (the twin's core runs on the city's local wall
// clock; pass nil when the instants are real already). Box is left empty:
// set it for a parcel in a reusable box.
func FromLabel(l *model.Label, name string, node func(model.NodeIndex) string, real func(model.Instant) model.Instant) Custody {
	c := Custody{Label: name, Transitions: make([]Transition, len(l.Chain))}
	for i, e := range l.Chain {
		at := e.At
		if real != nil {
			at = real(at)
		}
		c.Transitions[i] = Transition{State: e.State.String(), Reason: e.Reason.String(), Node: node(e.Node), At: at.Time()}
	}
	c.Seal()
	return c
}

// Sign seals a copy of c and returns its token signed by key.
func Sign(key ed25519.PrivateKey, c Custody) (string, error) {
	if len(key) != ed25519.PrivateKeySize {
		return "", fmt.Errorf("provenance: private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	if len(c.Transitions) == 0 {
		return "", fmt.Errorf("provenance: label %q has no transitions", c.Label)
	}
	if len(c.Transitions) > maxTransitions {
		return "", fmt.Errorf("provenance: label %q has %d transitions (at most %d)", c.Label, len(c.Transitions), maxTransitions)
	}
	c.Transitions = append([]Transition(nil), c.Transitions...)
	c.Seal()
	payload, err := encode(IDOf(key.Public().(ed25519.PublicKey)), &c)
	if err != nil {
		return "", err
	}
	return signEncoded(key, payload), nil
}

// signEncoded appends the signature of payload and encodes the token.
func signEncoded(key ed25519.PrivateKey, payload []byte) string {
	sig := ed25519.Sign(key, append(append([]byte(nil), sigContext...), payload...))
	return base64.RawURLEncoding.EncodeToString(append(payload, sig...))
}

// encode writes the payload (everything but the signature). The links are
// written as they are (Sign seals first).
func encode(kid KeyID, c *Custody) ([]byte, error) {
	b := []byte{Version}
	b = append(b, kid[:]...)
	for _, s := range []struct{ what, v string }{{"label", c.Label}, {"box", c.Box}} {
		if len(s.v) > maxString {
			return nil, fmt.Errorf("provenance: %s id is %d bytes (at most %d)", s.what, len(s.v), maxString)
		}
		b = appendString(b, s.v)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Transitions)))
	for _, t := range c.Transitions {
		for _, s := range []string{t.State, t.Reason, t.Node} {
			if len(s) > maxString {
				return nil, fmt.Errorf("provenance: label %q: a field of %d bytes (at most %d)", c.Label, len(s), maxString)
			}
			b = appendString(b, s)
		}
		b = binary.AppendVarint(b, t.At.UnixMilli())
		b = append(b, t.Link[:]...)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ErrKind says which check a token failed.
type ErrKind int

// Kinds of verification failure, in the order Verify checks.
const (
	ErrMalformed  ErrKind = iota + 1 // not a token: not base64url, bad field, trailing bytes
	ErrTruncated                     // the token ends early
	ErrVersion                       // a format version this package does not read
	ErrForeignKey                    // signed by another key
	ErrChain                         // a transition's hash link does not match
	ErrSignature                     // the signature does not match the content
)

var kindNames = map[ErrKind]string{ErrMalformed: "malformed", ErrTruncated: "truncated", ErrVersion: "unsupported version",
	ErrForeignKey: "foreign key", ErrChain: "tampered (hash chain)", ErrSignature: "tampered (signature)"}

func (k ErrKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("ErrKind(%d)", int(k))
}

// VerifyError is why a token did not verify.
type VerifyError struct {
	Kind   ErrKind
	Detail string
}

func (e *VerifyError) Error() string { return e.Kind.String() + ": " + e.Detail }

// Is matches another *VerifyError of the same kind (errors.Is(err,
// &VerifyError{Kind: ErrTruncated})).
func (e *VerifyError) Is(target error) bool {
	var t *VerifyError
	return errors.As(target, &t) && t.Detail == "" && t.Kind == e.Kind
}

func verr(k ErrKind, format string, args ...any) error {
	return &VerifyError{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Verify decodes token and checks it against pub (see the package comment
// for the order of the checks). An error is a *VerifyError.
func Verify(token string, pub ed25519.PublicKey) (*Token, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("provenance: public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	raw, err := decodeText(token)
	if err != nil {
		return nil, err
	}
	r := &reader{b: raw}
	tok, err := r.payload()
	if err != nil {
		return nil, err
	}
	payload := raw[:r.off]
	sig := raw[r.off:]
	if len(sig) < SignatureLen {
		return nil, verr(ErrTruncated, "the signature has %d of %d bytes (token of %d bytes, cut short)", len(sig), SignatureLen, len(raw))
	}
	if len(sig) > SignatureLen {
		return nil, verr(ErrMalformed, "%d bytes after the signature", len(sig)-SignatureLen)
	}
	if want := IDOf(pub); tok.KeyID != want {
		return nil, verr(ErrForeignKey, "signed by key %s, not by the given public key %s", tok.KeyID, want)
	}
	prev := seed(tok.Label)
	for i := range tok.Transitions {
		t := &tok.Transitions[i]
		if l := link(prev, t); l != t.Link {
			what := "the label id"
			if i > 0 {
				what = fmt.Sprintf("transition %d (%s)", i, tok.Transitions[i-1].State)
			}
			return nil, verr(ErrChain, "transition %d (%s at %s, %s): its hash link does not follow from %s: it or an earlier part was edited, dropped, inserted or reordered",
				i+1, t.State, t.Node, t.At.Format(time.RFC3339), what)
		}
		prev = t.Link
	}
	if !ed25519.Verify(pub, append(append([]byte(nil), sigContext...), payload...), sig) {
		return nil, verr(ErrSignature, "the Ed25519 signature does not match the token's content (label %q): altered after signing", tok.Label)
	}
	return tok, nil
}

// decodeText decodes base64url, with or without padding. A string cut at a
// length no base64 text can have is reported as truncated.
func decodeText(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, verr(ErrMalformed, "empty token")
	}
	s = strings.TrimRight(s, "=")
	if i := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}); i >= 0 {
		return nil, verr(ErrMalformed, "character %q at offset %d is not base64url", s[i], i)
	}
	if len(s)%4 == 1 {
		return nil, verr(ErrTruncated, "%d base64url characters is not a whole number of bytes: the token was cut short", len(s))
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, verr(ErrMalformed, "base64url: %v", err)
	}
	return raw, nil
}

// reader parses a payload; its errors are *VerifyError.
type reader struct {
	b   []byte
	off int
}

func (r *reader) short(what string) error {
	return verr(ErrTruncated, "the token ends inside %s (after %d bytes)", what, len(r.b))
}

func (r *reader) bytes(n int, what string) ([]byte, error) {
	if len(r.b)-r.off < n {
		return nil, r.short(what)
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v, nil
}

func (r *reader) uvarint(what string) (uint64, error) { return readVarint(r, what, binary.Uvarint) }

func (r *reader) varint(what string) (int64, error) { return readVarint(r, what, binary.Varint) }

// readVarint reads one varint with dec (binary.Uvarint or binary.Varint).
func readVarint[T uint64 | int64](r *reader, what string, dec func([]byte) (T, int)) (T, error) {
	v, n := dec(r.b[r.off:])
	if n == 0 {
		return 0, r.short(what)
	}
	if n < 0 {
		return 0, verr(ErrMalformed, "%s: varint overflows", what)
	}
	r.off += n
	return v, nil
}

func (r *reader) string(what string) (string, error) {
	n, err := r.uvarint(what + " (length)")
	if err != nil {
		return "", err
	}
	if n > maxString {
		return "", verr(ErrMalformed, "%s: length %d above %d", what, n, maxString)
	}
	b, err := r.bytes(int(n), what)
	return string(b), err
}

func (r *reader) payload() (*Token, error) {
	v, err := r.bytes(1, "the version")
	if err != nil {
		return nil, err
	}
	if v[0] != Version {
		return nil, verr(ErrVersion, "version %d (this lockstep reads version %d)", v[0], Version)
	}
	tok := &Token{Version: int(v[0])}
	kid, err := r.bytes(KeyIDLen, "the key id")
	if err != nil {
		return nil, err
	}
	copy(tok.KeyID[:], kid)
	if tok.Label, err = r.string("the label id"); err != nil {
		return nil, err
	}
	if tok.Box, err = r.string("the box id"); err != nil {
		return nil, err
	}
	n, err := r.uvarint("the number of transitions")
	if err != nil {
		return nil, err
	}
	if n == 0 || n > maxTransitions {
		return nil, verr(ErrMalformed, "%d transitions (want 1 to %d)", n, maxTransitions)
	}
	tok.Transitions = make([]Transition, n)
	for i := range tok.Transitions {
		t := &tok.Transitions[i]
		what := fmt.Sprintf("transition %d of %d", i+1, n)
		if t.State, err = r.string(what); err != nil {
			return nil, err
		}
		if t.Reason, err = r.string(what); err != nil {
			return nil, err
		}
		if t.Node, err = r.string(what); err != nil {
			return nil, err
		}
		ms, err := r.varint(what)
		if err != nil {
			return nil, err
		}
		t.At = time.UnixMilli(ms).UTC()
		l, err := r.bytes(LinkLen, what)
		if err != nil {
			return nil, err
		}
		copy(t.Link[:], l)
	}
	return tok, nil
}

// Summary writes the custody as a few lines a person reads: the label, the
// box, one line per transition and the last state.
func (t *Token) Summary() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "label %s: intact (Ed25519 signature and hash chain verified), key %s\n", t.Label, t.KeyID)
	if t.Box != "" {
		fmt.Fprintf(&b, "box %s\n", t.Box)
	}
	for i, tr := range t.Transitions {
		fmt.Fprintf(&b, "  %2d  %s  %-16s  %-12s  %s\n", i+1, tr.At.Format("2006-01-02T15:04:05.000Z"), tr.State, tr.Node, tr.Reason)
	}
	last := t.Transitions[len(t.Transitions)-1]
	fmt.Fprintf(&b, "custody: %d transitions, %s at %s since %s\n", len(t.Transitions), last.State, last.Node, last.At.Format(time.RFC3339))
	return b.String()
}
