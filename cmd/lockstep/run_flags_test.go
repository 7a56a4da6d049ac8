package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// --replications and --precision refuse values that mean nothing (exit 2,
// naming the flag) instead of silently falling back to the scenario's.
func TestRunRejectsBadReplicationsAndPrecision(t *testing.T) {
	out := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--replications", "0"}, "--replications must be at least 1 (got 0)"},
		{[]string{"--replications", "-1"}, "--replications must be at least 1 (got -1)"},
		{[]string{"--precision", "-1"}, `invalid argument "-1" for "--precision" flag: must be between 0 and 1`},
		{[]string{"--precision", "0"}, `invalid argument "0" for "--precision" flag: must be > 0`},
		{[]string{"--precision", "150%"}, "must be between 0 and 1 (0% to 100%) (got 150%)"},
		{[]string{"--precision", "5"}, "write 5% for a percentage"},
		{[]string{"--precision", "five"}, "must be a share like 0.2 or 20%"},
	} {
		code, stdout, stderr := lockstep(t, append([]string{"run", quickstartYAML, "--out", out, "--quiet"}, c.args...)...)
		require.Equal(t, exitUsage, code, "%v", c.args)
		require.Empty(t, stdout, "%v", c.args)
		require.Contains(t, stderr, c.want, "%v", c.args)
	}
	require.NoFileExists(t, filepath.Join(out, "results.json"), "nothing ran")
}

// --precision takes a percentage as in YAML: 2% is 0.02, and both move the
// precision target from the scenario's 5%.
func TestRunPrecisionPercent(t *testing.T) {
	var results [][]byte
	for _, p := range []string{"2%", "0.02", ""} {
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"run", quickstartYAML, "--replications", "3", "--out", out, "--quiet"}
		if p != "" {
			args = append(args, "--precision", p)
		}
		code, stdout, stderr := lockstep(t, args...)
		require.Equal(t, exitOK, code, stderr)
		target := "±2.0%"
		if p == "" {
			target = "±5.0%"
		}
		require.Contains(t, stdout, "precision target "+target, "--precision %q", p)
		b, err := os.ReadFile(filepath.Join(out, "results.json"))
		require.NoError(t, err)
		results = append(results, b)
	}
	require.Equal(t, string(results[0]), string(results[1]), "2% and 0.02 are the same")
	require.NotEqual(t, string(results[0]), string(results[2]), "the precision reaches results.json")
}

// run --report says where the report and the plots went, and they are there.
func TestRunReportSaysWhereItWrote(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := lockstep(t, "run", quickstartYAML, "--replications", "2", "--out", out, "--report")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "wrote "+filepath.Join(out, "results.json")+"\n")
	require.Contains(t, stderr, "wrote "+filepath.Join(out, "report.html")+"\n")
	require.FileExists(t, filepath.Join(out, "report.html"))
	png, err := filepath.Glob(filepath.Join(out, "plots", "*.png"))
	require.NoError(t, err)
	svg, err := filepath.Glob(filepath.Join(out, "plots", "*.svg"))
	require.NoError(t, err)
	require.NotEmpty(t, png)
	require.Len(t, svg, len(png))
	require.Contains(t, stderr, fmt.Sprintf("wrote %d plots as png and svg (%d files) to %s\n", len(png), 2*len(png), filepath.Join(out, "plots")+string(filepath.Separator)))

	// without --report: no such lines
	code, _, stderr = lockstep(t, "run", quickstartYAML, "--replications", "2", "--out", filepath.Join(t.TempDir(), "o"))
	require.Equal(t, exitOK, code, stderr)
	require.NotContains(t, stderr, "report.html")
	require.NotContains(t, stderr, "plots")
}

// compare and sweep take --replications as run does: 0 or below is a usage
// error, not a silent "the scenario's".
func TestCompareSweepRejectBadReplications(t *testing.T) {
	for _, cmd := range [][]string{
		{"compare", quickstartYAML, quickstartYAML},
		{"sweep", quickstartYAML, "--vary", "couriers.fleet=2,3"},
	} {
		for _, n := range []string{"0", "-1"} {
			args := append(append([]string{}, cmd...), "--out", t.TempDir(), "--replications", n)
			code, _, stderr := lockstep(t, args...)
			require.Equal(t, exitUsage, code, "%v", args)
			require.Contains(t, stderr, "--replications must be at least 1 (got "+n+")", "%v", args)
		}
	}
}
