package mqtttest

import (
	"testing"

	"github.com/lockstep-sim/lockstep/internal/testbin"
	"github.com/stretchr/testify/require"
)

// Without mosquitto: a skip that says how to install it (apt-get install -y
// mosquitto), or, with LOCKSTEP_REQUIRE_MOSQUITTO=1 (CI), a failure.
func TestMissingMosquitto(t *testing.T) {
	require.Contains(t, Mosquitto.Install, "apt-get install -y mosquitto")
	require.Equal(t, "LOCKSTEP_REQUIRE_MOSQUITTO", Mosquitto.Env)
	testbin.CheckMissing(t, &Mosquitto, func(tb testing.TB) { StartMosquitto(tb, "") })
}

// With mosquitto installed (always in CI): it starts and accepts
// connections (StartMosquitto waits for its port).
func TestStartMosquitto(t *testing.T) {
	url := StartMosquitto(t, "")
	require.Regexp(t, `^mqtt://127\.0\.0\.1:\d+$`, url)
}

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				_, _ = b.Write([]byte("x"))
			}
		}()
	}
	for range 4 {
		<-done
	}
	require.Len(t, b.String(), 400)
}
