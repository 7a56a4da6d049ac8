package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/scenarios"
)

// TestFitCommand: hwsim's capture of the quickstart, fitted and validated
// from the command line; the same input writes the same bytes; usage
// mistakes exit 2 with a reason.
func TestFitCommand(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "feed.ndjson")
	net := "../../scenarios/quickstart.yaml"
	code, _, errOut := lockstep(t, "hwsim", net, "--broker", "embedded", "--speed", "max", "--capture", capture, "--quiet")
	require.Equal(t, exitOK, code, errOut)

	out1, out2 := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	code, stdout, errOut := lockstep(t, "fit", "--network", net, "--replay", capture, "--out", out1)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, stdout, "wrote "+out1)
	code, _, errOut = lockstep(t, "fit", "--network", net, "--replay", capture, "--out", out2)
	require.Equal(t, exitOK, code, errOut)
	a, err := os.ReadFile(out1)
	require.NoError(t, err)
	b, err := os.ReadFile(out2)
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b), "byte-identical for the same input")
	_, err = scenarios.Load(out1)
	require.NoError(t, err, "the fitted scenario loads")

	js := filepath.Join(dir, "v.json")
	code, stdout, errOut = lockstep(t, "validate-fit", "--network", net, "--replay", capture, "--replications", "4", "--json", js)
	require.Equal(t, exitOK, code, errOut+stdout)
	assert.Contains(t, stdout, "PI of one period")
	var v struct {
		Checks []struct {
			Metric string `json:"metric"`
		} `json:"checks"`
	}
	raw, err := os.ReadFile(js)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &v))
	assert.NotEmpty(t, v.Checks)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"fit", "--network", net, "--replay", capture}, "--out"},
		{[]string{"fit", "--network", net, "--out", out1}, "exactly one of --data"},
		{[]string{"fit", "--network", net, "--replay", capture, "--data", dir, "--out", out1}, "exactly one of --data"},
		{[]string{"fit", "--network", net, "--replay", capture, "--out", out1, "--from", "March"}, "YYYY-MM-DD"},
		{[]string{"fit", "--network", net, "--replay", capture, "--out", out1, "--from", "2026-03-03", "--to", "2026-03-03"}, "is empty"},
		{[]string{"fit", "--network", net, "--data", dir, "--out", out1}, "no journal"},
		{[]string{"validate-fit", "--network", net, "--replay", capture, "--replications", "1"}, "at least 2"},
	} {
		code, _, errOut := lockstep(t, tc.args...)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}
