package twin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

// The event stream (/v1/events) is what the ops page reads: Server-Sent
// Events, with
//
//	event: snapshot     on connect and every Snapshot: clock, readiness,
//	                    counters, nodes, divergences so far, and how many
//	                    divergence events this stream skipped
//	event: divergence   one per divergence, in the order the twin found
//	                    them (id: its sequence number, 1, 2, ...); on
//	                    connect the last Backlog, or those after the
//	                    Last-Event-ID a reconnecting EventSource sends
//	: ping              a comment every Heartbeat
//
// One goroutine (running while some stream is open) looks for new
// divergences every Poll and takes a snapshot every Snapshot, each under
// the twin's lock for as long as counting or copying takes, and wakes the
// streams without waiting for them. A stream keeps only its position in
// the twin's list of divergences and the latest snapshot not yet written:
// a client that reads slowly gets, when it reads again, the latest snapshot
// and at most MaxLag divergences; the older ones it skipped are counted (in
// its snapshots and in lockstep_twin_events_dropped_total). Nothing a
// client does holds up ingest, and a stream's memory does not grow with
// its lag.

// StreamConfig configures the event stream. Zero fields take the defaults.
type StreamConfig struct {
	// Poll is how often the stream looks for new divergences (250ms).
	Poll time.Duration
	// Snapshot is the interval between snapshots (1s).
	Snapshot time.Duration
	// Heartbeat is the interval between comments that keep an idle
	// connection open through proxies (15s).
	Heartbeat time.Duration
	// MaxLag is how many divergences a stream sends at once at most: a
	// client further behind skips the older ones (256).
	MaxLag int
	// Backlog is how many of the latest divergences a new stream starts
	// with (50).
	Backlog int
	// WriteTimeout ends a stream whose client accepts nothing for that long
	// (10s).
	WriteTimeout time.Duration
}

func (c StreamConfig) withDefaults() StreamConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Poll, 250*time.Millisecond)
	def(&c.Snapshot, time.Second)
	def(&c.Heartbeat, 15*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	if c.MaxLag <= 0 {
		c.MaxLag = 256
	}
	if c.Backlog <= 0 {
		c.Backlog = 50
	}
	return c
}

// StreamSnapshot is the data of a snapshot event.
type StreamSnapshot struct {
	Clock       string     `json:"clock"` // the core's instant ("" before the first message)
	Ready       bool       `json:"ready"`
	Counters    Counters   `json:"counters"`
	Nodes       []NodeView `json:"nodes"`
	Divergences int        `json:"divergences"` // found so far
	// Dropped is how many divergence events this stream skipped (its
	// client read too slowly, or reconnected too late); /v1/divergences has
	// them all.
	Dropped uint64 `json:"dropped"`
}

// StreamDivergence is the data of a divergence event.
type StreamDivergence struct {
	Seq        int        `json:"seq"`
	Divergence Divergence `json:"divergence"`
}

type stream struct {
	cfg     StreamConfig
	r       *Runner
	done    <-chan struct{}
	log     *slog.Logger
	dropped prometheus.Counter
	clients prometheus.Gauge

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	found   int // divergences found when the streams were last woken
	running bool
}

// subscriber is one open stream.
type subscriber struct {
	wake chan struct{} // one pending wake-up

	mu   sync.Mutex
	snap *StreamSnapshot // the latest snapshot, not yet written

	// the stream's own goroutine's
	next    int // divergences written (or skipped) so far
	dropped uint64
}

func newStream(r *Runner, cfg StreamConfig, m *Metrics, done <-chan struct{}, log *slog.Logger) *stream {
	s := &stream{cfg: cfg.withDefaults(), r: r, done: done, log: log, subs: map[*subscriber]struct{}{},
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "lockstep_twin_events_dropped_total",
			Help: "Divergence events an ops-page stream skipped because its client read too slowly."}),
		clients: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockstep_twin_events_clients", Help: "Open ops-page event streams (/v1/events)."})}
	if m != nil {
		s.dropped = register(m.Registry, s.dropped)
		s.clients = register(m.Registry, s.clients)
	}
	return s
}

// register registers c, or returns the collector already registered under
// its name (one registry serves one twin).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
	}
	return c
}

// divergencesFrom returns the divergences found after the first i, in the
// order found, but at most the latest most, and how many were found before
// the first returned.
func (t *Twin) divergencesFrom(i, most int) ([]Divergence, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := t.cmp.divs
	i = min(i, len(all))
	i = max(i, len(all)-most, 0)
	return slices.Clone(all[i:]), i
}

