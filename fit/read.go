package fit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	h3 "github.com/uber/h3-go/v4"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Network is the network file a fit starts from: the scenario the twin runs
// on (its nodes, SKUs, rules and the values a fit keeps), with its raw
// bytes (for the YAML it writes and the journal's network digest).
type Network struct {
	Path      string
	Raw       []byte
	Scenario  *scenarios.Scenario
	Net       *model.Network
	Zone      *model.Zone
	Digest    string            // hex SHA-256 of Raw, as the twin records it in its journal
	cellHoods map[h3.Cell][]int // the neighborhoods a demand cell belongs to (they may overlap)
	hoodCells []int             // cells per neighborhood
}

// LoadNetwork reads and validates the network file at path.
func LoadNetwork(path string) (*Network, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fit: network: %w", err)
	}
	sc, err := scenarios.Parse(path, raw)
	if err != nil {
		return nil, fmt.Errorf("fit: network: %w", err)
	}
	net, err := sc.Network()
	if err != nil {
		return nil, fmt.Errorf("fit: network %s: %w", path, err)
	}
	loc, err := sc.Location()
	if err != nil {
		return nil, fmt.Errorf("fit: network %s: %w", path, err)
	}
	sum := sha256.Sum256(raw)
	n := &Network{Path: path, Raw: raw, Scenario: sc, Net: net, Zone: model.NewZone(loc), Digest: hex.EncodeToString(sum[:]),
		cellHoods: map[h3.Cell][]int{}}
	for i := range sc.Neighborhoods {
		cells, err := sc.NeighborhoodCells(i)
		if err != nil {
			return nil, fmt.Errorf("fit: network %s: %w", path, err)
		}
		for _, c := range cells {
			n.cellHoods[c] = append(n.cellHoods[c], i)
		}
		n.hoodCells = append(n.hoodCells, len(cells))
	}
	return n, nil
}

// order is an order message, on the local clock.
type order struct {
	label, sku, dest string
	at, due          model.Instant
	cell             h3.Cell // 0 when the customer cell is unknown or outside every neighborhood
	cellGiven        bool    // the order named a customer cell
}

// label is what the feed said about one label (local instants; 0 = never).
type label struct {
	order              int // index in Observations.orders, -1 if its order was never seen
	ready, lastReady   model.Instant
	readyNode          string
	pickedUp           model.Instant
	pickupNode         string
	endFirst           model.Instant // the first ready episode ended without a pickup (rerouted, returned)
	late               bool
	reroutes           int
	handoffs, arrivals []stop
}

type stop struct {
	at   model.Instant
	node string
}

type status struct {
	at     model.Instant
	online bool
	reason wire.StatusReason
}

type slotEv struct {
	at    model.Instant
	delta int
}

// Observations is what a journal or capture holds, decoded by the twin's
// own ingest (wire.Decode, quarantine, de-duplication, ordering), on the
// network's local clock.
type Observations struct {
	orders      []order
	labels      map[string]*label
	labelIDs    []string // in order of first appearance
	statuses    map[string][]status
	slots       map[string][]slotEv
	first, last model.Instant
	Counters    twin.IngestCounters
	Quarantine  map[string]uint64 // quarantined messages by reason
	UnknownIDs  []string          // a few node or SKU ids the network lacks, for the error message
	Source      string            // what was read, for the file's header
}

// ReadCapture reads a capture (docs/feed.md#capture-format).
func ReadCapture(n *Network, path string) (*Observations, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fit: capture: %w", err)
	}
	defer f.Close()
	rd := newReader(n, "capture "+path)
	cr := wire.NewCaptureReader(f)
	for {
		rec, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var ce *wire.CaptureError
		if errors.As(err, &ce) {
			rd.badLines++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fit: capture %s: %w", path, err)
		}
		rd.offer(rec)
	}
	if cr.Line() > 0 && rd.in.Counters().Received == 0 && rd.badLines > 0 {
		return nil, fmt.Errorf("fit: capture %s: none of its %d lines is a capture record (docs/feed.md#capture-format)", path, rd.badLines)
	}
	return rd.finish(), nil
}

// ReadJournal reads the journal in a twin's --data directory. A journal
// written for another network file is refused.
func ReadJournal(n *Network, dir string) (*Observations, error) {
	rd := newReader(n, "journal "+dir)
	digest, err := twin.ReadJournal(dir, rd.offer)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	if digest != "" && digest != n.Digest {
		return nil, fmt.Errorf("fit: the journal in %s was written for another network file than %s (its digest differs): fit against the network file the twin ran with", dir, n.Path)
	}
	return rd.finish(), nil
}

type reader struct {
	n        *Network
	in       *twin.Ingest
	obs      *Observations
	buf      []*twin.Message
	badLines int
}

