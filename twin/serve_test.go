package twin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// serveFeed is three labels' lives and a production reroute the core does
// not make (a divergence), at simulated instants: the server tests run the
// twin on the event clock.
func serveFeed(t *testing.T) []wire.CaptureRecord {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i, l := range []string{"L-1", "L-2", "L-3"} {
		recs = append(recs, f.lifecycle(l, int64(i*3), i != 1)...)
	}
	return append(recs, f.msg("prod-core", min_(200), wire.LabelState{LabelID: "L-2", State: wire.LabelRerouting, Node: "L1", RerouteTo: "P1"}))
}

func serveConfig(t *testing.T, dir string) ServeConfig {
	no := false
	return ServeConfig{Twin: Config{Network: quickstart(t), Window: 3 * model.Day, Replenish: &no, EventClock: true}, NetworkDigest: "quickstart",
		Data: filepath.Join(dir, "data"), SnapshotEvery: 1000, Report: filepath.Join(dir, "report"), States: filepath.Join(dir, "states")}
}

func httpGet(t *testing.T, addr net.Addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr.String() + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestServerConfigErrors(t *testing.T) {
	dir := t.TempDir()
	s, err := NewServer(serveConfig(t, dir)) // records the network "quickstart"
	require.NoError(t, err)
	require.NoError(t, s.Close())
	tests := []struct {
		name   string
		change func(*ServeConfig)
		want   string
	}{
		{"api off loopback without a token", func(c *ServeConfig) { c.HTTP = "0.0.0.0:0" }, "token"},
		{"api address", func(c *ServeConfig) { c.HTTP = "8080" }, "want host:port"},
		{"partition", func(c *ServeConfig) { c.Twin.Nodes = []string{"nowhere"} }, `unknown node "nowhere"`},
		{"no network", func(c *ServeConfig) { c.Twin.Network = nil }, "no network"},
		{"a journal of another network", func(c *ServeConfig) { c.NetworkDigest = "elsewhere" }, "another network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := serveConfig(t, dir)
			tc.change(&cfg)
			_, err := NewServer(cfg)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err = NewServer(ServeConfig{HTTP: "0.0.0.0:0"})
	require.ErrorIs(t, err, ErrTokenRequired)

	// the refused journal was closed: it opens again at once
	s, err = NewServer(serveConfig(t, dir))
	require.NoError(t, err)
	var ce *ConfigError
	require.ErrorAs(t, s.Live(context.Background()), &ce, "live without a broker")
	require.NoError(t, s.Close())
	require.ErrorAs(t, Serve(context.Background(), ServeConfig{Twin: Config{Network: quickstart(t)}, Broker: Embedded, HTTP: "[::]:0"}), &ce)
}

// An HTTP address already in use is an error that says so (it used to
// be dropped), and what was opened before it is closed again.
func TestServerHTTPPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	dir := t.TempDir()
	cfg := serveConfig(t, dir)
	cfg.HTTP = busy.Addr().String()
	_, err = NewServer(cfg)
	require.Error(t, err)
	assert.ErrorContains(t, err, "twin: http api: listen tcp "+busy.Addr().String())
	assert.ErrorContains(t, err, "address already in use")
	var ce *ConfigError
	assert.False(t, errors.As(err, &ce), "a failure, not a configuration error")

	cfg.HTTP = ""
	s, err := NewServer(cfg)
	require.NoError(t, err, "the journal was released")
	require.NoError(t, s.Close())
}

// Replay: journal, API, outputs; a clean stop snapshots, so a restart on
// the same data re-applies nothing and replays to the same outputs.
func TestServerReplay(t *testing.T) {
	recs := serveFeed(t)
	capture := captureOf(t, recs)
	dir := t.TempDir()
	cfg := serveConfig(t, dir)
	cfg.HTTP = "127.0.0.1:0"
	s, err := NewServer(cfg)
	require.NoError(t, err)
	code, _ := httpGet(t, s.Addr(), "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	st, err := s.Replay(context.Background(), strings.NewReader(capture))
	require.NoError(t, err)
	assert.Equal(t, uint64(len(recs)), st.Records)
	code, body := httpGet(t, s.Addr(), "/v1/divergences")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, KindRerouteUnexpected)
	want := outputs(t, s.Twin())
	require.NoError(t, s.Close())
	report, err := os.ReadFile(cfg.Report)
	require.NoError(t, err)
	states, err := os.ReadFile(cfg.States)
	require.NoError(t, err)
	assert.Equal(t, want, string(report)+string(states))
	assert.Contains(t, string(report), KindRerouteUnexpected)

	s, err = NewServer(cfg)
	require.NoError(t, err)
	assert.Equal(t, uint64(len(recs)), s.runner.Restored)
	assert.Equal(t, uint64(len(recs)), s.runner.FromSnapshot, "the clean stop left a snapshot of everything")
	st, err = s.Replay(context.Background(), strings.NewReader(capture))
	require.NoError(t, err)
	assert.Equal(t, uint64(len(recs)), st.Skipped)
	require.NoError(t, s.Close())
	again, err := os.ReadFile(cfg.Report)
	require.NoError(t, err)
	assert.Equal(t, report, again)
}

// testBroker starts an embedded broker on a free loopback port (closed
// when the test ends).
func testBroker(t *testing.T, ctx context.Context) *transport.Broker {
	t.Helper()
	b, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// startLive starts a server on cfg running Live until cancel, and waits
// until it is ready; done gets Live's error.
func startLive(t *testing.T, ctx context.Context, cfg ServeConfig) (s *Server, cancel func(), done <-chan error) {
	t.Helper()
	s, err := NewServer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	lctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- s.Live(lctx) }()
	require.Eventually(t, s.runner.Ready, 10*time.Second, 10*time.Millisecond)
	return s, cancel, errc
}

// Live through a broker: every message published reaches the twin, and at
// the end (ctx done) its outputs equal a replay of the same records.
func TestServerLive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	cfg := serveConfig(t, t.TempDir())
	cfg.Broker = b.URL()
	s, stop, done := startLive(t, ctx, cfg)

	recs := serveFeed(t)
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	for _, r := range recs {
		require.NoError(t, pub.Publish(ctx, r.Topic, r.Payload, wire.QoS, false))
	}
	require.Eventually(t, func() bool { return s.Twin().Counters().Received == uint64(len(recs)) }, 20*time.Second, 10*time.Millisecond)
	stop()
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
	assertReplayed(t, cfg, recs)
}

// assertReplayed asserts that the report and states files a server on cfg
// wrote equal those of a twin that ingested recs in one go.
func assertReplayed(t *testing.T, cfg ServeConfig, recs []wire.CaptureRecord) {
	t.Helper()
	ref, err := New(cfg.Twin)
	require.NoError(t, err)
	ref.IngestBatch(recs)
	ref.Finish()
	var report, states bytes.Buffer
	require.NoError(t, ref.WriteReport(&report))
	require.NoError(t, ref.WriteStates(&states))
	for file, want := range map[string]string{cfg.Report: report.String(), cfg.States: states.String()} {
		got, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, want, string(got), file)
		assert.NotEmpty(t, got, file)
	}
}

