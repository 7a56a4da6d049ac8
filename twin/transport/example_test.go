package transport_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// A node publishes its retained status with a last will; the twin
// subscribes to every status topic and decodes what arrives.
func Example() {
	ctx := context.Background()
	broker, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer broker.Close()

	topics := wire.Topics{}
	twin, err := transport.Dial(ctx, transport.ClientConfig{URL: broker.URL(), ClientID: "twin-1"})
	if err != nil {
		panic(err)
	}
	defer twin.Close()
	got := make(chan wire.Envelope, 1)
	err = twin.Subscribe(ctx, wire.Shared("twin", topics.Filter(wire.KindNodeStatus)), wire.QoS, func(m transport.Message) {
		env, err := wire.Decode(m.Topic, m.Payload)
		if err != nil {
			fmt.Println("quarantine:", wire.ErrorReason(err))
			return
		}
		got <- env
	})
	if err != nil {
		panic(err)
	}

	at := model.Instant(1748856600000)
	will, _ := wire.Encode(wire.Envelope{Source: "lkr-12", Seq: 1, At: at,
		Body: wire.Status{State: wire.NodeOffline, Reason: wire.ReasonLWT, Session: 1}})
	online, _ := wire.Encode(wire.Envelope{Source: "lkr-12", Seq: 2, At: at,
		Body: wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 1}})
	node, err := transport.Dial(ctx, transport.ClientConfig{URL: broker.URL(),
		Will: &transport.Message{Topic: topics.NodeStatus("lkr-12"), Payload: will, QoS: wire.QoS, Retain: true}})
	if err != nil {
		panic(err)
	}
	defer node.Close()
	if err := node.Publish(ctx, topics.NodeStatus("lkr-12"), online, wire.QoS, true); err != nil {
		panic(err)
	}
	select {
	case env := <-got:
		st := env.Body.(wire.Status)
		fmt.Println(env.Source, env.Seq, st.State, st.Reason)
	case <-time.After(5 * time.Second):
		fmt.Println("timeout")
	}
	// Output: lkr-12 2 online connect
}

// A twin with a stable client id stops; an order is published while it is
// down; its next process resumes the session and receives the order, which
// the broker queued for it.
func Example_resumeSession() {
	ctx := context.Background()
	broker, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer broker.Close()
	dataDir, err := os.MkdirTemp("", "twin")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dataDir)
	id, err := transport.ClientIDForPath("lockstep-twin", dataDir)
	if err != nil {
		panic(err)
	}

	got := make(chan string, 1)
	cfg := transport.ClientConfig{URL: broker.URL(), ClientID: id,
		Subscriptions: []transport.Subscription{{Filter: wire.Topics{}.Filter(wire.KindOrder), QoS: wire.QoS,
			Handler: func(m transport.Message) error {
				got <- string(m.Payload) // the twin journals here, before the ack
				return nil
			}}}}
	twin, err := transport.Dial(ctx, cfg)
	if err != nil {
		panic(err)
	}
	_ = twin.Close() // the broker keeps the session (SessionExpiry, 1h by default)

	producer, err := transport.Dial(ctx, transport.ClientConfig{URL: broker.URL()})
	if err != nil {
		panic(err)
	}
	defer producer.Close()
	if err := producer.Publish(ctx, wire.Topics{}.Orders("mfc-north"), []byte("order O-1001"), wire.QoS, false); err != nil {
		panic(err)
	}

	twin, err = transport.Dial(ctx, cfg) // the next process, same data directory
	if err != nil {
		panic(err)
	}
	defer twin.Close()
	fmt.Println("resumed:", twin.Resumed())
	select {
	case p := <-got:
		fmt.Println(p)
	case <-time.After(5 * time.Second):
		fmt.Println("timeout")
	}
	// Output:
	// resumed: true
	// order O-1001
}
