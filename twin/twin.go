package twin

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Defaults.
const (
	DefaultWindow         = 5 * model.Second
	DefaultTolerance      = 2 * model.Minute
	DefaultQuarantineMax  = 10000
	DefaultIDRetention    = 48 * model.Hour
	DefaultLabelRetention = 7 * model.Day
	// The plausibility window around a message's receive instant, and how
	// long a quiet source holds the others back (see docs/twin.md, "Time").
	DefaultMaxPast    = 24 * model.Hour
	DefaultMaxFuture  = 5 * model.Minute
	DefaultSourceIdle = model.Minute
)

// Config configures a Twin: the configurations of its three parts in one.
type Config struct {
	// Network is the static world the core runs on (scenarios.Scenario.Network).
	Network *model.Network
	// Location is the city's time zone (scenarios.Scenario.Location): the
	// core runs on its local wall clock, the feed carries real instants.
	// Nil means UTC.
	Location *time.Location
	// Topics is the feed prefix (zero value: wire.DefaultPrefix).
	Topics wire.Topics
	// Window is the reorder window: a message is applied once the receive
	// clock and every current source are Window past it (or at Finish).
	// Zero means DefaultWindow; negative means no reordering.
	Window model.Duration
	// EventClock makes the feed's instants the only clock (hwsim's
	// accelerated time, tests): receive instants are ignored, live ==
	// replay byte for byte. Off (the default), each record's receive
	// instant (the wall clock live, recv_at in a replay) is the receive
	// clock, against which instants are checked and buffered messages
	// released, and live the wall clock also runs the core's clock. See
	// IngestConfig.
	EventClock bool
	// MaxPast and MaxFuture bound a plausible instant around its receive
	// instant (IngestConfig); SourceIdle is how long a quiet source holds
	// the others back. Zero means the defaults; negative means no bound.
	MaxPast, MaxFuture, SourceIdle model.Duration
	// Tolerance is how far production's transition may lag or lead the
	// core's and still match. Zero means DefaultTolerance.
	Tolerance model.Duration
	// Replenish emulates nightly replenishment (EvReplenish at ReplenishAt
	// each day, EffRestock delivered as EvRestock after RestockLead), which
	// the feed does not carry. Nil: on when some node has a cache.
	Replenish   *bool
	ReplenishAt model.Duration // default model.DefaultReplenishAt (02:00)
	RestockLead model.Duration // default model.DefaultRestockLead (4h)
	// Nodes, if set, is the partition this instance owns (node ids); see
	// docs/twin.md. Nil owns every node.
	Nodes []string
	// LabelRetention is how long (in event time) a label is kept after it
	// reached a terminal state (picked up, returned, cancelled), for the API
	// and late reports; then it is forgotten. Zero means
	// DefaultLabelRetention; negative keeps every label.
	LabelRetention model.Duration
	// IDRetention is how long (in event time) accepted msg_ids are kept for
	// de-duplication; older duplicates are still caught by (source, seq).
	// Zero means DefaultIDRetention.
	IDRetention model.Duration
	// QuarantineMax bounds the quarantine store, and the anomalies kept
	// (oldest dropped first; counters keep counting). Zero means
	// DefaultQuarantineMax.
	QuarantineMax int
	// QuarantineBytes bounds the payload bytes the quarantine holds (see
	// IngestConfig). Zero means DefaultQuarantineBytes.
	QuarantineBytes int
	// Logger receives structured logs (nil discards).
	Logger *slog.Logger
	// Metrics, if set, is updated as messages flow.
	Metrics *Metrics
	// Tokens, if set, signs provenance tokens of finished labels (and
	// writes them, with a directory): tokens.go.
	Tokens *Tokens
}

