package twin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Runner puts the journal in front of a Twin: every received message is
// written to the journal before the twin sees it.
type Runner struct {
	Twin    *Twin
	Journal *Journal // nil: no durability
	ready   atomic.Bool
	mu      sync.Mutex // serialises Accept (journal order = ingest order)
	// Restored is the number of journal records the state covers after
	// Restore (from the snapshot or re-applied).
	Restored uint64
	// FromSnapshot is the number of records the restored snapshot covered
	// (0: none was used); Restore re-applied Restored - FromSnapshot.
	FromSnapshot uint64
	// SkippedSnapshot is why Restore could not use the stored snapshot
	// (nil: it did, or there was none).
	SkippedSnapshot error
	// SnapshotEvery, if positive, snapshots the state into the journal
	// file after every SnapshotEvery accepted records, so a restart
	// re-applies at most that many. Zero disables snapshots.
	SnapshotEvery uint64
	// OnSnapshot, if set, is told about each snapshot taken (records
	// covered, size, time taken) or failed.
	OnSnapshot func(pos uint64, bytes int, took time.Duration, err error)
	lastSnap   uint64
}

// NewRunner returns a runner; call Restore before anything else.
func NewRunner(t *Twin, j *Journal) *Runner { return &Runner{Twin: t, Journal: j} }

// Restore rebuilds the twin's state from the journal: from its latest
// snapshot, if any, and then by re-applying the records after it
// (deterministic: the same records in the same order give the same state,
// so nothing is applied twice and nothing accepted is lost). A snapshot
// that cannot be used (another configuration, another version, corrupt)
// is skipped and the whole journal re-applied; the reason is returned in
// SkippedSnapshot.
func (r *Runner) Restore() error {
	if r.Journal == nil {
		return nil
	}
	from := uint64(0)
	pos, state, ok, err := r.Journal.LoadSnapshot()
	switch {
	case err != nil:
		r.SkippedSnapshot = err
	case ok:
		if err := r.Twin.UnmarshalBinary(state); err != nil {
			r.SkippedSnapshot = err
		} else {
			from = pos
		}
	}
	r.FromSnapshot, r.lastSnap = from, from
	var batch []wire.CaptureRecord
	var full map[int]*payloadDigest // of the records the journal kept a prefix of, by index in batch
	err = r.Journal.replay(from, func(rec wire.CaptureRecord, dg *payloadDigest) {
		if dg != nil {
			if full == nil {
				full = map[int]*payloadDigest{}
			}
			full[len(batch)] = dg
		}
		batch = append(batch, rec)
		if len(batch) == 1024 {
			r.Twin.ingestBatch(batch, full)
			batch, full = batch[:0], nil
		}
	})
	r.Twin.ingestBatch(batch, full)
	r.Restored = r.Journal.Len()
	return err
}

// Snapshot stores the twin's current state in the journal file now.
func (r *Runner) Snapshot() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snapshot()
}

// behind reports whether the journal holds records the last snapshot does
// not cover.
func (r *Runner) behind() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Journal != nil && r.Journal.Len() > r.lastSnap
}

func (r *Runner) snapshot() error {
	if r.Journal == nil {
		return errors.New("twin: snapshot: no journal")
	}
	start := time.Now()
	if tk := r.Twin.cfg.Tokens; tk != nil {
		// a label finished before the snapshot is not re-applied after a
		// restart: its token must be on disk first
		if err := tk.Flush(); err != nil {
			return fmt.Errorf("twin: snapshot: %w", err)
		}
	}
	pos := r.Journal.Len()
	state, err := r.Twin.MarshalBinary()
	if err == nil {
		err = r.Journal.SaveSnapshot(pos, state)
	}
	if err == nil {
		r.lastSnap = pos
	}
	took := time.Since(start)
	if m := r.Twin.cfg.Metrics; m != nil {
		m.snapshot(pos, len(state), took.Seconds(), err)
	}
	if r.OnSnapshot != nil {
		r.OnSnapshot(pos, len(state), took, err)
	}
	return err
}

// Accept journals the records, then ingests them.
func (r *Runner) Accept(recs ...wire.CaptureRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Journal != nil {
		if err := r.Journal.Append(recs...); err != nil {
			return err
		}
	}
	r.Twin.IngestBatch(recs)
	if r.Journal != nil && r.SnapshotEvery > 0 && r.Journal.Len()-r.lastSnap >= r.SnapshotEvery {
		// a failed snapshot loses nothing (the journal has every record):
		// report it and go on; the next one is tried after as many again
		if err := r.snapshot(); err != nil {
			r.lastSnap = r.Journal.Len()
		}
	}
	return nil
}

// SetReady marks the runner ready (for /readyz).
func (r *Runner) SetReady(v bool) { r.ready.Store(v) }

// Ready reports whether the runner is ready.
func (r *Runner) Ready() bool { return r.ready.Load() }

