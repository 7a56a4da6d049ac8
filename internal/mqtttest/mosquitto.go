package mqtttest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lockstep-sim/lockstep/internal/testbin"
	"github.com/stretchr/testify/require"
)

// RequireEnv is the environment variable that turns a missing mosquitto
// from a skip into a failure when set to "1".
const RequireEnv = "LOCKSTEP_REQUIRE_MOSQUITTO"

// Mosquitto is the broker binary: on PATH, or where Debian and
// Homebrew-style installs put it, outside a user's PATH (a variable so the
// tests can hide it).
var Mosquitto = testbin.Program{
	Name:    "mosquitto",
	Paths:   []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"},
	Env:     RequireEnv,
	Install: "`apt-get install -y mosquitto` (Debian/Ubuntu) or `brew install mosquitto`",
	Purpose: "this integration test",
}

// StartMosquitto starts Mosquitto for t and returns its mqtt:// URL. extra
// is appended to the generated config (one directive per line). Without
// mosquitto, or with -short, it skips t, or fails it when required
// (Mosquitto.Need).
func StartMosquitto(t testing.TB, extra string) string {
	t.Helper()
	bin := Mosquitto.Need(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	// set_tcp_nodelay: without it Mosquitto's small writes (PUBACKs) wait
	// for the client's delayed ACK, up to 40 ms each time a publisher's
	// pipeline drains (hwsim's event-time gate drains it often).
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil,
		"listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n%s", port, extra), 0o600))
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
	return "mqtt://" + addr
}
