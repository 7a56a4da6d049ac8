package twin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/cespare/xxhash/v2"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// QuarantinePrefix is the most of one payload the quarantine keeps: the
// largest payload the twin accepts (wire.MaxPayload, 64 KiB), so a payload
// that could have been valid is kept whole and a larger one by its first
// 64 KiB. Every entry also holds the payload's length and SHA-256.
const QuarantinePrefix = wire.MaxPayload

// The twin's own quarantine reasons, beside wire's DecodeError reasons
// (too_large, bad_json, ...).
const (
	// ReasonMsgIDConflict: the msg_id was accepted with another payload.
	ReasonMsgIDConflict = "msg_id_conflict"
	// ReasonSeqConflict: the (source, seq) was accepted with another msg_id.
	ReasonSeqConflict = "seq_conflict"
	// ReasonUnknownNode: the message names a node the network does not have.
	ReasonUnknownNode = "unknown_node"
	// ReasonUnknownSKU: an order names a SKU the network does not have.
	ReasonUnknownSKU = "unknown_sku"
)

// hubNode is how the feed names the central hub (model.NoNode): an order's
// fulfilling node, and the node of scans and production's reports there.
const hubNode = "hub"

// netIDs are the node and SKU ids of a network, to check messages against.
type netIDs struct {
	nodes, skus map[string]struct{}
}

func netIDsOf(net *model.Network) *netIDs {
	if net == nil {
		return nil
	}
	ids := &netIDs{nodes: make(map[string]struct{}, len(net.Nodes)), skus: make(map[string]struct{}, len(net.SKUs))}
	for _, n := range net.Nodes {
		ids.nodes[n.ID] = struct{}{}
	}
	for _, k := range net.SKUs {
		ids.skus[k.ID] = struct{}{}
	}
	return ids
}

// check returns the quarantine reason and detail of a message that names a
// node or SKU the network does not have ("" if it names none): a locker's
// or node gateway's source (the device is the node), a scan's node, an
// order's fulfilling node, destination and SKU, production's node and
// reroute target. The hub is a node where a parcel can start or be
// scanned (an order's and a scan's node, production's node).
func (n *netIDs) check(env wire.Envelope) (reason, detail string) {
	type ref struct {
		field, id string
		hub       bool // "hub" is allowed
	}
	var refs [3]ref
	refs[0] = ref{"source", env.Source, false}
	sku := ""
	switch b := env.Body.(type) {
	case wire.Scan:
		refs[0] = ref{"body.node", b.Node, true}
	case wire.Order:
		refs[0], refs[1], sku = ref{"body.node", b.Node, true}, ref{"body.destination", b.Destination, false}, b.SKU
	case wire.LabelState:
		refs[0], refs[1] = ref{"body.node", b.Node, true}, ref{"body.reroute_to", b.RerouteTo, false}
	case wire.Box:
		refs[0] = ref{"body.node", b.Node, false} // a scanner's, like a scan (packaging.go)
	}
	for _, r := range refs {
		if r.id == "" || r.hub && r.id == hubNode {
			continue
		}
		if _, ok := n.nodes[r.id]; !ok {
			return ReasonUnknownNode, fmt.Sprintf("%s %q is not a node of the network", r.field, r.id)
		}
	}
	if sku != "" {
		if _, ok := n.skus[sku]; !ok {
			return ReasonUnknownSKU, fmt.Sprintf("body.sku %q is not a SKU of the network", sku)
		}
	}
	return "", ""
}

// DefaultQuarantineBytes bounds the payload bytes the quarantine holds in
// all (see IngestConfig.QuarantineBytes): 512 payloads of the largest size,
// or every one of DefaultQuarantineMax payloads of up to 3 KiB.
const DefaultQuarantineBytes = 32 << 20

// Quarantined is a message the twin received but could not use: it failed
// validation (a wire.DecodeError reason, or too_large), or names what this
// network does not have, or conflicts with a message already accepted.
type Quarantined struct {
	Topic  string        `json:"topic"`
	Reason string        `json:"reason"`
	Detail string        `json:"detail"`
	RecvAt model.Instant `json:"-"`
	Recv   string        `json:"recv_at,omitempty"`
	// MsgID and Source are the envelope's, when it could be read.
	MsgID  string `json:"msg_id,omitempty"`
	Source string `json:"source,omitempty"`
	// Size is the payload's length in bytes and SHA256 its hex digest,
	// whatever the quarantine keeps of it.
	Size   int    `json:"payload_len"`
	SHA256 string `json:"payload_sha256"`
	// Payload is its first min(Size, QuarantinePrefix) bytes (base64 in
	// JSON), or nothing once the entry is among the oldest past the
	// quarantine's byte budget.
	Payload []byte `json:"payload"`
}

