package twin

import (
	"container/heap"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// IngestConfig configures an Ingest.
type IngestConfig struct {
	// Topics is the feed prefix (zero value: wire.DefaultPrefix).
	Topics wire.Topics
	// Window is the reorder window: a message is released once the
	// receive clock and every current source (see SourceIdle) are at least
	// Window past its instant (or by Release or Advance). Zero means
	// DefaultWindow; negative means no reordering (every message is
	// released as it comes).
	Window model.Duration
	// EventClock makes the feed's own instants the only clock (hwsim's
	// accelerated time, tests): receive instants are ignored, the receive
	// clock is the newest accepted instant, and only MaxPast is checked,
	// against it. Off, the receive instant of each record (the wall clock
	// live, recv_at in a replay) is the receive clock. See docs/twin.md.
	EventClock bool
	// MaxPast and MaxFuture are the plausibility window: a message whose
	// instant (at, or an order's placed_at) lies more than MaxPast before
	// or MaxFuture after its receive instant is quarantined
	// (instant_out_of_range). Zero means DefaultMaxPast/DefaultMaxFuture;
	// negative means no bound.
	MaxPast, MaxFuture model.Duration
	// SourceIdle is how long a source holds the others back: a source is
	// current while its newest instant is within SourceIdle of the receive
	// clock, and no message is released past a current source's newest
	// instant. Zero means DefaultSourceIdle; negative: no source holds
	// the others (only the receive clock does).
	SourceIdle model.Duration
	// IDRetention is how long (in event time) accepted msg_ids are kept for
	// de-duplication; older duplicates are still caught by (source, seq).
	// Zero means DefaultIDRetention.
	IDRetention model.Duration
	// QuarantineMax bounds the quarantine store (oldest dropped first;
	// counters keep counting). Zero means DefaultQuarantineMax.
	QuarantineMax int
	// QuarantineBytes bounds the payload bytes the quarantine holds (each
	// entry keeps at most QuarantinePrefix of its payload); past it the
	// oldest entries' payloads are released, their length and SHA-256
	// kept. Zero means DefaultQuarantineBytes.
	QuarantineBytes int
	// Network, if set, is what messages are checked against: one naming a
	// node or SKU it does not have is quarantined (unknown_node,
	// unknown_sku). Nil checks nothing.
	Network *model.Network
	// Logger receives structured logs (nil discards).
	Logger *slog.Logger
	// Metrics, if set, is updated as messages arrive.
	Metrics *Metrics
}

func (c IngestConfig) withDefaults() IngestConfig {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Window < 0 {
		c.Window = 0
	}
	if c.MaxPast == 0 {
		c.MaxPast = DefaultMaxPast
	}
	if c.MaxFuture == 0 {
		c.MaxFuture = DefaultMaxFuture
	}
	if c.SourceIdle == 0 {
		c.SourceIdle = DefaultSourceIdle
	}
	if c.IDRetention <= 0 {
		c.IDRetention = DefaultIDRetention
	}
	if c.QuarantineMax <= 0 {
		c.QuarantineMax = DefaultQuarantineMax
	}
	if c.QuarantineBytes <= 0 {
		c.QuarantineBytes = DefaultQuarantineBytes
	}
	return c
}

// Message is an accepted feed message as Ingest hands it on: valid,
// de-duplicated, and released in order (or, when Late, at once). Its
// instants are real (UTC); the driver maps them onto the local clock.
type Message struct {
	Env wire.Envelope
	// At is the event instant the message is applied at: the envelope's,
	// except for a last will, whose at is its connect instant: then the
	// instant it was received (with EventClock, or when unknown, the
	// newest instant accepted so far).
	At    model.Instant
	Recv  model.Instant // receive instant (0 if unknown or EventClock)
	Topic string
	// Late is set on a message older than one already released: it is
	// handed on at once, out of order, and must not move the clock back.
	Late bool
	// Wall is the wall time the message was received (zero for messages
	// restored from a snapshot); the driver observes receipt-to-applied
	// latency from it.
	Wall time.Time
	rank uint8 // lifecycle rank, see rankOf
}

// less is the release order: (event instant, lifecycle rank, source, seq).
func (m *Message) less(o *Message) bool {
	if m.At != o.At {
		return m.At < o.At
	}
	if m.rank != o.rank {
		return m.rank < o.rank
	}
	if m.Env.Source != o.Env.Source {
		return m.Env.Source < o.Env.Source
	}
	return m.Env.Seq < o.Env.Seq
}

// rankOf orders messages of the same instant from different sources along a
// parcel's life: node status, then orders, pick, pack, hand-off, delivery,
// locker events, pickups, and production's reports last. Two devices can
// stamp the same millisecond (a reroute between two nodes in one H3 cell
// hands off and delivers at once); without this rank the tie would fall to
// the source ids, which could apply a delivery before its hand-off.
func rankOf(env wire.Envelope) uint8 {
	switch b := env.Body.(type) {
	case wire.Status:
		return 0
	case wire.Order:
		return 1
	case wire.Scan:
		switch b.Stage {
		case wire.StagePick:
			return 2
		case wire.StagePack:
			return 3
		case wire.StageHandoff:
			return 4
		}
		return 5
	case wire.Slot, wire.Door, wire.Occupancy:
		return 6
	case wire.Pickup:
		return 7
	case wire.Box:
		// a box comes home (or is found damaged there) after its
		// collection at another node at the same instant: two nodes in one
		// H3 cell are no ride apart (packaging.go)
		if b.Event == wire.BoxHome || b.Event == wire.BoxDamaged {
			return 9
		}
	case wire.LabelState:
		return 10
	}
	return 8
}

type msgHeap []*Message

func (h msgHeap) Len() int           { return len(h) }
func (h msgHeap) Less(i, j int) bool { return h[i].less(h[j]) }
func (h msgHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *msgHeap) Push(x any)        { *h = append(*h, x.(*Message)) }
func (h *msgHeap) Pop() any {
	o := *h
	x := o[len(o)-1]
	o[len(o)-1] = nil
	*h = o[:len(o)-1]
	return x
}

// Gap is a run of sequence numbers of one source that never arrived.
type Gap struct {
	Source string `json:"source"`
	From   uint64 `json:"from"`
	To     uint64 `json:"to"`
	// Will is true when the gap is the one sequence number a node reserved
	// for its last will that was never needed (not a lost message).
	Will bool `json:"will,omitempty"`
}

// IngestCounters are what Ingest counts.
type IngestCounters struct {
	Received    uint64            // every message offered
	Accepted    uint64            // valid and new
	Duplicates  uint64            // msg_id seen before with the same payload, or (its msg_id pruned) (source, seq) seen before
	Conflicts   uint64            // msg_id seen with another payload, or (source, seq) with another msg_id (quarantined)
	Late        uint64            // accepted after a later message was released
	Missing     uint64            // sequence numbers never seen (gaps)
	Quarantined map[string]uint64 // quarantined, by reason (conflicts included)
	ByType      map[string]uint64 // accepted, by message type
}

type srcState struct {
	hw       uint64              // every seq <= hw was seen
	above    map[uint64]struct{} // seen seqs > hw+1
	max      uint64
	reserved map[uint64]struct{} // will seqs reserved at connect
	hi       model.Instant       // newest instant accepted from the source
	pos      int                 // index in Ingest.cur (-1: not current)
}

func newSrcState() *srcState { return &srcState{pos: -1} }

// srcHeap holds the current sources, oldest newest-instant first.
type srcHeap []*srcState

func (h srcHeap) Len() int           { return len(h) }
func (h srcHeap) Less(i, j int) bool { return h[i].hi < h[j].hi }
func (h srcHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *srcHeap) Push(x any) {
	s := x.(*srcState)
	s.pos = len(*h)
	*h = append(*h, s)
}
func (h *srcHeap) Pop() any {
	o := *h
	s := o[len(o)-1]
	o[len(o)-1] = nil
	s.pos = -1
	*h = o[:len(o)-1]
	return s
}

func (s *srcState) seen(q uint64) bool {
	if q <= s.hw {
		return true
	}
	_, ok := s.above[q]
	return ok
}

func (s *srcState) add(q uint64) {
	if q > s.max {
		s.max = q
	}
	if q == s.hw+1 {
		s.hw = q
		for {
			if _, ok := s.above[s.hw+1]; !ok {
				break
			}
			delete(s.above, s.hw+1)
			s.hw++
		}
		return
	}
	if s.above == nil {
		s.above = map[uint64]struct{}{}
	}
	s.above[q] = struct{}{}
}

func (s *srcState) missing() uint64 { return s.max - s.hw - uint64(len(s.above)) }

// ReasonInstantOutOfRange is the quarantine reason of a message whose
// instant lies outside the plausibility window around its receive instant.
const ReasonInstantOutOfRange = "instant_out_of_range"

// rankFloor is the rank of the key Advance leaves behind: every message at
// or before its instant is late.
const rankFloor = 255

// Ingest is the twin's first stage: it decodes received messages
// (quarantining rejects and implausible instants), drops duplicates, tracks
// every source's sequence gaps, and holds accepted messages in a reorder
// buffer that releases them in (event instant, lifecycle rank, source, seq)
// order once the receive clock and every current source are Window past
// them. It works in real time (UTC instants) and does not touch the core.
// It is not safe for concurrent use (Twin serialises it).
type Ingest struct {
	cfg IngestConfig
	log *slog.Logger
	m   *Metrics
	net *netIDs // nil: no check

	src      map[string]*srcState
	cur      srcHeap            // current sources (SourceIdle)
	ids      map[string]idEntry // accepted msg_ids, pruned after IDRetention
	idsPrune model.Instant      // next instant at which to prune ids
	buf      msgHeap
	maxAt    model.Instant
	now      model.Instant // the receive clock: newest receive instant (EventClock: newest accepted instant)
	lastKey  *Message      // key of the last message released in order
	quar     quarStore
	counters IngestCounters
}

// NewIngest returns an empty ingest stage.
func NewIngest(cfg IngestConfig) *Ingest {
	cfg = cfg.withDefaults()
	return &Ingest{cfg: cfg, log: logger(cfg.Logger), m: cfg.Metrics, net: netIDsOf(cfg.Network), src: map[string]*srcState{}, ids: map[string]idEntry{},
		quar:     quarStore{ring: ring[Quarantined]{max: cfg.QuarantineMax}, budget: cfg.QuarantineBytes},
		counters: IngestCounters{Quarantined: map[string]uint64{}, ByType: map[string]uint64{}}}
}

// Window is the reorder window in effect (0: none).
func (in *Ingest) Window() model.Duration { return in.cfg.Window }

// Offer takes one received message, received at wall time wall. A message
// that fails validation or whose instant is implausible is quarantined, a
// duplicate counted and dropped; an accepted one is buffered. Offer appends
// to out the messages that are now due, in order (an accepted message older
// than one already released is appended alone, at once, flagged Late), and
// returns out.
//
// hourly reports that the newest event instant passed another hour: Offer
// has then pruned the msg_ids older than IDRetention, and the driver does
// its own hourly housekeeping (Driver.ForgetFinished) on the same beat,
// before it applies out.
func (in *Ingest) Offer(rec wire.CaptureRecord, wall time.Time, out []*Message) (released []*Message, hourly bool) {
	return in.offer(rec, nil, wall, out)
}

// offer is Offer; full, if set, is the length and SHA-256 of a payload
// larger than wire.MaxPayload of which rec holds only the prefix the
// journal keeps.
func (in *Ingest) offer(rec wire.CaptureRecord, full *payloadDigest, wall time.Time, out []*Message) (released []*Message, hourly bool) {
	in.counters.Received++
	recv := rec.RecvAt
	if in.cfg.EventClock {
		recv = 0 // not on the feed's timeline
	}
	in.now = max(in.now, recv)
	if full != nil || len(rec.Payload) > wire.MaxPayload {
		in.tooLarge(rec, full)
		return out, false
	}
	env, err := in.cfg.Topics.Decode(rec.Topic, rec.Payload)
	if err != nil {
		in.invalid(rec, err)
		return out, false
	}
	at := env.At
	if st, ok := env.Body.(wire.Status); ok && st.Reason == wire.ReasonLWT {
		// the will's at is its connect instant: it happens when received
		if at = recv; at == 0 {
			at = max(env.At, in.maxAt)
		}
	}
	if detail := in.implausible(env, at, recv); detail != "" {
		in.holdEnv(rec, env, ReasonInstantOutOfRange, detail)
		return out, false
	}
	s := in.src[env.Source]
	if s == nil {
		s = newSrcState()
		in.src[env.Source] = s
	}
	sum := payloadSum(rec.Payload)
	if id, seen := in.ids[env.MsgID]; seen {
		if id.sum != sum {
			in.conflict(rec, env, s, ReasonMsgIDConflict, fmt.Sprintf("msg_id %q was accepted with another payload", env.MsgID))
		} else {
			in.duplicate()
		}
		return out, false
	}
	if s.seen(env.Seq) {
		// a (source, seq) seen with another msg_id, unless the message is
		// so old its msg_id may have been pruned (then it is a duplicate)
		if env.At >= in.idsPrune-model.Instant(model.Hour)-model.Instant(in.cfg.IDRetention) {
			in.conflict(rec, env, s, ReasonSeqConflict, fmt.Sprintf("seq %d of %s was accepted with another msg_id", env.Seq, env.Source))
		} else {
			in.duplicate()
		}
		return out, false
	}
	in.ids[env.MsgID] = idEntry{at: env.At, sum: sum}
	in.see(s, env.Seq)
	if in.net != nil {
		if reason, detail := in.net.check(env); reason != "" {
			in.holdEnv(rec, env, reason, detail)
			return out, false
		}
	}
	in.counters.Accepted++
	in.counters.ByType[string(env.Type)]++
	if in.m != nil {
		in.m.in(string(env.Type))
		in.m.Missing.Set(float64(in.counters.Missing))
	}
	m := &Message{Env: env, At: at, rank: rankOf(env), Recv: recv, Topic: rec.Topic, Wall: wall}
	if st, ok := env.Body.(wire.Status); ok {
		if st.State == wire.NodeOnline && env.Seq > 1 {
			if s.reserved == nil {
				s.reserved = map[uint64]struct{}{}
			}
			s.reserved[env.Seq-1] = struct{}{}
		}
	}
	if m.At > in.maxAt {
		in.maxAt = m.At
		if in.maxAt >= in.idsPrune {
			in.pruneIDs()
			hourly = true
		}
	}
	in.heard(s, m.At, recv)
	if in.lastKey != nil && m.less(in.lastKey) {
		m.Late = true
		in.counters.Late++
		if in.m != nil {
			in.m.Late.Inc()
		}
		in.log.Debug("late message", "msg_id", env.MsgID, "at", m.At.String())
		return append(out, m), hourly
	}
	heap.Push(&in.buf, m)
	return in.Release(in.watermark(), out), hourly
}

// implausible says why a message's instants lie outside the plausibility
// window around its receive instant ("" if they do not). Without a receive
// instant (EventClock, or a record without one) only MaxPast is checked,
// against the newest instant accepted so far.
func (in *Ingest) implausible(env wire.Envelope, at, recv model.Instant) string {
	ref := recv
	if ref == 0 {
		if ref = in.maxAt; ref == 0 {
			return ""
		}
	}
	check := func(what string, x model.Instant) string {
		switch {
		case in.cfg.MaxPast >= 0 && x < ref-model.Instant(in.cfg.MaxPast):
			return fmt.Sprintf("%s %s is %s before the receive clock %s (max past %s)", what, x, ref.Sub(x), ref, in.cfg.MaxPast)
		case recv != 0 && in.cfg.MaxFuture >= 0 && x > recv+model.Instant(in.cfg.MaxFuture):
			return fmt.Sprintf("%s %s is %s after the receive instant %s (max future %s)", what, x, x.Sub(recv), recv, in.cfg.MaxFuture)
		}
		return ""
	}
	if d := check("at", at); d != "" {
		return d
	}
	if o, ok := env.Body.(wire.Order); ok && o.PlacedAt != 0 {
		return check("placed_at", o.PlacedAt)
	}
	return ""
}

// heard notes an accepted message of source s at instant at: the source's
// newest instant, whether it is current, and (without a receive instant)
// the receive clock.
func (in *Ingest) heard(s *srcState, at, recv model.Instant) {
	if recv == 0 {
		in.now = max(in.now, at)
	}
	if at <= s.hi && s.pos >= 0 {
		return
	}
	s.hi = max(s.hi, at)
	switch {
	case in.cfg.SourceIdle < 0:
	case s.pos >= 0:
		heap.Fix(&in.cur, s.pos)
	case s.hi >= in.now-model.Instant(in.cfg.SourceIdle):
		heap.Push(&in.cur, s)
	}
}

// watermark is how far the reorder buffer may release: Window before the
// receive clock or the oldest newest-instant of a current source,
// whichever is earlier. A source that runs ahead cannot move it past the
// receive clock; one that falls quiet or behind stops holding it once it
// is SourceIdle behind the receive clock. Without a window: everything.
func (in *Ingest) watermark() model.Instant {
	if in.cfg.Window == 0 {
		return in.maxAt
	}
	w := in.now
	if in.cfg.SourceIdle >= 0 {
		idle := in.now - model.Instant(in.cfg.SourceIdle)
		for len(in.cur) > 0 && in.cur[0].hi < idle {
			heap.Pop(&in.cur)
		}
		if len(in.cur) > 0 {
			w = min(w, in.cur[0].hi)
		}
	}
	return w - model.Instant(in.cfg.Window)
}

// Release appends to out, in order, the buffered messages at or before the
// watermark w (model.Never: all of them), and returns out.
func (in *Ingest) Release(w model.Instant, out []*Message) []*Message {
	for len(in.buf) > 0 && in.buf[0].At <= w {
		m := heap.Pop(&in.buf).(*Message)
		in.lastKey = m
		out = append(out, m)
	}
	if in.m != nil {
		in.m.Held.Set(float64(len(in.buf)))
	}
	return out
}

// Advance is the wall clock's release (live, without EventClock): it
// releases the buffered messages at or before now minus the window,
// whatever the sources, so no message waits longer than the window past
// its instant; with a window, a message arriving later at or before that
// instant is late (the clock has passed it). It returns out.
func (in *Ingest) Advance(now model.Instant, out []*Message) []*Message {
	w := now - model.Instant(in.cfg.Window)
	out = in.Release(w, out)
	if in.cfg.Window > 0 && (in.lastKey == nil || in.lastKey.At < w) {
		in.lastKey = &Message{At: w, rank: rankFloor}
	}
	return out
}

// pruneIDs forgets the msg_ids of messages more than IDRetention older than
// the newest, once an hour of event time: memory stays bounded however
// long the twin runs. An older duplicate is still caught by its (source,
// seq), which every source's sequence state keeps compactly.
func (in *Ingest) pruneIDs() {
	horizon := in.maxAt - model.Instant(in.cfg.IDRetention)
	for id, e := range in.ids {
		if e.at < horizon {
			delete(in.ids, id)
		}
	}
	in.idsPrune = in.maxAt + model.Instant(model.Hour)
}

// see records that seq of source s arrived.
func (in *Ingest) see(s *srcState, seq uint64) {
	before := s.missing()
	s.add(seq)
	in.counters.Missing = in.counters.Missing - before + s.missing()
}

// conflict quarantines a message whose msg_id or (source, seq) was
// accepted with other contents; the first stays. Its seq arrived.
func (in *Ingest) conflict(rec wire.CaptureRecord, env wire.Envelope, s *srcState, reason, detail string) {
	if !s.seen(env.Seq) {
		in.see(s, env.Seq)
	}
	in.counters.Conflicts++
	if in.m != nil {
		in.m.Conflicts.Inc()
	}
	in.holdEnv(rec, env, reason, detail)
}

// invalid quarantines a message wire.Decode rejected. One on a topic it
// does not belong on may still be a readable envelope: its ids are kept.
func (in *Ingest) invalid(rec wire.CaptureRecord, err error) {
	reason := wire.ErrorReason(err)
	if reason == "" {
		reason = "invalid"
	}
	q := newQuarantined(rec, nil, reason, err.Error())
	if reason == wire.ReasonBadTopic || reason == wire.ReasonTopicMismatch {
		if env, err := wire.DecodeEnvelope(rec.Payload); err == nil {
			q.MsgID, q.Source = env.MsgID, env.Source
		}
	}
	in.hold(q)
}

// holdEnv quarantines a decoded message, naming it.
func (in *Ingest) holdEnv(rec wire.CaptureRecord, env wire.Envelope, reason, detail string) {
	q := newQuarantined(rec, nil, reason, detail)
	q.MsgID, q.Source = env.MsgID, env.Source
	in.hold(q)
}

func (in *Ingest) duplicate() {
	in.counters.Duplicates++
	if in.m != nil {
		in.m.Duplicates.Inc()
	}
}

// tooLarge quarantines a payload larger than the twin accepts, before
// anything reads it (full: see offer). The detail is wire.Decode's.
func (in *Ingest) tooLarge(rec wire.CaptureRecord, full *payloadDigest) {
	if full == nil {
		d := digestOf(rec.Payload)
		full = &d
	}
	err := &wire.DecodeError{Reason: wire.ReasonTooLarge, Detail: fmt.Sprintf("payload of %d bytes exceeds %d", full.size, wire.MaxPayload)}
	in.hold(newQuarantined(rec, full, err.Reason, err.Error()))
}

// hold counts and stores a quarantine entry.
func (in *Ingest) hold(q Quarantined) {
	in.counters.Quarantined[q.Reason]++
	if in.m != nil {
		in.m.quarantined(q.Reason)
	}
	in.quar.add(q)
	in.log.Debug("quarantined", "topic", q.Topic, "reason", q.Reason, "msg_id", q.MsgID, "payload_len", q.Size)
}

// Counters returns a copy of the ingest counters.
func (in *Ingest) Counters() IngestCounters {
	c := in.counters
	c.Quarantined = copyMap(c.Quarantined)
	c.ByType = copyMap(c.ByType)
	return c
}

// Quarantine returns the quarantined messages, oldest first.
func (in *Ingest) Quarantine() []Quarantined { return in.quar.list() }

// Gaps lists the sequence numbers never seen, per source, sorted.
func (in *Ingest) Gaps() []Gap {
	srcs := make([]string, 0, len(in.src))
	for s, st := range in.src {
		if st.missing() > 0 {
			srcs = append(srcs, s)
		}
	}
	sort.Strings(srcs)
	var out []Gap
	for _, s := range srcs {
		st := in.src[s]
		seen := make([]uint64, 0, len(st.above))
		for q := range st.above {
			seen = append(seen, q)
		}
		sort.Slice(seen, func(i, j int) bool { return seen[i] < seen[j] })
		prev := st.hw
		emit := func(from, to uint64) {
			for from <= to {
				if _, ok := st.reserved[from]; ok {
					out = append(out, Gap{Source: s, From: from, To: from, Will: true})
					from++
					continue
				}
				end := from
				for end < to {
					if _, ok := st.reserved[end+1]; ok {
						break
					}
					end++
				}
				out = append(out, Gap{Source: s, From: from, To: end})
				from = end + 1
			}
		}
		for _, q := range seen {
			if q > prev+1 {
				emit(prev+1, q-1)
			}
			prev = q
		}
	}
	return out
}

func copyMap(m map[string]uint64) map[string]uint64 {
	o := make(map[string]uint64, len(m))
	for k, v := range m {
		o[k] = v
	}
	return o
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
