package hwsim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Conn is the publishing side of an MQTT connection; *transport.Client
// implements it.
type Conn interface {
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
	Close() error
}

// RunConfig configures Run.
type RunConfig struct {
	Gen Config
	// Speed is simulated time per wall time (60: one simulated minute per
	// second); 0 publishes as fast as the broker acknowledges.
	Speed float64
	// Dial opens a broker connection; called at the start and after every
	// disconnect fault.
	Dial func(ctx context.Context) (Conn, error)
	// Capture, if set, receives every message published, after its
	// acknowledgement (Run flushes it).
	Capture *wire.CaptureWriter
	// Workers is the number of publishes in flight (default 16). Messages of
	// one source always go through the same worker, one at a time, so
	// per-source order is kept.
	Workers int
	// MaxSkew bounds the disorder across sources, in simulated time: a
	// publish starts only when no publish still in flight (not yet
	// acknowledged and captured) was due more than MaxSkew before it. So a
	// message acknowledged, captured or forwarded before another was due
	// at most MaxSkew after it, as a live feed arrives, whatever Speed.
	// Zero means DefaultMaxSkew; negative means no bound (workers may then
	// run hours apart in simulated time at full speed).
	MaxSkew model.Duration
	// Logger receives progress (nil: discard).
	Logger *slog.Logger
}

// DefaultMaxSkew is RunConfig.MaxSkew's default: well inside the twin's
// default reorder window (5 s), so a capture replays without late messages.
const DefaultMaxSkew = model.Second

// Stats summarises a Run.
type Stats struct {
	Published uint64        // MQTT publishes acknowledged
	Elapsed   time.Duration // wall time
	Sim       *sim.Result   // the simulation's own result
}

// Rate is the publish rate in messages per wall second.
func (s Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Published) / s.Elapsed.Seconds()
}

// Run simulates one replication, turns it into feed messages and publishes
// them over Dial's connection with QoS 1, paced by Speed. It returns the
// truth of the run.
func Run(ctx context.Context, rc RunConfig) (*Truth, Stats, error) {
	if rc.Dial == nil {
		return nil, Stats{}, errors.New("hwsim: run: no Dial")
	}
	if rc.Speed < 0 {
		return nil, Stats{}, fmt.Errorf("hwsim: run: speed %v must be > 0 (or 0 for max)", rc.Speed)
	}
	if rc.Workers <= 0 {
		rc.Workers = 16
	}
	logger := rc.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	caller := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	items := make(chan Item, 8192)
	var (
		truth  *Truth
		simRes *sim.Result
		genErr error
		genWG  sync.WaitGroup
	)
	gen, err := NewGenerator(rc.Gen, func(it Item) {
		select {
		case items <- it:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return nil, Stats{}, err
	}
	conn, err := rc.Dial(ctx)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("hwsim: connect: %w", err)
	}
	start := time.Now()
	genWG.Add(1)
	go func() {
		defer genWG.Done()
		defer close(items)
		cfg := rc.Gen.Sim
		simRes, genErr = sim.RunObserved(FeedConfig(cfg), rc.Gen.Replication, gen)
		if genErr != nil {
			genErr = fmt.Errorf("hwsim: simulate: %w", genErr)
			return
		}
		gen.Finish(cfg.Start.Add(cfg.Horizon))
		if err := gen.Err(); err != nil {
			genErr = err
			return
		}
		truth = gen.Truth()
	}()

	p := &publisher{conn: conn, capture: rc.Capture, cancel: cancel}
	fl := newInflight(rc.MaxSkew)
	var workWG sync.WaitGroup
	queues := make([]chan ticketed, rc.Workers)
	for i := range queues {
		queues[i] = make(chan ticketed, 256)
		workWG.Add(1)
		go func(q chan ticketed) {
			defer workWG.Done()
			for t := range q {
				p.publish(ctx, t.Item)
				fl.done(t.ticket)
			}
		}(queues[i])
	}
	worker := map[string]int{}
	simStart := model.NewZone(rc.Gen.Location).Real(rc.Gen.Sim.Start) // items are due at real instants
	var timer *time.Timer
loop:
	for it := range items {
		if rc.Speed > 0 {
			due := start.Add(time.Duration(float64(it.At.Sub(simStart)/model.Millisecond) / rc.Speed * float64(time.Millisecond)))
			if d := time.Until(due); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-timer.C:
				case <-ctx.Done():
					break loop
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
		switch it.Kind {
		case ItemMessage:
			w, ok := worker[it.Source]
			if !ok {
				h := fnv.New32a()
				_, _ = h.Write([]byte(it.Source))
				w = int(h.Sum32() % uint32(rc.Workers))
				worker[it.Source] = w
			}
			queues[w] <- ticketed{Item: it, ticket: fl.admit(it.At)}
		case ItemDisconnect:
			fl.drain()
			logger.Info("fault: dropping the broker connection", "at", wire.FormatInstant(it.At))
			if err := p.current().Close(); err != nil {
				logger.Warn("close after disconnect fault", "err", err)
			}
		case ItemReconnect:
			c, err := rc.Dial(ctx)
			if err != nil {
				p.fail(fmt.Errorf("hwsim: reconnect: %w", err))
				break loop
			}
			p.set(c)
			logger.Info("fault: reconnected; flushing the backlog", "at", wire.FormatInstant(it.At))
		}
	}
	for _, q := range queues {
		close(q)
	}
	workWG.Wait()
	cancel() // unblocks the generator if we stopped early
	for range items {
	}
	genWG.Wait()
	_ = p.current().Close()
	st := Stats{Published: p.n.Load(), Elapsed: time.Since(start), Sim: simRes}
	if rc.Capture != nil {
		if err := rc.Capture.Flush(); err != nil {
			p.fail(fmt.Errorf("hwsim: capture: %w", err))
		}
	}
	if err := p.error(); err != nil {
		return nil, st, err
	}
	if genErr != nil {
		return nil, st, genErr
	}
	if err := caller.Err(); err != nil {
		return nil, st, fmt.Errorf("hwsim: run stopped after %d publishes: %w", st.Published, context.Cause(caller))
	}
	return truth, st, nil
}

type publisher struct {
	mu      sync.Mutex
	conn    Conn
	err     error
	capture *wire.CaptureWriter
	cancel  context.CancelFunc
	n       atomic.Uint64
}

func (p *publisher) current() Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conn
}

func (p *publisher) set(c Conn) {
	p.mu.Lock()
	p.conn = c
	p.mu.Unlock()
}

func (p *publisher) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	p.cancel()
}