// idEntry is what de-duplication keeps of an accepted msg_id: its event
// instant (it is pruned IDRetention later) and a 64-bit digest of its
// payload, so that the msg_id seen again with another payload is a
// conflict, not a duplicate.
type idEntry struct {
	at  model.Instant
	sum uint64
}

// payloadSum is the digest idEntry keeps (xxHash64: fast, and the same in
// every process, so it survives snapshots).
func payloadSum(p []byte) uint64 { return xxhash.Sum64(p) }

// payloadDigest is a payload's length and SHA-256: what the quarantine and
// the journal keep of a payload besides a prefix.
type payloadDigest struct {
	size int
	sum  [sha256.Size]byte
}

func digestOf(p []byte) payloadDigest { return payloadDigest{size: len(p), sum: sha256.Sum256(p)} }

// newQuarantined is the quarantine entry of rec. full is the digest of the
// whole payload when rec holds only its prefix (a journaled oversize
// payload); nil computes it from rec.
func newQuarantined(rec wire.CaptureRecord, full *payloadDigest, reason, detail string) Quarantined {
	dg := full
	if dg == nil {
		d := digestOf(rec.Payload)
		dg = &d
	}
	p := rec.Payload[:min(len(rec.Payload), QuarantinePrefix)]
	q := Quarantined{Topic: rec.Topic, Reason: reason, Detail: detail, RecvAt: rec.RecvAt, Size: dg.size,
		SHA256: hex.EncodeToString(dg.sum[:]), Payload: append([]byte(nil), p...)}
	if rec.RecvAt != 0 {
		q.Recv = rec.RecvAt.String()
	}
	return q
}

// ring keeps the newest max items, oldest first.
type ring[T any] struct {
	max   int
	items []T
	head  int // index of the oldest once full
}

// add appends v; when full, it drops the oldest item and returns it.
func (r *ring[T]) add(v T) (old T, dropped bool) {
	if len(r.items) < r.max {
		r.items = append(r.items, v)
		return old, false
	}
	old = r.items[r.head]
	r.items[r.head] = v
	r.head = (r.head + 1) % len(r.items)
	return old, true
}

// at is the i-th oldest item.
func (r *ring[T]) at(i int) *T { return &r.items[(r.head+i)%len(r.items)] }

// list returns a copy of the items, oldest first.
func (r *ring[T]) list() []T {
	out := make([]T, 0, len(r.items))
	out = append(out, r.items[r.head:]...)
	return append(out, r.items[:r.head]...)
}

// quarStore is the quarantine: the newest max entries, and of their
// payloads at most budget bytes; past it the oldest entries' payloads are
// released (their length and SHA-256 stay). A stream of huge payloads
// therefore holds at most max x QuarantinePrefix, and at most budget bytes,
// of them.
type quarStore struct {
	ring[Quarantined]
	budget int
	bytes  int // payload bytes held
	bare   int // the oldest entries whose payload was released
}

func (s *quarStore) add(q Quarantined) {
	if old, dropped := s.ring.add(q); dropped {
		s.bytes -= len(old.Payload)
		if s.bare > 0 {
			s.bare--
		}
	}
	s.bytes += len(q.Payload)
	for s.bytes > s.budget && s.bare < len(s.items) {
		e := s.at(s.bare)
		s.bytes -= len(e.Payload)
		e.Payload = nil
		s.bare++
	}
}

// restore sets the entries (in ring order, the oldest at head) of a
// snapshot.
func (s *quarStore) restore(items []Quarantined, head int) {
	s.items, s.head, s.bytes, s.bare = items, head, 0, 0
	for _, q := range items {
		s.bytes += len(q.Payload)
	}
	// released payloads are the oldest; an empty payload among the oldest
	// counts as released too, which changes nothing it would release
	for s.bare < len(items) && len(s.at(s.bare).Payload) == 0 {
		s.bare++
	}
}
