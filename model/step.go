package model

import "math"

// EventType is the kind of input the core accepts.
type EventType uint8

// Event types.
const (
	EvNone EventType = iota
	// EvOrderPlaced issues a label: Label, Order, SKU, Node (fulfilling node
	// or NoNode for a hub), Dest (customer's pickup node), Size (NoSize: the
	// SKU's), Cell (the customer's cell, optional).
	EvOrderPlaced
	// EvScanPicked, EvScanPacked: warehouse scans at the fulfilling node.
	EvScanPicked
	EvScanPacked
	// EvHandoff: a courier took the parcel (from the fulfilling node, or from
	// the node it is being rerouted away from).
	EvHandoff
	// EvArrived: the courier is at Node with the parcel and tries to drop it.
	EvArrived
	// EvPickup: the customer verified the pickup code at Node.
	EvPickup
	// EvTimer: a timer the core asked for (Timer kind) fired.
	EvTimer
	// EvCancel: the order cannot be honoured (Reason says why).
	EvCancel
	// EvNodeOffline: Node lost its connection to the central service.
	EvNodeOffline
	// EvNodeOnline: Node is back; its log and the central outbox are
	// reconciled (conflicts resolved, losing orders moved or cancelled).
	EvNodeOnline
	// EvCounterSale: a walk-in customer buys Qty (0 means 1) units of SKU at
	// Node, against the node's local stock.
	EvCounterSale
	// EvRestock: a restock courier delivered Qty units of SKU to Node.
	EvRestock
	// EvReplenish: nightly replenishment planning; the core answers with
	// EffRestock effects and starts a new day of the demand heatmap.
	EvReplenish
	// EvExtend: the customer asked for the one extension of Label's
	// ready-for-pickup TTL (see Expiry); not a state change.
	EvExtend
	// Reusable packaging (packaging.go; Network.Packaging). EvBoxReturn: the
	// customer returned Box at Node. EvBoxCollect: a courier took Box
	// waiting at Node. EvBoxHome: Box came back to microstore Node.
	// EvBoxLost: Box left the loop (Fate kept, lost or damaged; at Node,
	// optional). EvBoxPacked: production packed Label in Box (the twin's
	// input: the core adopts production's box; the simulator's core
	// chooses the box itself at EvScanPacked). EvBoxSync: the twin puts Box
	// where production reported it (BoxTo: waiting at Node, riding, in the
	// pool at microstore Node, retired with Fate, or with_customer: out of
	// sight), whatever the core had, after a box event the core could not
	// apply (a lost message); the driver reports the divergence.
	EvBoxReturn
	EvBoxCollect
	EvBoxHome
	EvBoxLost
	EvBoxPacked
	EvBoxSync
	numEventTypes
)

var eventNames = [numEventTypes]string{"none", "order_placed", "scan_picked", "scan_packed", "handoff", "arrived", "pickup", "timer", "cancel",
	"node_offline", "node_online", "counter_sale", "restock", "replenish", "extend",
	"box_return", "box_collect", "box_home", "box_lost", "box_packed", "box_sync"}

func (e EventType) String() string { return enumName(eventNames[:], int(e), "event") }

// TimerKind names the timers the core sets on a label.
type TimerKind uint8

// Timer kinds.
const (
	// TimerTTL is the stage TTL of the label's current state.
	TimerTTL TimerKind = iota
	// TimerSLA fires at the SLA deadline; a label not ready by then is refunded.
	TimerSLA
	// TimerReminder fires Expiry.Reminder before the ready-for-pickup TTL.
	TimerReminder
	NumTimers
)

func (k TimerKind) String() string {
	switch k {
	case TimerTTL:
		return "ttl"
	case TimerSLA:
		return "sla"
	case TimerReminder:
		return "reminder"
	}
	return "timer(" + itoa(int64(k)) + ")"
}

// Event is one stamped input to the core. It is a plain value; fields not
// used by a type are ignored.
type Event struct {
	Type       EventType
	Fate       BoxFate  // box events: why the box left the loop (packaging.go)
	BoxTo      BoxState // EvBoxSync: the box's state in production (packaging.go)
	Size       SizeClass
	Timer      TimerKind
	Reason     Reason
	Measured   bool
	Subscriber bool
	Box        BoxID // box events: the box (packaging.go)
	Node       NodeIndex
	Dest       NodeIndex
	SKU        SKUIndex
	// Qty is the quantity of a counter sale or restock.
	Qty int32
	// winOpen and winLen hold the pickup window (see SetWindow): its
	// opening in ms after At and its length in ms; winLen 0: none. Two
	// int32s keep the event, copied on every step, at 80 bytes (a Window
	// of two Instants made it 88).
	winOpen, winLen int32
	// slab is the label's slab plus one as the driver learned it from an
	// Effect (SetSlab), 0 when unknown: a hint that spares the id lookup.
	// It sits in what was padding (the event stays 80 bytes).
	slab  int32
	At    Instant
	Label LabelID
	Order uint64
	// Code is the pickup code the customer presented (EvPickup); see
	// PickupCode. Checked when Network.CodeKey is set.
	Code uint64
	// Cell is the customer's H3 cell (EvOrderPlaced), which the demand
	// heatmap counts the order in; 0 (unknown) counts it in the pickup
	// node's cell.
	Cell Cell
}