// journalIDs is the msg_id of every record of the journal in dir, in order.
func journalIDs(t *testing.T, dir string) []string {
	t.Helper()
	j, err := OpenJournal(dir, false)
	require.NoError(t, err)
	defer j.Close()
	var ids []string
	require.NoError(t, j.ReplayFrom(0, func(r wire.CaptureRecord) {
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		ids = append(ids, env.MsgID)
	}))
	return ids
}

// idsOf is the msg_id of each record.
func idsOf(t *testing.T, recs []wire.CaptureRecord) []string {
	t.Helper()
	var ids []string
	for _, r := range recs {
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		ids = append(ids, env.MsgID)
	}
	return ids
}

// A message the journal cannot take is not acknowledged: Live stops with
// the journal's error, and the twin restarted on the same data (the same
// client id, so it resumes its session) gets that message from the broker,
// and everything published after it, exactly once. (Live's handler used to
// return, and the client to acknowledge the message, as soon as it had
// asked Live to stop: the message was lost.)
func TestLiveJournalFailure(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	cfg := serveConfig(t, t.TempDir())
	cfg.Broker = b.URL()
	recs := serveFeed(t)
	half := len(recs) / 2
	s, _, done := startLive(t, ctx, cfg)
	assert.Regexp(t, `^lockstep-twin-[0-9a-f]{8}$`, s.ClientID(), "derived from the data directory")
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	publish := func(recs []wire.CaptureRecord) {
		for _, r := range recs {
			require.NoError(t, pub.Publish(ctx, r.Topic, r.Payload, wire.QoS, false))
		}
	}
	publish(recs[:half])
	require.Eventually(t, func() bool { return s.Twin().Counters().Received == uint64(half) }, 20*time.Second, 10*time.Millisecond)

	require.NoError(t, s.journal.db.Close()) // the journal fails under the twin
	publish(recs[half:])                     // the broker acknowledges them and queues them for the twin
	err = <-done
	require.ErrorContains(t, err, "twin: journal append")
	assert.False(t, s.runner.Ready())
	assert.Equal(t, uint64(half), s.Twin().Counters().Received, "nothing after the failure reached the twin")
	require.NoError(t, s.Close())

	s2, stop, done2 := startLive(t, ctx, cfg)
	assert.Equal(t, s.ClientID(), s2.ClientID())
	require.Eventually(t, func() bool { return s2.Twin().Counters().Received == uint64(len(recs)) }, 20*time.Second, 10*time.Millisecond)
	stop()
	require.NoError(t, <-done2)
	require.NoError(t, s2.Close())
	assert.Zero(t, s2.Twin().Counters().Duplicates)
	// (mochi resends a resumed session's queue in another order)
	assert.ElementsMatch(t, idsOf(t, recs), journalIDs(t, cfg.Data), "every message journaled once")
	assertReplayed(t, cfg, recs)
}

