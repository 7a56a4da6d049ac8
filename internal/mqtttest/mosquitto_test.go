package mqtttest

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records a skip or a fatal failure instead
// of acting on it (both end the goroutine, as the real ones do).
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func startWithout(t *testing.T) *recorder {
	t.Setenv("PATH", t.TempDir())
	old := sbinPaths
	sbinPaths = nil
	t.Cleanup(func() { sbinPaths = old })
	require.Empty(t, MosquittoPath())
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartMosquitto(r, "")
	}()
	<-done
	return r
}

// Without mosquitto: a skip that says how to install it, or, with
// LOCKSTEP_REQUIRE_MOSQUITTO=1 (CI), a failure.
func TestMissingMosquitto(t *testing.T) {
	t.Run("skip", func(t *testing.T) {
		t.Setenv(RequireEnv, "")
		r := startWithout(t)
		require.Empty(t, r.failed)
		require.Contains(t, r.skipped, "mosquitto not installed")
		require.Contains(t, r.skipped, "apt-get install -y mosquitto")
	})
	t.Run("required", func(t *testing.T) {
		t.Setenv(RequireEnv, "1")
		r := startWithout(t)
		require.Empty(t, r.skipped)
		require.Contains(t, r.failed, "mosquitto not installed")
		require.Contains(t, r.failed, RequireEnv+"=1")
	})
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
