package twin

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Anomaly reasons. The first is the one the feed produces; the others
// concern messages Ingest quarantines before they reach the driver when it
// checks them against the network (a Twin's does), and are recorded only by
// a driver fed without that check.
const (
	// AnomalyUnknownLabel: a scan or a locker event about a label the twin
	// has no order for: ordered before the twin started, forgotten after
	// --label-retention, or its order was lost (a sequence gap) or
	// quarantined.
	AnomalyUnknownLabel = "unknown_label"
	// AnomalyUnknownNode: the message names a node the network does not have.
	AnomalyUnknownNode = "unknown_node"
	// AnomalyUnknownSKU: an order names a SKU the network does not have.
	AnomalyUnknownSKU = "unknown_sku"
)

// Anomaly is a valid message the driver could not apply because of what
// the twin knows, not because of the message: it names a label the twin
// never saw ordered (or has forgotten). Unlike a quarantined message it
// was accepted (de-duplicated, its seq counted); unlike an ignored one
// (a confirmation, a heartbeat) it may mean the twin misses something.
type Anomaly struct {
	Reason string `json:"reason"`
	MsgID  string `json:"msg_id"`
	Source string `json:"source"`
	Type   string `json:"type"`
	Label  string `json:"label,omitempty"`
	Node   string `json:"node,omitempty"`
	At     string `json:"at"` // the message's event instant
}

// anomaly records an anomaly of the message env applied at at.
func (d *Driver) anomaly(reason string, env wire.Envelope, at model.Instant, label, node string) {
	d.counters.Anomalies[reason]++
	if d.m != nil {
		d.m.anomaly(reason)
	}
	d.anoms.add(Anomaly{Reason: reason, MsgID: env.MsgID, Source: env.Source, Type: string(env.Type), Label: label, Node: node,
		At: wire.FormatInstant(at)})
	d.log.Debug("anomaly", "reason", reason, "msg_id", env.MsgID, "label", label, "node", node)
}

// Anomalies returns the recorded anomalies, oldest first (at most
// DriverConfig.AnomalyMax of them; the counters count all).
func (d *Driver) Anomalies() []Anomaly { return d.anoms.list() }
