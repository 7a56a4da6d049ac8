package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue15Change is the change of issue 15: both lockers' slots halved and
// two couriers instead of three, on a copy of the quickstart.
func issue15Change(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(quickstartYAML)
	require.NoError(t, err)
	s := string(data)
	const slots = "slots: {small: 16, medium: 24, large: 8}"
	require.Equal(t, 2, strings.Count(s, slots), "the quickstart's two lockers changed: update the issue 15 change")
	s = strings.ReplaceAll(s, slots, "slots: {small: 8, medium: 12, large: 4}")
	require.Contains(t, s, "  fleet: 3\n")
	s = strings.Replace(s, "  fleet: 3\n", "  fleet: 2\n", 1)
	path := filepath.Join(dir, "quickstart.yaml")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
	return path
}

// ciGateArgs returns the arguments of the lockstep check command in .ci/run
// with its scenarios replaced by scenarios, its baseline directory made
// relative to this package and its output files moved into dir.
func ciGateArgs(t *testing.T, dir string, scenarios ...string) []string {
	t.Helper()
	data, err := os.ReadFile("../../.ci/run")
	require.NoError(t, err)
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	var line string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimPrefix(strings.TrimSpace(l), "time ") // the gate is timed
		if strings.HasPrefix(l, "out/lockstep check ") {
			require.Empty(t, line, ".ci/run runs lockstep check twice")
			line = l
		}
	}
	require.NotEmpty(t, line, ".ci/run no longer runs out/lockstep check")
	fields := strings.Fields(line)[1:] // "check", then scenarios and flags
	args := []string{fields[0]}
	args = append(args, scenarios...)
	for i := 1; i < len(fields); i++ {
		a := fields[i]
		switch {
		case strings.HasSuffix(a, ".yaml"):
			continue // the scenarios: replaced
		case a == "--baseline":
			i++
			args = append(args, a, filepath.Join("../..", fields[i]))
		case a == "--junit" || a == "--markdown":
			i++
			args = append(args, a, filepath.Join(dir, filepath.Base(fields[i])))
		case strings.Contains(a, "="):
			t.Fatalf(".ci/run: write %s as two words, this test rewrites paths", a)
		default:
			args = append(args, a)
		}
	}
	require.Equal(t, "check", args[0])
	return args
}

// Issue 15, as filed: baseline a copy of the quickstart, halve both
// lockers' slots and take a courier away, check. The gate must fail (exit 1)
// and say so in the table, the Markdown and the JUnit file; and so must the
// gate .ci/run runs, with its own flags, against the committed baselines.
func TestIssue15ChangeFailsTheGate(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig")
	require.NoError(t, os.MkdirAll(orig, 0o755))
	data, err := os.ReadFile(quickstartYAML)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(orig, "quickstart.yaml"), data, 0o644))
	bl := filepath.Join(dir, "bl")
	code, stdout, stderr := lockstep(t, "baseline", filepath.Join(orig, "quickstart.yaml"), "--out", bl, "--quiet")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "100 replications", "the baseline is sized by the checks' power")
	changed := issue15Change(t, dir)

	t.Run("as filed", func(t *testing.T) {
		md, junit := filepath.Join(dir, "qs.md"), filepath.Join(dir, "qs.xml")
		code, stdout, stderr := lockstep(t, "check", changed, "--baseline", bl, "--markdown", md, "--junit", junit, "--quiet")
		require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		require.Regexp(t, `quickstart\s+reroutes\s+↓.*FAIL`, stdout)
		require.Contains(t, stdout, "FAIL quickstart reroutes: ")
		require.Contains(t, stderr, "SLA regression")
		text, err := os.ReadFile(md)
		require.NoError(t, err)
		require.Contains(t, string(text), "SLA regression")
		require.NotContains(t, string(text), "no SLA regression")
		require.True(t, failedMetrics(readJUnit(t, junit))["reroutes"])
	})

	t.Run(".ci/run's gate, committed baselines", func(t *testing.T) {
		args := ciGateArgs(t, dir, changed)
		code, stdout, stderr := lockstep(t, args...)
		require.Equal(t, exitFail, code, "lockstep %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), stdout, stderr)
		require.Contains(t, stdout, "FAIL quickstart reroutes: ")
	})

	t.Run(".ci/run's gate passes the unchanged quickstart", func(t *testing.T) {
		args := ciGateArgs(t, dir, quickstartYAML)
		code, stdout, stderr := lockstep(t, args...)
		require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		require.Contains(t, stdout, "0 failed, 0 inconclusive")
		require.NotContains(t, stdout, "note:", "the committed baselines are current (version 2)")
	})
}

