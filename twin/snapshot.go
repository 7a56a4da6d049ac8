package twin

import (
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// snapshotVersion is bumped whenever the snapshot layout or the meaning of
// the twin's state changes; a snapshot of another version is ignored (the
// runner then re-applies the whole journal).
//
// 2: instants are real (UTC) in ingest and local in the core (a time
// zone), per-source watermarks and the receive clock, the plausibility
// window and the clock mode in the configuration.
// 3: the core snapshot is format 3 (ttl: a label's pending expiry reminder
// and its extension, the TTL stats, the TTL rules in the fingerprint;
// replenish: the planner's state, heatmap by customer cell, assortment
// rotation, forecast and WAPE sums; supply: source counters, the central depot's
// stock and the arrival of central orders).
// 4: the core snapshot is format 4 (touch: the pickup windows of live
// labels, the touch stats, the touch policy in the fingerprint; packaging:
// the reusable boxes, their pools and counters, and each live label's box).
const snapshotVersion = 4

var snapshotMagic = []byte("lockstep-twin-snapshot\n")

// ErrSnapshotMismatch is returned by UnmarshalBinary for a snapshot taken by
// a twin with another configuration (window, tolerance, topics, partition,
// replenishment) or another snapshot version: its state would not be the
// state this twin reaches from the same journal.
var ErrSnapshotMismatch = errors.New("snapshot taken with another configuration or version")

// The snapshot's mirror types: exported fields for encoding/gob, maps as
// sorted slices so the same state always gives the same bytes.
type (
	snapState struct {
		Version  int
		Config   snapConfig
		Core     []byte // model.Core.MarshalBinary
		Sources  []snapSource
		IDs      []snapID // accepted msg_ids within the retention, sorted
		IDsPrune model.Instant
		Buf      []snapMsg
		MaxAt    model.Instant
		Now      model.Instant // the receive clock
		LastKey  *snapKey
		Clock    model.Instant
		Started  bool
		Counters snapCounters
		Quar     []Quarantined
		QuarHead int
		Anoms    []Anomaly // ring order
		AnomHead int
		Labels   []snapLabel // by id
		NextID   model.LabelID
		Finished []snapFin   // not yet forgotten, in order
		Timers   []snapTimer // heap order
		TimerOrd uint64
		TimerGen []snapTimerGen
		Session  []uint64
		Pending  []snapReport // heap order
		CoreQ    []snapCheck  // heap order
		Divs     []Divergence
	}
	snapConfig struct {
		Prefix                   string
		Window, Tolerance        model.Duration
		Replenish                bool
		ReplenishAt, RestockLead model.Duration
		Nodes                    []string
		QuarantineMax            int
		QuarantineBytes          int
		IDRetention              model.Duration
		LabelRetention           model.Duration
		Zone                     string
		EventClock               bool
		MaxPast, MaxFuture       model.Duration
		SourceIdle               model.Duration
	}
	snapSource struct {
		ID            string
		HW, Max       uint64
		Above, Reserv []uint64
		Hi            model.Instant // newest instant accepted
	}
	snapMsg struct {
		Topic    string
		Payload  []byte // wire.Encode of the envelope
		At, Recv model.Instant
		Late     bool
	}
	snapID struct {
		ID  string
		At  model.Instant
		Sum uint64 // payload digest
	}
	snapKey struct {
		At     model.Instant
		Rank   uint8
		Source string
		Seq    uint64
	}
	snapCount struct {
		Key   string
		Value uint64
	}
	snapCounters struct {
		Received, Accepted, Applied, Duplicates, Conflicts, Late, Timers, Missing, Forgotten uint64
		Quarantined, ByType, Rejected, Ignored, Anomalies, Divergences                       []snapCount
	}
	snapDecision struct {
		At      model.Instant
		To      model.NodeIndex
		Amount  uint64
		Matched bool
	}
	snapFin struct {
		At model.Instant
		ID model.LabelID
	}
	snapLabel struct {
		ID       model.LabelID
		Name     string
		Msgs     []string
		Matched  []bool
		Reroutes []snapDecision
		Refunds  []snapDecision
		Rewards  []snapDecision // touch layer
	}
	snapTimer struct {
		At    model.Instant
		Ord   uint64
		Kind  uint8
		TK    model.TimerKind
		Label model.LabelID
		Gen   uint64
		Node  model.NodeIndex
		SKU   model.SKUIndex
		Qty   int32
	}
	snapTimerGen struct {
		Label model.LabelID
		Kind  model.TimerKind
		Gen   uint64
	}
	snapReport struct {
		Due, At model.Instant
		Ord     uint64
		MsgID   string
		Body    wire.LabelState
	}
	snapCheck struct {
		Due     model.Instant
		Ord     uint64
		Label   model.LabelID
		Reroute bool
		Idx     int
	}
)

func (t *Twin) snapConfig() snapConfig {
	nodes := slices.Clone(t.drv.cfg.Nodes)
	sort.Strings(nodes)
	ic, dc := t.in.cfg, t.drv.cfg
	return snapConfig{Prefix: ic.Topics.Prefix, Window: ic.Window, Tolerance: t.cmp.cfg.Tolerance, Replenish: t.drv.replenish,
		ReplenishAt: dc.ReplenishAt, RestockLead: dc.RestockLead, Nodes: nodes, QuarantineMax: ic.QuarantineMax, QuarantineBytes: ic.QuarantineBytes,
		IDRetention: ic.IDRetention, LabelRetention: dc.LabelRetention, Zone: t.drv.zone.Name(), EventClock: ic.EventClock,
		MaxPast: ic.MaxPast, MaxFuture: ic.MaxFuture, SourceIdle: ic.SourceIdle}
}

func countsOf(m map[string]uint64) []snapCount {
	out := make([]snapCount, 0, len(m))
	for k, v := range m {
		out = append(out, snapCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func mapOf(cs []snapCount) map[string]uint64 {
	m := make(map[string]uint64, len(cs))
	for _, c := range cs {
		m[c.Key] = c.Value
	}
	return m
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

func decisionsOut(ds []decision) []snapDecision {
	out := make([]snapDecision, len(ds))
	for i, d := range ds {
		out[i] = snapDecision{d.at, d.to, d.amount, d.matched}
	}
	return out
}

func decisionsIn(ds []snapDecision) []decision {
	if len(ds) == 0 {
		return nil
	}
	out := make([]decision, len(ds))
	for i, d := range ds {
		out[i] = decision{d.At, d.To, d.Amount, d.Matched}
	}
	return out
}

// MarshalBinary encodes the twin's whole state: the core's (model.Core's
// own snapshot) and that of its three parts (de-duplication sets,
// per-source sequence state, the reorder buffer, quarantine; timers,
// labels, sessions; pending comparisons and divergences; counters). The
// same state gives the same bytes. Together with the number of journal
// records applied, it lets a restart skip the journal's prefix (see
// Runner).
func (t *Twin) MarshalBinary() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := snapState{Version: snapshotVersion, Config: t.snapConfig()}
	if err := t.in.save(&s); err != nil {
		return nil, err
	}
	if err := t.drv.save(&s); err != nil {
		return nil, err
	}
	t.cmp.save(&s)
	c := t.counters()
	s.Counters = snapCounters{Received: c.Received, Accepted: c.Accepted, Applied: c.Applied, Duplicates: c.Duplicates,
		Conflicts: c.Conflicts, Late: c.Late, Timers: c.Timers, Missing: c.Missing, Forgotten: c.Forgotten, Quarantined: countsOf(c.Quarantined),
		ByType: countsOf(c.ByType), Rejected: countsOf(c.Rejected), Ignored: countsOf(c.Ignored), Anomalies: countsOf(c.Anomalies),
		Divergences: countsOf(c.Divergences)}
	var buf bytes.Buffer
	buf.Write(snapshotMagic)
	if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
		return nil, fmt.Errorf("twin: snapshot: %w", err)
	}
	return binary.BigEndian.AppendUint32(buf.Bytes(), crc32.Checksum(buf.Bytes(), crcTable)), nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// UnmarshalBinary replaces the twin's state with a snapshot taken by
// MarshalBinary on a twin with the same network and configuration. On any
// error the twin is left unchanged; a snapshot of another configuration or
// version gives an error wrapping ErrSnapshotMismatch.
func (t *Twin) UnmarshalBinary(data []byte) error {
	if !bytes.HasPrefix(data, snapshotMagic) || len(data) < len(snapshotMagic)+4 {
		return errors.New("twin: snapshot: not a twin snapshot")
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(data[len(body):]) {
		return errors.New("twin: snapshot: checksum mismatch (damaged or truncated)")
	}
	var s snapState
	if err := gob.NewDecoder(bytes.NewReader(body[len(snapshotMagic):])).Decode(&s); err != nil {
		// another version's layout may not decode: say so if it is one
		var v struct{ Version int }
		if gob.NewDecoder(bytes.NewReader(body[len(snapshotMagic):])).Decode(&v) == nil && v.Version != snapshotVersion {
			return fmt.Errorf("twin: snapshot version %d, want %d: %w", v.Version, snapshotVersion, ErrSnapshotMismatch)
		}
		return fmt.Errorf("twin: snapshot: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.Version != snapshotVersion {
		return fmt.Errorf("twin: snapshot version %d, want %d: %w", s.Version, snapshotVersion, ErrSnapshotMismatch)
	}
	if want := t.snapConfig(); fmt.Sprint(want) != fmt.Sprint(s.Config) {
		return fmt.Errorf("twin: snapshot config %+v, this twin %+v: %w", s.Config, want, ErrSnapshotMismatch)
	}
	// restore into fresh parts and swap them in only if all of it worked
	in := NewIngest(t.in.cfg)
	drv, err := NewDriver(t.drv.cfg)
	if err != nil {
		return err
	}
	cmp := NewComparer(t.cmp.cfg, drv)
	drv.SetObserver(cmp)
	if err := in.restore(&s); err != nil {
		return err
	}
	if err := drv.restore(&s); err != nil {
		return err
	}
	if err := cmp.restore(&s); err != nil {
		return err
	}
	t.in, t.drv, t.cmp = in, drv, cmp
	if m := t.cfg.Metrics; m != nil {
		c := t.counters()
		m.restored(&c)
		m.Labels.Set(float64(len(drv.labels)))
	}
	return nil
}

// save writes the ingest's state into s.
func (in *Ingest) save(s *snapState) error {
	for _, id := range sortedKeys(in.src) {
		st := in.src[id]
		s.Sources = append(s.Sources, snapSource{ID: id, HW: st.hw, Max: st.max, Above: sortedKeys(st.above), Reserv: sortedKeys(st.reserved),
			Hi: st.hi})
	}
	for _, id := range sortedKeys(in.ids) {
		s.IDs = append(s.IDs, snapID{id, in.ids[id].at, in.ids[id].sum})
	}
	s.IDsPrune, s.MaxAt, s.Now = in.idsPrune, in.maxAt, in.now
	for _, m := range in.buf {
		p, err := wire.Encode(m.Env)
		if err != nil {
			return fmt.Errorf("twin: snapshot: buffered message %s: %w", m.Env.MsgID, err)
		}
		s.Buf = append(s.Buf, snapMsg{Topic: m.Topic, Payload: p, At: m.At, Recv: m.Recv, Late: m.Late})
	}
	if k := in.lastKey; k != nil {
		s.LastKey = &snapKey{At: k.At, Rank: k.rank, Source: k.Env.Source, Seq: k.Env.Seq}
	}
	s.Quar, s.QuarHead = in.quar.items, in.quar.head
	return nil
}

// restore sets a fresh ingest's state from s.
func (in *Ingest) restore(s *snapState) error {
	if s.QuarHead < 0 || (s.QuarHead > 0 && s.QuarHead >= len(s.Quar)) {
		return errors.New("twin: snapshot: inconsistent quarantine state")
	}
	in.idsPrune, in.maxAt, in.now = s.IDsPrune, s.MaxAt, s.Now
	for _, ss := range s.Sources {
		st := &srcState{hw: ss.HW, max: ss.Max, pos: -1}
		if len(ss.Above) > 0 {
			st.above = make(map[uint64]struct{}, len(ss.Above))
			for _, q := range ss.Above {
				st.above[q] = struct{}{}
			}
		}
		if len(ss.Reserv) > 0 {
			st.reserved = make(map[uint64]struct{}, len(ss.Reserv))
			for _, q := range ss.Reserv {
				st.reserved[q] = struct{}{}
			}
		}
		in.src[ss.ID] = st
		in.heard(st, ss.Hi, s.Now) // the current sources (their order does not matter)
	}
	for _, id := range s.IDs {
		in.ids[id.ID] = idEntry{at: id.At, sum: id.Sum}
	}
	in.buf = make(msgHeap, 0, len(s.Buf))
	for _, sm := range s.Buf {
		env, err := in.cfg.Topics.Decode(sm.Topic, sm.Payload)
		if err != nil {
			return fmt.Errorf("twin: snapshot: buffered message on %s: %w", sm.Topic, err)
		}
		in.buf = append(in.buf, &Message{Env: env, At: sm.At, rank: rankOf(env), Recv: sm.Recv, Topic: sm.Topic, Late: sm.Late})
	}
	// the heap was saved in heap order; Init only verifies (no moves on a
	// valid heap) and repairs a corrupt one
	heap.Init(&in.buf)
	if k := s.LastKey; k != nil {
		in.lastKey = &Message{At: k.At, rank: k.Rank, Env: wire.Envelope{Source: k.Source, Seq: k.Seq}}
	}
	in.quar.restore(s.Quar, s.QuarHead)
	c := s.Counters
	in.counters = IngestCounters{Received: c.Received, Accepted: c.Accepted, Duplicates: c.Duplicates, Conflicts: c.Conflicts,
		Late: c.Late, Missing: c.Missing, Quarantined: mapOf(c.Quarantined), ByType: mapOf(c.ByType)}
	return nil
}

// save writes the driver's state (and the core's) into s.
func (d *Driver) save(s *snapState) error {
	core, err := d.core.MarshalBinary()
	if err != nil {
		return fmt.Errorf("twin: snapshot: %w", err)
	}
	s.Core, s.Clock, s.Started, s.Session = core, d.clock, d.started, d.session
	s.Labels = make([]snapLabel, 0, len(d.labels))
	for _, id := range sortedKeys(d.labels) {
		lr := d.labels[id]
		s.Labels = append(s.Labels, snapLabel{ID: id, Name: lr.name, Msgs: lr.msgs})
	}
	s.NextID = d.nextLabel
	s.Anoms, s.AnomHead = d.anoms.items, d.anoms.head
	for _, f := range d.finished[d.finHead:] {
		s.Finished = append(s.Finished, snapFin{f.at, f.id})
	}
	s.Timers = make([]snapTimer, len(d.timers))
	for i, tm := range d.timers {
		s.Timers[i] = snapTimer{tm.at, tm.ord, tm.kind, tm.tk, tm.label, tm.gen, tm.node, tm.sku, tm.qty}
	}
	s.TimerOrd = max(s.TimerOrd, d.timerOrd)
	for k, g := range d.timerGen {
		s.TimerGen = append(s.TimerGen, snapTimerGen{k.label, k.kind, g})
	}
	sort.Slice(s.TimerGen, func(i, j int) bool {
		a, b := s.TimerGen[i], s.TimerGen[j]
		return a.Label < b.Label || a.Label == b.Label && a.Kind < b.Kind
	})
	return nil
}

// restore sets a fresh driver's state (and the core's) from s.
func (d *Driver) restore(s *snapState) error {
	core := d.newCore()
	if err := core.UnmarshalBinary(s.Core); err != nil {
		return fmt.Errorf("twin: snapshot: %w", err)
	}
	if len(s.Session) != len(d.net.Nodes) {
		return errors.New("twin: snapshot: inconsistent node state")
	}
	if s.AnomHead < 0 || (s.AnomHead > 0 && s.AnomHead >= len(s.Anoms)) {
		return errors.New("twin: snapshot: inconsistent anomalies")
	}
	d.anoms.items, d.anoms.head = s.Anoms, s.AnomHead
	for _, sl := range s.Labels {
		if sl.ID <= 0 || sl.ID > s.NextID || d.labels[sl.ID] != nil {
			return errors.New("twin: snapshot: bad label id")
		}
		d.labels[sl.ID] = &labelRec{name: sl.Name, msgs: sl.Msgs}
		d.labelIDs[sl.Name] = sl.ID
	}
	d.finished = make([]finished, len(s.Finished))
	for i, f := range s.Finished {
		d.finished[i] = finished{f.At, f.ID}
	}
	d.timers = make(timerHeap, len(s.Timers))
	for i, st := range s.Timers {
		d.timers[i] = timer{st.At, st.Ord, st.Kind, st.TK, st.Label, st.Gen, st.Node, st.SKU, st.Qty}
	}
	heap.Init(&d.timers)
	for _, g := range s.TimerGen {
		d.timerGen[timerKey{g.Label, g.Kind}] = g.Gen
	}
	c := s.Counters
	d.counters = DriverCounters{Applied: c.Applied, Timers: c.Timers, Forgotten: c.Forgotten, Rejected: mapOf(c.Rejected), Ignored: mapOf(c.Ignored),
		Anomalies: mapOf(c.Anomalies)}
	d.core, d.clock, d.started, d.session = core, s.Clock, s.Started, s.Session
	d.nextLabel, d.timerOrd = s.NextID, s.TimerOrd
	return nil
}

// save writes the comparer's state into s, after the driver's (which
// lists the labels).
func (c *Comparer) save(s *snapState) {
	for i := range s.Labels {
		if cl := c.labels[s.Labels[i].ID]; cl != nil {
			s.Labels[i].Matched, s.Labels[i].Reroutes, s.Labels[i].Refunds = cl.matched, decisionsOut(cl.reroutes), decisionsOut(cl.refunds)
			s.Labels[i].Rewards = decisionsOut(cl.rewards)
		}
	}
	for _, r := range c.pending {
		s.Pending = append(s.Pending, snapReport{Due: r.due, At: r.at, Ord: r.ord, MsgID: r.msgID, Body: r.body})
	}
	for _, k := range c.checks {
		s.CoreQ = append(s.CoreQ, snapCheck{k.due, k.ord, k.label, k.reroute, k.idx})
	}
	s.TimerOrd = max(s.TimerOrd, c.ord)
	s.Divs = c.divs
}

// restore sets a fresh comparer's state from s.
func (c *Comparer) restore(s *snapState) error {
	for _, sl := range s.Labels {
		if len(sl.Matched) > 0 || len(sl.Reroutes) > 0 || len(sl.Refunds) > 0 || len(sl.Rewards) > 0 {
			c.labels[sl.ID] = &cmpLabel{matched: sl.Matched, reroutes: decisionsIn(sl.Reroutes), refunds: decisionsIn(sl.Refunds),
				rewards: decisionsIn(sl.Rewards)}
		}
	}
	c.pending = make(reportHeap, len(s.Pending))
	for i, r := range s.Pending {
		c.pending[i] = report{due: r.Due, ord: r.Ord, at: r.At, msgID: r.MsgID, body: r.Body}
	}
	c.checks = make(decisionHeap, len(s.CoreQ))
	for i, k := range s.CoreQ {
		cl := c.labels[k.Label]
		if cl == nil {
			return errors.New("twin: snapshot: a pending check names an unknown label")
		}
		n := len(cl.refunds)
		if k.Reroute {
			n = len(cl.reroutes)
		}
		if k.Idx < 0 || k.Idx >= n {
			return errors.New("twin: snapshot: a pending check names an unknown decision")
		}
		c.checks[i] = coreCheck{k.Due, k.Ord, k.Label, k.Reroute, k.Idx}
	}
	heap.Init(&c.pending)
	heap.Init(&c.checks)
	c.ord, c.divs, c.counts = s.TimerOrd, s.Divs, mapOf(s.Counters.Divergences)
	return nil
}
