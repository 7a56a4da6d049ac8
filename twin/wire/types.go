package wire

import (
	"encoding/json"
	"regexp"

	"github.com/lockstep-sim/lockstep/model"
)

// Version is the schema version carried in every envelope's "v" field.
const Version = 1

// MaxPayload is the largest payload Decode accepts, in bytes.
const MaxPayload = 64 << 10

// Type is the message type carried in an envelope's "type" field.
type Type string

// Message types.
const (
	TypeScan       Type = "scan"        // scanners/{id}/scan
	TypeDoor       Type = "door"        // lockers/{id}/event
	TypeSlot       Type = "slot"        // lockers/{id}/event
	TypePickup     Type = "pickup"      // lockers/{id}/event
	TypeOccupancy  Type = "occupancy"   // lockers/{id}/event
	TypeStatus     Type = "status"      // nodes/{id}/status, retained; also the last will
	TypeHeartbeat  Type = "heartbeat"   // nodes/{id}/status, not retained
	TypeOrder      Type = "order"       // orders/{node}
	TypeLabelState Type = "label_state" // labels/{id}/state
	TypeBox        Type = "box"         // scanners/{id}/scan (reusable packaging; box.go)
)

// AllTypes lists every message type in a fixed order.
var AllTypes = []Type{TypeScan, TypeDoor, TypeSlot, TypePickup, TypeOccupancy,
	TypeStatus, TypeHeartbeat, TypeOrder, TypeLabelState, TypeBox}

// Kind reports the topic kind messages of type t are published on ("" if t is unknown).
func (t Type) Kind() Kind {
	switch t {
	case TypeScan, TypeBox:
		return KindScan
	case TypeDoor, TypeSlot, TypePickup, TypeOccupancy:
		return KindLockerEvent
	case TypeStatus, TypeHeartbeat:
		return KindNodeStatus
	case TypeOrder:
		return KindOrder
	case TypeLabelState:
		return KindLabelState
	}
	return ""
}

// Envelope is one feed message. Body holds one of the body types of this
// package (Scan, Door, Slot, Pickup, Occupancy, Status, Heartbeat, Order,
// LabelState), as a value, never a pointer.
type Envelope struct {
	MsgID  string        // unique message id; recommended "{source}-{seq}" (see MsgID)
	Source string        // id of the device or system that produced the message
	Seq    uint64        // per-source sequence number, from 1, +1 per message
	At     model.Instant // instant the event happened at the source
	Type   Type          // message type; must match Body
	V      int           // schema version, Version
	Body   Body
}

// Body is implemented by the message bodies of this package only.
type Body interface {
	// MsgType is the envelope type of this body.
	MsgType() Type
	isBody()
}

// MsgID returns the recommended message id "{source}-{seq}".
func MsgID(source string, seq uint64) string {
	return source + "-" + uitoa(seq)
}

// Stage is the fulfilment stage a scan records.
type Stage string

// Scan stages.
const (
	StagePick     Stage = "pick"
	StagePack     Stage = "pack"
	StageHandoff  Stage = "handoff"
	StageDelivery Stage = "delivery"
	StageReturn   Stage = "return"
)

// Symbology is the barcode symbology a scanner read.
type Symbology string

// Barcode symbologies.
const (
	SymCode128    Symbology = "code128"
	SymDataMatrix Symbology = "datamatrix"
	SymQR         Symbology = "qr"
)

// Size is a parcel or compartment size class.
type Size string

// Size classes, smallest first.
const (
	SizeS  Size = "s"
	SizeM  Size = "m"
	SizeL  Size = "l"
	SizeXL Size = "xl"
)

// SizeOf is the wire size class of the core's size class s (model.NoSize,
// which no parcel has, gives SizeM).
func SizeOf(s model.SizeClass) Size {
	switch s {
	case model.Small:
		return SizeS
	case model.Medium:
		return SizeM
	case model.Large:
		return SizeL
	}
	return SizeM
}

// Class is the core's size class of s. The core has three classes: xl is
// model.Large, as is anything else above m.
func (s Size) Class() model.SizeClass {
	switch s {
	case SizeS:
		return model.Small
	case SizeM:
		return model.Medium
	}
	return model.Large
}

// DoorState is the state of a compartment door.
type DoorState string

// Door states.
const (
	DoorOpen   DoorState = "open"
	DoorClosed DoorState = "closed"
)

// SlotState tells whether a compartment holds a parcel.
type SlotState string

// Slot states.
const (
	SlotOccupied SlotState = "occupied"
	SlotFree     SlotState = "free"
)

// PickupMethod is how a customer identified at the locker.
type PickupMethod string

