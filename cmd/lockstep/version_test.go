package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionLines(t *testing.T) {
	main := debug.Module{Path: "github.com/lockstep-sim/lockstep", Version: "(devel)"}
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "e0cd2724f0c1a2b3c4d5e6f708192a3b4c5d6e7f"},
		{Key: "vcs.time", Value: "2026-12-03T03:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	cases := []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   []string
		not    []string
	}{
		{"go build in a checkout", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: main, Settings: vcs},
			[]string{"lockstep devel\n", "module    github.com/lockstep-sim/lockstep (devel)\n",
				"revision  e0cd2724f0c1a2b3c4d5e6f708192a3b4c5d6e7f (modified)\n", "committed 2026-12-03T03:00:00Z\n",
				"go        go1.26.0 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"}, nil},
		{"clean checkout", "", &debug.BuildInfo{Main: main, Settings: vcs[:3]},
			[]string{"revision  e0cd2724f0c1a2b3c4d5e6f708192a3b4c5d6e7f\n"}, []string{"modified"}},
		{"go install @version", "", &debug.BuildInfo{Main: debug.Module{Path: main.Path, Version: "v1.4.0"}},
			[]string{"lockstep v1.4.0\n", "module    github.com/lockstep-sim/lockstep v1.4.0\n", "revision  unknown"}, nil},
		{"linked version wins", "v9.9.9", &debug.BuildInfo{Main: debug.Module{Path: main.Path, Version: "v1.4.0"}, Settings: vcs},
			[]string{"lockstep v9.9.9\n", "revision  e0cd2724"}, nil},
		{"no build information", "", nil, []string{"lockstep devel\n", "module    unknown\n", "revision  unknown"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			writeVersion(&b, c.linked, c.bi)
			for _, w := range c.want {
				assert.Contains(t, b.String(), w)
			}
			for _, n := range c.not {
				assert.NotContains(t, b.String(), n)
			}
			assert.True(t, strings.HasPrefix(b.String(), "lockstep "), "the first line stays `lockstep VERSION` (Dockerfile, deploy/k8s)")
		})
	}

	// the command itself, in this test binary
	code, out, errOut := lockstep(t, "version")
	require.Equal(t, exitOK, code, errOut)
	require.Regexp(t, `^lockstep \S+\nmodule    \S+`, out)
	require.Contains(t, out, "go        "+runtime.Version())
}
