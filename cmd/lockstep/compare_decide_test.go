package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
)

// smallLockers writes a variant of the quickstart with a tenth of the
// lockers' slots and a 4-day horizon into dir.
func smallLockers(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("../../scenarios/quickstart.yaml")
	require.NoError(t, err)
	s := strings.ReplaceAll(string(b), "slots: {small: 16, medium: 24, large: 8}", "slots: {small: 2, medium: 3, large: 1}")
	s = strings.Replace(s, "name: quickstart", "name: small-lockers", 1)
	s = strings.Replace(s, "horizon: 3d ", "horizon: 4d ", 1)
	p := filepath.Join(dir, "small.yaml")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	return p
}

// compare --select end to end: the decision leads stdout and compare.json,
// the parameters that differ are the YAML paths changed, the horizon
// warning shows, and the selection names the design with more slots with
// its guarantee.
func TestCompareSelectCLI(t *testing.T) {
	dir := t.TempDir()
	small := smallLockers(t, dir)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := lockstep(t, "compare", "../../scenarios/quickstart.yaml", small, "--out", out, "--quiet",
		"--select", "pickup_success_rate", "--delta", "0.02", "--n0", "5", "--max-replications", "200")
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "DECISION"), stdout)
	assert.Contains(t, stdout, "WARNING: horizons differ: quickstart 3d, small-lockers 4d")
	assert.Contains(t, stdout, "nodes[L1].slots.small: 16 | 2")
	assert.Contains(t, stdout, "selection on pickup_success_rate: quickstart is the best")

	b, err := os.ReadFile(filepath.Join(out, "compare.json"))
	require.NoError(t, err)
	var cmp results.Comparison
	require.NoError(t, json.Unmarshal(b, &cmp))
	require.NotNil(t, cmp.Headline)
	require.NotNil(t, cmp.Headline.Selection)
	sel := cmp.Headline.Selection
	assert.Equal(t, "quickstart", sel.Best)
	assert.True(t, sel.Guaranteed)
	assert.Equal(t, 0.95, sel.PCS)
	assert.Equal(t, 5, sel.N0)
	var paths []string
	for _, p := range cmp.Headline.Parameters {
		paths = append(paths, p.Path)
	}
	assert.Equal(t, []string{"horizon", "nodes[L1].slots.small", "nodes[L1].slots.medium", "nodes[L1].slots.large",
		"nodes[L2].slots.small", "nodes[L2].slots.medium", "nodes[L2].slots.large"}, paths)
	// the headline comes before the metrics in compare.json
	assert.Less(t, strings.Index(string(b), `"headline"`), strings.Index(string(b), `"metrics"`))

	// the same command gives the same bytes
	out2 := filepath.Join(dir, "out2")
	code, _, stderr = lockstep(t, "compare", "../../scenarios/quickstart.yaml", small, "--out", out2, "--quiet", "--workers", "1",
		"--select", "pickup_success_rate", "--delta", "0.02", "--n0", "5", "--max-replications", "200")
	require.Equal(t, exitOK, code, stderr)
	b2, err := os.ReadFile(filepath.Join(out2, "compare.json"))
	require.NoError(t, err)
	assert.Equal(t, string(b), string(b2), "compare.json with --select is deterministic, whatever --workers")
}

func TestCompareSelectFlagErrors(t *testing.T) {
	qs := "../../scenarios/quickstart.yaml"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--select", "fcpo"}, "--select needs --delta"},
		{[]string{"--select", "fcpo", "--delta", "0"}, "--delta must be a positive number"},
		{[]string{"--select", "fcpo", "--delta", "-1"}, "--delta must be a positive number"},
		{[]string{"--select", "fcpo", "--delta", "1", "--pcs", "1"}, "--pcs must be in (0, 1)"},
		{[]string{"--select", "fcpo", "--delta", "1", "--n0", "1"}, "--n0 must be at least 2"},
		{[]string{"--select", "fcpo", "--delta", "1", "--n0", "20", "--max-replications", "10"}, "below --n0"},
		{[]string{"--select", "fcpoo", "--delta", "1"}, "not a catalog metric"},
		{[]string{"--delta", "1"}, "--delta needs --select METRIC"},
	} {
		args := append([]string{"compare", qs, qs, "--quiet", "--out", t.TempDir()}, c.args...)
		code, _, stderr := lockstep(t, args...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Contains(t, stderr, c.want, "%v", c.args)
	}
}
