package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeBlock is one ```sh block of the README: its commands, continuation
// lines joined and comments dropped.
type readmeBlock struct {
	line     int // of the opening fence
	commands []string
}

func readmeBlocks(t *testing.T, readme string) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	var cur *readmeBlock
	var pending string
	for i, line := range strings.Split(readme, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case cur == nil && trim == "```sh":
			cur = &readmeBlock{line: i + 1}
		case cur != nil && trim == "```":
			require.Empty(t, pending, "README line %d: a command ends with a backslash", i)
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			if trim == "" || strings.HasPrefix(trim, "#") {
				continue
			}
			if strings.HasSuffix(trim, "\\") {
				pending += strings.TrimSuffix(trim, "\\") + " "
				continue
			}
			cur.commands = append(cur.commands, pending+trim)
			pending = ""
		}
	}
	require.Nil(t, cur, "README: a ```sh block is not closed")
	return blocks
}

// TestREADMEBlocksRun runs every command of every ```sh block of the README
// as written, block by block, each block in a fresh directory that has the
// repository's scenarios and nothing else (a fresh clone: no out/). A
// `go run ./cmd/lockstep ARGS` line runs the command in process with ARGS
// and must exit 0; the files it names with --out, --capture, --truth,
// --states (and twin's --report) must exist afterwards; a --replay file must
// be one an earlier command of the same block wrote. `go test -race` lines
// are checked against .ci/run by TestREADMECommands rather than run here
// (this test is part of that suite). Arguments are split on blanks, so the
// README's commands must not quote.
func TestREADMEBlocksRun(t *testing.T) {
	blocks := readmeBlocks(t, readRepoFile(t, "README.md"))
	require.GreaterOrEqual(t, len(blocks), 3, "the two commands and the two quick starts")
	scen, err := filepath.Abs("../../scenarios")
	require.NoError(t, err)
	var ran, replays int
	for _, b := range blocks {
		dir := t.TempDir()
		require.NoError(t, os.Symlink(scen, filepath.Join(dir, "scenarios")))
		t.Chdir(dir)
		written := map[string]bool{}
		for _, c := range b.commands {
			switch {
			case strings.HasPrefix(c, "go test -race "):
				continue // TestREADMECommands
			case !strings.HasPrefix(c, "go run ./cmd/lockstep "):
				t.Errorf("README line %d: command %q is neither `go run ./cmd/lockstep ...` nor `go test -race ...`", b.line, c)
				continue
			}
			require.NotContains(t, c, `"`, "README line %d: quoted arguments", b.line)
			require.NotContains(t, c, `'`, "README line %d: quoted arguments", b.line)
			args := strings.Fields(strings.TrimPrefix(c, "go run ./cmd/lockstep "))
			outs := map[string]bool{"--out": true, "--capture": true, "--truth": true, "--states": true}
			if args[0] == "twin" {
				outs["--report"] = true
			}
			for i, a := range args[:len(args)-1] {
				if a == "--replay" {
					replays++
					assert.True(t, written[args[i+1]], "README line %d: %q replays %s, which no earlier command of the block wrote", b.line, c, args[i+1])
				}
			}
			code, stdout, stderr := lockstep(t, args...)
			ran++
			require.Equal(t, exitOK, code, "README line %d: %s\nstdout: %s\nstderr: %s", b.line, c, stdout, stderr)
			for i, a := range args[:len(args)-1] {
				if outs[a] {
					_, err := os.Stat(args[i+1])
					assert.NoError(t, err, "README line %d: %s writes %s", b.line, c, args[i+1])
					written[args[i+1]] = true
				}
			}
			switch args[0] {
			case "compare":
				assert.True(t, strings.HasPrefix(stdout, "DECISION"), "compare leads with the decision")
				if strings.Contains(c, "--select") {
					assert.Contains(t, stdout, "selected with probability at least")
				}
			case "twin":
				assert.Contains(t, stdout, `"divergences": {}`, "the twin agrees with the simulation it replays")
			}
		}
	}
	assert.GreaterOrEqual(t, ran, 4, "run, compare, hwsim, twin")
	assert.Equal(t, 2, replays, "the twin and the fit quick starts replay the capture the block wrote")
}
