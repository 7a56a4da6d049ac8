package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// validate prints warnings to stderr with file:line and still exits 0; run
// prints them too.
func TestValidateWarnings(t *testing.T) {
	data, err := os.ReadFile("../../scenarios/quickstart.yaml")
	require.NoError(t, err)
	doc := strings.Replace(string(data), "nodes:\n", "nodes:\n  - {id: Z0, kind: locker, lat: 0, lng: 0, slots: {small: 1}}\n", 1)
	line := strings.Count(doc[:strings.Index(doc, "{id: Z0")], "\n") + 1
	f := filepath.Join(t.TempDir(), "warn.yaml")
	require.NoError(t, os.WriteFile(f, []byte(doc), 0o644))
	code, out, errOut := lockstep(t, "validate", f)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "OK "+f)
	require.Contains(t, errOut, f+":"+strconv.Itoa(line)+":5: warning: nodes[Z0]: the node is at 0,0")

	code, _, errOut = lockstep(t, "run", f, "--replications", "1", "--quiet", "--out", t.TempDir())
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, "warning: nodes[Z0]")
}
