package hwsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// runToCapture publishes cfg to a fresh embedded broker at --speed max and
// returns the raw capture.
func runToCapture(t *testing.T, rc RunConfig) []byte {
	t.Helper()
	ctx := context.Background()
	br, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer br.Close()
	var buf bytes.Buffer
	rc.Capture = wire.NewCaptureWriter(&buf)
	rc.Dial = func(ctx context.Context) (Conn, error) {
		return transport.Dial(ctx, transport.ClientConfig{URL: br.URL()})
	}
	_, st, err := Run(ctx, rc)
	require.NoError(t, err)
	t.Logf("published %d messages in %s (%.0f msg/s)", st.Published, st.Elapsed, st.Rate())
	return buf.Bytes()
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
// goes back in simulated publish time by more than MaxSkew, with any
// number of workers and with faults; and each source's messages are
// captured exactly in the generator's order, so reordering, duplicates,
// delays and disconnect backlogs keep their effects within a source.
func TestRunMaxSkew(t *testing.T) {
	hostile, err := LoadFaults("../scenarios/faults/hostile.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		faults  Faults
		skew    model.Duration
		bound   model.Duration
		workers int
		horizon model.Duration // 0: the scenario's (3 days)
	}{
		{name: "default", bound: DefaultMaxSkew},
		{name: "hostile faults", faults: hostile, bound: DefaultMaxSkew},
		{name: "200ms over 64 workers", skew: 200 * model.Millisecond, bound: 200 * model.Millisecond, workers: 64, horizon: model.Day},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Sim: loadSim(t, "../scenarios/quickstart.yaml"), Faults: tc.faults}
			if tc.horizon > 0 {
				cfg.Sim.Horizon = tc.horizon
			}
			items, _ := generate(t, cfg)
			recs := readCapture(t, runToCapture(t, RunConfig{Gen: cfg, MaxSkew: tc.skew, Workers: tc.workers}))

			inv := maxInversion(recs)
			t.Logf("largest step back in publish time: %s", inv)
			require.LessOrEqual(t, inv, tc.bound)

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
// --speed max replays through the twin with its default configuration
// (5 s reorder window) with no late message and no divergence; delays
// still arrive late.
func TestCaptureReplaysWithDefaultWindow(t *testing.T) {
	sc, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	net, err := sc.Network()
	require.NoError(t, err)
	replay := func(t *testing.T, capture []byte) *twin.Twin {
		tw, err := twin.New(twin.Config{Network: net})
		require.NoError(t, err)
		st, err := twin.NewRunner(tw, nil).Replay(context.Background(), bytes.NewReader(capture), 0)
		require.NoError(t, err)
		require.Zero(t, st.BadLines)
		tw.Finish()
		return tw
	}
	cfg := Config{Sim: loadSim(t, "../scenarios/quickstart.yaml")}

	t.Run("clean", func(t *testing.T) {
		capture := runToCapture(t, RunConfig{Gen: cfg})
		tw := replay(t, capture)
		c := tw.Counters()
		require.EqualValues(t, len(readCapture(t, capture)), c.Accepted)
		require.Zero(t, c.Late)
		require.Empty(t, tw.Divergences(twin.Filter{}))
	})
	t.Run("delays", func(t *testing.T) {
		delayed := Config{Sim: loadSim(t, "../scenarios/quickstart.yaml")}
		delayed.Sim.Horizon = model.Day
		delayed.Faults = Faults{Delay: DelayFault{Rate: 0.05, Max: Duration(2 * model.Minute)}}
		tw := replay(t, runToCapture(t, RunConfig{Gen: delayed}))
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
