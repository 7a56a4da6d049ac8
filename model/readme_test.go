package model

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README renders the transition table; keep it in sync with the code.
func TestREADMETransitionTable(t *testing.T) {
	var rows []string
	for _, tr := range Transitions {
		rows = append(rows, fmt.Sprintf("| `%s` | `%s` | `%s` | %s |", tr.From, tr.On, tr.To, tr.When))
	}
	requireREADMERows(t, "transition", rows, "(?m)^\\| `[a-z_]+` \\| `[a-z_]+` \\| `[a-z_]+` \\|")
}

// The README renders the box transition table; keep it in sync.
func TestREADMEBoxTransitionTable(t *testing.T) {
	var rows []string
	for _, tr := range BoxTransitions {
		rows = append(rows, fmt.Sprintf("| box | `%s` | `%s` | `%s` | %s |", tr.From, tr.On, tr.To, tr.When))
	}
	requireREADMERows(t, "box transition", rows, "(?m)^\\| box \\| `")
}

// requireREADMERows checks that the README holds every row and no more rows
// matching pattern than the code has.
func requireREADMERows(t *testing.T, what string, rows []string, pattern string) {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	for _, row := range rows {
		require.True(t, strings.Contains(readme, row), "README lacks %s row:\n%s", what, row)
	}
	require.Len(t, regexp.MustCompile(pattern).FindAllString(readme, -1), len(rows), "README has %s rows the code does not", what)
}
