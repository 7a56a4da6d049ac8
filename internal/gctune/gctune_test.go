package gctune

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	// a tuner with 32 MiB of headroom (Default has 16: ExampleTuner_Percent)
	wide := Tuner{Floor: 32 * mib, Min: 10, Max: 100}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100},          // nothing measured yet: the default
		{1, 100},          // tiny heap: Max
		{16 * mib, 100},   // 32 MiB of headroom would be 200 %: capped
		{32 * mib, 100},   // exactly Max
		{32*mib + 1, 100}, // a hair above 32 MiB rounds up to 100
		{33 * mib, 97},    // 97.0 %, rounded up
		{48 * mib, 67},    // two thirds, rounded up
		{64*mib - 1, 51},  // just under half
		{64 * mib, 50},    // half
		{100 * mib, 32},   // 32 MiB is 32 % of 100 MiB
		{256 * mib, 13},   // 12.5 %, rounded up
		{320 * mib, 10},   // 10 %: Min
		{1024 * mib, 10},  // 3.1 %, raised to Min
		{6400 * mib, 10},  // 0.5 %: Min
		{1<<63 + 1, 10},   // no overflow at the top
	} {
		require.Equal(t, c.want, wide.Percent(c.live), "live %d", c.live)
	}
	// A tuner of its own bounds.
	tight := Tuner{Floor: 8 * mib, Min: 10, Max: 80}
	require.Equal(t, 80, tight.Percent(1*mib))
	require.Equal(t, 20, tight.Percent(40*mib))
	require.Equal(t, 10, tight.Percent(800*mib))
}

// gogc reads the GOGC in force from the runtime.
func gogc(t *testing.T) int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	require.Equal(t, metrics.KindUint64, s[0].Value.Kind())
	return int(s[0].Value.Uint64())
}

// After a collection with a large live heap, the tuner lowers GOGC to keep
// the headroom at Floor; once the heap is small again it puts back Max; and
// stop restores what was in force before.
func TestStartFollowsTheLiveHeap(t *testing.T) {
	before := gogc(t)
	tuner := Tuner{Floor: 4 << 20, Min: 25, Max: 100}
	set := make(chan int, 64)
	stop := tuner.start(func(p int) { set <- p })

	// waitFor collects until the tuner reports want: a finalizer runs
	// after the cycle that found its sentinel dead, so a cycle or two
	// may pass before the report.
	waitFor := func(want int) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			runtime.GC()
			select {
			case p := <-set:
				if p == want {
					require.Equal(t, want, gogc(t))
					return
				}
			case <-deadline:
				t.Fatalf("GOGC never became %d (now %d)", want, gogc(t))
			}
		}
	}

	live := make([]byte, 64<<20) // 4 MiB is 6 % of it: Min
	for i := range live {
		live[i] = byte(i)
	}
	waitFor(25)
	runtime.KeepAlive(live)
	live = nil
	waitFor(100)

	stop()
	require.Equal(t, before, gogc(t))
	stop() // a second stop is harmless
	require.Equal(t, before, gogc(t))
}

// The user's own setting wins: with GOGC or GOMEMLIMIT in the environment
// Start leaves GOGC alone.
func TestStartLeavesTheUsersSetting(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}[env])
			before := gogc(t)
			stop := Tuner{Floor: 1, Min: 5, Max: 5}.Start()
			defer stop()
			live := make([]byte, 8<<20)
			runtime.GC()
			runtime.GC()
			runtime.KeepAlive(live)
			require.Equal(t, before, gogc(t))
		})
	}
}