// SetSlab tells the core which slab holds the event's label, as an Effect
// about that label reported it (Effect.Slab). It is only a hint: the core
// checks it against the label's id, and a stale or wrong hint (the label
// finished, or its slab went to another label) costs the usual lookup. A
// driver that keeps events for long, such as the simulator's pending
// pickups and timers, saves a cache miss on the label index per event.
func (e *Event) SetSlab(slab int32) { e.slab = slab + 1 }

// SetWindow sets the pickup window the customer chose at checkout
// (EvOrderPlaced; it acts when Policy.Touch is set, touch.go); set At
// first. A window that opens before At, closes before it opens, or lies
// further from At than the event can hold (24 days) is kept as a bad
// window, which the core rejects.
func (e *Event) SetWindow(w Window) {
	if !w.Has() {
		e.winOpen, e.winLen = 0, 0
		return
	}
	off, n := int64(w.Open-e.At), int64(w.Close-w.Open)
	if off < 0 || n <= 0 || off > math.MaxInt32 || n > math.MaxInt32 {
		e.winOpen, e.winLen = 0, -1
		return
	}
	e.winOpen, e.winLen = int32(off), int32(n)
}

// Window is the pickup window SetWindow set (zero: none; a bad window
// closes as it opens).
func (e *Event) Window() Window {
	switch {
	case e.winLen == 0:
		return Window{}
	case e.winLen < 0:
		return Window{Open: max(e.At, 1), Close: max(e.At, 1)}
	}
	open := e.At + Instant(e.winOpen)
	return Window{Open: open, Close: open + Instant(e.winLen)}
}

// EffectType is the kind of output the core asks its driver to carry out.
type EffectType uint8

// Effect types.
const (
	EffNone EffectType = iota
	// EffState: the label moved from Prev to State at Node, because of Reason.
	EffState
	// EffSetTimer: fire EvTimer{Timer} for Label at At.
	EffSetTimer
	// EffCancelTimer: the Timer for Label is no longer needed.
	EffCancelTimer
	// EffDispatch: the parcel needs a courier from Node to To.
	EffDispatch
	// EffReroute: the parcel goes from Node to To (hop Hops), costing Amount
	// and taking Delay before a courier hands it off.
	EffReroute
	// EffNotify: tell the customer the parcel is ready at Node.
	EffNotify
	// EffRefund: refund Amount for Label (Reason: late or cancelled).
	EffRefund
	// EffReturn: send the parcel back from Node to the fulfilling node.
	EffReturn
	// EffSlot: Label took (Amount=+1) or released (Amount=-1) a Size slot at
	// Node (Size NoSize: counter space).
	EffSlot
	// EffReject: the event was rejected for Reason; nothing else changed.
	EffReject
	// EffAlert: a stage TTL expired before the next scan (Reason ttl_expired).
	EffAlert
	// EffStockout: no stock for SKU at Node (Reason out_of_stock), or a
	// refusing node is offline (Reason node_offline): the order or counter
	// sale was not taken. Label is set for online orders (no label issued).
	EffStockout
	// EffRestock: nightly replenishment plans Amount units of SKU for Node;
	// the driver delivers them by courier as EvRestock.
	EffRestock
	// EffConflict: reconciliation at Node found the order Label promised a
	// unit of SKU that a counter sale took; Label loses (moved or cancelled).
	EffConflict
	// EffPickupFailed: the customer came for Label but Node is offline and
	// refuses to serve; the parcel stays (the customer has to come back).
	EffPickupFailed
	// EffReconciled: Node merged Amount log entries into the central view and
	// received the orders queued for it; Delay is the oldest entry's lag.
	EffReconciled
	// EffRedispatch: an expired stage TTL escalates (State picked: pack the
	// parcel at once; packed: give it priority for a courier at Node).
	EffRedispatch
	// EffRedirect: an expired in-transit TTL diverts the courier carrying
	// Label from Node to To (hop Hops, costing Amount).
	EffRedirect
	// EffRemind: remind the customer that Label waits at Node and moves on
	// in Delay (ready-for-pickup TTL).
	EffRemind
	// EffExtended: the customer's extension was granted; the
	// ready-for-pickup TTL now expires at At (Delay later than before).
	EffExtended
	// EffLineHaul: the unit of Label, a central order, rides a line-haul
	// wave from the depot and reaches its fulfilling Node at At (Delay is
	// the lead time: the wave departs at At - Delay). The driver starts
	// picking no earlier than At.
	EffLineHaul
	// EffReward: the customer of Label, who collected at Node, is credited
	// Amount (quick pickup and/or an off-peak window kept; touch.go).
	EffReward
	// Reusable packaging (packaging.go). EffBoxOut: Label was packed in Box
	// from Node's pool. EffBoxStockout: Label's template is reusable but
	// Node's pool was empty: packed single-use. EffBoxCustomer: the customer
	// took Box home with Label (picked up at Node); the driver learns
	// whether and when it comes back. EffBoxSlot: Box took (Amount=+1) or
	// released (-1) a Size slot at Node (NoSize: counter space). EffBoxBack:
	// Box is back in Node's pool. EffBoxRetired: Box left the loop (Fate).
	EffBoxOut
	EffBoxStockout
	EffBoxCustomer
	EffBoxSlot
	EffBoxBack
	EffBoxRetired
	numEffectTypes
)

