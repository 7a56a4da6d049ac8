package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
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

// FCPO is defined once: the cost breakdown's sum (total_cost, which leaves
// lost revenue out) over the collected orders; refunds are late-refund cost
// plus lost revenue; the neighborhoods split the cohort; a microstore
// carries its FCPO beside its own pickup-node FCPO.
func TestFCPOIsTheBreakdownOverCollected(t *testing.T) {
	s, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	run, err := Run(context.Background(), s, Options{Replications: 2})
	require.NoError(t, err)
	var lost float64
	for _, rep := range run.Replications {
		m := rep.Metrics
		var sum float64
		for _, c := range results.CostComponents {
			sum += m[c]
		}
		require.InDelta(t, m[results.MTotalCost], sum, 1e-6, "replication %d", rep.Index)
		require.InDelta(t, m[results.MTotalCost]/m[results.MCollected], m[results.MFCPO], 1e-9)
		require.InDelta(t, m[results.MRefundAmount], m[results.MLateRefundCost]+m[results.MLostRevenue], 1e-9)
		lost += m[results.MLostRevenue]
		var orders, collected float64
		for name, nm := range rep.PerNeighborhood {
			orders += nm[results.MOrders]
			collected += nm[results.MCollected]
			require.InDelta(t, nm["cost"]/nm[results.MCollected], nm[results.MFCPO], 1e-9, name)
		}
		require.Len(t, rep.PerNeighborhood, len(s.Neighborhoods))
		require.Equal(t, m[results.MOrders], orders)
		require.Equal(t, m[results.MCollected], collected)
		ms := rep.PerNode["M1"]
		require.Contains(t, ms, results.MMicrostoreFCPO)
		require.InDelta(t, ms[results.MMicrostoreCost]/ms[results.MMicrostoreCollected], ms[results.MMicrostoreFCPO], 1e-9)
		require.NotContains(t, rep.PerNode["L1"], results.MMicrostoreFCPO, "a locker fulfils nothing")
	}
	require.Positive(t, lost, "the quickstart's seed cancels an order: its refund is lost revenue, not cost")
	_, ok := run.SummaryOf(results.MCourierCost)
	require.True(t, ok, "the breakdown is summarised with the other metrics")
	require.NotEmpty(t, run.PerNeighborhoodSummary)
}