// Pickup methods.
const (
	MethodPIN PickupMethod = "pin"
	MethodQR  PickupMethod = "qr"
)

// NodeState is a node's connectivity.
type NodeState string

// Node states.
const (
	NodeOnline  NodeState = "online"
	NodeOffline NodeState = "offline"
)

// StatusReason tells why a status message was sent.
type StatusReason string

// Status reasons.
const (
	ReasonConnect   StatusReason = "connect"   // first connection after start: online
	ReasonReconnect StatusReason = "reconnect" // connection re-established: online
	ReasonHeartbeat StatusReason = "heartbeat" // periodic refresh of the retained status
	ReasonShutdown  StatusReason = "shutdown"  // graceful disconnect: offline
	ReasonLWT       StatusReason = "lwt"       // last will published by the broker: offline
)

// LabelStatus is a smart-label state as production reports it.
type LabelStatus string

// Label states (the model's minimum state set).
const (
	LabelIssued         LabelStatus = "issued"
	LabelPicked         LabelStatus = "picked"
	LabelPacked         LabelStatus = "packed"
	LabelInTransit      LabelStatus = "in_transit"
	LabelReadyForPickup LabelStatus = "ready_for_pickup"
	LabelPickedUp       LabelStatus = "picked_up"
	LabelRerouting      LabelStatus = "rerouting"
	LabelReturned       LabelStatus = "returned"
	LabelCancelled      LabelStatus = "cancelled"
)

var (
	stages       = []Stage{StagePick, StagePack, StageHandoff, StageDelivery, StageReturn}
	symbologies  = []Symbology{SymCode128, SymDataMatrix, SymQR}
	sizes        = []Size{SizeS, SizeM, SizeL, SizeXL}
	doorStates   = []DoorState{DoorOpen, DoorClosed}
	slotStates   = []SlotState{SlotOccupied, SlotFree}
	methods      = []PickupMethod{MethodPIN, MethodQR}
	nodeStates   = []NodeState{NodeOnline, NodeOffline}
	reasons      = []StatusReason{ReasonConnect, ReasonReconnect, ReasonHeartbeat, ReasonShutdown, ReasonLWT}
	labelStates  = []LabelStatus{LabelIssued, LabelPicked, LabelPacked, LabelInTransit, LabelReadyForPickup, LabelPickedUp, LabelRerouting, LabelReturned, LabelCancelled}
	idRE         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	codeRE       = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
	currencyRE   = regexp.MustCompile(`^[A-Z]{3}$`)
	maxRawCode   = 512
	maxCount     = uint64(1_000_000)
	maxRefundMin = uint64(100_000_000)
)

// Scan is a barcode read by a handheld or fixed scanner (type "scan").
type Scan struct {
	LabelID    string    `json:"label_id"`
	OrderID    string    `json:"order_id"`
	Node       string    `json:"node"`
	Stage      Stage     `json:"stage"`
	Symbology  Symbology `json:"symbology"`
	Code       string    `json:"code"`                  // raw decoded barcode content, 1..512 bytes
	OperatorID string    `json:"operator_id,omitempty"` // picker, packer or courier id, optional
}

// Door is a compartment door opening or closing (type "door").
type Door struct {
	Compartment string    `json:"compartment"`
	State       DoorState `json:"state"`
}

// Slot is a compartment becoming occupied or free (type "slot").
// LabelID is required when State is occupied and must be absent when free.
type Slot struct {
	Compartment string    `json:"compartment"`
	Size        Size      `json:"size"`
	State       SlotState `json:"state"`
	LabelID     string    `json:"label_id,omitempty"`
}

// Pickup is a customer collecting (or failing to collect) a parcel (type "pickup").
type Pickup struct {
	Compartment string       `json:"compartment"`
	LabelID     string       `json:"label_id"`
	Verified    bool         `json:"verified"` // the PIN or QR code matched
	Method      PickupMethod `json:"method"`
}

// SlotCount is the number of free and total compartments of one size.
type SlotCount struct {
	Free  uint64 `json:"free"`
	Total uint64 `json:"total"`
}

// Occupancy is a locker's compartment counts per size class (type
// "occupancy"). Sizes the locker does not have are omitted; at least one is required.
type Occupancy struct {
	Counts map[Size]SlotCount `json:"counts"`
}

// Status is a node's connectivity (type "status", published retained).
// Session is the node's connection counter (+1 per connect); a last will
// carries the session of the connection it was registered with.
type Status struct {
	State   NodeState    `json:"state"`
	Reason  StatusReason `json:"reason"`
	Session uint64       `json:"session"`
	Backlog uint64       `json:"backlog"` // local log entries not yet synchronised
}

