package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTwinBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"twin", "--network", "../../scenarios/quickstart.yaml"}, &out, &errb))
	assert.Equal(t, 2, run([]string{"twin", "--network", "../../scenarios/quickstart.yaml", "--replay", "x", "--http", "0.0.0.0:0"}, &out, &errb))
	assert.Contains(t, errb.String(), "token")
	assert.Equal(t, 2, run([]string{"twin", "--replay", "x"}, &out, &errb))
	errb.Reset()
	assert.Equal(t, 2, run([]string{"twin", "--network", "../../scenarios/quickstart.yaml", "--replay", "x", "--max-past", "-1h"}, &out, &errb))
	assert.Contains(t, errb.String(), "--max-past")
}

// The time flags are documented in --help.
func TestTwinTimeHelp(t *testing.T) {
	code, out, _ := lockstep(t, "twin", "--help")
	require.Equal(t, exitOK, code)
	for _, f := range []string{"--max-past duration", "--max-future duration", "--source-idle duration", "--clock string", "timezone"} {
		assert.Contains(t, out, f)
	}
}

// TestTwinTimezone: the network file's timezone is not ignored. hwsim's
// capture of the quickstart city (Berlin) replays without a divergence
// with the Berlin network file; the same file in UTC or Tokyo reads the
// same real instants on another local clock (partners closed, other
// deadlines) and diverges, each differently.
func TestTwinTimezone(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	dir := t.TempDir()
	capture := filepath.Join(dir, "feed.ndjson")
	code, _, errOut := lockstep(t, "hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--speed", "max",
		"--capture", capture, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	src, err := os.ReadFile("../../scenarios/quickstart.yaml")
	require.NoError(t, err)
	reports := map[string]string{}
	for _, zone := range []string{"Europe/Berlin", "UTC", "Asia/Tokyo"} {
		network := filepath.Join(dir, strings.ReplaceAll(zone, "/", "-")+".yaml")
		require.NoError(t, os.WriteFile(network, bytes.Replace(src, []byte("timezone: Europe/Berlin"), []byte("timezone: "+zone), 1), 0o644))
		report := network + ".report"
		code, _, errOut := lockstep(t, "twin", "--network", network, "--replay", capture, "--report", report, "--log-level", "error")
		require.Equal(t, exitOK, code, errOut)
		b, err := os.ReadFile(report)
		require.NoError(t, err)
		reports[zone] = string(b)
	}
	assert.Empty(t, reports["Europe/Berlin"], "the city's own zone")
	assert.NotEmpty(t, reports["UTC"])
	assert.NotEmpty(t, reports["Asia/Tokyo"])
	assert.NotEqual(t, reports["UTC"], reports["Asia/Tokyo"])
}

// The HTTP API's flags: a token shorter than 16 bytes (flag or
// environment) and a TLS certificate without its key, or the other way
// round, are bad input (exit 2), and the error does not repeat the token.
func TestTwinHTTPFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"short token", []string{"--token", "short-secret"}, "", "at least 16 bytes"},
		{"short token from the environment", nil, "short-secret", "at least 16 bytes"},
		{"certificate without key", []string{"--http-tls-cert", "cert.pem"}, "", "give both the certificate and the key"},
		{"key without certificate", []string{"--http-tls-key", "key.pem"}, "", "give both the certificate and the key"},
		{"unreadable certificate", []string{"--http-tls-cert", "nope.pem", "--http-tls-key", "nope.pem"}, "", "http api tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LOCKSTEP_TWIN_TOKEN", tc.env)
			var out, errb bytes.Buffer
			args := append([]string{"twin", "--network", "../../scenarios/quickstart.yaml", "--replay", "x", "--http", "127.0.0.1:0"}, tc.args...)
			assert.Equal(t, 2, run(args, &out, &errb))
			assert.Contains(t, errb.String(), tc.want)
			assert.NotContains(t, errb.String(), "short-secret")
		})
	}
}

