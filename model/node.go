package model

import "fmt"

// NodeIndex is a node's position in Network.Nodes.
type NodeIndex int32

// NoNode means "no node" (for example a hub outside the network).
const NoNode NodeIndex = -1

// NodeKind is the kind of a micro-fulfillment node.
type NodeKind uint8

// Node kinds.
const (
	Locker NodeKind = iota
	Partner
	Popup
	Microstore
	numKinds
)

var kindNames = [numKinds]string{"locker", "partner", "popup", "microstore"}

func (k NodeKind) String() string { return enumName(kindNames[:], int(k), "kind") }

// ParseNodeKind is the inverse of NodeKind.String.
func ParseNodeKind(s string) (NodeKind, bool) {
	i, ok := parseEnum(kindNames[:], s)
	if !ok {
		return 0, false
	}
	return NodeKind(i), true
}

// SizeClass is a parcel or slot size.
type SizeClass uint8

// Size classes, smallest first. NoSize marks "not a locker slot".
const (
	Small SizeClass = iota
	Medium
	Large
	NumSizes
	NoSize SizeClass = 255
)

var sizeNames = [NumSizes]string{"small", "medium", "large"}

func (s SizeClass) String() string {
	if s < NumSizes {
		return sizeNames[s]
	}
	return "none"
}

// ParseSize is the inverse of SizeClass.String.
func ParseSize(s string) (SizeClass, bool) {
	i, ok := parseEnum(sizeNames[:], s)
	if !ok {
		return NoSize, false
	}
	return SizeClass(i), true
}

// Shrink returns s made smaller by n classes (never below Small).
func (s SizeClass) Shrink(n int) SizeClass {
	v := int(s) - n
	if v < 0 {
		v = 0
	}
	return SizeClass(v)
}

// Span is a daily opening interval [From, To) as offsets from local midnight.
type Span struct{ From, To Duration }

// Hours are a node's opening hours: a set of daily spans. No spans means
// always open.
type Hours []Span

// OpenAt reports whether the hours include instant t (local wall clock).
func (h Hours) OpenAt(t Instant) bool {
	if len(h) == 0 {
		return true
	}
	tod := TimeOfDay(t)
	for _, s := range h {
		if tod >= s.From && tod < s.To {
			return true
		}
	}
	return false
}

// NextOpen returns the first instant >= t at which the hours are open.
func (h Hours) NextOpen(t Instant) Instant {
	if h.OpenAt(t) {
		return t
	}
	day := DayStart(t)
	tod := TimeOfDay(t)
	best := Never
	for d := Instant(0); d <= Instant(Day); d += Instant(Day) {
		for _, s := range h {
			if s.To <= s.From {
				continue
			}
			at := day + d + Instant(s.From)
			if (d > 0 || s.From > tod) && at < best {
				best = at
			}
		}
		if best != Never {
			return best
		}
	}
	return best
}

// DayStart returns local midnight of the day holding t.
func DayStart(t Instant) Instant { return t - Instant(TimeOfDay(t)) }

// TimeOfDay returns the offset of t from its local midnight.
func TimeOfDay(t Instant) Duration {
	d := Duration(t % Instant(Day))
	if d < 0 {
		d += Day
	}
	return d
}

// Node is the static description of a micro-fulfillment node.
type Node struct {
	ID      string
	Kind    NodeKind
	Lat     float64
	Lng     float64
	Cell    Cell
	Slots   [NumSizes]int32 // locker slots by size class
	Counter int32           // parcels a partner counter (or microstore) can hold
	Hours   Hours
	// Active window (pop-ups); both zero means always active.
	ActiveFrom, ActiveUntil Instant
	FloorArea               float64 // m2 of local inventory
	FixedCostPerDay         float64
	// Cache is the node's local inventory of fast-moving SKUs (cache-first
	// nodes); empty for a node without stock.
	Cache []CacheItem
	// CacheSlots is how many SKUs the cache holds at once; with the heatmap
	// policy the nightly plan rotates them (0: the Cache list, fixed).
	// ShelfUnits bounds the units on the shelf over all SKUs (0: the sum of
	// the Cache capacities). A SKU rotated in that Cache does not list gets
	// ShelfUnits/CacheSlots units of capacity.
	CacheSlots int32
	ShelfUnits int32
}

