package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
)

const (
	pilotYAML      = "../../scenarios/pilot-5-neighborhoods.yaml"
	quickstartYAML = "../../scenarios/quickstart.yaml"
)

// variant writes a copy of the scenario file at src into dir/name with every
// replacement applied; each old string must occur, so a change to the bundled
// file fails here instead of silently testing the unchanged scenario.
func variant(t *testing.T, dir, name, src string, repl ...string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	s := string(data)
	for i := 0; i+1 < len(repl); i += 2 {
		require.Contains(t, s, repl[i], "%s no longer contains %q: update the variant", src, repl[i])
		s = strings.Replace(s, repl[i], repl[i+1], 1)
	}
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
	return path
}

// removeNode cuts the node with the given id (up to the next list entry or
// comment block) out of a scenario's text.
func removeNode(t *testing.T, src, id, nextID string) (old string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	s := string(data)
	i := strings.Index(s, "  - id: "+id+"\n")
	j := strings.Index(s, "  - id: "+nextID+"\n")
	require.True(t, i >= 0 && j > i, "node %s or %s not found in %s", id, nextID, src)
	return s[i:j]
}

type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc junitDoc
	require.NoError(t, xml.Unmarshal(data, &doc), "JUnit file is not valid XML")
	// counts agree with the test cases
	tests, failures, errs := 0, 0, 0
	for _, s := range doc.Suites {
		f := 0
		for _, c := range s.Cases {
			tests++
			if c.Failure != nil {
				failures++
				f++
			}
			if c.Error != nil {
				errs++
			}
		}
		require.Equal(t, len(s.Cases), s.Tests, "suite %s tests", s.Name)
		require.Equal(t, f, s.Failures, "suite %s failures", s.Name)
	}
	require.Equal(t, tests, doc.Tests)
	require.Equal(t, failures, doc.Failures)
	require.Equal(t, errs, doc.Errors)
	return doc
}

func failedMetrics(doc junitDoc) map[string]bool {
	out := map[string]bool{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				out[c.Name] = true
			}
		}
	}
	return out
}

// shortPilot is the bundled pilot over 14 days with 3 replications: the same
// city and effects at a third of the cost (the race detector slows the
// simulator down about tenfold). Its baselines are made with
// --max-replications 3 (pilotCap), so they hold 3 replications as well.
func shortPilot(t *testing.T, dir string) string {
	return variant(t, dir, "pilot.yaml", pilotYAML, "\nhorizon: 30d", "\nhorizon: 14d", "\nreplications: 5", "\nreplications: 3")
}

var pilotCap = []string{"--max-replications", "3"}

func TestBaselineByteIdenticalAndUnchangedPasses(t *testing.T) {
	dir := t.TempDir()
	pilotYAML := shortPilot(t, dir)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, out := range []string{a, b} {
		code, stdout, stderr := lockstep(t, "baseline", quickstartYAML, "--out", out, "--quiet")
		require.Equal(t, exitOK, code, stderr)
		require.Contains(t, stdout, "quickstart.baseline.json")
		code, _, stderr = lockstep(t, append([]string{"baseline", pilotYAML, "--out", out, "--quiet"}, pilotCap...)...)
		require.Equal(t, exitOK, code, stderr)
	}
	for _, name := range []string{"quickstart.baseline.json", "pilot-5-neighborhoods.baseline.json"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, name))
		require.NoError(t, err)
		require.Equal(t, string(x), string(y), "rerun gives a different %s", name)
		bl, err := results.ReadBaselineFile(filepath.Join(a, name))
		require.NoError(t, err)
		// a header, then per metric a line of fixed fields and one value per replication
		require.Less(t, len(x), 4<<10+len(bl.Metrics)*(200+25*bl.Replications), "%s should stay small enough to review", name)
	}

	junit, md := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "check.md")
	code, stdout, stderr := lockstep(t, "check", quickstartYAML, pilotYAML, "--baseline", a, "--junit", junit, "--markdown", md, "--quiet")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "16 checks passed, 0 failed, 0 inconclusive")
	require.NotContains(t, stdout, "FAIL")
	doc := readJUnit(t, junit)
	require.Zero(t, doc.Failures)
	require.Len(t, doc.Suites, 2)
	var pass, fail, unsure, info int
	_, err := fmt.Sscanf(stdout[strings.LastIndex(strings.TrimSpace(stdout), "\n")+1:], "%d checks passed, %d failed, %d inconclusive, %d reported only", &pass, &fail, &unsure, &info)
	require.NoError(t, err, stdout)
	require.Equal(t, pass+fail+unsure+info, doc.Tests) // one testcase per scenario × metric
	require.Zero(t, unsure)
	require.Equal(t, 2*len(results.DefaultCheckedMetrics), pass)
	mdText, err := os.ReadFile(md)
	require.NoError(t, err)
	require.Contains(t, string(mdText), "no SLA regression")
}

