package hwsim

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/internal/mqtttest"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// sentinelTopic carries the sentinels publishAndReceive sends; it is not
// part of the feed.
const sentinelTopic = "sentinel"

type received struct {
	mu        sync.Mutex
	msgs      []transport.Message
	sentinels int
}

func (r *received) add(m transport.Message) {
	r.mu.Lock()
	if strings.HasSuffix(m.Topic, "/"+sentinelTopic) {
		r.sentinels++
	} else {
		r.msgs = append(r.msgs, m)
	}
	r.mu.Unlock()
}

func (r *received) counts() (msgs, sentinels int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs), r.sentinels
}

// sentinelConn publishes a sentinel on its connection before it closes
// it. The broker forwards one connection's messages in the order it reads
// them, so once a subscriber has the sentinels of every connection hwsim
// opened, it has everything the broker will ever forward of them.
type sentinelConn struct {
	Conn
	topic  string
	closed *atomic.Int64
}

func (c sentinelConn) Close() error {
	if err := c.Publish(context.Background(), c.topic, []byte("sentinel"), wire.QoS, false); err != nil {
		return err
	}
	c.closed.Add(1)
	return c.Conn.Close()
}

// publishAndReceive runs hwsim against the broker at url with a subscriber
// on every feed topic, and returns the capture and what the subscriber got.
func publishAndReceive(t *testing.T, url string, cfg Config) ([]wire.CaptureRecord, []transport.Message, *Truth) {
	t.Helper()
	ctx := context.Background()
	sub, err := transport.Dial(ctx, transport.ClientConfig{URL: url})
	require.NoError(t, err)
	defer sub.Close()
	got := &received{}
	topics := wire.Topics{Prefix: cfg.Prefix}
	require.NoError(t, sub.Subscribe(ctx, topics.All(), wire.QoS, got.add))

	var capBuf bytes.Buffer
	cw := wire.NewCaptureWriter(&capBuf)
	var closed atomic.Int64
	truth, st, err := Run(ctx, RunConfig{Gen: cfg, Capture: cw, Dial: func(ctx context.Context) (Conn, error) {
		c, err := transport.Dial(ctx, transport.ClientConfig{URL: url})
		if err != nil {
			return nil, err
		}
		return sentinelConn{Conn: c, topic: strings.TrimSuffix(topics.All(), "#") + sentinelTopic, closed: &closed}, nil
	}})
	require.NoError(t, err)
	t.Logf("published %d messages in %s (%.0f msg/s)", st.Published, st.Elapsed, st.Rate())

	var recs []wire.CaptureRecord
	cr := wire.NewCaptureReader(&capBuf)
	for {
		r, err := cr.Next()
		if err != nil {
			break
		}
		recs = append(recs, r)
	}
	require.EqualValues(t, st.Published, len(recs))
	require.Positive(t, closed.Load())
	require.Eventually(t, func() bool { _, s := got.counts(); return s >= int(closed.Load()) }, 20*time.Second, 20*time.Millisecond,
		"the subscriber got the sentinels of every connection")
	got.mu.Lock()
	defer got.mu.Unlock()
	return recs, append([]transport.Message(nil), got.msgs...), truth
}

// checkSame asserts that the subscriber received exactly the captured
// messages (same topics and payloads, as a multiset) and, per source, in
// seq order, except across the broker reconnects at the instants cuts.
func checkSame(t *testing.T, topics wire.Topics, recs []wire.CaptureRecord, msgs []transport.Message, cuts ...model.Instant) {
	t.Helper()
	key := func(topic string, p []byte) string { return topic + " " + string(p) }
	want := make([]string, len(recs))
	for i, r := range recs {
		want[i] = key(r.Topic, r.Payload)
	}
	gotKeys := make([]string, len(msgs))
	var envs []wire.Envelope
	for i, m := range msgs {
		gotKeys[i] = key(m.Topic, m.Payload)
		env, err := topics.Decode(m.Topic, m.Payload)
		require.NoError(t, err, string(m.Payload))
		envs = append(envs, env)
	}
	sort.Strings(want)
	sort.Strings(gotKeys)
	require.Equal(t, want, gotKeys, "received messages differ from the capture")
	if len(cuts) == 0 {
		checkSeqOrder(t, envs)
		return
	}
	// MQTT orders messages per connection only, and the broker acknowledges
	// a publish before it forwards it: the last message acknowledged on the
	// old connection can reach a subscriber after the first one sent on the
	// new connection. So a message may come after a later one of its source
	// only when a reconnect separates them; the twin restores the order with
	// its reorder window.
	last := map[string]wire.Envelope{}
	for _, env := range envs {
		if isWill(env) {
			continue
		}
		if prev, ok := last[env.Source]; ok && env.Seq < prev.Seq {
			require.True(t, slices.ContainsFunc(cuts, func(c model.Instant) bool { return env.At <= c && c <= prev.At }),
				"source %s: seq %d after %d with no reconnect between them", env.Source, env.Seq, prev.Seq)
			continue
		}
		last[env.Source] = env
	}
}

// Integration: hwsim publishes the quickstart city to the embedded broker
// at --speed max; a subscriber receives exactly the messages of the capture,
// each source's in seq order.
func TestEmbeddedBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	b, err := transport.StartBroker(context.Background(), transport.BrokerConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer b.Close()
	recs, msgs, truth := publishAndReceive(t, b.URL(), Config{Sim: loadSim(t, "../scenarios/quickstart.yaml")})
	checkSame(t, wire.Topics{}, recs, msgs)
	require.Zero(t, b.Dropped())
	require.NotEmpty(t, truth.Labels)
}

// With broker disconnects (and only those) nothing is lost: the backlog is
// flushed in order after every reconnect.
func TestEmbeddedBrokerDisconnects(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	b, err := transport.StartBroker(context.Background(), transport.BrokerConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer b.Close()
	cfg := loadSim(t, "../scenarios/quickstart.yaml")
	cfg.Horizon = model.Day
	recs, msgs, truth := publishAndReceive(t, b.URL(), Config{Sim: cfg, Prefix: "test/hwsim", Faults: Faults{Disconnect: DisconnectFault{Rate: 0.002}}})
	require.Positive(t, truth.Counts.Disconnects)
	var cuts []model.Instant
	for _, d := range truth.Disconnects {
		at, err := wire.ParseInstant(d.At)
		require.NoError(t, err)
		cuts = append(cuts, at)
	}
	checkSame(t, wire.Topics{Prefix: "test/hwsim"}, recs, msgs, cuts...)
}

// Integration: the same against a real Mosquitto on a free loopback port.
func TestMosquitto(t *testing.T) {
	url := mqtttest.StartMosquitto(t, "max_queued_messages 0\nmax_inflight_messages 0\n")
	cfg := loadSim(t, "../scenarios/quickstart.yaml")
	cfg.Horizon = model.Day // Mosquitto acknowledges more slowly than the embedded broker
	recs, msgs, _ := publishAndReceive(t, url, Config{Sim: cfg})
	checkSame(t, wire.Topics{}, recs, msgs)
}