// Live with the embedded broker: the twin takes what producers publish
// through the broker's OnPublish, so a message is journaled and ingested
// before its producer has the PUBACK; a message outside the feed's topics
// is left alone. When ctx is done the broker stops, and the outputs equal
// a replay's.
func TestServerEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := serveConfig(t, t.TempDir())
	cfg.Broker, cfg.EmbeddedBroker = Embedded, transport.BrokerConfig{Listen: "127.0.0.1:0"}
	s, stop, done := startLive(t, ctx, cfg)
	assert.Empty(t, s.ClientID(), "the twin has no client")
	b := s.Broker()
	require.NotNil(t, b)
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	require.NoError(t, pub.Publish(ctx, "elsewhere/L1", []byte("not the feed"), wire.QoS, false))
	recs := serveFeed(t)
	for i, r := range recs {
		require.NoError(t, pub.Publish(ctx, r.Topic, r.Payload, wire.QoS, false))
		require.Equal(t, uint64(i+1), s.Twin().Counters().Received, "message %d journaled and ingested before its PUBACK", i)
	}
	stop()
	require.NoError(t, <-done)
	assert.False(t, s.runner.Ready())
	select {
	case <-b.Done():
	default:
		t.Error("the broker outlived Live")
	}
	require.NoError(t, s.Close())
	assert.Equal(t, idsOf(t, recs), journalIDs(t, cfg.Data))
	assertReplayed(t, cfg, recs)
}