func (p *publisher) error() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *publisher) publish(ctx context.Context, it Item) {
	if ctx.Err() != nil {
		return
	}
	if err := p.current().Publish(ctx, it.Topic, it.Payload, wire.QoS, it.Retain); err != nil {
		if ctx.Err() == nil {
			p.fail(fmt.Errorf("hwsim: publish %s: %w", it.MsgID, err))
		}
		return
	}
	p.n.Add(1)
	if p.capture != nil {
		if err := p.capture.Write(wire.CaptureRecord{Topic: it.Topic, Payload: it.Payload, RecvAt: it.At}); err != nil {
			p.fail(fmt.Errorf("hwsim: capture: %w", err))
		}
	}
}

// ticketed is a message on its way to a worker, with its inflight ticket.
type ticketed struct {
	Item
	ticket uint64
}

// inflight is the event-time gate: it tracks the due instants of the
// publishes in flight (admitted, not yet acknowledged and captured) and
// admits a new one only when the oldest of them was due at most skew before
// it. Messages are admitted in due order (the generator's publishing order;
// a due instant earlier than the last admitted is taken as the last
// admitted), so the oldest in flight is the first admitted not yet done.
type inflight struct {
	mu      sync.Mutex
	changed *sync.Cond
	skew    model.Duration // < 0: no bound
	due     []model.Instant
	acked   []bool
	first   uint64 // ticket of due[0]
	last    model.Instant
}

func newInflight(skew model.Duration) *inflight {
	if skew == 0 {
		skew = DefaultMaxSkew
	}
	f := &inflight{skew: skew}
	f.changed = sync.NewCond(&f.mu)
	return f
}

// admit waits until a message due at `at` may start and returns its ticket
// for done. It cannot wait forever: every admitted message is done by its
// worker, published or not.
func (f *inflight) admit(at model.Instant) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	at = max(at, f.last)
	f.last = at
	for !f.fits(at) {
		f.changed.Wait()
	}
	f.due = append(f.due, at)
	f.acked = append(f.acked, false)
	return f.first + uint64(len(f.due)) - 1
}

// fits says whether a message due at `at` may start now (f.mu held).
func (f *inflight) fits(at model.Instant) bool {
	return f.skew < 0 || len(f.due) == 0 || f.due[0] >= at.Add(-f.skew)
}

// done marks a ticket's message acknowledged (and captured) or abandoned.
func (f *inflight) done(ticket uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acked[ticket-f.first] = true
	n := 0
	for n < len(f.acked) && f.acked[n] {
		n++
	}
	if n == 0 {
		return
	}
	f.due, f.acked = f.due[n:], f.acked[n:]
	f.first += uint64(n)
	f.changed.Broadcast()
}

// drain waits until nothing is in flight.
func (f *inflight) drain() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.due) > 0 {
		f.changed.Wait()
	}
}
