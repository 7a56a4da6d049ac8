package hwsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// runToCapture publishes rc to a fresh embedded broker with a subscriber
// on every feed topic, and returns the raw capture and the payloads the
// subscriber received, in order.
func runToCapture(t *testing.T, rc RunConfig) ([]byte, [][]byte) {
	t.Helper()
	ctx := context.Background()
	br, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer br.Close()
	sub, err := transport.Dial(ctx, transport.ClientConfig{URL: br.URL()})
	require.NoError(t, err)
	defer sub.Close()
	var mu sync.Mutex
	var got [][]byte
	require.NoError(t, sub.Subscribe(ctx, wire.Topics{Prefix: rc.Gen.Prefix}.All(), wire.QoS, func(m transport.Message) {
		mu.Lock()
		got = append(got, m.Payload)
		mu.Unlock()
	}))
	var buf bytes.Buffer
	rc.Capture = wire.NewCaptureWriter(&buf)
	rc.Dial = func(ctx context.Context) (Conn, error) {
		return transport.Dial(ctx, transport.ClientConfig{URL: br.URL()})
	}
	_, st, err := Run(ctx, rc)
	require.NoError(t, err)
	t.Logf("published %d messages in %s (%.0f msg/s)", st.Published, st.Elapsed, st.Rate())
	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	require.Eventually(t, func() bool { return received() >= int(st.Published) }, time.Minute, 10*time.Millisecond,
		"subscriber got %d of %d", received(), st.Published)
	mu.Lock()
	defer mu.Unlock()
	return buf.Bytes(), got
}

func readCapture(t *testing.T, capture []byte) []wire.CaptureRecord {
	t.Helper()
	var recs []wire.CaptureRecord
	cr := wire.NewCaptureReader(bytes.NewReader(capture))
	for {
		r, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		require.NoError(t, err)
		recs = append(recs, r)
	}
}

// maxInversion is the largest amount by which a record's recv_at (its
// simulated publish instant) precedes the recv_at of a record captured
// before it: how far back in event time the capture ever jumps.
func maxInversion(recs []wire.CaptureRecord) model.Duration {
	var worst model.Duration
	var latest model.Instant
	for i, r := range recs {
		if i == 0 || r.RecvAt > latest {
			latest = r.RecvAt
		}
		worst = max(worst, latest.Sub(r.RecvAt))
	}
	return worst
}

// TestRunMaxSkew: at --speed max the capture (acknowledgement order) never
// goes back in simulated publish time by more than MaxSkew, nor does what
// a subscriber receives, with 16 or 64 workers and with faults; and each
// source's messages are captured exactly in the generator's order, so
// reordering, duplicates, delays and disconnect backlogs keep their
// effects within a source.
func TestRunMaxSkew(t *testing.T) {
	hostile, err := LoadFaults("../scenarios/faults/hostile.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		faults  Faults
		skew    model.Duration
		bound   model.Duration
		workers int
	}{
		{name: "default", bound: DefaultMaxSkew},
		{name: "hostile faults", faults: hostile, bound: DefaultMaxSkew},
		{name: "200ms over 64 workers", skew: 200 * model.Millisecond, bound: 200 * model.Millisecond, workers: 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Sim: loadSim(t, "../scenarios/quickstart.yaml"), Faults: tc.faults}
			items, _ := generate(t, cfg)
			capture, received := runToCapture(t, RunConfig{Gen: cfg, MaxSkew: tc.skew, Workers: tc.workers})
			recs := readCapture(t, capture)

			inv := maxInversion(recs)
			t.Logf("largest step back in publish time: %s", inv)
			require.LessOrEqual(t, inv, tc.bound)
			if tc.faults.Disconnect.Rate == 0 {
				// a live subscriber sees the same bound (across a
				// reconnect MQTT promises no order: docs/hwsim.md)
				due := map[string]model.Instant{}
				for _, r := range recs {
					due[string(r.Payload)] = r.RecvAt
				}
				live := make([]wire.CaptureRecord, len(received))
				for i, p := range received {
					at, ok := due[string(p)]
					require.True(t, ok, "received a message not in the capture: %s", p)
					live[i].RecvAt = at
				}
				inv := maxInversion(live)
				t.Logf("largest step back seen by a subscriber: %s", inv)
				require.LessOrEqual(t, inv, tc.bound)
			}

			source := map[string]string{} // payload -> source
			want := map[string][]string{}
			for _, it := range items {
				if it.Kind == ItemMessage {
					source[string(it.Payload)] = it.Source
					want[it.Source] = append(want[it.Source], string(it.Payload))
				}
			}
			got := map[string][]string{}
			for _, r := range recs {
				src, ok := source[string(r.Payload)]
				require.True(t, ok, "captured a message the generator did not make: %s", r.Payload)
				got[src] = append(got[src], string(r.Payload))
			}
			require.Equal(t, want, got)
		})
	}
}