// CacheItem is one SKU a node stocks: its shelf capacity and initial stock.
type CacheItem struct {
	SKU      SKUIndex
	Capacity int32
	Stock    int32
	// Pinned: never rotated out.
	Pinned bool
}

// ActiveAt reports whether the node exists at t (pop-ups only in their window).
func (n *Node) ActiveAt(t Instant) bool {
	if n.ActiveFrom == 0 && n.ActiveUntil == 0 {
		return true
	}
	return t >= n.ActiveFrom && t < n.ActiveUntil
}

// Holds reports whether the node can hold parcels for pickup at all.
func (n *Node) Holds() bool {
	return n.Counter > 0 || n.Slots[Small]+n.Slots[Medium]+n.Slots[Large] > 0
}

// SKUIndex is a SKU's position in Network.SKUs.
type SKUIndex int32

// SKU is a stock keeping unit.
type SKU struct {
	ID    string
	Size  SizeClass // parcel size after its packing template
	Price float64
}

// RefundKind selects how a late delivery is refunded.
type RefundKind uint8

// Refund rules.
const (
	RefundFull  RefundKind = iota // the SKU price
	RefundFixed                   // a fixed amount
	RefundShare                   // a share of the price
)

// Policy holds the operating rules the core enforces.
type Policy struct {
	// TTL per stage; zero means no TTL for that stage. TTL[ReadyForPickup]
	// expiring without pickup triggers a reroute to the nearest partner
	// (or, with Expiry.Return, a return); ReadyRules make it dynamic.
	TTL [numStates]Duration
	// Escalate is what an expired picked, packed or in_transit TTL does
	// after its alert; ReadyRules the dynamic ready-for-pickup TTL (first
	// match wins); Expiry the locker expiry practice. See ttl.go.
	Escalate     [numStates]Escalation
	ReadyRules   []ReadyRule
	Expiry       Expiry
	MaxHops      int
	RerouteCost  float64
	RerouteDelay Duration
	Refund       RefundKind
	RefundAmount float64
	RefundShare  float64
	// Same-day rule: an order placed before Cutoff (offset from midnight)
	// must be ready for pickup by ReadyBy the same day; later orders by
	// ReadyBy the next day.
	Cutoff, ReadyBy Duration
	// PickupWindow: a pickup within this long after the ready notification
	// counts as success within the SLA.
	PickupWindow Duration
	// Offline is what a node does while it has no connection.
	Offline OfflineMode
	// RestockWindow is the number of days of the rolling demand heatmap
	// (default 7) and RestockCover the days of mean demand nightly
	// replenishment stocks up to, within capacity (default 1.5).
	RestockWindow int
	RestockCover  float64
	// Replenish is the nightly policy (zero: heatmap).
	Replenish ReplenishPolicy
	// HeatResolution is the H3 resolution of the demand heatmap (0 or
	// above Resolution: Resolution).
	HeatResolution int
	// Touch is the customer touch layer: pickup windows and rewards
	// (touch.go; nil: off).
	Touch *Touch
}

// OfflineMode is what a node does while offline.
type OfflineMode uint8

// Offline modes.
const (
	// OfflineServe: offline-first; the node keeps reserving, selling at the
	// counter, taking parcels and verifying pickup codes locally.
	OfflineServe OfflineMode = iota
	// OfflineRefuse: the node stops serving (no counter sales, drops or
	// pickups) until it is back online.
	OfflineRefuse
)

