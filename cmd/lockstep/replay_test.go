package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

// twin --replay of a file without a single capture line (empty, blank, or
// nothing but lines that are not capture records) is bad input: exit 2,
// naming the file and its first bad line, no summary of zeros on stdout. A
// capture with at least one record replays (exit 0), counting its bad lines.
func TestTwinReplayWithoutCaptureLine(t *testing.T) {
	dir := t.TempDir()
	record, err := wire.AppendCaptureLine(nil, wire.CaptureRecord{Topic: "lockstep/v1/nodes/L1/status", Payload: []byte(`{"x":1}`)})
	require.NoError(t, err)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"empty", "", "holds no capture line: the file is empty"},
		{"blank lines", "\n\n  \n", "holds no capture line: the file has only 3 blank lines"},
		{"not a capture", "hello\n{\"truth\": 1}\n", "none of its 2 non-blank lines is a capture record (first: wire: capture line 1: "},
		{"pretty-printed JSON", "{\n  \"topic\": \"x\"\n}\n", "none of its 3 non-blank lines is a capture record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := write(c.name+".ndjson", c.text)
			code, stdout, stderr := lockstep(t, "twin", "--network", quickstartYAML, "--replay", path, "--log-level", "error")
			require.Equal(t, exitUsage, code, stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, "--replay "+path+" "+"holds no capture line")
			require.Contains(t, stderr, c.want)
			require.Contains(t, stderr, "lockstep hwsim --capture")
		})
	}

	mixed := write("mixed.ndjson", "not a capture\n"+string(record))
	code, stdout, stderr := lockstep(t, "twin", "--network", quickstartYAML, "--replay", mixed, "--log-level", "error")
	require.Equal(t, exitOK, code, stderr)
	var sum struct {
		Records  int `json:"records"`
		BadLines int `json:"bad_capture_lines"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum))
	require.Equal(t, 1, sum.Records)
	require.Equal(t, 1, sum.BadLines)
}
