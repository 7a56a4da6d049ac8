package transport

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restartBroker starts an embedded broker on addr again (the port of one
// just closed), retrying while the port is not free yet.
func restartBroker(t *testing.T, addr string, onPublish func(Message) error) *Broker {
	t.Helper()
	var b *Broker
	require.Eventually(t, func() bool {
		var err error
		b, err = StartBroker(context.Background(), BrokerConfig{Listen: addr, OnPublish: onPublish})
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "restart the broker on %s", addr)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestProducerRetriesAcrossBrokerRestart: the twin with an embedded broker
// is one process, so a kill takes the broker (and all it holds in memory)
// down too. With the twin consuming through BrokerConfig.OnPublish, the
// broker acknowledges only what the twin stored; a producer that keeps
// every message until its PUBACK and sends it again after reconnecting
// (Client.Publish) loses nothing across the restart. The control is the
// twin as an ordinary subscriber of its own embedded broker: the broker
// acknowledges a message before forwarding it, so what it held for the
// twin dies with it after the producer was told it was received.
func TestProducerRetriesAcrossBrokerRestart(t *testing.T) {
	t.Run("consumer in the broker", func(t *testing.T) {
		const n = 2000
		j := newJournal()
		b1, err := StartBroker(context.Background(), BrokerConfig{Listen: "127.0.0.1:0", OnPublish: j.store})
		require.NoError(t, err)
		addr := b1.Addr()
		pub := dial(t, ClientConfig{URL: b1.URL(), ClientID: uniqueID("hwsim"), ReconnectDelay: 20 * time.Millisecond})
		p := startProducer(t, pub, sessionTopic, n)
		j.waitUntil(t, 30*time.Second, "a third stored", func() bool { d, _ := j.stats(); return d >= n/3 })
		require.NoError(t, b1.Close()) // the process dies
		restartBroker(t, addr, j.store)
		p.wait(t)
		// every message was acknowledged, and so stored, by one of them
		distinct, dups := j.stats()
		assert.Equal(t, n, distinct)
		assert.Empty(t, j.missing(n))
		t.Logf("%d distinct, %d duplicates (resent after the restart)", distinct, dups)
	})

	t.Run("subscriber of its own broker (control)", func(t *testing.T) {
		const n = 50
		j := newJournal()
		b1, err := StartBroker(context.Background(), BrokerConfig{Listen: "127.0.0.1:0"})
		require.NoError(t, err)
		addr := b1.Addr()
		inside, release := make(chan struct{}), make(chan struct{})
		handler := func(m Message) error {
			if string(m.Payload) == msg(2) {
				close(inside)
				<-release
				return errors.New("the process died while storing")
			}
			return j.store(m)
		}
		id := uniqueID("twin")
		sub := dial(t, ClientConfig{URL: b1.URL(), ClientID: id,
			Subscriptions: []Subscription{{Filter: "lockstep/v1/lockers/+/event", QoS: 1, Handler: handler}}})
		pub := dial(t, ClientConfig{URL: b1.URL(), ClientID: uniqueID("hwsim"), ReconnectDelay: 20 * time.Millisecond})
		p := startProducer(t, pub, sessionTopic, n)
		<-inside
		p.wait(t)  // all acknowledged by the broker while the twin was still on message 2
		sub.kill() // the process dies: twin and broker
		require.NoError(t, b1.Close())
		close(release)

		b2 := restartBroker(t, addr, nil)
		dialTwin(t, b2.URL(), id, j)
		require.NoError(t, pub.Publish(context.Background(), sessionTopic, []byte("sentinel"), 1, false))
		j.waitUntil(t, 30*time.Second, "sentinel", func() bool { return j.has("sentinel") })
		assert.Len(t, j.missing(n), n-1, "everything after message 1 was acknowledged and lost")
	})
}

// TestOnPublishRefusal: when the consumer in the broker fails on a
// message, the broker does not acknowledge it: an MQTT 5 producer gets
// PUBACK 0x80 and Client.Publish sends it again until it is stored; an
// MQTT 3.1.1 producer is disconnected (it resends after reconnecting).
func TestOnPublishRefusal(t *testing.T) {
	j := newJournal()
	var attempts atomic.Int64
	consume := func(m Message) error {
		if string(m.Payload) == msg(3) && attempts.Add(1) <= 2 {
			return errors.New("journal: disk full")
		}
		return j.store(m)
	}
	b, err := StartBroker(context.Background(), BrokerConfig{Listen: "127.0.0.1:0", OnPublish: consume})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })

	pub := dial(t, ClientConfig{URL: b.URL()})
	p := startProducer(t, pub, sessionTopic, 5)
	p.wait(t)
	assert.Equal(t, int64(3), attempts.Load(), "refused twice, stored the third time")
	assert.Empty(t, j.missing(5))

	attempts.Store(0)
	c, _, rc := dialV3(t, b.URL(), "v3-producer", "", "", true)
	require.Zero(t, rc)
	c.write(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 1,
		TopicName: sessionTopic, Payload: []byte(msg(3))})
	if next := c.read().FixedHeader.Type; next != 0 { // mochi sends a DISCONNECT first
		assert.Equal(t, packets.Disconnect, next)
		assert.Zero(t, c.read().FixedHeader.Type, "connection closed, no PUBACK")
	}
}
