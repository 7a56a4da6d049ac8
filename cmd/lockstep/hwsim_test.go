package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func TestHwsimEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	dir := t.TempDir()
	capture, truth := filepath.Join(dir, "feed.ndjson"), filepath.Join(dir, "truth.json")
	code, out, errOut := lockstep(t, "hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--speed", "max",
		"--faults", "../../scenarios/faults/flaky.yaml", "--drop", "0.01", "--capture", capture, "--truth", truth, "--heartbeat", "15m")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "published ")
	require.Contains(t, out, "faults: ")
	tr, err := hwsim.ReadTruthFile(truth)
	require.NoError(t, err)
	require.Equal(t, 0.01, tr.Faults.Drop)      // the flag overrides the file
	require.Equal(t, 0.01, tr.Faults.Duplicate) // the file's
	require.NotEmpty(t, tr.Labels)
	require.NotEmpty(t, tr.Dropped)
	fh, err := os.Open(capture)
	require.NoError(t, err)
	defer fh.Close()
	cr := wire.NewCaptureReader(fh)
	n := 0
	for {
		if _, err := cr.Next(); err != nil {
			break
		}
		n++
	}
	require.EqualValues(t, tr.Counts.Published, n)
}

func TestHwsimBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "faults.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("drop: 0.1\nlosses: 3\n"), 0o644))
	for _, args := range [][]string{
		{"hwsim", "../../scenarios/quickstart.yaml"}, // no --broker
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--speed", "fast"},
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--speed", "-3"},
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--max-skew", "0"},
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--max-skew", "-1s"},
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--max-skew", "soon"},
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--faults", bad},
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--drop", "2"},
		{"hwsim", "../../scenarios/quickstart.yaml", "--broker", "http://x"},
		{"hwsim", "/does/not/exist.yaml", "--broker", "embedded"},
	} {
		code, _, errOut := lockstep(t, args...)
		require.Equal(t, exitUsage, code, "%v: %s", args, errOut)
		require.NotEmpty(t, errOut)
	}
	code, out, _ := lockstep(t, "hwsim", "--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "--speed max")
	require.Contains(t, out, "--max-skew")
}

// TestHwsimCaptureReplays: the quick start's hwsim capture at --speed max
// replays through the twin with its default --window: no late message, no
// divergence.
func TestHwsimCaptureReplays(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	dir := t.TempDir()
	capture, report := filepath.Join(dir, "feed.ndjson"), filepath.Join(dir, "divergences.ndjson")
	code, _, errOut := lockstep(t, "hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--speed", "max",
		"--capture", capture, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut := lockstep(t, "twin", "--network", "../../scenarios/quickstart.yaml", "--replay", capture,
		"--report", report, "--log-level", "error")
	require.Equal(t, exitOK, code, errOut)
	var sum struct {
		Records  uint64 `json:"records"`
		Counters struct {
			Accepted    uint64            `json:"accepted"`
			Late        uint64            `json:"late"`
			Divergences map[string]uint64 `json:"divergences"`
		} `json:"counters"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	require.Positive(t, sum.Records)
	require.Equal(t, sum.Records, sum.Counters.Accepted)
	require.Zero(t, sum.Counters.Late)
	require.Empty(t, sum.Counters.Divergences)
	divs, err := os.ReadFile(report)
	require.NoError(t, err)
	require.Empty(t, divs)
}

func TestBrokerRefusesOpenListener(t *testing.T) {
	code, _, errOut := lockstep(t, "broker", "--listen", "0.0.0.0:0")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "non-loopback")
	require.Contains(t, errOut, "--users-file")

	empty := filepath.Join(t.TempDir(), "users")
	require.NoError(t, os.WriteFile(empty, []byte("# nobody\n"), 0o600))
	code, _, errOut = lockstep(t, "broker", "--listen", "0.0.0.0:0", "--users-file", empty)
	require.Equal(t, exitUsage, code)
	require.True(t, strings.Contains(errOut, "no users"), errOut)

	code, _, _ = lockstep(t, "broker", "--listen", "nonsense")
	require.Equal(t, exitUsage, code)
	code, out, _ := lockstep(t, "broker", "--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "--users-file")
	require.Contains(t, out, "--tls-cert")

	// TLS: both files or neither; unreadable or mismatched files are bad input
	code, _, errOut = lockstep(t, "broker", "--tls-cert", "cert.pem")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "go together")
	junk := filepath.Join(t.TempDir(), "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("not a certificate"), 0o600))
	code, _, errOut = lockstep(t, "broker", "--tls-cert", junk, "--tls-key", junk)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "--tls-cert "+junk)
}
