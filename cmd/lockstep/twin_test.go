package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTwinBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"twin", "--network", "../../scenarios/quickstart.yaml"}, &out, &errb))
	assert.Equal(t, 2, run([]string{"twin", "--network", "../../scenarios/quickstart.yaml", "--replay", "x", "--http", "0.0.0.0:0"}, &out, &errb))
	assert.Contains(t, errb.String(), "token")
	assert.Equal(t, 2, run([]string{"twin", "--replay", "x"}, &out, &errb))
}

// TestTwinCrash builds the binary, makes a capture with hwsim, replays it
// with --data and kill -9s the twin at 6 seeded random points, restarting
// it each time; the final label states and divergence report equal an
// uninterrupted run's, byte for byte. The crashed runs snapshot every 2000
// records, so restarts resume from snapshots.
func TestTwinCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lockstep")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	scen := "../../scenarios/quickstart.yaml"
	capture := filepath.Join(dir, "capture.ndjson")
	hw := exec.Command(bin, "hwsim", scen, "--broker", "embedded", "--speed", "max", "--capture", capture, "--quiet",
		"--duplicate", "0.02", "--drop", "0.01", "--reorder", "0.02", "--malformed", "0.01")
	hw.Stderr = os.Stderr
	require.NoError(t, hw.Run())
	twinArgs := func(data, report, states string) []string {
		return []string{"twin", "--network", scen, "--replay", capture, "--window", "30h", "--data", data, "--fsync=false",
			"--report", report, "--states", states, "--log-level", "error", "--snapshot-every", "2000"}
	}
	ref := filepath.Join(dir, "ref")
	require.NoError(t, exec.Command(bin, twinArgs(ref, ref+".report", ref+".states")...).Run())
	start := time.Now()
	require.NoError(t, exec.Command(bin, twinArgs(filepath.Join(dir, "timing"), filepath.Join(dir, "t.r"), filepath.Join(dir, "t.s"))...).Run())
	full := time.Since(start)

	data := filepath.Join(dir, "crash")
	rng := rand.New(rand.NewPCG(8, 8))
	kills := 0
	for kills < 6 {
		cmd := exec.Command(bin, twinArgs(data, data+".report", data+".states")...)
		require.NoError(t, cmd.Start())
		time.Sleep(time.Duration(rng.Int64N(int64(full))))
		if err := cmd.Process.Signal(os.Kill); err == nil {
			kills++
		}
		_ = cmd.Wait()
	}
	out, err := exec.Command(bin, append(twinArgs(data, data+".report", data+".states"), "--log-level", "info")...).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Regexp(t, `"msg":"journal restored".*"from_snapshot":[1-9]`, string(out), "the last restart resumed from a snapshot")
	for _, ext := range []string{".report", ".states"} {
		want, err := os.ReadFile(ref + ext)
		require.NoError(t, err)
		got, err := os.ReadFile(data + ext)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), ext)
		assert.NotEmpty(t, want)
	}
}
