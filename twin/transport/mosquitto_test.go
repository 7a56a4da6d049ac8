package transport

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mosquittoPath finds the mosquitto binary on PATH or in /usr/sbin.
func mosquittoPath() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestMosquittoRoundTrip runs the client against a real Mosquitto broker.
func TestMosquittoRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	bin := mosquittoPath()
	if bin == "" {
		t.Skip("SKIPPED: mosquitto not installed; install it with `apt-get install -y mosquitto` (Debian/Ubuntu) or `brew install mosquitto` to run this integration test")
	}
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil,
		"listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port), 0o600))
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("mosquitto output:\n%s", logs.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "mosquitto did not open port %d", port)

	url := "mqtt://" + addr
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
