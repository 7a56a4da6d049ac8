package model

// State is the state of a smart label.
type State uint8

// Label states. The zero value None is "no label yet".
const (
	None State = iota
	Issued
	Picked
	Packed
	InTransit
	ReadyForPickup
	PickedUp
	Rerouting
	Returned
	Cancelled
	numStates
)

var stateNames = [numStates]string{"none", "issued", "picked", "packed", "in_transit", "ready_for_pickup", "picked_up", "rerouting", "returned", "cancelled"}

func (s State) String() string { return enumName(stateNames[:], int(s), "state") }

// ParseState is the inverse of State.String.
func ParseState(s string) (State, bool) {
	i, ok := parseEnum(stateNames[:], s)
	if !ok {
		return None, false
	}
	return State(i), true
}

// Terminal reports whether no further transition leaves s.
func (s State) Terminal() bool { return s == PickedUp || s == Returned || s == Cancelled }

// Reason says why a transition happened or why an event was rejected.
type Reason uint8

// Reasons. The first block explains transitions, the second rejections.
const (
	ReasonNone Reason = iota
	ReasonOrder
	ReasonScanPick
	ReasonScanPack
	ReasonHandoff
	ReasonArrived
	ReasonPickup
	ReasonTTLExpired
	ReasonNodeFull
	ReasonNodeClosed
	ReasonNodeOffline
	ReasonHopsExhausted
	ReasonNoTarget
	ReasonOutOfStock
	ReasonConflictLost
	ReasonCancelled

	// rejections
	RejectUnknownLabel
	RejectDuplicateLabel
	RejectIllegalTransition
	RejectWrongNode
	RejectStaleTimer
	RejectUnknownNode
	RejectBadEvent
	RejectUnknownSKU
	RejectDuplicateEntry
	RejectNotReserved
	RejectBadCode
	RejectNotCached
	numReasons
)

var reasonNames = [numReasons]string{
	"", "order", "scan_pick", "scan_pack", "handoff", "arrived", "pickup", "ttl_expired", "node_full", "node_closed", "node_offline",
	"hops_exhausted", "no_target", "out_of_stock", "conflict_lost", "cancelled",
	"unknown_label", "duplicate_label", "illegal_transition", "wrong_node", "stale_timer", "unknown_node", "bad_event", "unknown_sku",
	"duplicate_entry", "not_reserved", "bad_code", "not_cached",
}

func (r Reason) String() string { return enumName(reasonNames[:], int(r), "reason") }

// Rejection reports whether r is a rejection reason.
func (r Reason) Rejection() bool { return r >= RejectUnknownLabel && r < numReasons }

// LabelID identifies a label. Drivers choose it (the simulator numbers labels,
// the twin maps production's label ids onto it).
type LabelID uint64

// Entry is one link of a label's provenance chain. The fields are ordered
// so that an entry is 24 bytes, not 32: chains are most of the memory of
// the labels in flight.
type Entry struct {
	State  State
	Reason Reason
	Node   NodeIndex
	At     Instant
	Prev   uint64 // hash of the previous entry (0 for the first)
}

// Hash is a fast 64-bit mix of the entry's fields (not cryptographic: it
// detects edits, drops and reordering, it does not resist a forger who
// recomputes the whole chain). Two multiply-xorshift rounds, computed on
// append.
func (e Entry) Hash() uint64 { return entryHash(e.Prev, e.State, e.Reason, e.Node, e.At) }