// The flags of the connection to the broker: each applies to its kind of
// broker only, and a bad value is bad input (exit 2) before anything
// connects; credentials are read from a file or a variable, and an error
// about them never shows their content.
func TestTwinBrokerFlags(t *testing.T) {
	dir := t.TempDir()
	noColon := filepath.Join(dir, "no-colon")
	require.NoError(t, os.WriteFile(noColon, []byte("hunter2-secret\n"), 0o600))
	url := "mqtt://127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--replay", "x", "--client-id", "twin-a"}, "--client-id applies to an external broker"},
		{[]string{"--broker", "embedded", "--credentials-file", noColon}, "--credentials-file applies to an external broker"},
		{[]string{"--broker", "embedded", "--session-expiry", "2h"}, "--session-expiry applies to an external broker"},
		{[]string{"--broker", url, "--broker-listen", "127.0.0.1:1884"}, "--broker-listen applies to --broker embedded"},
		{[]string{"--broker", "embedded", "--broker-listen", "0.0.0.0:1883"}, "loopback only"},
		{[]string{"--broker", "embedded", "--broker-listen", "1883"}, "want host:port"},
		{[]string{"--broker", url, "--session-expiry", "-1s"}, "--session-expiry must be >= 0"},
		{[]string{"--broker", url, "--client-id", "twin a"}, `--client-id "twin a"`},
		{[]string{"--broker", url, "--credentials-env", "LOCKSTEP_TEST_UNSET_CREDENTIALS"}, "LOCKSTEP_TEST_UNSET_CREDENTIALS is not set"},
		{[]string{"--broker", url, "--credentials-file", noColon}, "want username:password"},
		{[]string{"--broker", url, "--credentials-file", noColon, "--credentials-env", "X"}, "not both"},
		{[]string{"--broker", "http://broker"}, "scheme must be"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, exitUsage, run(append([]string{"twin", "--network", "../../scenarios/quickstart.yaml"}, tc.args...), &out, &errb))
			assert.Contains(t, errb.String(), tc.want)
			assert.NotContains(t, errb.String(), "hunter2")
		})
	}
	code, out, _ := lockstep(t, "twin", "--help")
	require.Equal(t, exitOK, code)
	for _, f := range []string{"--client-id string", "--session-expiry duration", "--credentials-file string", "--credentials-env string",
		"--ca-file string", "--broker-listen string", "max_queued_messages"} {
		assert.Contains(t, out, f)
	}
}

// TestTwinCrash builds the binary, makes a capture with hwsim, replays it
// with --data and kill -9s the twin at 6 seeded points of its progress,
// restarting it each time; the final label states and divergence report
// equal an uninterrupted run's, byte for byte. The crashed runs snapshot
// every 1000 records, and each is killed once it has logged a snapshot
// covering its seeded number of records (it goes on working until the
// signal lands), so every restart resumes from a snapshot and re-applies
// the journal after it.
func TestTwinCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	scen := "../../scenarios/quickstart.yaml"
	capture := filepath.Join(dir, "capture.ndjson")
	hw := exec.Command(bin, "hwsim", scen, "--broker", "embedded", "--speed", "max", "--capture", capture, "--quiet",
		"--duplicate", "0.02", "--drop", "0.01", "--reorder", "0.02", "--malformed", "0.01")
	hw.Stderr = os.Stderr
	require.NoError(t, hw.Run())
	twinArgs := func(data, report, states string) []string {
		return []string{"twin", "--network", scen, "--replay", capture, "--window", "30h", "--data", data, "--fsync=false",
			"--report", report, "--states", states, "--log-level", "info", "--snapshot-every", "1000"}
	}
	ref := filepath.Join(dir, "ref")
	require.NoError(t, exec.Command(bin, twinArgs(ref, ref+".report", ref+".states")...).Run())

	data := filepath.Join(dir, "crash")
	rng := rand.New(rand.NewPCG(8, 8))
	for k := range 6 { // the capture has over 10 000 records
		target := uint64(1000*(k+1) + rng.IntN(1000))
		cmd := exec.Command(bin, twinArgs(data, data+".report", data+".states")...)
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		reached := snapshotReached(stderr, target)
		require.NoError(t, cmd.Process.Signal(os.Kill))
		_ = cmd.Wait()
		require.True(t, reached, "run %d ended before a snapshot of %d records", k, target)
	}
	out, err := exec.Command(bin, twinArgs(data, data+".report", data+".states")...).CombinedOutput()
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

// snapshotReached reads the twin's JSON log until it reports a snapshot
// covering at least n journal records (true) or ends (false).
func snapshotReached(log io.Reader, n uint64) bool {
	sc := bufio.NewScanner(log)
	for sc.Scan() {
		var line struct {
			Msg     string `json:"msg"`
			Records uint64 `json:"records"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "snapshot" && line.Records >= n {
			return true
		}
	}
	return false
}
