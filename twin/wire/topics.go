package wire

import (
	"fmt"
	"strings"
)

// DefaultPrefix is the topic prefix used when none is configured.
const DefaultPrefix = "lockstep/v1"

// Kind names a topic family of the feed.
type Kind string

// Topic kinds. The string values are stable and used in logs and metrics.
const (
	KindScan        Kind = "scan"         // {prefix}/scanners/{scanner}/scan
	KindLockerEvent Kind = "locker_event" // {prefix}/lockers/{locker}/event
	KindNodeStatus  Kind = "node_status"  // {prefix}/nodes/{node}/status (retained)
	KindOrder       Kind = "order"        // {prefix}/orders/{node}
	KindLabelState  Kind = "label_state"  // {prefix}/labels/{label}/state
)

// Kinds lists every topic kind in a fixed order.
var Kinds = []Kind{KindScan, KindLockerEvent, KindNodeStatus, KindOrder, KindLabelState}

// Types reports the message types that may be published on topics of kind k.
func (k Kind) Types() []Type {
	switch k {
	case KindScan:
		return []Type{TypeScan}
	case KindLockerEvent:
		return []Type{TypeDoor, TypeSlot, TypePickup, TypeOccupancy}
	case KindNodeStatus:
		return []Type{TypeStatus, TypeHeartbeat}
	case KindOrder:
		return []Type{TypeOrder}
	case KindLabelState:
		return []Type{TypeLabelState}
	}
	return nil
}

// Topics builds and parses feed topics under a prefix. The zero value uses
// DefaultPrefix.
type Topics struct {
	// Prefix is prepended to every topic, without a trailing slash, e.g.
	// "lockstep/v1" or "acme/prod/lockstep/v1". Empty means DefaultPrefix.
	Prefix string
}

func (t Topics) prefix() string {
	p := strings.TrimSuffix(t.Prefix, "/")
	if p == "" {
		return DefaultPrefix
	}
	return p
}

// Scan is the topic a scanner publishes its scans on.
func (t Topics) Scan(scanner string) string { return t.prefix() + "/scanners/" + scanner + "/scan" }

// LockerEvent is the topic a locker publishes door, slot, pickup and occupancy events on.
func (t Topics) LockerEvent(locker string) string {
	return t.prefix() + "/lockers/" + locker + "/event"
}

// NodeStatus is the retained status topic of a node (and the topic of its last will).
func (t Topics) NodeStatus(node string) string { return t.prefix() + "/nodes/" + node + "/status" }

// Orders is the topic production publishes the orders fulfilled by node on.
func (t Topics) Orders(node string) string { return t.prefix() + "/orders/" + node }

// LabelState is the topic production publishes its decisions about one label on.
func (t Topics) LabelState(label string) string { return t.prefix() + "/labels/" + label + "/state" }

// Topic builds the topic of kind k for id.
func (t Topics) Topic(k Kind, id string) (string, error) {
	if err := checkID(id); err != nil {
		return "", fmt.Errorf("wire: topic id %q: %w", id, err)
	}
	switch k {
	case KindScan:
		return t.Scan(id), nil
	case KindLockerEvent:
		return t.LockerEvent(id), nil
	case KindNodeStatus:
		return t.NodeStatus(id), nil
	case KindOrder:
		return t.Orders(id), nil
	case KindLabelState:
		return t.LabelState(id), nil
	}
	return "", fmt.Errorf("wire: unknown topic kind %q", k)
}

// Filter is the subscription filter matching every topic of kind k
// (one "+" level for the id).
func (t Topics) Filter(k Kind) string {
	switch k {
	case KindScan:
		return t.Scan("+")
	case KindLockerEvent:
		return t.LockerEvent("+")
	case KindNodeStatus:
		return t.NodeStatus("+")
	case KindOrder:
		return t.Orders("+")
	case KindLabelState:
		return t.LabelState("+")
	}
	return ""
}

// All is the subscription filter matching every topic under the prefix.
func (t Topics) All() string { return t.prefix() + "/#" }

// Shared wraps filter in an MQTT 5 shared subscription for group
// ("$share/{group}/{filter}"): the broker hands each message to one member of
// the group, which is how several twin instances split the feed.
func Shared(group, filter string) string { return "$share/" + group + "/" + filter }

// ParseTopic splits a topic under t's prefix into its kind and id. The id
// must be a valid identifier (see the id rule in docs/feed.md).
func (t Topics) ParseTopic(topic string) (Kind, string, error) {
	p := t.prefix() + "/"
	if !strings.HasPrefix(topic, p) {
		return "", "", fmt.Errorf("wire: topic %q is not under prefix %q", topic, t.prefix())
	}
	parts := strings.Split(topic[len(p):], "/")
	var k Kind
	switch {
	case len(parts) == 3 && parts[0] == "scanners" && parts[2] == "scan":
		k = KindScan
	case len(parts) == 3 && parts[0] == "lockers" && parts[2] == "event":
		k = KindLockerEvent
	case len(parts) == 3 && parts[0] == "nodes" && parts[2] == "status":
		k = KindNodeStatus
	case len(parts) == 2 && parts[0] == "orders":
		k = KindOrder
	case len(parts) == 3 && parts[0] == "labels" && parts[2] == "state":
		k = KindLabelState
	default:
		return "", "", fmt.Errorf("wire: unknown topic %q", topic)
	}
	id := parts[1]
	if err := checkID(id); err != nil {
		return "", "", fmt.Errorf("wire: topic %q: id: %w", topic, err)
	}
	return k, id, nil
}

// ParseTopic parses topic under DefaultPrefix; see Topics.ParseTopic.
func ParseTopic(topic string) (Kind, string, error) { return Topics{}.ParseTopic(topic) }

func checkID(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("not a valid id (1..128 of [A-Za-z0-9._:-], starting with a letter or digit)")
	}
	return nil
}
