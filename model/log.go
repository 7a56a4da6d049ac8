package model

// LogOp is the kind of an entry in a node's local event log.
type LogOp uint8

// Log operations. The stock operations change a node's shelf and held
// (reserved) counts by fixed deltas, so they commute; the others record parcel
// movements for the central view and change no stock.
const (
	OpNone LogOp = iota
	// OpReserve: an online order reserved Qty units of SKU (Label).
	OpReserve
	// OpRelease: a reservation was dropped before the pick (cancel).
	OpRelease
	// OpPick: reserved units left the shelf for the order (Label).
	OpPick
	// OpCounterSale: a walk-in customer bought Qty units at the counter.
	OpCounterSale
	// OpRestock: Qty units arrived by courier and went on the shelf.
	OpRestock
	// OpReturn: a picked unit came back to stock (cancelled or returned order).
	OpReturn
	// OpSlotLock: a parcel (Label) took a slot (Qty: size class, -1 counter).
	OpSlotLock
	// OpSlotRelease: a parcel left its slot.
	OpSlotRelease
	// OpPickup: a pickup code was verified and the parcel handed out.
	OpPickup
	// OpWithdraw: Qty units left the shelf because their SKU rotated out of
	// the assortment (they go back with the restock vehicle).
	OpWithdraw
	numLogOps
)

var logOpNames = [numLogOps]string{"none", "reserve", "release", "pick", "counter_sale", "restock", "return", "slot_lock", "slot_release", "pickup", "withdraw"}

func (o LogOp) String() string { return enumName(logOpNames[:], int(o), "op") }

// MaxLogQty bounds the quantity of one log entry; larger entries are rejected.
const MaxLogQty = 1 << 20

// LogEntry is one entry of a node's append-only local event log. Seq numbers
// the entries of one node from 1 without gaps; (Node, Seq) identifies an
// entry, so applying it twice is detected and changes nothing.
type LogEntry struct {
	Node  NodeIndex
	Seq   uint64
	Op    LogOp
	SKU   SKUIndex
	Qty   int32
	Label LabelID
	At    Instant
}

// Delta is the entry's change to (shelf, held) of its SKU.
func (e LogEntry) Delta() (shelf, held int32) {
	switch e.Op {
	case OpReserve:
		return 0, e.Qty
	case OpRelease:
		return 0, -e.Qty
	case OpPick:
		return -e.Qty, -e.Qty
	case OpCounterSale, OpWithdraw:
		return -e.Qty, 0
	case OpRestock, OpReturn:
		return e.Qty, 0
	}
	return 0, 0
}

// Replica is the central catalog's view of one node's stock, rebuilt from the
// node's log. Merge rule: every stock operation is a fixed delta on (shelf,
// held) of one SKU, and deltas commute, so a replica that has applied a set of
// entries is in the same state whatever order they came in; each (node, seq)
// is applied at most once (Acked plus a sorted list of the sequence numbers
// above it already applied), so duplicates change nothing.
type Replica struct {
	Node  NodeIndex
	Shelf []int32 // units on the shelf, per SKU index
	Held  []int32 // units reserved for online orders, per SKU index
	// Acked: every entry with Seq <= Acked has been applied.
	Acked uint64
	// seen holds applied sequence numbers above Acked+1, sorted.
	seen []uint64
	// Applied and Duplicates count entries merged and entries ignored.
	Applied, Duplicates uint64
}

// NewReplica returns the central view of node with the given initial shelf
// stock (copied; one value per SKU index).
func NewReplica(node NodeIndex, shelf []int32) *Replica {
	r := &Replica{}
	r.reset(node, shelf)
	return r
}

func (r *Replica) reset(node NodeIndex, shelf []int32) {
	r.Node = node
	r.Shelf = append([]int32(nil), shelf...)
	r.Held = make([]int32, len(shelf))
}

// Seen reports whether the entry with sequence number seq has been applied.
func (r *Replica) Seen(seq uint64) bool {
	if seq <= r.Acked {
		return true
	}
	i := searchU64(r.seen, seq)
	return i < len(r.seen) && r.seen[i] == seq
}

// Pending is the number of applied entries above the gap-free prefix (entries
// that arrived before an earlier one).
func (r *Replica) Pending() int { return len(r.seen) }

// Check validates an entry for this replica without applying it.
func (r *Replica) Check(e LogEntry) Reason {
	switch {
	case e.Node != r.Node:
		return RejectWrongNode
	case e.Seq == 0, e.Op == OpNone, e.Op >= numLogOps, e.Qty < -1, e.Qty > MaxLogQty:
		return RejectBadEvent
	}
	if e.Op <= OpReturn {
		if e.Qty < 0 {
			return RejectBadEvent
		}
		if e.SKU < 0 || int(e.SKU) >= len(r.Shelf) {
			return RejectUnknownSKU
		}
	}
	if r.Seen(e.Seq) {
		return RejectDuplicateEntry
	}
	return ReasonNone
}

