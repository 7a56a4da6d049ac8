package transport

import (
	"context"
	"fmt"
	"github.com/lockstep-sim/lockstep/internal/mqtttest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMosquittoRoundTrip runs the client against a real Mosquitto broker.
func TestMosquittoRoundTrip(t *testing.T) {
	url := mqtttest.StartMosquitto(t, "")
	ctx := context.Background()
	sub := dial(t, ClientConfig{URL: url})
	got := newCollector()
	require.NoError(t, sub.Subscribe(ctx, "lockstep/v1/#", 1, got.handle))
	shared := newCollector()
	sub2 := dial(t, ClientConfig{URL: url})
	require.NoError(t, sub2.Subscribe(ctx, "$share/twin/lockstep/v1/lockers/+/event", 1, shared.handle))

	pub := dial(t, ClientConfig{URL: url, Will: &Message{Topic: "lockstep/v1/nodes/lkr-1/status", Payload: []byte("lwt"), QoS: 1, Retain: true}})
	const n = 100
	for i := 1; i <= n; i++ {
		require.NoError(t, pub.Publish(ctx, "lockstep/v1/lockers/lkr-1/event", fmt.Appendf(nil, "%d", i), 1, false))
	}
	msgs := got.wait(t, n, 10*time.Second)
	for i, m := range msgs[:n] {
		require.Equal(t, strconv.Itoa(i+1), string(m.Payload))
	}
	shared.wait(t, n, 10*time.Second)

	pub.cm.TerminateConnectionForTest()
	msgs = got.wait(t, n+1, 10*time.Second)
	require.Equal(t, "lwt", string(msgs[n].Payload))
}