// Network is the static world the core runs on: nodes, SKUs and the policy.
type Network struct {
	Nodes  []Node
	SKUs   []SKU
	Policy Policy
	// Resolution is the H3 resolution of the node cells.
	Resolution int
	// EdgeLog makes every node keep a local event log (slot changes and
	// pickups as well as stock), as cache-first networks with connectivity
	// drops do. Nodes with a cache always log their stock operations.
	EdgeLog bool
	// CodeKey is the key of the pickup-code MAC (PickupCode); the zero key
	// disables code verification.
	CodeKey [2]uint64
	// Supply is the central supply tier (nil: none; see Supply).
	Supply *Supply
	// Packaging is the reusable packaging (nil: none; see Packaging).
	Packaging *Packaging
}

// NodeIndexOf returns the index of the node with the given id.
func (n *Network) NodeIndexOf(id string) (NodeIndex, bool) {
	for i := range n.Nodes {
		if n.Nodes[i].ID == id {
			return NodeIndex(i), true
		}
	}
	return NoNode, false
}

// SKUIndexOf returns the index of the SKU with the given id.
func (n *Network) SKUIndexOf(id string) (SKUIndex, bool) {
	for i := range n.SKUs {
		if n.SKUs[i].ID == id {
			return SKUIndex(i), true
		}
	}
	return -1, false
}

// Validate checks the network for values the core cannot run with.
func (n *Network) Validate() error {
	seen := make(map[string]bool, len(n.Nodes))
	for i := range n.Nodes {
		nd := &n.Nodes[i]
		if nd.ID == "" {
			return fmt.Errorf("node %d: empty id", i)
		}
		if seen[nd.ID] {
			return fmt.Errorf("node %s: duplicate id", nd.ID)
		}
		seen[nd.ID] = true
		if !nd.Cell.IsValid() {
			return fmt.Errorf("node %s: invalid H3 cell", nd.ID)
		}
		for s, v := range nd.Slots {
			if v < 0 {
				return fmt.Errorf("node %s: negative %s slots", nd.ID, SizeClass(s))
			}
		}
		if nd.Counter < 0 {
			return fmt.Errorf("node %s: negative counter capacity", nd.ID)
		}
		cached := map[SKUIndex]bool{}
		for _, it := range nd.Cache {
			if it.SKU < 0 || int(it.SKU) >= len(n.SKUs) {
				return fmt.Errorf("node %s: cache: unknown SKU index %d", nd.ID, it.SKU)
			}
			if cached[it.SKU] {
				return fmt.Errorf("node %s: cache: SKU %s listed twice", nd.ID, n.SKUs[it.SKU].ID)
			}
			cached[it.SKU] = true
			if it.Capacity < 0 || it.Stock < 0 || it.Stock > it.Capacity {
				return fmt.Errorf("node %s: cache: SKU %s needs 0 <= stock <= capacity (got %d of %d)", nd.ID, n.SKUs[it.SKU].ID, it.Stock, it.Capacity)
			}
		}
		if err := nd.validateShelf(); err != nil {
			return fmt.Errorf("node %s: %w", nd.ID, err)
		}
	}
	for i, s := range n.SKUs {
		if s.Size >= NumSizes {
			return fmt.Errorf("sku %d (%s): bad size class", i, s.ID)
		}
	}
	p := n.Policy
	if p.RestockWindow < 0 || p.RestockCover < 0 || p.Offline > OfflineRefuse || p.Replenish >= numReplenishPolicies ||
		p.HeatResolution < 0 || p.HeatResolution > 15 {
		return fmt.Errorf("policy: bad restock window, cover, replenishment policy, heatmap resolution or offline mode")
	}
	if p.MaxHops < 0 {
		return fmt.Errorf("policy: negative max hops")
	}
	if p.Cutoff < 0 || p.Cutoff > Day || p.ReadyBy <= 0 || p.ReadyBy > Day {
		return fmt.Errorf("policy: cutoff and ready-by must be clock times within a day")
	}
	if err := p.validateTouch(); err != nil {
		return err
	}
	if err := p.validateTTL(); err != nil {
		return err
	}
	if n.Supply != nil {
		return n.Supply.validate(n)
	}
	return nil
}