// Apply merges one entry. It returns ReasonNone when the entry was applied,
// RejectDuplicateEntry when it had been applied before (nothing changes) or
// another rejection for an invalid entry (nothing changes).
func (r *Replica) Apply(e LogEntry) Reason {
	if why := r.Check(e); why != ReasonNone {
		if why == RejectDuplicateEntry {
			r.Duplicates++
		}
		return why
	}
	if ds, dh := e.Delta(); ds != 0 || dh != 0 {
		r.Shelf[e.SKU] += ds
		r.Held[e.SKU] += dh
	}
	r.Applied++
	if e.Seq == r.Acked+1 {
		r.Acked++
		for len(r.seen) > 0 && r.seen[0] == r.Acked+1 {
			r.Acked++
			r.seen = r.seen[:copy(r.seen, r.seen[1:])]
		}
		return ReasonNone
	}
	i := searchU64(r.seen, e.Seq)
	r.seen = append(r.seen, 0)
	copy(r.seen[i+1:], r.seen[i:])
	r.seen[i] = e.Seq
	return ReasonNone
}

// Merge applies a batch of entries (any order, duplicates allowed) and
// returns how many were new.
func (r *Replica) Merge(entries []LogEntry) int {
	n := 0
	for _, e := range entries {
		if r.Apply(e) == ReasonNone {
			n++
		}
	}
	return n
}

// Equal reports whether two replicas hold the same state (stock, held and the
// set of applied entries).
func (r *Replica) Equal(o *Replica) bool {
	if r.Node != o.Node || r.Acked != o.Acked || len(r.Shelf) != len(o.Shelf) || len(r.seen) != len(o.seen) {
		return false
	}
	for i := range r.Shelf {
		if r.Shelf[i] != o.Shelf[i] || r.Held[i] != o.Held[i] {
			return false
		}
	}
	for i := range r.seen {
		if r.seen[i] != o.seen[i] {
			return false
		}
	}
	return true
}

func searchU64(a []uint64, v uint64) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Claim is an online order the central catalog accepted for a node that has
// not yet received it (the node was offline).
type Claim struct {
	Label LabelID
	SKU   SKUIndex
	At    Instant // when the order was placed
}

// Allot is the conflict rule of reconciliation, for one node. Physical events
// logged at the node (counter sales, picks, restocks, returns) are facts and
// always stand; online reservations are promises. After the node's log has
// been merged, its free units (shelf - held, per SKU) are allotted to the
// pending claims in order of (placement instant, label id): earliest first.
// A claim that finds no free unit loses the conflict. Allot sorts claims in
// place and returns won (reusing its storage): won[i] reports whether
// claims[i] (after sorting) got its unit; free is decremented.
// The result depends only on the set of claims and the free counts, never on
// the order the claims arrived in.
func Allot(free []int32, claims []Claim, won []bool) []bool {
	sortClaims(claims)
	won = won[:0]
	for _, c := range claims {
		ok := c.SKU >= 0 && int(c.SKU) < len(free) && free[c.SKU] > 0
		if ok {
			free[c.SKU]--
		}
		won = append(won, ok)
	}
	return won
}

// sortClaims orders claims by (At, Label, SKU); insertion sort (the outbox is
// almost always in order already) so it allocates nothing.
func sortClaims(cs []Claim) {
	less := func(a, b Claim) bool {
		if a.At != b.At {
			return a.At < b.At
		}
		if a.Label != b.Label {
			return a.Label < b.Label
		}
		return a.SKU < b.SKU
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && less(cs[j], cs[j-1]); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// PickupCode is the pickup code of label id under key: SipHash-2-4 (a keyed
// 64-bit MAC) of the label id. A node holding the key verifies a code without
// asking the central service, so pickups keep working offline; without the
// key a code cannot be forged from label ids.
func PickupCode(key [2]uint64, id LabelID) uint64 {
	k0, k1 := key[0], key[1]
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = v1<<13 | v1>>51
		v1 ^= v0
		v0 = v0<<32 | v0>>32
		v2 += v3
		v3 = v3<<16 | v3>>48
		v3 ^= v2
		v0 += v3
		v3 = v3<<21 | v3>>43
		v3 ^= v0
		v2 += v1
		v1 = v1<<17 | v1>>47
		v1 ^= v2
		v2 = v2<<32 | v2>>32
	}
	m := uint64(id)
	v3 ^= m
	round()
	round()
	v0 ^= m
	b := uint64(8) << 56 // message length 8 bytes, no tail
	v3 ^= b
	round()
	round()
	v0 ^= b
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}

// VerifyPickupCode reports whether code is label id's pickup code under key.
func VerifyPickupCode(key [2]uint64, id LabelID, code uint64) bool {
	return PickupCode(key, id)^code == 0
}
