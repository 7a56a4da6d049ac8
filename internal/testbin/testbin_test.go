package testbin

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setShort sets -test.short for the rest of t (whatever go test was given).
func setShort(t *testing.T, on bool) {
	f := flag.Lookup("test.short")
	require.NotNil(t, f)
	old := f.Value.String()
	require.NoError(t, f.Value.Set(map[bool]string{true: "true", false: "false"}[on]))
	t.Cleanup(func() { _ = f.Value.Set(old) })
	require.Equal(t, on, testing.Short())
}

// TestNeed walks the rules of the package comment with a program that is
// absent and one that is present (an executable file outside PATH), with and
// without -short and the variable.
func TestNeed(t *testing.T) {
	present := filepath.Join(t.TempDir(), "fakebin")
	require.NoError(t, os.WriteFile(present, []byte("#!/bin/sh\n"), 0o755))
	prog := func(paths ...string) *Program {
		return &Program{Name: "lockstep-testbin-fake", Paths: paths, Env: "LOCKSTEP_REQUIRE_FAKE",
			Install: "`apt-get install -y fake`", Purpose: "the fake check"}
	}
	for _, c := range []struct {
		name           string
		paths          []string
		short, require bool
		path           string // returned
		skip, fail     []string
	}{
		{name: "missing", skip: []string{"SKIPPED: lockstep-testbin-fake not installed", "apt-get install -y fake", "to run the fake check", "LOCKSTEP_REQUIRE_FAKE=1 makes this a failure"}},
		{name: "missing -short", short: true, skip: []string{"lockstep-testbin-fake not installed", "apt-get install -y fake"}},
		{name: "missing required", require: true, fail: []string{"lockstep-testbin-fake not installed but LOCKSTEP_REQUIRE_FAKE=1 requires the fake check to run", "apt-get install -y fake"}},
		{name: "missing required -short", short: true, require: true, fail: []string{"LOCKSTEP_REQUIRE_FAKE=1 requires"}},
		{name: "present", paths: []string{"/nonexistent/fakebin", present}, path: present},
		{name: "present -short", paths: []string{present}, short: true, skip: []string{"SKIPPED in -short mode: the fake check starts lockstep-testbin-fake"}},
		{name: "present required -short", paths: []string{present}, short: true, require: true, path: present},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("LOCKSTEP_REQUIRE_FAKE", map[bool]string{true: "1", false: ""}[c.require])
			setShort(t, c.short)
			p := prog(c.paths...)
			assert.Equal(t, c.require, p.Required())
			var got string
			out := Record(t, func(tb testing.TB) { got = p.Need(tb) })
			for _, s := range c.skip {
				assert.Contains(t, out.Skipped, s)
			}
			for _, s := range c.fail {
				assert.Contains(t, out.Failed, s)
			}
			if c.skip == nil {
				assert.Empty(t, out.Skipped)
			}
			if c.fail == nil {
				assert.Empty(t, out.Failed)
			}
			assert.Equal(t, c.path, got)
		})
	}
}

// A program on PATH wins over Paths; a variable other than "1" does not
// require it.
func TestPath(t *testing.T) {
	dir := t.TempDir()
	onPath := filepath.Join(dir, "lockstep-testbin-fake")
	require.NoError(t, os.WriteFile(onPath, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("PATH", dir)
	p := &Program{Name: "lockstep-testbin-fake", Paths: []string{"/bin/sh"}, Env: "LOCKSTEP_REQUIRE_FAKE"}
	assert.Equal(t, onPath, p.Path())
	t.Setenv("LOCKSTEP_REQUIRE_FAKE", "true")
	assert.False(t, p.Required())
	assert.False(t, (&Program{Name: "x"}).Required(), "no variable: never required")
}

// Record sees each way of ending a test, and nothing when f returns.
func TestRecord(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(tb testing.TB)
		want Outcome
	}{
		{"returns", func(tb testing.TB) {}, Outcome{}},
		{"Skip", func(tb testing.TB) { tb.Skip("a", 1); tb.Error("not reached") }, Outcome{Skipped: "a1"}},
		{"SkipNow", func(tb testing.TB) { tb.SkipNow() }, Outcome{Skipped: "SkipNow"}},
		{"Fatal", func(tb testing.TB) { tb.Fatal("b"); tb.Error("not reached") }, Outcome{Failed: "b"}},
		{"Error then FailNow", func(tb testing.TB) { tb.Errorf("c%d", 2); tb.FailNow() }, Outcome{Failed: "c2"}},
		{"FailNow", func(tb testing.TB) { tb.FailNow() }, Outcome{Failed: "FailNow"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Record(t, c.f))
		})
	}
}