// Ingest is the configuration of the twin's ingest stage.
func (c Config) Ingest() IngestConfig {
	return IngestConfig{Topics: c.Topics, Network: c.Network, Window: c.Window, EventClock: c.EventClock, MaxPast: c.MaxPast, MaxFuture: c.MaxFuture,
		SourceIdle: c.SourceIdle, IDRetention: c.IDRetention, QuarantineMax: c.QuarantineMax, QuarantineBytes: c.QuarantineBytes,
		Logger: c.Logger, Metrics: c.Metrics}
}

// Driver is the configuration of the twin's driver.
func (c Config) Driver() DriverConfig {
	return DriverConfig{Network: c.Network, Location: c.Location, Replenish: c.Replenish, ReplenishAt: c.ReplenishAt, RestockLead: c.RestockLead,
		Nodes: c.Nodes, LabelRetention: c.LabelRetention, AnomalyMax: c.QuarantineMax, Logger: c.Logger, Metrics: c.Metrics,
		Tokens: c.Tokens}
}

// Compare is the configuration of the twin's comparer.
func (c Config) Compare() CompareConfig {
	return CompareConfig{Tolerance: c.Tolerance, Logger: c.Logger, Metrics: c.Metrics}
}

// Counters are the twin's counters: its parts' together.
type Counters struct {
	Received    uint64            `json:"received"`
	Accepted    uint64            `json:"accepted"`
	Applied     uint64            `json:"applied"`
	Duplicates  uint64            `json:"duplicates"`
	Conflicts   uint64            `json:"conflicts"` // msg_id seen with another payload, or (source, seq) with another msg_id
	Late        uint64            `json:"late"`
	Quarantined map[string]uint64 `json:"quarantined"`
	ByType      map[string]uint64 `json:"by_type"`
	Rejected    map[string]uint64 `json:"rejected"`  // events the core rejected, by reason
	Ignored     map[string]uint64 `json:"ignored"`   // accepted messages that map to no core event by design, by why
	Anomalies   map[string]uint64 `json:"anomalies"` // accepted messages about what the twin does not know, by reason
	Timers      uint64            `json:"timers_fired"`
	Forgotten   uint64            `json:"labels_forgotten"` // finished labels released after the retention
	Missing     uint64            `json:"missing"`          // sequence numbers never seen (gaps)
	Divergences map[string]uint64 `json:"divergences"`
}

// Twin is the shadow-mode twin of one core: an Ingest feeding a Driver
// whose Observer is a Comparer,
//
//	received -> Ingest (ordered, de-duplicated Messages)
//	         -> Driver (core events; the core's decisions, production's reports)
//	         -> Comparer (Divergences)
//
// behind one mutex: its methods are safe for concurrent use.
type Twin struct {
	mu  sync.Mutex
	cfg Config
	in  *Ingest
	drv *Driver
	cmp *Comparer
	out []*Message // scratch: what the ingest released
}

// New returns a twin for cfg.
func New(cfg Config) (*Twin, error) {
	drv, err := NewDriver(cfg.Driver())
	if err != nil {
		return nil, err
	}
	t := &Twin{cfg: cfg, in: NewIngest(cfg.Ingest()), drv: drv}
	t.cmp = NewComparer(cfg.Compare(), drv)
	drv.SetObserver(t.cmp)
	return t, nil
}

// Ingest validates, de-duplicates and orders one received message and
// applies whatever the reorder window releases. It never fails: rejects
// are quarantined and counted.
func (t *Twin) Ingest(rec wire.CaptureRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ingest(rec, nil, time.Now())
}

// IngestBatch ingests several records under one lock.
func (t *Twin) IngestBatch(recs []wire.CaptureRecord) { t.ingestBatch(recs, nil) }

// ingestBatch is IngestBatch; full[i], if set, is the length and SHA-256 of
// the payload of recs[i], which holds only the prefix the journal kept.
func (t *Twin) ingestBatch(recs []wire.CaptureRecord, full map[int]*payloadDigest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for i, r := range recs {
		t.ingest(r, full[i], now)
	}
}

