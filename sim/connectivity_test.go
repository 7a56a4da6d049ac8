package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// dropsConfig: one microstore with a small cache and a busy counter, two
// lockers; with drops every node loses its connection every few hours.
func dropsConfig(t testing.TB, mode model.OfflineMode, drops bool) *Config {
	m := mustCell(t, 52.500, 13.400)
	l1 := mustCell(t, 52.505, 13.410)
	l2 := mustCell(t, 52.495, 13.392)
	net := &model.Network{
		Resolution: 8, EdgeLog: true, CodeKey: [2]uint64{1, 2},
		Nodes: []model.Node{
			{ID: "M", Kind: model.Microstore, Cell: m, Lat: 52.5, Lng: 13.4,
				Cache: []model.CacheItem{{SKU: 0, Capacity: 40, Stock: 30}, {SKU: 1, Capacity: 40, Stock: 30}}},
			{ID: "L1", Kind: model.Locker, Cell: l1, Lat: 52.505, Lng: 13.41, Slots: [model.NumSizes]int32{20, 20, 0}},
			{ID: "L2", Kind: model.Locker, Cell: l2, Lat: 52.495, Lng: 13.392, Slots: [model.NumSizes]int32{20, 20, 0}},
		},
		SKUs: []model.SKU{{ID: "A", Size: model.Small, Price: 10}, {ID: "B", Size: model.Small, Price: 20}},
		Policy: model.Policy{MaxHops: 2, RerouteDelay: 30 * model.Minute, RerouteCost: 3, Cutoff: 14 * model.Hour,
			ReadyBy: 22 * model.Hour, PickupWindow: 4 * model.Hour, Offline: mode},
	}
	net.Policy.TTL[model.ReadyForPickup] = 24 * model.Hour
	nodes := []NodeWorld{{CounterSalesPerDay: 40}, {}, {}}
	if drops {
		for i := range nodes {
			nodes[i].MTBF, nodes[i].MTTR = 4*model.Hour, 90*model.Minute
		}
	}
	return &Config{
		Name: "drops", Network: net, Seed: 11, Start: testStart, Warmup: model.Day, Horizon: 15 * model.Day,
		Neighborhoods: []Neighborhood{{Name: "n", Cells: []model.Cell{l1, l2}, OrdersPerDay: 60, Hourly: flat()}},
		Fulfilment:    Fulfilment{PickTime: Dist{Kind: Constant, Mean: 3 * model.Minute}, PackTime: Dist{Kind: Constant, Mean: 2 * model.Minute}},
		Couriers:      Couriers{Fleet: 4, SpeedKmh: 15, BatchSize: 2},
		Customers: Customers{PickupDelay: Dist{Kind: Exponential, Mean: model.Hour},
			SubscriberPickupDelay: Dist{Kind: Exponential, Mean: model.Hour}},
		Nodes: nodes,
	}
}

func sumRuns(t *testing.T, cfg *Config, reps int) (within uint64, inv InventoryResult) {
	for rep := 0; rep < reps; rep++ {
		r, err := Run(cfg, rep)
		require.NoError(t, err)
		require.NoError(t, r.Conserved(), "conservation of orders and of every SKU at every node")
		require.True(t, r.Edge)
		within += r.Stats.PickedUpWithinSLA
		inv.add(r.Inventory)
		inv.ReconcileLagP90 = max(inv.ReconcileLagP90, r.Inventory.ReconcileLagP90)
	}
	return within, inv
}

// Offline-first pays: with frequent drops, serving from the cache while
// offline gets more pickups within the SLA than refusing, under the same
// seed; the central view drifts and conflicts occur. Without drops there is
// no drift and no conflict.
func TestDropsServeVersusRefuse(t *testing.T) {
	const reps = 4
	serveWithin, serve := sumRuns(t, dropsConfig(t, model.OfflineServe, true), reps)
	refuseWithin, refuse := sumRuns(t, dropsConfig(t, model.OfflineRefuse, true), reps)
	t.Logf("serve: %d within SLA, %+v", serveWithin, serve)
	t.Logf("refuse: %d within SLA, %+v", refuseWithin, refuse)
	require.Greater(t, serveWithin, refuseWithin)
	require.Positive(t, serve.DriftIntegral)
	require.Positive(t, serve.DriftMax)
	require.Positive(t, serve.Conflicts)
	require.Positive(t, serve.OfflinePickups)
	require.Zero(t, serve.OfflinePickupsFailed)
	require.Positive(t, refuse.OfflinePickupsFailed)
	require.Positive(t, serve.ReconcileLagP90)

	_, calm := sumRuns(t, dropsConfig(t, model.OfflineServe, false), reps)
	t.Logf("no drops: %+v", calm)
	require.Zero(t, calm.DriftIntegral)
	require.Zero(t, calm.DriftMax)
	require.Zero(t, calm.Conflicts)
	require.Zero(t, calm.Oversells)
	require.Positive(t, calm.CounterSales)
}
