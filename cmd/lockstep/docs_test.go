package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
)

// mdLinkRE matches a Markdown link's target: [text](target).
var mdLinkRE = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)

// mdProse returns the lines of a Markdown file outside fenced code blocks.
func mdProse(doc string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, line)
		}
	}
	return out
}

// mdAnchors lists the anchors GitHub gives the headings of doc: lower case,
// punctuation other than '-' and '_' dropped, spaces to '-', and "-1",
// "-2", ... for repeats.
func mdAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range mdProse(doc) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

func TestMDAnchors(t *testing.T) {
	a := mdAnchors("# Top\n## The simulated city (`sim`)\n```sh\n# not a heading\n```\n## Offline: serve versus refuse\n## Tests\n## Tests\n")
	assert.Equal(t, map[string]bool{"top": true, "the-simulated-city-sim": true, "offline-serve-versus-refuse": true,
		"tests": true, "tests-1": true}, a)
}

// Every relative link in the README and docs/ points at a file that exists
// and, with a #fragment, at a heading of it; the README links every page of
// docs/, so what moved out of the README can be found from it.
func TestDocLinks(t *testing.T) {
	root := "../.."
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, docs)
	files := append([]string{filepath.Join(root, "README.md"), filepath.Join(root, "deploy", "k8s", "README.md")}, docs...)
	linked := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, line := range mdProse(string(b)) {
			for _, m := range mdLinkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, frag, _ := strings.Cut(target, "#")
				dest := f
				if path != "" {
					dest = filepath.Join(filepath.Dir(f), path)
				}
				_, err := os.Stat(dest)
				if !assert.NoError(t, err, "%s links to %s, which does not exist", f, target) {
					continue
				}
				if filepath.Base(f) == "README.md" && filepath.Dir(f) == root {
					linked[filepath.Clean(dest)] = true
				}
				if frag != "" {
					db, err := os.ReadFile(dest)
					require.NoError(t, err)
					assert.True(t, mdAnchors(string(db))[frag], "%s links to %s, which has no heading #%s", f, dest, frag)
				}
			}
		}
	}
	for _, d := range docs {
		assert.True(t, linked[filepath.Clean(d)], "README.md does not link %s", d)
	}
}

// readmeSection is the text under heading (a whole "## ..." line) up to the
// next heading of the same or a higher level.
func readmeSection(t *testing.T, readme, heading string) string {
	t.Helper()
	_, sec, ok := strings.Cut(readme, "\n"+heading+"\n")
	require.True(t, ok, "README has no %q", heading)
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	return sec
}

// The README's two commands work as written: the run command, in a
// directory that has the repository's scenarios, exits 0 and writes
// out/results.json; the test command is the one .ci/run runs (with
// -count=1, so CI never reuses cached results).
func TestREADMECommands(t *testing.T) {
	sec := readmeSection(t, readRepoFile(t, "README.md"), "## The two commands")
	_, block, ok := strings.Cut(sec, "```sh\n")
	require.True(t, ok, "no sh block under ## The two commands")
	block, _, _ = strings.Cut(block, "```")
	ci := readRepoFile(t, ".ci/run")
	scenarios, err := filepath.Abs("../../scenarios")
	require.NoError(t, err)
	var runs, tests int
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		switch {
		case strings.HasPrefix(line, "go run ./cmd/lockstep "):
			runs++
			args := strings.Fields(strings.TrimPrefix(line, "go run ./cmd/lockstep "))
			dir := t.TempDir()
			require.NoError(t, os.Symlink(scenarios, filepath.Join(dir, "scenarios")))
			t.Chdir(dir)
			code, stdout, stderr := lockstep(t, args...)
			require.Equal(t, exitOK, code, "%s: %s", line, stderr)
			assert.Contains(t, stdout, "pickup_success_rate", "the summary table")
			b, err := os.ReadFile(filepath.Join(dir, "out", "results.json"))
			require.NoError(t, err, "%s writes out/results.json", line)
			var res struct {
				SchemaVersion int               `json:"schema_version"`
				Replications  []json.RawMessage `json:"replications"`
			}
			require.NoError(t, json.Unmarshal(b, &res))
			assert.Equal(t, results.SchemaVersion, res.SchemaVersion)
			assert.NotEmpty(t, res.Replications)
		case strings.HasPrefix(line, "go test -race "):
			tests++
			want := strings.Replace(line, "go test -race ", "go test -race -count=1 ", 1)
			assert.Contains(t, ci, "\n"+want+"\n", ".ci/run does not run the README's test command %q", line)
		default:
			t.Errorf("README command %q is neither `go run ./cmd/lockstep ...` nor `go test -race ...`", line)
		}
	}
	assert.Equal(t, 1, runs, "one run command")
	assert.Equal(t, 1, tests, "one test command")
}