var effectNames = [numEffectTypes]string{"none", "state", "set_timer", "cancel_timer", "dispatch", "reroute", "notify", "refund", "return", "slot", "reject", "alert",
	"stockout", "restock", "conflict", "pickup_failed", "reconciled", "redispatch", "redirect", "remind", "extended", "line_haul", "reward",
	"box_out", "box_stockout", "box_customer", "box_slot", "box_back", "box_retired"}

func (e EffectType) String() string { return enumName(effectNames[:], int(e), "effect") }

// Effect is one output of Step.
type Effect struct {
	Type   EffectType
	Timer  TimerKind
	State  State
	Prev   State
	Reason Reason
	Size   SizeClass
	Fate   BoxFate // box effects (packaging.go)
	Hops   int32
	Box    BoxID // box effects (packaging.go)
	Label  LabelID
	Slab   int32
	Node   NodeIndex
	To     NodeIndex
	SKU    SKUIndex
	At     Instant
	Delay  Duration
	Amount float64
}

// Transition is one row of the label state machine.
type Transition struct {
	From State
	On   EventType
	To   State
	When string
}

// Transitions is the label state machine: the only legal moves. Step consults
// it before anything else; an event with no row for the label's state is
// rejected with RejectIllegalTransition. Timers that fire in a state without
// a row are stage-TTL alerts and escalations without a state change (see
// ttl.go), reminders, or stale (rejected); EvExtend changes no state.
var Transitions = []Transition{
	{None, EvOrderPlaced, Issued, "a new label id"},
	{Issued, EvScanPicked, Picked, "picked at the fulfilling node"},
	{Picked, EvScanPacked, Packed, "packed; the core asks for a courier (dispatch)"},
	{Packed, EvHandoff, InTransit, "a courier took the parcel"},
	{Rerouting, EvHandoff, InTransit, "a courier took the rerouted parcel"},
	{InTransit, EvArrived, ReadyForPickup, "the node is open, active, online and has a fitting slot or counter space; customer notified"},
	{InTransit, EvArrived, Rerouting, "the node is full, closed, inactive or offline: reroute to the nearest node that can take it"},
	{InTransit, EvArrived, Returned, "the node cannot take it and hops are exhausted or no node can; never delivered, so refunded"},
	{ReadyForPickup, EvPickup, PickedUp, "pickup code verified at the node holding the parcel"},
	{ReadyForPickup, EvTimer, Rerouting, "ready-for-pickup TTL expired: reroute to the nearest partner with space"},
	{ReadyForPickup, EvTimer, Returned, "TTL expired and hops are exhausted or no partner has space"},
	{ReadyForPickup, EvTimer, Returned, "TTL expired with expiry return: returned to sender"},
	{InTransit, EvTimer, InTransit, "in-transit TTL expired with escalation reroute: the courier takes the parcel to the nearest partner with space (a hop)"},
	{Issued, EvCancel, Cancelled, "stock cannot be honoured; refunded"},
	{Picked, EvCancel, Cancelled, "stock cannot be honoured; refunded"},
	{Packed, EvCancel, Cancelled, "stock cannot be honoured; refunded"},
	{Rerouting, EvCancel, Cancelled, "order withdrawn while rerouting; refunded"},
	{Issued, EvOrderPlaced, Cancelled, "stockout: no microstore shows the SKU in stock in the central view; cancelled at once and refunded"},
	{Issued, EvNodeOnline, Issued, "conflict lost at reconciliation: the order moves to the nearest other microstore with stock (new fulfilling node)"},
	{Issued, EvNodeOnline, Cancelled, "conflict lost at reconciliation and no other microstore has stock; refunded"},
	{None, EvOrderPlaced, Issued, "with a pickup window chosen at checkout (touch layer): the SLA deadline is the window's opening"},
	{ReadyForPickup, EvPickup, PickedUp, "touch layer: a reward is credited for a pickup within the reward time of notification or inside an off-peak window"},
}

var (
	allowed   [numEventTypes][numStates]bool
	legalMove [numStates][numStates]bool
)

func init() {
	for _, t := range Transitions {
		allowed[t.On][t.From] = true
		legalMove[t.From][t.To] = true
	}
}

func legalState(from, to State) bool { return legalMove[from][to] }
