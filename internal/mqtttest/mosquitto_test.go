package mqtttest

import (
	"testing"

	"github.com/lockstep-sim/lockstep/internal/testbin"
	"github.com/stretchr/testify/require"
)

// startWithout runs StartMosquitto with mosquitto hidden (an empty PATH, no
// sbin paths) and reports how it ended.
func startWithout(t *testing.T) testbin.Outcome {
	t.Setenv("PATH", t.TempDir())
	old := Mosquitto.Paths
	Mosquitto.Paths = nil
	t.Cleanup(func() { Mosquitto.Paths = old })
	require.Empty(t, Mosquitto.Path())
	return testbin.Record(t, func(tb testing.TB) { StartMosquitto(tb, "") })
}

// Without mosquitto: a skip that says how to install it, or, with
// LOCKSTEP_REQUIRE_MOSQUITTO=1 (CI), a failure; with or without -short.
func TestMissingMosquitto(t *testing.T) {
	t.Run("skip", func(t *testing.T) {
		t.Setenv(RequireEnv, "")
		r := startWithout(t)
		require.Empty(t, r.Failed)
		require.Contains(t, r.Skipped, "mosquitto not installed")
		require.Contains(t, r.Skipped, "apt-get install -y mosquitto")
	})
	t.Run("required", func(t *testing.T) {
		t.Setenv(RequireEnv, "1")
		r := startWithout(t)
		require.Empty(t, r.Skipped)
		require.Contains(t, r.Failed, "mosquitto not installed")
		require.Contains(t, r.Failed, RequireEnv+"=1")
	})
}

// With mosquitto installed (always in CI): it starts and accepts
// connections (StartMosquitto waits for its port).
func TestStartMosquitto(t *testing.T) {
	url := StartMosquitto(t, "")
	require.Regexp(t, `^mqtt://127\.0\.0\.1:\d+$`, url)
}
