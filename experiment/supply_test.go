package experiment

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// The supply metrics of the quickstart with a constrained depot: the order
// sources and stockouts partition the orders, the stockout causes make up
// stockouts, line haul is part of the total cost, and the microstore reports
// its own supply and picker metrics.
func TestSupplyMetrics(t *testing.T) {
	s, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	s.Supply.Stock = []scenarios.DepotStock{{SKU: "S03", Units: 5, InboundPerDay: 2}}
	s.Nodes[0].Cache = s.Nodes[0].Cache[:2] // M1 no longer caches S03: it comes from the depot
	require.NoError(t, s.Validate())
	run, err := Run(context.Background(), s, Options{Replications: 2})
	require.NoError(t, err)
	for _, rep := range run.Replications {
		m := rep.Metrics
		for _, k := range []string{results.MSameDayShare, results.MCacheHitRate, results.MCentralShare, results.MStockoutsCentral,
			results.MLineHaulCost, results.MPickerUtilization, results.MPickQueueWaitP90Min} {
			require.Contains(t, m, k)
		}
		assert.Positive(t, m[results.MStockoutsCentral], "5 units and 2 a day of S03 against ~20 orders a day")
		assert.Equal(t, m[results.MStockouts], m[results.MStockoutsOutOfStock]+m[results.MStockoutsCentral]+m[results.MStockoutsCounter])
		stockoutShare := (m[results.MStockoutsOutOfStock] + m[results.MStockoutsCentral]) / m[results.MOrders]
		assert.InDelta(t, 1, m[results.MCacheHitRate]+m[results.MCentralShare]+stockoutShare, 1e-9, "every order has one source")
		assert.Positive(t, m[results.MCentralShare])
		assert.Positive(t, m[results.MLineHaulCost])
		assert.Less(t, m[results.MLineHaulCost], m[results.MTotalCost])
		assert.Greater(t, m[results.MPickerUtilization], 0.0)
		m1 := rep.PerNode["M1"]
		assert.Equal(t, m[results.MCentralShare], m1[results.MCentralShare], "M1 fulfils every order")
		assert.Equal(t, m[results.MPickerUtilization], m1[results.MPickerUtilization])
		assert.NotContains(t, rep.PerNode["L1"], results.MCacheHitRate, "a pickup point fulfils nothing")
	}
}
