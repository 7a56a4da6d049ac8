package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func lockstep(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestValidate(t *testing.T) {
	code, out, errOut := lockstep(t, "validate", "../../scenarios/quickstart.yaml", "../../scenarios/pilot-5-neighborhoods.yaml")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "OK ../../scenarios/quickstart.yaml")
	require.Contains(t, out, "OK ../../scenarios/pilot-5-neighborhoods.yaml")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: x\nhorizon: 3d\nwarmup: 5d\ncolour: red\n"), 0o644))
	code, out, errOut = lockstep(t, "validate", bad)
	require.Equal(t, exitUsage, code)
	require.Empty(t, out)
	require.Contains(t, errOut, bad+":4:1: colour: unknown field")
	require.Contains(t, errOut, bad+":3:")
	require.Contains(t, errOut, "warmup")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"run"}, {"run", "a.yaml", "--nope"}, {"frobnicate"}, {"validate"},
		{"run", "../../scenarios/quickstart.yaml", "--format", "xml"}, {"run", "/does/not/exist.yaml"}} {
		code, _, errOut := lockstep(t, args...)
		require.Equal(t, exitUsage, code, "%v: %s", args, errOut)
		require.NotEmpty(t, errOut)
	}
	code, out, _ := lockstep(t, "version")
	require.Equal(t, exitOK, code)
	require.True(t, strings.HasPrefix(out, "lockstep "))
	code, out, _ = lockstep(t, "--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "Exit codes")
}

// Same file and seed give byte-identical results.json, whatever the worker
// count and GOMAXPROCS.
func TestRunDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var outs [][]byte
	for _, c := range []struct {
		procs   int
		workers string
	}{{1, "1"}, {2, "2"}, {2, "3"}} {
		runtime.GOMAXPROCS(c.procs)
		dir := t.TempDir()
		code, stdout, errOut := lockstep(t, "run", "../../scenarios/quickstart.yaml", "--replications", "4", "--workers", c.workers, "--out", dir, "--quiet")
		require.Equal(t, exitOK, code, errOut)
		require.Contains(t, stdout, "pickup_success_rate")
		b, err := os.ReadFile(filepath.Join(dir, "results.json"))
		require.NoError(t, err)
		outs = append(outs, b)
	}
	require.Equal(t, outs[0], outs[1])
	require.Equal(t, outs[0], outs[2])
	// and a different seed changes it
	dir := t.TempDir()
	code, _, errOut := lockstep(t, "run", "../../scenarios/quickstart.yaml", "--replications", "4", "--seed", "99", "--out", dir, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	require.NotEqual(t, outs[0], b)
}

func TestRunJSONFormat(t *testing.T) {
	dir := t.TempDir()
	code, stdout, errOut := lockstep(t, "run", "../../scenarios/quickstart.yaml", "--format", "json", "--out", dir, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	require.Equal(t, string(b), stdout)
}

func TestCompareAndReport(t *testing.T) {
	dir := t.TempDir()
	variant := filepath.Join(dir, "variant.yaml")
	b, err := os.ReadFile("../../scenarios/quickstart.yaml")
	require.NoError(t, err)
	v := strings.Replace(string(b), "name: quickstart", "name: quickstart-variant", 1)
	require.NotEqual(t, string(b), v)
	require.NoError(t, os.WriteFile(variant, []byte(v), 0o644))
	out := filepath.Join(dir, "out")
	code, stdout, errOut := lockstep(t, "compare", "../../scenarios/quickstart.yaml", variant, "--replications", "3", "--out", out, "--report", "--quiet")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, stdout, "pickup_success_rate")
	for _, f := range []string{"compare.json", "compare.csv", "report.html", "quickstart/results.json", "quickstart-variant/results.json",
		"plots/locker-occupancy.png", "plots/courier-utilization.png", "plots/locker-occupancy.svg", "plots/courier-utilization.svg"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(html), `id="plot-locker-occupancy"`)
	require.Contains(t, string(html), `id="plot-courier-utilization"`)
	require.NotContains(t, string(html), "Not drawn", "--report records the trace, so every plot is drawn")
	// identical designs under common random numbers: every difference is zero
	cj, err := os.ReadFile(filepath.Join(out, "compare.json"))
	require.NoError(t, err)
	require.NotContains(t, string(cj), `"verdict": "better"`)
	require.NotContains(t, string(cj), `"verdict": "worse"`)
	// report regenerates from the directory
	require.NoError(t, os.Remove(filepath.Join(out, "report.html")))
	code, stdout, errOut = lockstep(t, "report", out)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, stdout, "report.html")
	require.FileExists(t, filepath.Join(out, "report.html"))
	code, _, _ = lockstep(t, "report", t.TempDir())
	require.Equal(t, exitUsage, code)
	code, _, _ = lockstep(t, "compare", "../../scenarios/quickstart.yaml", "../../scenarios/quickstart.yaml")
	require.Equal(t, exitUsage, code, "two scenarios with one name are ambiguous")
}
