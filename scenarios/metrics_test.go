package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A floor area counts only with a cache: on a partner without one it is
// flagged (it would change nothing); with a cache it is not.
func TestWarnFloorAreaWithoutCache(t *testing.T) {
	bare := strings.Replace(base, "    counter_capacity: 10\n", "    counter_capacity: 10\n    floor_area_m2: 12  # <-\n", 1)
	ws := warningsOf(t, bare)
	require.Len(t, ws, 1)
	assert.Equal(t, "nodes[P1].floor_area_m2", ws[0].Path)
	assert.Contains(t, ws[0].Msg, "counts only with a cache")
	assert.Equal(t, markedLine(t, bare), ws[0].Line)

	cached := strings.Replace(bare, "  # <-\n", "\n    cache:\n      - {sku: S01, capacity: 5, stock: 5}\n", 1)
	assert.Empty(t, warningsOf(t, cached))
}