// With the 2 replications the old gate compared, the same change is
// INCONCLUSIVE (not a pass): exit 3 and the word in every output, and the
// power it would need; --allow-inconclusive turns exit 3 into 0.
func TestCheckInconclusiveExitCode(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "bl")
	code, _, stderr := lockstep(t, "baseline", quickstartYAML, "--out", bl, "--quiet", "--max-replications", "2")
	require.Equal(t, exitOK, code, stderr)
	changed := issue15Change(t, dir)
	md, junit := filepath.Join(dir, "qs.md"), filepath.Join(dir, "qs.xml")

	code, stdout, stderr := lockstep(t, "check", changed, "--baseline", bl, "--markdown", md, "--junit", junit, "--quiet")
	require.Equal(t, exitInconclusive, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Regexp(t, `quickstart\s+reroutes\s+↓.*2/\d+.*underpowered\s+INCONCLUSIVE`, stdout)
	require.Contains(t, stdout, "INCONCLUSIVE quickstart reroutes: ")
	require.Contains(t, stdout, "not significant")
	require.Regexp(t, `needs \d+ replications .*at most 2 can run`, stdout)
	require.Contains(t, stderr, "inconclusive")
	require.Contains(t, stderr, "--allow-inconclusive")
	require.Regexp(t, `quickstart\s+returns\s+↓.*INCONCLUSIVE`, stdout)
	text, err := os.ReadFile(md)
	require.NoError(t, err)
	require.Contains(t, string(text), "inconclusive check(s)")
	require.Contains(t, string(text), "**INCONCLUSIVE**")
	doc := readJUnit(t, junit)
	require.Zero(t, doc.Failures)
	var inconclusive []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Error != nil {
				require.Contains(t, c.Error.Message, "INCONCLUSIVE")
				inconclusive = append(inconclusive, c.Name)
			}
		}
	}
	require.Contains(t, inconclusive, "reroutes")

	code, _, stderr = lockstep(t, "check", changed, "--baseline", bl, "--quiet", "--allow-inconclusive")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "inconclusive, accepted (--allow-inconclusive)")

	// a regression elsewhere wins over inconclusive: exit 1
	src, err := os.ReadFile(changed)
	require.NoError(t, err)
	other := filepath.Join(dir, "other.yaml")
	require.NoError(t, os.WriteFile(other, []byte(strings.Replace(string(src), "name: quickstart", "name: quickstart-b", 1)), 0o644))
	code, _, stderr = lockstep(t, "baseline", quickstartYAML, "--out", filepath.Join(dir, "full"), "--quiet")
	require.Equal(t, exitOK, code, stderr)
	b, err := os.ReadFile(filepath.Join(dir, "full", "quickstart.baseline.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bl, "quickstart-b.baseline.json"),
		[]byte(strings.Replace(string(b), `"scenario": "quickstart"`, `"scenario": "quickstart-b"`, 1)), 0o644))
	code, stdout, stderr = lockstep(t, "check", changed, other, "--baseline", bl, "--quiet")
	require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "INCONCLUSIVE quickstart reroutes: ")
	require.Contains(t, stdout, "FAIL quickstart-b reroutes: ")
}

// --max-replications caps a check below the baseline's replications: it
// compares the first n, and the table says so.
func TestCheckMaxReplications(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "bl")
	code, stdout, stderr := lockstep(t, "baseline", quickstartYAML, "--out", bl, "--quiet", "--max-replications", "12")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "12 replications")
	require.Regexp(t, `! +reroutes +underpowered: .* at most 12 can run`, stdout, "the plan names what stays underpowered")

	code, stdout, stderr = lockstep(t, "check", quickstartYAML, "--baseline", bl, "--quiet", "--max-replications", "5")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "quickstart: compared 5 replications (at most 5)")

	for _, bad := range [][]string{{"check", quickstartYAML, "--baseline", bl}, {"baseline", quickstartYAML, "--out", bl}} {
		for _, v := range []string{"1", "0", "-1"} {
			code, _, stderr := lockstep(t, append(bad, "--max-replications", v)...)
			require.Equal(t, exitUsage, code, "%v %s", bad, v)
			require.Contains(t, stderr, "--max-replications must be at least 2")
		}
	}
}

// A baseline file of version 1 (before n and the variance were recorded)
// still checks, with a note that says what to do.
func TestCheckReadsVersion1Baseline(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "bl")
	code, _, stderr := lockstep(t, "baseline", quickstartYAML, "--out", bl, "--quiet", "--max-replications", "4")
	require.Equal(t, exitOK, code, stderr)
	path := filepath.Join(bl, "quickstart.baseline.json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	v1 := regexp.MustCompile(`,"variance":[^,]+`).ReplaceAllString(string(data), "")
	v1 = strings.Replace(v1, `"baseline_version": 2`, `"baseline_version": 1`, 1)
	require.NotContains(t, v1, "variance")
	var probe map[string]any
	require.NoError(t, json.Unmarshal([]byte(v1), &probe))
	require.NoError(t, os.WriteFile(path, []byte(v1), 0o644))

	code, stdout, stderr := lockstep(t, "check", quickstartYAML, "--baseline", bl, "--quiet")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "note: quickstart: baseline file version 1 records no variance")
	assert.Contains(t, stdout, "regenerate the baseline with lockstep baseline")
}
