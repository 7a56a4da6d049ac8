// Package testbin finds the external programs some tests run (a real
// Mosquitto, headless Chromium) and decides, in one place, what such a test
// does when its program is missing.
//
// A Program names the binary, where it is installed outside PATH, how to
// install it and the environment variable that makes it mandatory. Need
// returns its path, or ends the test:
//
//	program missing, variable unset    skip, saying how to install it
//	program missing, variable "1"      fail (CI sets the variable, so CI
//	                                   cannot pass without the test)
//	present, -short, variable unset    skip (it starts an external program)
//	present otherwise                  the path; the test runs
//
// A plain go test ./... prints no skip message (go test -v does), which is
// why CI turns a missing program into a failure instead.
//
// Record runs a function against a testing.TB that records a skip or a
// failure instead of ending the test, so the tests of these rules can watch
// them happen; CheckMissing uses it to check both modes of a program's
// users with the program hidden.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// Program is an external program a test needs.
type Program struct {
	// Name is the binary looked up on PATH, e.g. "mosquitto".
	Name string
	// Paths are tried in order when Name is not on PATH (Debian puts
	// mosquitto in /usr/sbin, outside a user's PATH).
	Paths []string
	// Env set to "1" turns a missing program into a test failure; it also
	// overrides -short.
	Env string
	// Install says how to install the program, e.g. "`apt-get install -y
	// chromium` (Debian)".
	Install string
	// Purpose names what needs it, e.g. "this integration test".
	Purpose string
}

// Path is where the program is installed: the first match on PATH, else
// the first of Paths that exists; "" when absent.
func (p *Program) Path() string {
	if p, err := exec.LookPath(p.Name); err == nil {
		return p
	}
	for _, path := range p.Paths {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return ""
}

// Required reports whether p.Env asks for the program to be present.
func (p *Program) Required() bool { return p.Env != "" && os.Getenv(p.Env) == "1" }

// Need returns the program's path for t, or skips or fails t by the rules
// in the package comment.
func (p *Program) Need(t testing.TB) string {
	t.Helper()
	bin := p.Path()
	switch {
	case bin == "" && p.Required():
		t.Fatalf("%s not installed but %s=1 requires %s to run; install it with %s", p.Name, p.Env, p.Purpose, p.Install)
	case bin == "":
		t.Skipf("SKIPPED: %s not installed; install it with %s to run %s (%s=1 makes this a failure, as in CI)", p.Name, p.Install, p.Purpose, p.Env)
	case testing.Short() && !p.Required():
		t.Skipf("SKIPPED in -short mode: %s starts %s", p.Purpose, p.Name)
	}
	return bin
}

// CheckMissing hides p for the rest of t (an empty PATH, no Paths) and
// checks what use, a user of p.Need, does without it: skips saying how to
// install it, or, with p.Env=1, fails naming the variable.
func CheckMissing(t *testing.T, p *Program, use func(tb testing.TB)) {
	t.Helper()
	t.Setenv("PATH", t.TempDir())
	old := p.Paths
	p.Paths = nil
	t.Cleanup(func() { p.Paths = old })
	require.Empty(t, p.Path())
	t.Run("skip", func(t *testing.T) {
		t.Setenv(p.Env, "")
		r := Record(t, use)
		require.Empty(t, r.Failed)
		require.Contains(t, r.Skipped, p.Name+" not installed")
		require.Contains(t, r.Skipped, p.Install)
	})
	t.Run("required", func(t *testing.T) {
		t.Setenv(p.Env, "1")
		r := Record(t, use)
		require.Empty(t, r.Skipped)
		require.Contains(t, r.Failed, p.Name+" not installed")
		require.Contains(t, r.Failed, p.Env+"=1")
	})
}

// Outcome is what Record saw: the skip or failure message ("" when none).
type Outcome struct {
	Skipped, Failed string
}

// Record runs f against a testing.TB built on t that records a skip or a
// failure instead of acting on it: Skip*, Fatal* and FailNow end f's
// goroutine as the real ones do, Error* records and carries on. Everything
// else (TempDir, Setenv, Cleanup, ...) goes to t.
func Record(t *testing.T, f func(tb testing.TB)) Outcome {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.out
}

type recorder struct {
	testing.TB
	out Outcome
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) { r.skip(fmt.Sprint(args...)) }

func (r *recorder) Skipf(format string, args ...any) { r.skip(fmt.Sprintf(format, args...)) }

func (r *recorder) SkipNow() { r.skip("SkipNow") }

func (r *recorder) skip(msg string) {
	r.out.Skipped = msg
	runtime.Goexit()
}

func (r *recorder) Error(args ...any) { r.out.Failed += fmt.Sprint(args...) }

func (r *recorder) Errorf(format string, args ...any) { r.out.Failed += fmt.Sprintf(format, args...) }

func (r *recorder) Fatal(args ...any) { r.Error(args...); r.FailNow() }

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); r.FailNow() }

func (r *recorder) FailNow() {
	if r.out.Failed == "" {
		r.out.Failed = "FailNow"
	}
	runtime.Goexit()
}

// Chromium is headless Chromium for purpose (e.g. "the check that
// report.html renders in a browser"): Debian's package installs
// /usr/bin/chromium. LOCKSTEP_REQUIRE_CHROMIUM=1, which .ci/run sets, turns
// a missing browser into a failure instead of a skip.
func Chromium(purpose string) Program {
	return Program{
		Name:    "chromium",
		Paths:   []string{"/usr/bin/chromium"},
		Env:     "LOCKSTEP_REQUIRE_CHROMIUM",
		Install: "`apt-get install -y chromium` (the Debian package \"chromium\")",
		Purpose: purpose,
	}
}
