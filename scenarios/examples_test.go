package scenarios

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExampleFilesValidate(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	bench, err := filepath.Glob("bench/*.yaml")
	require.NoError(t, err)
	files = append(files, bench...)
	examples, err := filepath.Glob("examples/*.yaml")
	require.NoError(t, err)
	require.Len(t, examples, 9) // offline-serve, offline-refuse, operator-bonus, operator-no-bonus, pickup-windows, pickup-windows-no-reward, reusable-packaging, reusable-packaging-small-pool, single-use-packaging
	files = append(files, examples...)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			s, err := Load(f)
			require.NoError(t, err)
			for i := range s.Neighborhoods {
				cells, err := s.NeighborhoodCells(i)
				require.NoError(t, err)
				assert.NotEmpty(t, cells)
			}
		})
	}
}

func TestPilotShape(t *testing.T) {
	s, err := Load("pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	assert.Len(t, s.Neighborhoods, 5)
	assert.Len(t, s.SKUs, 20)
	kinds := map[string]int{}
	for _, n := range s.Nodes {
		kinds[n.Kind]++
	}
	assert.GreaterOrEqual(t, kinds[KindLocker], 8)
	assert.GreaterOrEqual(t, kinds[KindPartner], 4)
	assert.GreaterOrEqual(t, kinds[KindMicrostore], 1)
	assert.Equal(t, 1, kinds[KindPopup])
	assert.Equal(t, 5, s.Replications)
	assert.Equal(t, "2d", s.Warmup.String())
	assert.Equal(t, "30d", s.Horizon.String())
	assert.Equal(t, "7d", s.NodeByID("U1").Active.From.String())
	assert.Equal(t, "09:00-14:00,15:00-24:00", s.NodeByID("P02").Hours.String())
	assert.Equal(t, "09:00-20:00", s.NodeByID("P04").Hours.String())
}

func TestQuickstartShape(t *testing.T) {
	s, err := Load("quickstart.yaml")
	require.NoError(t, err)
	assert.Len(t, s.Neighborhoods, 1)
	assert.Len(t, s.SKUs, 3)
	assert.Len(t, s.Nodes, 4)
	assert.Equal(t, "3d", s.Horizon.String())
	assert.Equal(t, 2, s.Replications)
}