func (t *Twin) ingest(rec wire.CaptureRecord, full *payloadDigest, wall time.Time) {
	out, hourly := t.in.offer(rec, full, wall, t.out[:0])
	if hourly {
		t.drv.ForgetFinished()
	}
	t.apply(out)
}

// apply hands released messages to the driver and clears the scratch.
func (t *Twin) apply(out []*Message) {
	for i, m := range out {
		t.drv.Apply(m)
		out[i] = nil
	}
	t.out = out[:0]
}

// Advance moves the clock with the wall clock (live, without EventClock),
// now being the wall clock's real instant: it releases the buffered
// messages at or before now minus the window, whatever the sources, and
// fires the timers due by then. The first call starts the clock, so it
// runs from startup, a window behind the wall clock.
func (t *Twin) Advance(now model.Instant) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.apply(t.in.Advance(now, t.out[:0]))
	t.drv.AdvanceTo(now - model.Instant(t.in.Window()))
}

// Finish applies everything still buffered and settles every pending
// comparison. Call it at the end of a replay or on shutdown.
func (t *Twin) Finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.apply(t.in.Release(model.Never, t.out[:0]))
	t.drv.Finish()
}

// Counters returns a copy of the counters.
func (t *Twin) Counters() Counters {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counters()
}

func (t *Twin) counters() Counters {
	i, d := t.in.Counters(), t.drv.Counters()
	return Counters{Received: i.Received, Accepted: i.Accepted, Applied: d.Applied, Duplicates: i.Duplicates, Conflicts: i.Conflicts,
		Late: i.Late, Quarantined: i.Quarantined, ByType: i.ByType, Rejected: d.Rejected, Ignored: d.Ignored, Anomalies: d.Anomalies, Timers: d.Timers,
		Forgotten: d.Forgotten, Missing: i.Missing, Divergences: t.cmp.Counts()}
}

// Quarantine returns the quarantined messages, oldest first.
func (t *Twin) Quarantine() []Quarantined {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.in.Quarantine()
}

// Anomalies returns the recorded anomalies, oldest first.
func (t *Twin) Anomalies() []Anomaly {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drv.Anomalies()
}

// Gaps lists the sequence numbers never seen, per source, sorted.
func (t *Twin) Gaps() []Gap {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.in.Gaps()
}

// Label returns the core's view of a production label id.
func (t *Twin) Label(name string) (LabelView, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drv.Label(name)
}

// Labels returns every label's view (no chain), sorted by label id.
func (t *Twin) Labels() []LabelView {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drv.Labels()
}

// Nodes returns the core's view of every node.
func (t *Twin) Nodes() []NodeView {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drv.Nodes()
}

// Clock is the core's current instant as a real instant (UTC; 0 before the
// clock starts).
func (t *Twin) Clock() model.Instant {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drv.real(t.drv.Clock())
}

// Divergences returns the divergences so far matching f (real instants),
// sorted, with real instants.
func (t *Twin) Divergences(f Filter) []Divergence {
	t.mu.Lock()
	defer t.mu.Unlock()
	f.Since, f.Until = t.drv.local(f.Since), t.drv.local(f.Until)
	ds := t.cmp.Divergences(f)
	for i := range ds {
		ds[i].ProductionAt, ds[i].CoreAt = t.drv.real(ds[i].ProductionAt), t.drv.real(ds[i].CoreAt)
	}
	return ds
}

// WriteReport writes the divergences as sorted NDJSON, one per line: the
// same input gives the same bytes.
func (t *Twin) WriteReport(w io.Writer) error { return writeNDJSON(w, t.Divergences(Filter{})) }

// WriteStates writes every label's final state as sorted NDJSON.
func (t *Twin) WriteStates(w io.Writer) error { return writeNDJSON(w, t.Labels()) }

func writeNDJSON[T any](w io.Writer, vs []T) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return bw.Flush()
}