// entryHash is Entry.Hash of the entry's fields as scalars (append computes
// it without reading back the entry it just stored).
func entryHash(prev uint64, s State, why Reason, node NodeIndex, at Instant) uint64 {
	h := (prev ^ uint64(s) ^ uint64(why)<<8 ^ uint64(uint32(node))<<16 ^ 0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	h ^= h >> 31
	h = (h ^ uint64(at)) * 0x94d049bb133111eb
	return h ^ h>>29
}

// Label is the canonical local state of one parcel in the last mile.
//
// The fields are ordered by size and use, not by topic, so that a label is
// 144 bytes instead of 168 and the fields every Step touches (ID, the
// chain, State, the TTL deadlines, the slab) share its first cache line:
// the labels in flight are the simulator's largest working set.
type Label struct {
	ID    LabelID
	Chain []Entry
	// Head is the hash of the last chain entry; Verify checks the chain
	// against it, so the newest entry cannot be edited either.
	Head     uint64
	TTLAt    Instant // current stage TTL deadline (0 = none)
	RemindAt Instant // pending expiry reminder (0 = none)
	slab     int32
	State    State
	Size     SizeClass // parcel size after packing
	SlotSize SizeClass // slot class taken at a locker (NoSize at a counter)
	// Stock is the state of the unit this order takes from a cache-first
	// fulfilling node (From).
	Stock StockState

	Hops    int
	Order   uint64
	Placed  Instant
	Due     Instant // SLA deadline: must be ready for pickup by then
	ReadyAt Instant // first ready notification (0 = never)
	// Arrive is when a central unit (Stock StockCentral) reaches the
	// fulfilling node by line haul (0: not a central order).
	Arrive Instant
	SKU    SKUIndex
	From   NodeIndex // fulfilling node (NoNode: a hub outside the network)
	Dest   NodeIndex // current destination (pickup node)
	Home   NodeIndex // destination chosen by the customer
	// At is where the parcel sits while ready for pickup.
	At  NodeIndex
	Box BoxID // reusable box it is packed in (0: single-use or not packed yet; packaging.go)

	SameDay    bool // placed before the cutoff
	Extended   bool // the one ready-for-pickup extension was granted
	Late       bool // the SLA was missed and a refund was recorded
	Measured   bool // counts towards the metrics (placed after warm-up)
	Subscriber bool
	// TurnedAway: a customer came for the parcel while its node was
	// offline and refusing (offline_mode refuse), so the pickup is delayed.
	TurnedAway bool
}

// Slab is the label's index in the core's label table. It is stable while the
// label is live, so drivers can keep per-label data in a slice indexed by it.
func (l *Label) Slab() int32 { return l.slab }

func (l *Label) append(s State, at Instant, node NodeIndex, why Reason) {
	var prev uint64
	if len(l.Chain) > 0 {
		prev = l.Head // the last entry's hash, kept so it is not recomputed
	}
	// The entry is stored field by field into its place: an Entry literal
	// (five fields, not kept in registers) would be built on the stack by
	// narrow stores and copied by wide loads that stall on them.
	n := len(l.Chain)
	if n == cap(l.Chain) {
		l.Chain = append(l.Chain, Entry{})
	} else {
		l.Chain = l.Chain[:n+1]
	}
	e := &l.Chain[n]
	e.State, e.Reason, e.Node, e.At, e.Prev = s, why, node, at, prev
	l.Head = entryHash(prev, s, why, node, at)
	l.State = s
}

// Verify recomputes the provenance chain and reports the index of the first
// entry whose back-link does not match, or -1 when the chain is intact. It also
// checks that each step is a legal transition and that time never runs back.
func (l *Label) Verify() int {
	var prev uint64
	from := None
	var last Instant
	for i, e := range l.Chain {
		if e.Prev != prev || !legalState(from, e.State) || (i > 0 && e.At < last) {
			return i
		}
		prev, from, last = e.Hash(), e.State, e.At
	}
	if n := len(l.Chain); n > 0 && (l.Chain[n-1].State != l.State || prev != l.Head) {
		return n - 1
	}
	return -1
}

// enumName returns names[v], or tag(v) for a value outside the table.
func enumName(names []string, v int, tag string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return tag + "(" + itoa(int64(v)) + ")"
}

// parseEnum returns the index of s in names.
func parseEnum(names []string, s string) (int, bool) {
	for i, n := range names {
		if n == s {
			return i, true
		}
	}
	return 0, false
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := v < 0
	if neg {
		v = -v
	}
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
