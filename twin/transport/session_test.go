package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/internal/mqtttest"
)

// brokers are the brokers the session tests run against: the embedded one
// and a real Mosquitto. Mosquitto queues at most 1000 messages for an
// offline session by default (max_queued_messages); the tests queue more.
var brokers = []struct {
	name  string
	start func(t *testing.T) string // the broker's URL
}{
	{"embedded", func(t *testing.T) string { return startBroker(t, nil).URL() }},
	{"mosquitto", func(t *testing.T) string { return mqtttest.StartMosquitto(t, "max_queued_messages 100000\n") }},
}

// journal stands for the twin's journal: what the handlers stored, which
// outlives the clients (processes) that stored it.
type journal struct {
	mu    sync.Mutex
	count map[string]int // payload -> times stored
	total int
	ch    chan struct{}
}

func newJournal() *journal { return &journal{count: map[string]int{}, ch: make(chan struct{}, 1)} }

func (j *journal) store(m Message) error {
	j.mu.Lock()
	j.count[string(m.Payload)]++
	j.total++
	j.mu.Unlock()
	select {
	case j.ch <- struct{}{}:
	default:
	}
	return nil
}

func (j *journal) has(payload string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.count[payload] > 0
}

// stats returns the number of distinct payloads and of duplicates stored.
func (j *journal) stats() (distinct, dups int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.count), j.total - len(j.count)
}

// waitUntil blocks until cond holds (checked after every store), failing
// the test after d.
func (j *journal) waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-j.ch:
		case <-time.After(20 * time.Millisecond): // cond may depend on more than stores
		case <-deadline:
			distinct, dups := j.stats()
			t.Fatalf("%s: not within %v (journal: %d distinct, %d duplicates)", what, d, distinct, dups)
		}
	}
}

// missing lists the messages of 1..n the journal lacks.
func (j *journal) missing(n int) []int {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []int
	for i := 1; i <= n; i++ {
		if j.count[msg(i)] == 0 {
			out = append(out, i)
		}
	}
	return out
}

func msg(i int) string { return fmt.Sprintf("m-%d", i) }

// producer publishes msg(1..n) in order, each retried until PUBACK, and
// counts the acknowledged ones.
type producer struct {
	acked atomic.Int64
	done  chan error
}

func startProducer(t testing.TB, c *Client, topic string, n int) *producer {
	p := &producer{done: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	go func() {
		for i := 1; i <= n; i++ {
			if err := c.Publish(ctx, topic, []byte(msg(i)), 1, false); err != nil {
				p.done <- err
				return
			}
			p.acked.Add(1)
		}
		p.done <- nil
	}()
	return p
}

// waitAcked blocks until the producer has k acknowledged messages.
func (p *producer) waitAcked(t testing.TB, k int64) {
	t.Helper()
	require.Eventually(t, func() bool { return p.acked.Load() >= k }, 30*time.Second, 2*time.Millisecond,
		"producer acknowledged %d of %d", p.acked.Load(), k)
}

func (p *producer) wait(t testing.TB) {
	t.Helper()
	select {
	case err := <-p.done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("producer did not finish")
	}
}

func uniqueID(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

const sessionTopic = "lockstep/v1/lockers/lkr-1/event"

// dialTwin connects a subscriber with the given id whose handler stores into j
// (the subscription is declared, so it is in place before a resumed
// session's queued messages arrive).
func dialTwin(t testing.TB, url, id string, j *journal) *Client {
	return dial(t, ClientConfig{URL: url, ClientID: id, ReconnectDelay: 20 * time.Millisecond,
		Subscriptions: []Subscription{{Filter: "lockstep/v1/lockers/+/event", QoS: 1, Handler: j.store}}})
}

// TestPersistentSessionSurvivesCrash: a subscriber is killed (connection
// dropped without DISCONNECT, no more acks) while a producer publishes
// 3000 QoS 1 messages; more are published while it is down; a new client
// with the same id (a restarted process) resumes the session and the
// journal ends with every message (duplicates allowed, counted). The
// control, a new client with another id, misses what was published while
// nobody was connected: the bug.
func TestPersistentSessionSurvivesCrash(t *testing.T) {
	const n = 3000
	for _, b := range brokers {
		for _, tc := range []struct {
			name     string
			sameID   bool
			wantLoss bool
		}{{"same id", true, false}, {"new id (control)", false, true}} {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				url := b.start(t)
				j := newJournal()
				id := uniqueID("twin")
				first := dialTwin(t, url, id, j)
				pub := dial(t, ClientConfig{URL: url, ReconnectDelay: 20 * time.Millisecond})
				p := startProducer(t, pub, sessionTopic, n)

				j.waitUntil(t, 30*time.Second, "a third stored", func() bool { d, _ := j.stats(); return d >= n/3 })
				first.kill()
				at := p.acked.Load()
				p.waitAcked(t, at+200) // published while nobody is connected

				nextID := id
				if !tc.sameID {
					nextID = uniqueID("twin")
				}
				second := dialTwin(t, url, nextID, j)
				p.wait(t)
				if !tc.wantLoss {
					j.waitUntil(t, 30*time.Second, "every message stored", func() bool { d, _ := j.stats(); return d == n })
					distinct, dups := j.stats()
					assert.Equal(t, n, distinct)
					assert.Empty(t, j.missing(n))
					assert.Zero(t, second.Unrouted())
					t.Logf("%d distinct, %d duplicates (redelivered after the crash)", distinct, dups)
					return
				}
				// nothing more arrives for the new id once a sentinel
				// published after the last message has
				require.NoError(t, pub.Publish(context.Background(), sessionTopic, []byte("sentinel"), 1, false))
				j.waitUntil(t, 30*time.Second, "sentinel", func() bool { return j.has("sentinel") })
				lost := j.missing(n)
				t.Logf("new id: %d of %d lost", len(lost), n)
				assert.GreaterOrEqual(t, len(lost), 200, "what was published while nobody was connected is lost")
			})
		}
	}
}