// divergenceCount is how many divergences the twin found so far.
func (t *Twin) divergenceCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.cmp.divs)
}

func (s *stream) snapshot() *StreamSnapshot {
	t := s.r.Twin
	t.mu.Lock()
	defer t.mu.Unlock()
	snap := &StreamSnapshot{Ready: s.r.Ready(), Counters: t.counters(), Nodes: t.drv.Nodes(), Divergences: len(t.cmp.divs)}
	if t.drv.Started() {
		snap.Clock = wire.FormatInstant(t.drv.Clock())
	}
	return snap
}

// subscribe opens a stream resuming after the divergence numbered last
// (0: a new stream, which starts with the latest Backlog).
func (s *stream) subscribe(last int) *subscriber {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		s.found = s.r.Twin.divergenceCount()
		s.running = true
		go s.run()
	}
	sub := &subscriber{wake: make(chan struct{}, 1), snap: s.snapshot()}
	sub.next = max(s.found-s.cfg.Backlog, 0)
	if last > 0 && last <= s.found {
		sub.next = last
	}
	s.subs[sub] = struct{}{}
	s.clients.Inc()
	return sub
}

func (s *stream) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
	s.clients.Dec()
}

// run polls the twin while some stream is open (and the server runs).
func (s *stream) run() {
	poll, snap := time.NewTicker(s.cfg.Poll), time.NewTicker(s.cfg.Snapshot)
	defer poll.Stop()
	defer snap.Stop()
	for {
		stop := false
		select {
		case <-poll.C:
			s.poll()
		case <-snap.C:
			s.broadcast()
		case <-s.done:
			stop = true
		}
		s.mu.Lock()
		if stop || len(s.subs) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// poll wakes every stream when the twin found new divergences.
func (s *stream) poll() {
	n := s.r.Twin.divergenceCount()
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == s.found {
		return
	}
	s.found = n
	for sub := range s.subs {
		sub.notify()
	}
}

// broadcast hands a new snapshot to every stream (replacing one not yet
// written).
func (s *stream) broadcast() {
	snap := s.snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		sub.mu.Lock()
		sub.snap = snap
		sub.mu.Unlock()
		sub.notify()
	}
}

func (sub *subscriber) notify() {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// pending is what the stream has to write: the divergences found since it
// last wrote (at most MaxLag; the skipped ones are counted), then the
// latest snapshot if it has not written it.
func (s *stream) pending(sub *subscriber) [][]byte {
	ds, first := s.r.Twin.divergencesFrom(sub.next, s.cfg.MaxLag)
	if skipped := first - sub.next; skipped > 0 {
		sub.dropped += uint64(skipped)
		s.dropped.Add(float64(skipped))
	}
	out := make([][]byte, 0, len(ds)+1)
	for i, d := range ds {
		seq := first + i + 1
		out = append(out, event("divergence", strconv.Itoa(seq), StreamDivergence{Seq: seq, Divergence: d}))
	}
	sub.next = first + len(ds)
	sub.mu.Lock()
	snap := sub.snap
	sub.snap = nil
	sub.mu.Unlock()
	if snap != nil {
		v := *snap
		v.Dropped = sub.dropped
		out = append(out, event("snapshot", "", v))
	}
	return out
}

// event is one Server-Sent Event: its name, id (if any) and data as JSON
// on one line.
func event(name, id string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil { // the stream's own types: cannot happen
		data = fmt.Appendf(nil, `{"error":%q}`, err.Error())
	}
	var b bytes.Buffer
	b.WriteString("event: " + name + "\n")
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

func (s *stream) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	last, _ := strconv.Atoi(req.Header.Get("Last-Event-ID"))
	sub := s.subscribe(last)
	defer s.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // no proxy buffering (nginx)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	write := func(chunks ...[]byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)) // not every ResponseWriter has one
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				return err
			}
		}
		return rc.Flush()
	}
	// the first snapshot (with the reconnection delay), then the backlog
	sub.mu.Lock()
	first := event("snapshot", "", *sub.snap)
	sub.snap = nil
	sub.mu.Unlock()
	err := write(append([][]byte{[]byte("retry: 3000\n"), first}, s.pending(sub)...)...)
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for err == nil {
		select {
		case <-req.Context().Done():
			return
		case <-s.done:
			return
		case <-heartbeat.C:
			err = write([]byte(": ping\n\n"))
		case <-sub.wake:
			err = write(s.pending(sub)...)
		}
	}
	s.log.Debug("events: stream ended", "remote", req.RemoteAddr, "err", err)
}
