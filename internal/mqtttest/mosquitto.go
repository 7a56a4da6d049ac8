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

	"github.com/stretchr/testify/require"
)

// RequireEnv is the environment variable that turns a missing mosquitto
// from a skip into a failure when set to "1".
const RequireEnv = "LOCKSTEP_REQUIRE_MOSQUITTO"

// Required reports whether RequireEnv asks for mosquitto to be present.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// sbinPaths are where Debian and Homebrew-style installs put mosquitto,
// outside a user's PATH (a variable so the tests can hide them).
var sbinPaths = []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"}

// MosquittoPath finds the mosquitto binary on PATH or in the sbin folders
// Debian installs it to; "" when absent.
func MosquittoPath() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range sbinPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// StartMosquitto starts Mosquitto for t and returns its mqtt:// URL. extra
// is appended to the generated config (one directive per line). Without
// mosquitto it skips t, or fails it when Required (which also overrides
// -short).
func StartMosquitto(t testing.TB, extra string) string {
	t.Helper()
	const install = "install it with `apt-get install -y mosquitto` (Debian/Ubuntu) or `brew install mosquitto`"
	bin := MosquittoPath()
	if Required() {
		if bin == "" {
			t.Fatalf("mosquitto not installed but %s=1 requires this integration test to run; %s", RequireEnv, install)
		}
	} else {
		if testing.Short() {
			t.Skip("integration test; skipped in -short mode")
		}
		if bin == "" {
			t.Skipf("SKIPPED: mosquitto not installed; %s to run this integration test (%s=1 makes this a failure, as in CI)", install, RequireEnv)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil,
		"listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n%s", port, extra), 0o600))
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