func newReader(n *Network, src string) *reader {
	// no reorder bound and no plausibility window: a fit takes every valid
	// message at its own instant (a last will at its receive instant)
	in := twin.NewIngest(twin.IngestConfig{Network: n.Net, MaxPast: -1, MaxFuture: -1, SourceIdle: -1, QuarantineMax: 64})
	return &reader{n: n, in: in, obs: &Observations{labels: map[string]*label{}, statuses: map[string][]status{},
		slots: map[string][]slotEv{}, Quarantine: map[string]uint64{}, Source: src}}
}

func (rd *reader) offer(rec wire.CaptureRecord) {
	rd.buf, _ = rd.in.Offer(rec, time.Time{}, rd.buf[:0])
	for _, m := range rd.buf {
		rd.apply(m)
	}
}

func (rd *reader) finish() *Observations {
	for _, m := range rd.in.Release(model.Never, nil) {
		rd.apply(m)
	}
	o := rd.obs
	o.Counters = rd.in.Counters()
	o.Quarantine = o.Counters.Quarantined
	seen := map[string]bool{}
	for _, q := range rd.in.Quarantine() {
		if (q.Reason == "unknown_node" || q.Reason == "unknown_sku") && len(o.UnknownIDs) < 5 && !seen[q.Detail] {
			seen[q.Detail] = true
			o.UnknownIDs = append(o.UnknownIDs, q.Detail)
		}
	}
	for _, l := range o.labels {
		sort.Slice(l.handoffs, func(i, j int) bool { return l.handoffs[i].at < l.handoffs[j].at })
		sort.Slice(l.arrivals, func(i, j int) bool { return l.arrivals[i].at < l.arrivals[j].at })
	}
	for id, s := range o.statuses {
		sort.SliceStable(s, func(i, j int) bool { return s[i].at < s[j].at })
		o.statuses[id] = s
	}
	for id, s := range o.slots {
		sort.SliceStable(s, func(i, j int) bool { return s[i].at < s[j].at })
		o.slots[id] = s
	}
	return o
}

func (o *Observations) lab(id string) *label {
	l := o.labels[id]
	if l == nil {
		l = &label{order: -1}
		o.labels[id] = l
		o.labelIDs = append(o.labelIDs, id)
	}
	return l
}

func (rd *reader) apply(m *twin.Message) {
	o, z := rd.obs, rd.n.Zone
	at := z.Local(m.At)
	if o.first == 0 || at < o.first {
		o.first = at
	}
	o.last = max(o.last, at)
	_, id, _ := wire.ParseTopic(m.Topic)
	switch b := m.Env.Body.(type) {
	case wire.Order:
		var cell h3.Cell
		if b.CustomerCell != "" {
			if c := h3.Cell(h3.IndexFromString(b.CustomerCell)); len(rd.n.cellHoods[c]) > 0 {
				cell = c
			}
		}
		l := o.lab(b.LabelID)
		if l.order >= 0 {
			return // a second order message for the label (a different msg_id): keep the first
		}
		l.order = len(o.orders)
		o.orders = append(o.orders, order{label: b.LabelID, sku: b.SKU, dest: b.Destination, at: z.Local(b.PlacedAt), due: z.Local(b.SLADeadline), cell: cell, cellGiven: b.CustomerCell != ""})
	case wire.LabelState:
		l := o.lab(b.LabelID)
		switch b.State {
		case wire.LabelReadyForPickup:
			if l.ready == 0 {
				l.ready, l.readyNode = at, b.Node
			}
			l.lastReady = at
		case wire.LabelPickedUp:
			if l.pickedUp == 0 || at < l.pickedUp {
				l.pickedUp, l.pickupNode = at, b.Node
			}
		case wire.LabelRerouting, wire.LabelReturned:
			if b.State == wire.LabelRerouting {
				l.reroutes++
			}
			if l.ready != 0 && l.pickedUp == 0 && l.endFirst == 0 {
				l.endFirst = at
			}
		}
		if b.Refund != nil && b.Reason == "late_delivery" {
			l.late = true
		}
	case wire.Pickup:
		if b.Verified {
			l := o.lab(b.LabelID)
			if l.pickedUp == 0 || at < l.pickedUp {
				l.pickedUp, l.pickupNode = at, id
			}
		}
	case wire.Scan:
		switch b.Stage {
		case wire.StageHandoff:
			l := o.lab(b.LabelID)
			l.handoffs = append(l.handoffs, stop{at, b.Node})
		case wire.StageDelivery:
			l := o.lab(b.LabelID)
			l.arrivals = append(l.arrivals, stop{at, b.Node})
		}
	case wire.Status:
		o.statuses[id] = append(o.statuses[id], status{at: at, online: b.State == wire.NodeOnline, reason: b.Reason})
	case wire.Slot:
		d := 1
		if b.State == wire.SlotFree {
			d = -1
		}
		o.slots[id] = append(o.slots[id], slotEv{at, d})
	}
}

// DefaultWindow is the window a fit covers when --from and --to are not
// given: whole local days from the day of the first message to the last
// local midnight at or before the last message.
func (o *Observations) DefaultWindow() (from, to model.Instant) {
	return model.DayStart(o.first), model.DayStart(o.last)
}
