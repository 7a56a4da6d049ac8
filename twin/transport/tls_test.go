package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sim/lockstep/internal/testcert"
	"github.com/stretchr/testify/require"
)

// TestTLS runs the client against the embedded broker with a TLS listener:
// over mqtts:// with the right CA file a QoS 1 round trip works; plain
// mqtt:// to the same port does not connect; with a CA that did not sign
// the server's certificate Dial fails fast with an error that says so,
// well before its deadline.
func TestTLS(t *testing.T) {
	ca := testcert.NewCA(t, "lockstep-test-ca")
	b, err := StartBroker(context.Background(), BrokerConfig{
		Listen: "127.0.0.1:0",
		TLS:    &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t)}, MinVersion: tls.VersionTLS12},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	url := b.URL()
	require.True(t, strings.HasPrefix(url, "mqtts://127.0.0.1:"), url)

	t.Run("round trip", func(t *testing.T) {
		ctx := context.Background()
		sub := dial(t, ClientConfig{URL: url, CAFile: ca.File})
		got := newCollector()
		require.NoError(t, sub.Subscribe(ctx, "lockstep/v1/scanners/+/scan", 1, got.handle))
		// the tls:// spelling of the scheme works too
		pub := dial(t, ClientConfig{URL: "tls://" + b.Addr(), CAFile: ca.File})
		const n = 20
		for i := 1; i <= n; i++ {
			require.NoError(t, pub.Publish(ctx, "lockstep/v1/scanners/scn-1/scan", fmt.Appendf(nil, "%d", i), 1, false))
		}
		msgs := got.wait(t, n, 10*time.Second)
		for i, m := range msgs[:n] {
			require.Equal(t, "lockstep/v1/scanners/scn-1/scan", m.Topic)
			require.Equal(t, fmt.Sprint(i+1), string(m.Payload))
			require.EqualValues(t, 1, m.QoS)
		}
	})

	t.Run("plain mqtt is not accepted", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		c, err := Dial(ctx, ClientConfig{URL: "mqtt://" + b.Addr(), ReconnectDelay: 200 * time.Millisecond})
		if err == nil {
			_ = c.Close()
		}
		require.Error(t, err)
	})

	t.Run("wrong CA", func(t *testing.T) {
		other := testcert.NewCA(t, "some-other-ca")
		const limit = 5 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		start := time.Now()
		c, err := Dial(ctx, ClientConfig{URL: url, CAFile: other.File})
		if err == nil {
			_ = c.Close()
		}
		require.Error(t, err)
		require.ErrorContains(t, err, "TLS certificate not trusted")
		require.ErrorContains(t, err, "unknown authority")
		require.NotErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), limit/2, "Dial should fail fast, not retry until the deadline")
		t.Log(err)
	})
}

// A TLS config without a certificate is refused up front, and TLS does
// not relax the listen policy: a non-loopback address still needs users.
func TestBrokerTLSConfig(t *testing.T) {
	_, err := StartBroker(context.Background(), BrokerConfig{Listen: "127.0.0.1:0", TLS: &tls.Config{}})
	require.ErrorContains(t, err, "no certificate")
	ca := testcert.NewCA(t, "lockstep-test-ca")
	_, err = StartBroker(context.Background(), BrokerConfig{Listen: "0.0.0.0:0",
		TLS: &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t)}}})
	require.ErrorContains(t, err, "refusing to listen on non-loopback address")
}
