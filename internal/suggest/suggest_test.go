package suggest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"fcpo", "fcpo", 0}, {"fcpox", "fcpo", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"colour", "kind", 6}} {
		require.Equal(t, tc.want, Distance(tc.a, tc.b), "%q %q", tc.a, tc.b)
		require.Equal(t, tc.want, Distance(tc.b, tc.a), "symmetric %q %q", tc.b, tc.a)
	}
}
