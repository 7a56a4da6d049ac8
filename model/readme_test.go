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
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	for _, tr := range Transitions {
		row := fmt.Sprintf("| `%s` | `%s` | `%s` | %s |", tr.From, tr.On, tr.To, tr.When)
		require.True(t, strings.Contains(readme, row), "README lacks transition row:\n%s", row)
	}
	rows := regexp.MustCompile("(?m)^\\| `[a-z_]+` \\| `[a-z_]+` \\| `[a-z_]+` \\|").FindAllString(readme, -1)
	require.Len(t, rows, len(Transitions), "README has transition rows the code does not")
}