// LiveEmbedded on the wall clock: the broker's OnPublish (Accept) and the
// ticker (Advance) run side by side (go test -race checks them), and the
// ticks release what the reorder window holds without any later message.
func TestLiveEmbeddedWallClock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tw, err := New(Config{Network: quickstart(t), Window: 20 * model.Millisecond})
	require.NoError(t, err)
	r := NewRunner(tw, nil)
	brokers := make(chan *transport.Broker, 1)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- r.LiveEmbedded(lctx, transport.BrokerConfig{Listen: "127.0.0.1:0"},
			LiveConfig{Tick: time.Millisecond, OnBroker: func(b *transport.Broker) { brokers <- b }})
	}()
	b := <-brokers
	const sources, each = 2, 150
	var wg sync.WaitGroup
	for i := range sources {
		pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
		require.NoError(t, err)
		defer pub.Close()
		f := newFeed(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				hb := heartbeat(f, fmt.Sprintf("L%d", i+1), model.InstantOf(time.Now()))
				if err := pub.Publish(ctx, hb.Topic, hb.Payload, wire.QoS, false); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return tw.Counters().Applied == sources*each }, 10*time.Second, 5*time.Millisecond,
		"the ticks release every message")
	c := tw.Counters()
	assert.Equal(t, uint64(sources*each), c.Accepted)
	stop()
	require.NoError(t, <-done)
}

// Serve runs a live service until ctx is done (here: once the retained
// status a node left on the broker has come in), then closes it.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	status := newFeed(t).msg("L1", min_(0), wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 1})
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	require.NoError(t, pub.Publish(ctx, status.Topic, status.Payload, wire.QoS, true))
	// the broker stores a retained message after it acknowledges it: wait
	// until a new subscriber is sent it from the retained store (a probe
	// that subscribed before it was stored gets nothing: try again)
	require.Eventually(t, func() bool { return retainedHeld(ctx, t, b.URL(), status.Topic) }, 10*time.Second, 10*time.Millisecond)

	cfg := serveConfig(t, t.TempDir())
	cfg.Broker = b.URL()
	m := NewMetrics()
	cfg.Twin.Metrics = m
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Serve(lctx, cfg) }()
	require.Eventually(t, func() bool { return metricValue(t, m.In.WithLabelValues("status")) == 1 }, 10*time.Second, 10*time.Millisecond)
	lcancel()
	require.NoError(t, <-done)
	states, err := os.ReadFile(cfg.States)
	require.NoError(t, err, "the states are written at the end")
	assert.Empty(t, states, "no label")
	j, err := OpenJournal(cfg.Data, false)
	require.NoError(t, err, "Serve closed the journal")
	assert.Equal(t, uint64(1), j.Len())
	require.NoError(t, j.Close())
}

// A failure of the HTTP API while the twin runs ends Live with that error,
// instead of going unnoticed.
func TestServerHTTPFailure(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	cfg := serveConfig(t, t.TempDir())
	cfg.Broker, cfg.HTTP = b.URL(), "127.0.0.1:0"
	s, _, done := startLive(t, ctx, cfg)
	require.NoError(t, s.ln.Close()) // the API's listener fails under it
	require.ErrorContains(t, <-done, "twin: http api")
	assert.NoError(t, s.Close(), "the failure was returned once, by Live")
}

// Stopping while Live still subscribes is a clean stop, not an error.
func TestLiveStoppedWhileSubscribing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	tw, err := New(Config{Network: quickstart(t)})
	require.NoError(t, err)
	r := NewRunner(tw, nil)
	stopped, stop := context.WithCancel(ctx)
	stop()
	require.NoError(t, r.Live(stopped, transport.ClientConfig{URL: b.URL()}, LiveConfig{}))
	assert.False(t, r.Ready())
}

// retainedHeld reports whether a new subscriber to topic is sent a retained
// message within 200 ms.
func retainedHeld(ctx context.Context, t *testing.T, url, topic string) bool {
	retained := make(chan struct{}, 1)
	probe, err := transport.Dial(ctx, transport.ClientConfig{URL: url, Subscriptions: []transport.Subscription{{Filter: topic, QoS: wire.QoS,
		Handler: func(m transport.Message) error {
			if m.Retain {
				select {
				case retained <- struct{}{}:
				default:
				}
			}
			return nil
		}}}})
	require.NoError(t, err)
	defer probe.Close()
	select {
	case <-retained:
		return true
	case <-time.After(200 * time.Millisecond):
		return false
	}
}
