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
const snapshotVersion = 1

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
		LastKey  *snapKey
		Clock    model.Instant
		Started  bool
		Counters snapCounters
		Quar     []Quarantined
		QuarHead int
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
		IDRetention              model.Duration
		LabelRetention           model.Duration
	}
	snapSource struct {
		ID            string
		HW, Max       uint64
		Above, Reserv []uint64
	}
	snapMsg struct {
		Topic    string
		Payload  []byte // wire.Encode of the envelope
		At, Recv model.Instant
		Late     bool
	}
	snapID struct {
		ID string
		At model.Instant
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
		Quarantined, ByType, Rejected, Ignored, Divergences                                  []snapCount
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
	nodes := slices.Clone(t.cfg.Nodes)
	sort.Strings(nodes)
	return snapConfig{Prefix: t.topics.Prefix, Window: t.cfg.Window, Tolerance: t.cfg.Tolerance, Replenish: t.replenish,
		ReplenishAt: t.cfg.ReplenishAt, RestockLead: t.cfg.RestockLead, Nodes: nodes, QuarantineMax: t.cfg.QuarantineMax,
		IDRetention: t.cfg.IDRetention, LabelRetention: t.cfg.LabelRetention}
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
// own snapshot) and the driver's (de-duplication sets, per-source sequence
// state, the reorder buffer, timers, pending comparisons, divergences,
// quarantine and counters). The same state gives the same bytes. Together
// with the number of journal records applied, it lets a restart skip the
// journal's prefix (see Runner).
func (t *Twin) MarshalBinary() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	core, err := t.core.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("twin: snapshot: %w", err)
	}
	s := snapState{Version: snapshotVersion, Config: t.snapConfig(), Core: core, MaxAt: t.maxAt, Clock: t.clock, Started: t.started,
		Quar: t.quar, QuarHead: t.quarHead, TimerOrd: t.timerOrd, Session: t.session, Divs: t.divs}
	for _, id := range sortedKeys(t.src) {
		st := t.src[id]
		s.Sources = append(s.Sources, snapSource{ID: id, HW: st.hw, Max: st.max, Above: sortedKeys(st.above), Reserv: sortedKeys(st.reserved)})
	}
	for _, id := range sortedKeys(t.ids) {
		s.IDs = append(s.IDs, snapID{id, t.ids[id]})
	}
	s.IDsPrune = t.idsPrune
	for _, m := range t.buf {
		p, err := wire.Encode(m.env)
		if err != nil {
			return nil, fmt.Errorf("twin: snapshot: buffered message %s: %w", m.env.MsgID, err)
		}
		s.Buf = append(s.Buf, snapMsg{Topic: m.topic, Payload: p, At: m.at, Recv: m.recv, Late: m.late})
	}
	if k := t.lastKey; k != nil {
		s.LastKey = &snapKey{At: k.at, Rank: k.rank, Source: k.env.Source, Seq: k.env.Seq}
	}
	c := &t.counters
	s.Counters = snapCounters{Received: c.Received, Accepted: c.Accepted, Applied: c.Applied, Duplicates: c.Duplicates,
		Conflicts: c.Conflicts, Late: c.Late, Timers: c.Timers, Missing: c.Missing, Forgotten: c.Forgotten, Quarantined: countsOf(c.Quarantined),
		ByType: countsOf(c.ByType), Rejected: countsOf(c.Rejected), Ignored: countsOf(c.Ignored), Divergences: countsOf(c.Divergences)}
	s.Labels = make([]snapLabel, 0, len(t.labels))
	for _, id := range sortedKeys(t.labels) {
		lr := t.labels[id]
		s.Labels = append(s.Labels, snapLabel{ID: id, Name: lr.name, Msgs: lr.msgs, Matched: lr.matched, Reroutes: decisionsOut(lr.reroutes),
			Refunds: decisionsOut(lr.refunds)})
	}
	s.NextID = t.nextLabel
	for _, f := range t.finished[t.finHead:] {
		s.Finished = append(s.Finished, snapFin{f.at, f.id})
	}
	s.Timers = make([]snapTimer, len(t.timers))
	for i, tm := range t.timers {
		s.Timers[i] = snapTimer{tm.at, tm.ord, tm.kind, tm.tk, tm.label, tm.gen, tm.node, tm.sku, tm.qty}
	}
	for k, g := range t.timerGen {
		s.TimerGen = append(s.TimerGen, snapTimerGen{k.label, k.kind, g})
	}
	sort.Slice(s.TimerGen, func(i, j int) bool {
		a, b := s.TimerGen[i], s.TimerGen[j]
		return a.Label < b.Label || a.Label == b.Label && a.Kind < b.Kind
	})
	for _, r := range t.pending {
		s.Pending = append(s.Pending, snapReport{Due: r.due, At: r.at, Ord: r.ord, MsgID: r.msgID, Body: r.body})
	}
	for _, c := range t.corePending {
		s.CoreQ = append(s.CoreQ, snapCheck{c.due, c.ord, c.label, c.reroute, c.idx})
	}
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
	core := model.New(t.net)
	core.KeepFinished = t.core.KeepFinished
	core.OnFinish = t.onFinish
	if err := core.UnmarshalBinary(s.Core); err != nil {
		return fmt.Errorf("twin: snapshot: %w", err)
	}
	if len(s.Session) != len(t.net.Nodes) || s.QuarHead < 0 || (s.QuarHead > 0 && s.QuarHead >= len(s.Quar)) {
		return errors.New("twin: snapshot: inconsistent node or quarantine state")
	}
	src := make(map[string]*srcState, len(s.Sources))
	for _, ss := range s.Sources {
		st := &srcState{hw: ss.HW, max: ss.Max}
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
		src[ss.ID] = st
	}
	ids := make(map[string]model.Instant, len(s.IDs))
	for _, id := range s.IDs {
		ids[id.ID] = id.At
	}
	buf := make(msgHeap, 0, len(s.Buf))
	for _, sm := range s.Buf {
		env, err := t.topics.Decode(sm.Topic, sm.Payload)
		if err != nil {
			return fmt.Errorf("twin: snapshot: buffered message on %s: %w", sm.Topic, err)
		}
		buf = append(buf, &msg{env: env, at: sm.At, rank: rankOf(env), recv: sm.Recv, topic: sm.Topic, late: sm.Late})
	}
	var last *msg
	if k := s.LastKey; k != nil {
		last = &msg{at: k.At, rank: k.Rank, env: wire.Envelope{Source: k.Source, Seq: k.Seq}}
	}
	labels := make(map[model.LabelID]*labelRec, len(s.Labels))
	labelIDs := make(map[string]model.LabelID, len(s.Labels))
	for _, sl := range s.Labels {
		if sl.ID <= 0 || sl.ID > s.NextID || labels[sl.ID] != nil {
			return errors.New("twin: snapshot: bad label id")
		}
		labels[sl.ID] = &labelRec{name: sl.Name, msgs: sl.Msgs, matched: sl.Matched, reroutes: decisionsIn(sl.Reroutes), refunds: decisionsIn(sl.Refunds)}
		labelIDs[sl.Name] = sl.ID
	}
	fin := make([]finished, len(s.Finished))
	for i, f := range s.Finished {
		fin[i] = finished{f.At, f.ID}
	}
	timers := make(timerHeap, len(s.Timers))
	for i, st := range s.Timers {
		timers[i] = timer{st.At, st.Ord, st.Kind, st.TK, st.Label, st.Gen, st.Node, st.SKU, st.Qty}
	}
	gens := make(map[timerKey]uint64, len(s.TimerGen))
	for _, g := range s.TimerGen {
		gens[timerKey{g.Label, g.Kind}] = g.Gen
	}
	pending := make(reportHeap, len(s.Pending))
	for i, r := range s.Pending {
		pending[i] = report{due: r.Due, ord: r.Ord, at: r.At, msgID: r.MsgID, body: r.Body}
	}
	checks := make(decisionHeap, len(s.CoreQ))
	for i, c := range s.CoreQ {
		lr := labels[c.Label]
		if lr == nil {
			return errors.New("twin: snapshot: a pending check names an unknown label")
		}
		n := len(lr.refunds)
		if c.Reroute {
			n = len(lr.reroutes)
		}
		if c.Idx < 0 || c.Idx >= n {
			return errors.New("twin: snapshot: a pending check names an unknown decision")
		}
		checks[i] = coreCheck{c.Due, c.Ord, c.Label, c.Reroute, c.Idx}
	}
	// the heaps were saved in heap order; Init only verifies (no moves on a
	// valid heap) and repairs a corrupt one
	heap.Init(&buf)
	heap.Init(&timers)
	heap.Init(&pending)
	heap.Init(&checks)

	c := s.Counters
	t.core = core
	t.src, t.ids, t.idsPrune, t.buf, t.maxAt, t.lastKey, t.clock, t.started = src, ids, s.IDsPrune, buf, s.MaxAt, last, s.Clock, s.Started
	t.counters = Counters{Received: c.Received, Accepted: c.Accepted, Applied: c.Applied, Duplicates: c.Duplicates, Conflicts: c.Conflicts,
		Late: c.Late, Timers: c.Timers, Missing: c.Missing, Forgotten: c.Forgotten, Quarantined: mapOf(c.Quarantined), ByType: mapOf(c.ByType),
		Rejected: mapOf(c.Rejected), Ignored: mapOf(c.Ignored), Divergences: mapOf(c.Divergences)}
	t.quar, t.quarHead = s.Quar, s.QuarHead
	t.labelIDs, t.labels, t.nextLabel, t.finished, t.finHead = labelIDs, labels, s.NextID, fin, 0
	t.timers, t.timerOrd, t.timerGen, t.session = timers, s.TimerOrd, gens, s.Session
	t.pending, t.corePending, t.divs = pending, checks, s.Divs
	if t.m != nil {
		t.m.restored(&t.counters)
		t.m.Labels.Set(float64(len(t.labels)))
	}
	return nil
}