// TestHandlerErrorMeansNoAck: a handler that fails on a message gets it
// again (the client did not acknowledge it, dropped the connection and the
// broker resent it after the reconnect), and nothing is lost.
func TestHandlerErrorMeansNoAck(t *testing.T) {
	const n, failAt = 200, 50
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			url := b.start(t)
			j := newJournal()
			var attempts atomic.Int64
			handler := func(m Message) error {
				if string(m.Payload) == msg(failAt) && attempts.Add(1) == 1 {
					return errors.New("journal: disk full")
				}
				return j.store(m)
			}
			sub := dial(t, ClientConfig{URL: url, ClientID: uniqueID("twin"), ReconnectDelay: 20 * time.Millisecond,
				Subscriptions: []Subscription{{Filter: "lockstep/v1/lockers/+/event", QoS: 1, Handler: handler}}})
			pub := dial(t, ClientConfig{URL: url})
			p := startProducer(t, pub, sessionTopic, n)
			p.wait(t)
			j.waitUntil(t, 30*time.Second, "every message stored", func() bool { d, _ := j.stats(); return d == n })
			assert.Equal(t, int64(2), attempts.Load(), "the refused message was delivered again")
			assert.Empty(t, j.missing(n))
			assert.Zero(t, sub.Unrouted())
		})
	}
}

// TestAckAfterHandlerReturns: while the handler is still working on a
// message (the twin journaling it) the message is not acknowledged, so a
// crash at that moment leaves it with the broker, which gives it to the
// restarted subscriber.
func TestAckAfterHandlerReturns(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			url := b.start(t)
			j := newJournal()
			inside := make(chan struct{})
			release := make(chan struct{})
			blocking := func(m Message) error {
				if string(m.Payload) == msg(3) {
					close(inside)
					<-release // the process dies here
					return nil
				}
				return j.store(m)
			}
			id := uniqueID("twin")
			first := dial(t, ClientConfig{URL: url, ClientID: id,
				Subscriptions: []Subscription{{Filter: "lockstep/v1/lockers/+/event", QoS: 1, Handler: blocking}}})
			pub := dial(t, ClientConfig{URL: url})
			p := startProducer(t, pub, sessionTopic, 5)
			<-inside
			first.kill()
			close(release)
			p.wait(t)
			dialTwin(t, url, id, j)
			j.waitUntil(t, 30*time.Second, "every message stored", func() bool { d, _ := j.stats(); return d == 5 })
			assert.Empty(t, j.missing(5))
		})
	}
}

// TestEphemeralSessionEndsOnClose: a random-id client's Close ends its
// session at the broker (nobody could resume it), so the broker queues
// nothing for it; a stable id's Close keeps the session.
func TestEphemeralSessionEndsOnClose(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			url := b.start(t)
			ctx := context.Background()
			id := uniqueID("twin")
			j := newJournal()
			stable := dialTwin(t, url, id, j)
			require.NoError(t, stable.Close())
			pub := dial(t, ClientConfig{URL: url})
			require.NoError(t, pub.Publish(ctx, sessionTopic, []byte("queued"), 1, false))
			resumed := dialTwin(t, url, id, j)
			j.waitUntil(t, 10*time.Second, "queued message", func() bool { return j.has("queued") })
			assert.True(t, resumed.Resumed())
			require.NoError(t, resumed.Close())

			// the broker tells a resumed session from a new one
			// (CONNACK session present); a closed random-id client
			// leaves no session behind to resume (the broker may take a
			// moment to process the DISCONNECT; the probe's own session
			// ends with its connection)
			eph := dial(t, ClientConfig{URL: url})
			require.NoError(t, eph.Close())
			require.Eventually(t, func() bool { return !probeResumed(t, url, eph.ClientID()) }, 10*time.Second, 10*time.Millisecond,
				"no session kept for a closed random id")
			assert.True(t, probeResumed(t, url, id), "a stable id's session is kept")
		})
	}
}

// probeResumed connects with clientID and reports whether the broker had a
// session for it; the probe's own session ends with its connection.
func probeResumed(t testing.TB, url, clientID string) bool {
	c := dial(t, ClientConfig{URL: url, ClientID: clientID, SessionExpiry: -1})
	defer c.Close()
	return c.Resumed()
}
