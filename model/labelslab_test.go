package model

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A label keeps its address while the slab grows past page after page, and
// the slab holds one partly used page at most.
func TestLabelSlabGrowsWithoutMoving(t *testing.T) {
	var s labelSlab
	first := s.at(s.add())
	first.ID = 7
	for range 3*labelPage + 5 {
		l := s.at(s.add())
		l.ID = LabelID(s.len())
	}
	require.Equal(t, 3*labelPage+6, s.len())
	require.Same(t, first, s.at(0))
	require.Equal(t, LabelID(7), s.at(0).ID)
	require.Equal(t, LabelID(labelPage+1), s.at(labelPage).ID)
	require.Len(t, s.pages, 4)

	m := makeLabelSlab(labelPage)
	require.Equal(t, labelPage, m.len())
	require.Len(t, m.pages, 1)
	require.Equal(t, Label{}, *m.at(labelPage - 1))
}