// Heartbeat is a node's periodic liveness signal (type "heartbeat", not retained).
type Heartbeat struct {
	Session uint64 `json:"session"`
	Backlog uint64 `json:"backlog"`
}

// Order is an order as production placed it (type "order").
type Order struct {
	OrderID     string        `json:"order_id"`
	LabelID     string        `json:"label_id"`
	SKU         string        `json:"sku"`
	Size        Size          `json:"size"`
	Node        string        `json:"node"`        // fulfilling node
	Destination string        `json:"destination"` // destination node (locker or partner)
	PlacedAt    model.Instant `json:"placed_at"`
	SameDay     bool          `json:"same_day"`
	SLADeadline model.Instant `json:"sla_deadline"`
	// CustomerCell is the H3 cell the customer ordered from (optional): the
	// twin's demand heatmap counts the order there rather than at the
	// destination node.
	CustomerCell string `json:"customer_cell,omitempty"`
	// Window is the pickup window the customer chose at checkout
	// (optional; the touch layer): the order's SLA deadline is its opening.
	Window *PickupWindow `json:"window,omitempty"`
}

// PickupWindow is a pickup window [Opens, Closes) chosen at checkout.
type PickupWindow struct {
	Opens  model.Instant `json:"opens"`
	Closes model.Instant `json:"closes"`
}

// MarshalJSON writes the instants in RFC 3339 with milliseconds.
func (w PickupWindow) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Opens  string `json:"opens"`
		Closes string `json:"closes"`
	}{FormatInstant(w.Opens), FormatInstant(w.Closes)})
}

// Refund is a refund production decided, in minor units of Currency.
type Refund struct {
	Amount   uint64 `json:"amount"`   // minor units (cents), 1..100000000
	Currency string `json:"currency"` // ISO 4217 code, e.g. "EUR"
}

// LabelState is a state change production decided for a label (type "label_state").
// RerouteTo is required when State is rerouting and absent otherwise.
type LabelState struct {
	LabelID   string      `json:"label_id"`
	State     LabelStatus `json:"state"`
	Node      string      `json:"node"`
	Reason    string      `json:"reason,omitempty"`     // short code, e.g. ttl_expired, locker_full
	RerouteTo string      `json:"reroute_to,omitempty"` // target node of a reroute
	Refund    *Refund     `json:"refund,omitempty"`     // a refund decided with this change
	// Reward is a credit to the customer decided with a pickup (touch
	// layer; only with state picked_up).
	Reward *Reward `json:"reward,omitempty"`
}

// Reward is a credit production gave the customer, in minor units of
// Currency (the touch layer's rewards for micro-touchpoints).
type Reward struct {
	Amount   uint64 `json:"amount"`   // minor units (cents), 1..100000000
	Currency string `json:"currency"` // ISO 4217 code, e.g. "EUR"
}

func (Scan) MsgType() Type       { return TypeScan }
func (Door) MsgType() Type       { return TypeDoor }
func (Slot) MsgType() Type       { return TypeSlot }
func (Pickup) MsgType() Type     { return TypePickup }
func (Occupancy) MsgType() Type  { return TypeOccupancy }
func (Status) MsgType() Type     { return TypeStatus }
func (Heartbeat) MsgType() Type  { return TypeHeartbeat }
func (Order) MsgType() Type      { return TypeOrder }
func (LabelState) MsgType() Type { return TypeLabelState }

func (Scan) isBody()       {}
func (Door) isBody()       {}
func (Slot) isBody()       {}
func (Pickup) isBody()     {}
func (Occupancy) isBody()  {}
func (Status) isBody()     {}
func (Heartbeat) isBody()  {}
func (Order) isBody()      {}
func (LabelState) isBody() {}

// MarshalJSON writes the instants in RFC 3339 with milliseconds.
func (o Order) MarshalJSON() ([]byte, error) {
	type plain Order
	return json.Marshal(struct {
		plain
		PlacedAt    string `json:"placed_at"`
		SLADeadline string `json:"sla_deadline"`
	}{plain(o), FormatInstant(o.PlacedAt), FormatInstant(o.SLADeadline)})
}

// ValidID reports whether s is a valid identifier: 1..128 characters from
// [A-Za-z0-9._:-], starting with a letter or digit. Device, node, label,
// order, compartment, operator, SKU and message ids all follow this rule, so
// they are safe as MQTT topic levels.
func ValidID(s string) bool { return idRE.MatchString(s) }

func uitoa(u uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	return string(b[i:])
}
