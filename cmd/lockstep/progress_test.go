package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// fakeTerminal makes every writer a terminal and the bar appear after delay,
// for the length of the test.
func fakeTerminal(t *testing.T, delay time.Duration) {
	oldTerm, oldDelay := isTerminal, progressDelay
	isTerminal = func(io.Writer) bool { return true }
	progressDelay = delay
	t.Cleanup(func() { isTerminal, progressDelay = oldTerm, oldDelay })
}

// No bar with --quiet or when stderr is not a terminal; a nil bar is inert.
func TestProgressSilent(t *testing.T) {
	var buf bytes.Buffer
	require.Nil(t, newSimProgress(&buf, false, "x", 2, 6), "a buffer is not a terminal")
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	require.NoError(t, err)
	defer f.Close()
	require.Nil(t, newSimProgress(f, false, "x", 2, 6), "a file is not a terminal")

	fakeTerminal(t, 0)
	require.Nil(t, newSimProgress(&buf, true, "x", 2, 6), "--quiet")
	require.NotNil(t, newSimProgress(&buf, false, "x", 2, 6))
	var p *simProgress
	opt := experiment.Options{}
	p.hook(&opt)
	require.Nil(t, opt.Day)
	require.Nil(t, opt.Progress)
	p.finish()
	require.Zero(t, buf.Len())
}

// run and compare write nothing but their notes to a stderr that is not a
// terminal, even without --quiet.
func TestProgressNotOnNonTerminal(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := lockstep(t, "run", "../../scenarios/quickstart.yaml", "--out", filepath.Join(dir, "run"))
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "wrote "+filepath.Join(dir, "run", "results.json")+"\n", errOut)
	variant := filepath.Join(dir, "v.yaml")
	b, err := os.ReadFile("../../scenarios/quickstart.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(variant, []byte(strings.Replace(string(b), "name: quickstart", "name: v", 1)), 0o644))
	code, _, errOut = lockstep(t, "compare", "../../scenarios/quickstart.yaml", variant, "--out", filepath.Join(dir, "cmp"))
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "wrote "+filepath.Join(dir, "cmp", "compare.json")+"\n", errOut)
}

// On a terminal the bar counts every simulated day of every replication
// (replications × horizon days) and every replication, and shows both.
func TestProgressCountsDaysAndReplications(t *testing.T) {
	s, err := scenarios.Load("../../scenarios/quickstart.yaml") // horizon 3d
	require.NoError(t, err)
	opt := experiment.Options{Replications: 3, Workers: 2}
	reps, days, err := experiment.Work(s, opt)
	require.NoError(t, err)
	require.Equal(t, int64(3*3), days)

	fakeTerminal(t, 0)
	var buf bytes.Buffer
	p := newSimProgress(&buf, false, "simulating quickstart", reps, days)
	require.NotNil(t, p)
	p.hook(&opt)
	_, err = experiment.Run(context.Background(), s, opt)
	require.NoError(t, err)
	p.finish()
	require.Equal(t, days, p.days, "one step per simulated day")
	require.Equal(t, 3, p.reps)
	out := buf.String()
	require.Contains(t, out, "simulating quickstart: 0/3 replications, simulated days")
	require.Contains(t, out, "/9, ", "days done out of 9")
	require.Contains(t, out, "days/s")

	// work shorter than the delay draws nothing at all
	fakeTerminal(t, time.Hour)
	buf.Reset()
	opt = experiment.Options{Replications: 3}
	p = newSimProgress(&buf, false, "simulating quickstart", reps, days)
	p.hook(&opt)
	_, err = experiment.Run(context.Background(), s, opt)
	require.NoError(t, err)
	p.finish()
	require.Equal(t, days, p.days)
	require.Zero(t, buf.Len())
}