// TestCaptureReplaysWithDefaultWindow: the capture of a fault-free run at
// --speed max, in Berlin (real instants), replays through the twin with its
// default configuration (5 s reorder window, the receive clock from
// recv_at) with no late message, nothing quarantined and no divergence,
// also across either daylight-saving change; delays still arrive late.
func TestCaptureReplaysWithDefaultWindow(t *testing.T) {
	sc, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	net, err := sc.Network()
	require.NoError(t, err)
	loc, err := sc.Location() // Europe/Berlin: the capture holds real instants
	require.NoError(t, err)
	replay := func(t *testing.T, capture []byte) *twin.Twin {
		tw, err := twin.New(twin.Config{Network: net, Location: loc})
		require.NoError(t, err)
		st, err := twin.NewRunner(tw, nil).Replay(context.Background(), bytes.NewReader(capture), 0)
		require.NoError(t, err)
		require.Zero(t, st.BadLines)
		tw.Finish()
		return tw
	}
	clean := func(t *testing.T, cfg Config) {
		capture, _ := runToCapture(t, RunConfig{Gen: cfg})
		tw := replay(t, capture)
		c := tw.Counters()
		require.EqualValues(t, len(readCapture(t, capture)), c.Accepted)
		require.Zero(t, c.Late)
		require.Empty(t, c.Quarantined)
		require.Empty(t, tw.Divergences(twin.Filter{}))
	}
	t.Run("clean", func(t *testing.T) {
		clean(t, Config{Sim: loadSim(t, "../scenarios/quickstart.yaml"), Location: loc})
	})
	// two days across each of Berlin's changes of 2026
	for _, day := range []int{28, 24} {
		month := map[int]time.Month{28: time.March, 24: time.October}[day]
		t.Run("across "+month.String()+"'s change", func(t *testing.T) {
			cfg, loc := dstScenario(t, 2026, month, day)
			clean(t, Config{Sim: cfg, Location: loc})
		})
	}
	t.Run("delays", func(t *testing.T) {
		delayed := Config{Sim: loadSim(t, "../scenarios/quickstart.yaml"), Location: loc}
		delayed.Sim.Horizon = model.Day
		delayed.Faults = Faults{Delay: DelayFault{Rate: 0.05, Max: Duration(2 * model.Minute)}}
		capture, _ := runToCapture(t, RunConfig{Gen: delayed})
		tw := replay(t, capture)
		require.Positive(t, tw.Counters().Late, "a delayed message arrives after later events")
	})
}

// TestInflight: the gate admits a message while the oldest in flight was
// due at most skew before it, whatever finishes first.
func TestInflight(t *testing.T) {
	s := model.Instant(model.Second)
	f := newInflight(0)
	require.Equal(t, DefaultMaxSkew, f.skew)
	a := f.admit(0)
	b := f.admit(s) // exactly the skew: fits
	f.mu.Lock()
	require.False(t, f.fits(2*s))
	f.mu.Unlock()
	f.done(b) // not the oldest
	f.mu.Lock()
	require.False(t, f.fits(2*s))
	f.mu.Unlock()

	admitted := make(chan uint64)
	go func() { admitted <- f.admit(2 * s) }()
	f.done(a)
	select {
	case c := <-admitted:
		require.Equal(t, b+1, c)
	case <-time.After(time.Minute):
		t.Fatal("admit still waiting after the oldest message was done")
	}
	// an instant before the last admitted counts as the last admitted
	d := f.admit(0)
	f.mu.Lock()
	require.Equal(t, []model.Instant{2 * s, 2 * s}, f.due)
	require.True(t, f.fits(3*s))
	f.mu.Unlock()

	drained := make(chan struct{})
	go func() { f.drain(); close(drained) }()
	f.done(d)
	f.done(b + 1)
	select {
	case <-drained:
	case <-time.After(time.Minute):
		t.Fatal("drain still waiting with nothing in flight")
	}

	unbounded := newInflight(-1)
	unbounded.admit(0)
	unbounded.admit(model.Instant(model.Day)) // would wait forever if bounded
}

// stuckConn acknowledges its first `after` publishes; later ones fail with
// fail, or (fail nil) hang until their context ends.
type stuckConn struct {
	after   int64
	fail    error
	n       atomic.Int64
	stuck   chan struct{} // closed when the first publish hangs
	stuckMu sync.Once
}

func (c *stuckConn) Publish(ctx context.Context, _ string, _ []byte, _ byte, _ bool) error {
	if c.n.Add(1) <= c.after {
		return nil
	}
	if c.fail != nil {
		return c.fail
	}
	c.stuckMu.Do(func() { close(c.stuck) })
	<-ctx.Done()
	return ctx.Err()
}

func (c *stuckConn) Close() error { return nil }

// TestRunStops: a run whose publishes hang stops when its context ends,
// and one whose publish fails stops with that error; the gate never
// leaves Run waiting on publishes that will not come.
func TestRunStops(t *testing.T) {
	cfg := Config{Sim: loadSim(t, "../scenarios/quickstart.yaml")}
	type result struct {
		st  Stats
		err error
	}
	run := func(ctx context.Context, c *stuckConn) <-chan result {
		done := make(chan result, 1)
		go func() {
			_, st, err := Run(ctx, RunConfig{Gen: cfg, Dial: func(context.Context) (Conn, error) { return c, nil }})
			done <- result{st, err}
		}()
		return done
	}
	wait := func(t *testing.T, done <-chan result) result {
		select {
		case r := <-done:
			return r
		case <-time.After(time.Minute):
			t.Fatal("Run did not return")
			return result{}
		}
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &stuckConn{after: 500, stuck: make(chan struct{})}
		done := run(ctx, c)
		<-c.stuck
		cancel()
		r := wait(t, done)
		require.ErrorIs(t, r.err, context.Canceled)
		require.EqualValues(t, 500, r.st.Published)
	})
	t.Run("publish fails", func(t *testing.T) {
		broken := errors.New("broken pipe")
		r := wait(t, run(context.Background(), &stuckConn{after: 500, fail: broken}))
		require.ErrorIs(t, r.err, broken)
		require.EqualValues(t, 500, r.st.Published)
	})
}