// ReplayStats summarises a replay.
type ReplayStats struct {
	Records  uint64 // capture records read
	Skipped  uint64 // already in the journal (resumed)
	BadLines uint64 // capture lines that could not be parsed
	Elapsed  time.Duration
}

// Replay feeds a capture through the runner in batches of batch records.
// Records already in the journal (a restart after a crash) are skipped:
// the journal holds exactly the first Journal.Len() records of the capture.
func (r *Runner) Replay(ctx context.Context, in io.Reader, batch int) (ReplayStats, error) {
	start := time.Now()
	if batch <= 0 {
		batch = 512
	}
	var st ReplayStats
	skip := r.Restored
	cr := wire.NewCaptureReader(in)
	buf := make([]wire.CaptureRecord, 0, batch)
	flush := func() error {
		err := r.Accept(buf...)
		buf = buf[:0]
		return err
	}
	for {
		rec, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var ce *wire.CaptureError
			if errors.As(err, &ce) {
				st.BadLines++
				continue
			}
			return st, fmt.Errorf("twin: read capture: %w", err)
		}
		st.Records++
		if st.Records <= skip {
			st.Skipped++
			continue
		}
		buf = append(buf, rec)
		if len(buf) == batch {
			if err := flush(); err != nil {
				return st, err
			}
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	if st.Records < skip {
		return st, fmt.Errorf("twin: the journal holds %d records but the capture only %d: not the capture this --data was made from", skip, st.Records)
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// LiveConfig configures Live and LiveEmbedded.
type LiveConfig struct {
	Topics wire.Topics
	// ShareGroup, if set, subscribes with "$share/{group}/..." filters.
	ShareGroup string
	// Nodes, if set, restricts the per-node topics (orders, locker events,
	// node status) to these node ids; scanners and label states are
	// subscribed whole and filtered by the twin (see docs/twin.md).
	Nodes []string
	// Tick is the wall-clock timer resolution (default 1s). Unless the
	// twin runs on the event clock (Config.EventClock), Live starts the
	// core's clock at startup and advances it with the wall clock between
	// messages, so timers fire on time and a message is applied a window
	// after its instant even when the feed is quiet.
	Tick time.Duration
	// Now and Ticks replace the wall clock (tests): Now stamps each
	// message's receive instant and starts the clock (default time.Now);
	// each time received from Ticks advances the clock to it (default: a
	// ticker every Tick).
	Now   func() time.Time
	Ticks <-chan time.Time
	// DialTimeout bounds Live's first connection to the broker (default
	// 30s).
	DialTimeout time.Duration
	// Observe, if set, is called after every message with the wall time
	// from the handler's entry (receipt) to the return of Accept (journaled
	// and ingested; with no reorder window, applied). Benchmarks use it.
	Observe func(time.Duration)
	// OnError is called when a message cannot be journaled. Live then
	// stops with that error, without acknowledging the message: the broker
	// keeps it, and every later one, for the next session with the same
	// client id (LiveEmbedded: the producer is refused and sends it
	// again). Nil ignores.
	OnError func(error)
	// OnBroker, if set, is called with LiveEmbedded's broker once it
	// accepts connections.
	OnBroker func(*transport.Broker)
}

// Filters returns the subscription filters for cfg: everything under the
// prefix (so that a message on a topic the feed does not have is
// quarantined, not unseen), or a partition's topics.
func (cfg LiveConfig) Filters() []string {
	t := cfg.Topics
	var fs []string
	if len(cfg.Nodes) == 0 {
		fs = append(fs, t.All())
	} else {
		fs = append(fs, t.Filter(wire.KindScan), t.Filter(wire.KindLabelState), t.Orders("hub"))
		for _, n := range cfg.Nodes {
			fs = append(fs, t.Orders(n), t.LockerEvent(n), t.NodeStatus(n))
		}
	}
	if cfg.ShareGroup != "" {
		for i, f := range fs {
			fs[i] = wire.Shared(cfg.ShareGroup, f)
		}
	}
	return fs
}

// errStopped refuses a message that arrives after Live stopped (or failed):
// it is not acknowledged.
var errStopped = errors.New("twin: live: stopped; message not acknowledged")

// Live connects to a broker with cc and runs until ctx is done. The feed's
// filters (cfg.Filters(), QoS 1) are cc's Subscriptions (added to any it
// has), so that a resumed session's queued messages reach the twin; each
// message is journaled (Accept) before its handler returns, and the client
// acknowledges it (PUBACK) only after that: an acknowledged message is on
// disk. A message that cannot be journaled is not acknowledged and makes
// Live return the error (the broker keeps it for the next session with
// cc.ClientID). Give cc a stable ClientID (ClientIDForPath of the journal's
// directory) and a session expiry, so that what the broker queues while
// the twin is down reaches it after a restart. Live closes the client
// before it returns; a stop while dialing is a clean stop.
func (r *Runner) Live(ctx context.Context, cc transport.ClientConfig, cfg LiveConfig) error {
	return r.live(ctx, cfg, func(ctx context.Context, handle func(transport.Message) error) (func(), error) {
		filters := cfg.Filters()
		cc.Subscriptions = slices.Clip(cc.Subscriptions)
		for _, f := range filters {
			// one client may not hold overlapping filters; ours never overlap
			cc.Subscriptions = append(cc.Subscriptions, transport.Subscription{Filter: f, QoS: wire.QoS, Handler: handle})
		}
		timeout := cfg.DialTimeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		c, err := transport.Dial(dctx, cc)
		if err != nil {
			return nil, err
		}
		logger(r.Twin.cfg.Logger).Info("live", "client_id", c.ClientID(), "resumed", c.Resumed(), "filters", filters)
		return func() {
			if err := c.Close(); err != nil {
				logger(r.Twin.cfg.Logger).Warn("mqtt close", "err", err)
			}
		}, nil
	})
}

// LiveEmbedded runs an embedded broker (bc) in the twin's process and
// takes what producers publish to it through bc.OnPublish, which the
// broker calls before it acknowledges a message (and with the last wills
// it publishes): each message on a topic cfg.Filters() match is journaled
// before its producer gets the PUBACK, so nothing acknowledged is lost when
// the process, and the broker with it, is killed. The broker keeps nothing
// across a restart: producers must keep each message until its PUBACK and
// send it again after reconnecting (transport.Client.Publish does). A
// message that cannot be journaled is refused (PUBACK 0x80: the producer
// sends it again) and makes LiveEmbedded return the error. Shared-group
// prefixes do not apply (the twin is the broker's only consumer). The
// broker stops before LiveEmbedded returns.
func (r *Runner) LiveEmbedded(ctx context.Context, bc transport.BrokerConfig, cfg LiveConfig) error {
	return r.live(ctx, cfg, func(ctx context.Context, handle func(transport.Message) error) (func(), error) {
		filters := cfg.Filters()
		for i, f := range filters {
			if rest, ok := strings.CutPrefix(f, "$share/"); ok {
				_, filters[i], _ = strings.Cut(rest, "/")
			}
		}
		bc.OnPublish = func(m transport.Message) error {
			for _, f := range filters {
				if transport.MatchTopic(f, m.Topic) {
					m.Retain = false // a publish, not a delivery from the retained store
					return handle(m)
				}
			}
			return nil // not the feed's: as a subscription, leave it alone
		}
		b, err := transport.StartBroker(ctx, bc)
		if err != nil {
			return nil, err
		}
		logger(r.Twin.cfg.Logger).Info("live", "embedded_broker", b.URL(), "filters", filters)
		if cfg.OnBroker != nil {
			cfg.OnBroker(b)
		}
		return func() { _ = b.Close() }, nil
	})
}

// live runs the twin live: start connects handle (journal, then ingest;
// an error means "not acknowledged") to the feed and returns how to
// disconnect it; live then advances the wall clock until ctx is done or a
// message cannot be journaled, disconnects, and returns. Once it returns,
// handle refuses every message, so nothing reaches the twin after it.
func (r *Runner) live(ctx context.Context, cfg LiveConfig, start func(context.Context, func(transport.Message) error) (func(), error)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	var gate sync.Mutex // held by each message, and by live to stop them
	stopped := false
	handle := func(m transport.Message) error {
		gate.Lock()
		defer gate.Unlock()
		if stopped {
			return errStopped
		}
		recv := now()
		rec := wire.CaptureRecord{Topic: m.Topic, Payload: m.Payload, Retain: m.Retain, RecvAt: model.InstantOf(recv)}
		err := r.Accept(rec)
		if cfg.Observe != nil {
			cfg.Observe(time.Since(recv))
		}
		if err != nil {
			// not acknowledged, nor anything after it: the journal failed
			// (a full disk, an I/O error, whose pages we cannot trust), so
			// stop and let a restart recover from what is on disk
			stopped = true
			if cfg.OnError != nil {
				cfg.OnError(err)
			}
			cancel(err)
			return err
		}
		return nil
	}
	wall := !r.Twin.cfg.EventClock
	if wall {
		r.Twin.Advance(model.InstantOf(now())) // the clock runs from startup
	}
	stop, err := start(ctx, handle)
	if err != nil {
		if ctx.Err() != nil { // stopped while connecting, or a message failed
			if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
				return cause
			}
			return nil
		}
		return fmt.Errorf("twin: live: %w", err)
	}
	defer func() {
		r.SetReady(false)
		stop()
		gate.Lock()
		stopped = true
		gate.Unlock()
	}()
	r.SetReady(true)
	ticks := cfg.Ticks
	if wall && ticks == nil {
		tick := cfg.Tick
		if tick <= 0 {
			tick = time.Second
		}
		tk := time.NewTicker(tick)
		defer tk.Stop()
		ticks = tk.C
	}
	for {
		select {
		case <-ctx.Done():
			if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		case tm := <-ticks:
			if wall {
				r.Twin.Advance(model.InstantOf(tm))
			}
		}
	}
}