// On a terminal, baseline and check draw their progress bar on the
// command's stderr.
func TestBaselineAndCheckProgress(t *testing.T) {
	fakeTerminal(t, 0)
	dir := t.TempDir()
	code, stdout, stderr := lockstep(t, "baseline", quickstartYAML, "--out", dir, "--max-replications", "20")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "quickstart.baseline.json")
	// a pilot of 10 replications for the variance, then up to the power's need (capped)
	assert.Contains(t, stderr, "simulating quickstart: 0/10 replications, simulated days")
	assert.Contains(t, stderr, "simulating quickstart (replications 11-20): 0/10 replications, simulated days")
	code, _, stderr = lockstep(t, "check", quickstartYAML, "--baseline", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "simulating quickstart: 0/20 replications, simulated days")
}

// Degraded variants of the pilot fail on the metrics they should fail on and
// say so; an improved variant passes. Baselines are made here, in a temp dir,
// so the test does not depend on the committed numbers.
func TestCheckDegradedAndImprovedVariants(t *testing.T) {
	dir := t.TempDir()
	pilotYAML := shortPilot(t, dir)
	base := filepath.Join(dir, "baselines")
	code, _, stderr := lockstep(t, append([]string{"baseline", pilotYAML, "--out", base, "--quiet"}, pilotCap...)...)
	require.Equal(t, exitOK, code, stderr)

	cases := []struct {
		name     string
		file     string
		mustFail []string // checked metrics that must fail
		mustPass []string // checked metrics that must not fail
	}{
		{
			name:     "half the courier fleet",
			file:     variant(t, dir, "fleet.yaml", pilotYAML, "  fleet: 36\n", "  fleet: 18\n"),
			mustFail: []string{"pickup_success_rate", "on_time_ready_rate", "fcpo", "refunds"},
		},
		{
			name: "ready-for-pickup TTL halved",
			// the constant halved (and the ready_ttl rules, should the pilot use them)
			file: variant(t, dir, "ttl.yaml", pilotYAML, "    ready_for_pickup: 24h\n", "    ready_for_pickup: 12h\n",
				"ttl: 18h}", "ttl: 9h}", "ttl: 36h}", "ttl: 18h}", "ttl: 36h}", "ttl: 18h}"),
			mustFail: []string{"pickup_success_rate", "reroutes", "returns"},
			// (pickup friction is not asserted: parcels leave the locker
			// sooner, but their reroute trips now compete for the couriers)
		},
		{
			name:     "a locker removed",
			file:     variant(t, dir, "locker.yaml", pilotYAML, removeNode(t, pilotYAML, "L02", "L03"), ""),
			mustFail: []string{"pickup_success_rate", "on_time_ready_rate", "reroutes", "returns"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			junit := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".xml")
			code, stdout, stderr := lockstep(t, "check", c.file, "--baseline", base, "--junit", junit, "--quiet")
			require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			failed := failedMetrics(readJUnit(t, junit))
			for _, m := range c.mustFail {
				assert.True(t, failed[m], "%s should fail on %s; failed: %v", c.name, m, failed)
				assert.Contains(t, stdout, "FAIL pilot-5-neighborhoods "+m+": ", "the failure text names %s", m)
				assert.Contains(t, stderr, "pilot-5-neighborhoods "+m, "the exit message names %s", m)
			}
			for _, m := range c.mustPass {
				assert.False(t, failed[m], "%s should not fail on %s", c.name, m)
			}
			for m := range failed { // neutral metrics never fail
				assert.NotContains(t, []string{"orders", "courier_utilization", "locker_occupancy", "in_flight"}, m)
			}
		})
	}

	t.Run("improved: cheaper couriers, faster reroutes", func(t *testing.T) {
		better := variant(t, dir, "better.yaml", pilotYAML,
			"  cost_per_hour: 19.5\n", "  cost_per_hour: 16\n",
			"  reroute: {cost: 3.5, delay: 45m}", "  reroute: {cost: 2.5, delay: 20m}")
		code, stdout, stderr := lockstep(t, "check", better, "--baseline", base, "--quiet")
		require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		require.Regexp(t, `pilot-5-neighborhoods\s+fcpo\s+↓\s+\S+\s+\S+\s+-`, stdout, "fcpo should go down")
	})

	t.Run("tolerances from the checks section", func(t *testing.T) {
		// the same half fleet, with a checks section that accepts it on
		// everything but refunds
		loose := variant(t, dir, "loose.yaml", pilotYAML, "  fleet: 36\n", "  fleet: 18\n")
		f, err := os.OpenFile(loose, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		// (half the fleet cannot also ride the reroute and return trips:
		// pickup success falls to ~0.1, fcpo triples)
		_, err = f.WriteString("\nchecks:\n  metrics:\n    pickup_success_rate: {absolute: 0.9}\n" +
			"    on_time_ready_rate: {skip: true}\n    fcpo: {absolute: 40, significance: none}\n    cancelled: {skip: true}\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		junit := filepath.Join(dir, "loose.xml")
		code, stdout, stderr := lockstep(t, "check", loose, "--baseline", base, "--junit", junit, "--quiet")
		require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		require.Equal(t, map[string]bool{"refunds": true}, failedMetrics(readJUnit(t, junit)))
		require.Regexp(t, `pickup_success_rate\s+↑.*±0\.9\s+3/\S+.*PASS`, stdout)
		require.Regexp(t, `on_time_ready_rate\s+↑.*–\s+INFO`, stdout)
	})
}

func TestCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "baselines")
	code, _, stderr := lockstep(t, "baseline", quickstartYAML, "--out", base, "--quiet", "--max-replications", "4")
	require.Equal(t, exitOK, code, stderr)

	garbage := filepath.Join(dir, "garbage")
	require.NoError(t, os.MkdirAll(garbage, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(garbage, "quickstart.baseline.json"), []byte("{not json"), 0o644))

	cases := []struct {
		name     string
		args     []string
		contains []string
	}{
		{"missing baseline", []string{"check", quickstartYAML, "--baseline", filepath.Join(dir, "none")},
			[]string{"no baseline at", "lockstep baseline " + quickstartYAML + " --out " + filepath.Join(dir, "none")}},
		{"unreadable baseline", []string{"check", quickstartYAML, "--baseline", garbage},
			[]string{"cannot read the baseline", "lockstep baseline " + quickstartYAML}},
		{"seed changed", []string{"check", variant(t, dir, "seed.yaml", quickstartYAML, "seed: 7", "seed: 8"), "--baseline", base},
			[]string{"changed shape", "seed 7 in the baseline, 8"}},
		{"horizon changed", []string{"check", variant(t, dir, "horizon.yaml", quickstartYAML, "horizon: 3d ", "horizon: 4d "), "--baseline", base},
			[]string{"changed shape", "horizon 3d in the baseline, 4d now"}},
		{"invalid scenario", []string{"check", variant(t, dir, "bad.yaml", quickstartYAML, "seed: 7", "seed: 7\ncolour: red"), "--baseline", base},
			[]string{"colour: unknown field"}},
		{"unknown metric in checks", []string{"check", variant(t, dir, "typo.yaml", quickstartYAML, "seed: 7", "seed: 7\nchecks:\n  metrics:\n    fcpox: {relative: 3%}"), "--baseline", base},
			[]string{`checks.metrics.fcpox: unknown metric (did you mean "fcpo"?)`}},
		{"neutral metric in checks", []string{"check", variant(t, dir, "neutral.yaml", quickstartYAML, "seed: 7", "seed: 7\nchecks:\n  metrics:\n    courier_utilization: {absolute: 0.1}"), "--baseline", base},
			[]string{"courier_utilization is neutral"}},
		{"bad significance", []string{"check", variant(t, dir, "sig.yaml", quickstartYAML, "seed: 7", "seed: 7\nchecks:\n  significance: maybe"), "--baseline", base},
			[]string{"checks.significance: must be paired, overlap or none"}},
		{"no scenario", []string{"check"}, []string{"requires at least 1 arg"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			junit := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".xml")
			code, _, stderr := lockstep(t, append(c.args, "--quiet", "--junit", junit)...)
			require.Equal(t, exitUsage, code, stderr)
			for _, s := range c.contains {
				require.Contains(t, stderr, s)
			}
			if len(c.args) > 1 { // the JUnit file shows the error too
				doc := readJUnit(t, junit)
				require.Equal(t, 1, doc.Errors)
			}
		})
	}

	// the same checks are bad input for baseline too
	code, _, stderr = lockstep(t, "baseline", variant(t, dir, "typo2.yaml", quickstartYAML, "seed: 7", "seed: 7\nchecks:\n  metrics:\n    fcpox: {relative: 3%}"), "--out", filepath.Join(dir, "x"))
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "fcpox")
}
