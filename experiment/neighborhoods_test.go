package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/scenarios"
)

// Run records every neighborhood, in scenario order, at the centre of its
// cells: for a grid disk, within a cell's size of the declared centre.
func TestRunRecordsNeighborhoods(t *testing.T) {
	s, err := scenarios.Load("../scenarios/pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	run, err := Run(context.Background(), s, Options{Replications: 1})
	require.NoError(t, err)
	require.Len(t, run.Neighborhoods, len(s.Neighborhoods))
	for i, nb := range s.Neighborhoods {
		got := run.Neighborhoods[i]
		require.Equal(t, nb.Name, got.Name)
		require.NotNil(t, nb.Center)
		dy := (got.Lat - nb.Center.Lat) * 111.2
		dx := (got.Lng - nb.Center.Lng) * 111.2 * math.Cos(nb.Center.Lat*math.Pi/180)
		require.Less(t, math.Hypot(dx, dy), 0.6, "%s: centre %.4f,%.4f is %.2f km from the declared one", nb.Name, got.Lat, got.Lng, math.Hypot(dx, dy))
	}
}
