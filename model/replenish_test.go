package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanNode(t *testing.T) {
	// three SKUs: held A (forecast 4), held B (forecast 0), not held C
	// (forecast 10); capacity 20 each, initial 8, 2 free on the shelf
	base := func() []planSKU {
		return []planSKU{
			{forecast: 4, capacity: 20, initial: 8, free: 2, shelf: 2, held: true},
			{forecast: 0, capacity: 20, initial: 8, free: 2, shelf: 2, held: true},
			{forecast: 10, capacity: 20, initial: 8},
		}
	}
	type want struct {
		held  [3]bool
		order [3]int64
	}
	tests := []struct {
		name   string
		policy ReplenishPolicy
		first  bool
		slots  int
		shelf  int64
		pin    int // index of a pinned SKU, -1 none
		want   want
	}{
		{"none sends nothing", ReplenishNone, false, 0, 100, -1, want{[3]bool{true, true, false}, [3]int64{0, 0, 0}}},
		{"static tops up to the initial stock", ReplenishStatic, false, 0, 100, -1, want{[3]bool{true, true, false}, [3]int64{6, 6, 0}}},
		{"fill tops up to capacity", ReplenishFill, false, 0, 100, -1, want{[3]bool{true, true, false}, [3]int64{18, 18, 0}}},
		{"heatmap stocks cover x forecast", ReplenishHeatmap, false, 0, 100, -1, want{[3]bool{true, true, false}, [3]int64{4, 0, 0}}},
		{"heatmap's first night tops up to the initial stock", ReplenishHeatmap, true, 2, 100, -1, want{[3]bool{true, true, false}, [3]int64{6, 6, 0}}},
		{"rotation brings the trending SKU in", ReplenishHeatmap, false, 2, 100, -1, want{[3]bool{true, false, true}, [3]int64{4, 0, 15}}},
		{"a pinned SKU stays", ReplenishHeatmap, false, 2, 100, 1, want{[3]bool{false, true, true}, [3]int64{0, 0, 15}}},
		{"shelf space scales the targets", ReplenishFill, false, 0, 24, -1, want{[3]bool{true, true, false}, [3]int64{10, 10, 0}}},
		{"the shelf's room bounds the orders", ReplenishFill, false, 0, 10, -1, want{[3]bool{true, true, false}, [3]int64{3, 3, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			skus := base()
			if tc.pin >= 0 {
				skus[tc.pin].pinned = true
			}
			planNode(tc.policy, 1.5, tc.first, tc.slots, tc.shelf, skus)
			for s := range skus {
				assert.Equal(t, tc.want.held[s], skus[s].held, "held %d", s)
				assert.Equal(t, tc.want.order[s], skus[s].order, "order %d", s)
			}
		})
	}
}

// rotNet is cacheNet with M1 holding S1 and S2 in two SKU slots (S3 can
// rotate in), and the given policy.
func rotNet(t testing.TB, policy ReplenishPolicy, pinS2 bool) *Network {
	n := cacheNet(t, 3, 2, OfflineServe)
	n.Nodes[m1].CacheSlots = 2
	n.Nodes[m1].Cache[1].Pinned = pinS2
	n.Policy.Replenish = policy
	require.NoError(t, n.Validate())
	return n
}

// orderAt places an order for sku from a customer in the cell of (lat, lng).
func orderAt(t *testing.T, c *Core, id LabelID, sku SKUIndex, when Instant, lat, lng float64) {
	t.Helper()
	cell, err := CellAt(lat, lng, 8)
	require.NoError(t, err)
	stepOK(t, c, Event{Type: EvOrderPlaced, At: when, Label: id, SKU: sku, Node: m1, Dest: l1, Size: NoSize, Measured: true, Cell: cell})
}

func restocks(effs []Effect) map[[2]int]int {
	out := map[[2]int]int{}
	for _, e := range effectsOf(effs, EffRestock) {
		out[[2]int{int(e.Node), int(e.SKU)}] += int(e.Amount)
	}
	return out
}

// The heatmap counts an order where its customer lives: the same orders,
// picked up at the same locker, feed the forecast of the microstore nearest
// to the customer's cell, or of the one nearest to the locker when the
// event carries no cell.
func TestHeatmapByCustomerCell(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lat, lng float64
		owner    NodeIndex
	}{
		{"customer near M2", 52.535, 13.435, m2},
		{"customer near M1", 52.495, 13.395, m1},
		{"no cell: the locker's", 0, 0, m1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(cacheNet(t, 10, 10, OfflineServe))
			stepOK(t, c, Event{Type: EvReplenish, At: at(2, 0)})
			for i := 0; i < 4; i++ {
				if tc.lat == 0 {
					stepOK(t, c, Event{Type: EvOrderPlaced, At: at(10, i), Label: LabelID(i + 1), SKU: 1, Node: m1, Dest: l1, Size: NoSize})
				} else {
					orderAt(t, c, LabelID(i+1), 1, at(10, i), tc.lat, tc.lng)
				}
			}
			stepOK(t, c, Event{Type: EvReplenish, At: at(26, 0)})
			other := m1 + m2 - tc.owner
			assert.Equal(t, 4.0, c.Forecast(tc.owner, 1))
			assert.Zero(t, c.Forecast(other, 1))
		})
	}
}

// A coarser heatmap resolution pools the customers' cells.
func TestHeatResolutionPools(t *testing.T) {
	cells := func(res int) int {
		n := cacheNet(t, 10, 10, OfflineServe)
		n.Policy.HeatResolution = res
		c := New(n)
		for i := 0; i < 20; i++ {
			orderAt(t, c, LabelID(i+1), 0, at(10, i), 52.50+float64(i)*0.002, 13.40+float64(i)*0.002)
		}
		return len(c.rp.cells)
	}
	fine, coarse := cells(8), cells(6)
	assert.Greater(t, fine, coarse)
	assert.Greater(t, coarse, 0)
}

// Rotation: demand moves to S3, which M1 does not cache; the heatmap
// policy rotates it into M1's two slots in place of the SKU with the lower
// forecast (or the unpinned one), takes that SKU's free units off the shelf,
// and the stock stays conserved. static never rotates.
func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy ReplenishPolicy
		pin    bool
		held   []bool // S1, S2, S3 after the second plan
	}{
		{"heatmap rotates S3 in, S2 out", ReplenishHeatmap, false, []bool{true, false, true}},
		{"pinned S2 stays, S1 goes", ReplenishHeatmap, true, []bool{false, true, true}},
		{"static keeps its SKUs", ReplenishStatic, false, []bool{true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(rotNet(t, tc.policy, tc.pin))
			stepOK(t, c, Event{Type: EvReplenish, At: at(2, 0)})
			orderAt(t, c, 1, 0, at(9, 0), 52.495, 13.395) // one S1
			for i := 0; i < 3; i++ {
				orderAt(t, c, LabelID(10+i), 2, at(10, i), 52.495, 13.395) // S3: served centrally
			}
			before := c.Inventory(m1, at(25, 0))
			effs := stepOK(t, c, Event{Type: EvReplenish, At: at(26, 0)})
			inv := c.Inventory(m1, at(26, 0))
			held := map[SKUIndex]bool{}
			for _, s := range inv.SKUs {
				held[s.SKU] = s.InAssortment
			}
			for s, want := range tc.held {
				assert.Equal(t, want, held[SKUIndex(s)], "SKU %d", s)
			}
			rs := restocks(effs)
			st := c.Replenishment(m1, at(26, 0))
			if tc.held[2] {
				assert.Equal(t, 5, rs[[2]int{int(m1), 2}], "S3: ceil(1.5 x 3) units")
				assert.Equal(t, int64(1), st.Rotations)
				out := 0
				for s := 0; s < 2; s++ {
					if !tc.held[s] {
						out = int(before.SKUs[s].Shelf - before.SKUs[s].Held)
					}
				}
				assert.Equal(t, int64(out), st.RotatedOut)
				require.Positive(t, out)
			} else {
				assert.Zero(t, rs[[2]int{int(m1), 2}])
				assert.Zero(t, st.RotatedOut)
			}
			require.NoError(t, c.CheckInventory())
			// a counter sale of a rotated-out SKU is a stockout, not a rejection
			for s, h := range tc.held[:2] {
				if !h {
					effs := stepOK(t, c, Event{Type: EvCounterSale, At: at(27, 0), Node: m1, SKU: SKUIndex(s)})
					assert.Len(t, effectsOf(effs, EffStockout), 1)
				}
			}
		})
	}
}

// A reservation made before the plan keeps its unit when its SKU rotates
// out; the pick takes it later and the books still balance.
func TestRotatedOutKeepsReservedUnits(t *testing.T) {
	c := New(rotNet(t, ReplenishHeatmap, false))
	stepOK(t, c, Event{Type: EvReplenish, At: at(2, 0)})
	stepOK(t, c, Event{Type: EvOrderPlaced, At: at(9, 0), Label: 1, SKU: 0, Node: m1, Dest: l1, Size: NoSize}) // reserves S1
	for i := 0; i < 2; i++ {
		orderAt(t, c, LabelID(5+i), 1, at(9, 30+i), 52.495, 13.395) // S2 trends more
	}
	for i := 0; i < 3; i++ {
		orderAt(t, c, LabelID(10+i), 2, at(10, i), 52.495, 13.395) // S3 most
	}
	stepOK(t, c, Event{Type: EvReplenish, At: at(26, 0)})
	s2 := c.Inventory(m1, at(26, 0)).SKUs[0]
	require.False(t, s2.InAssortment)
	assert.Equal(t, int32(1), s2.Shelf, "the reserved unit stays")
	assert.Equal(t, int32(1), s2.Held)
	stepOK(t, c, Event{Type: EvScanPicked, At: at(27, 0), Label: 1})
	s2 = c.Inventory(m1, at(27, 0)).SKUs[0]
	assert.Zero(t, s2.Shelf)
	assert.Equal(t, s2.Initial, s2.Picked+s2.Withdrawn)
}

// The forecast WAPE: each plan's forecast (mean daily demand over the full
// days seen) is scored against the demand of the next day.
func TestForecastWAPE(t *testing.T) {
	c := New(cacheNet(t, 10, 10, OfflineServe))
	id := LabelID(0)
	day := func(d, orders int) {
		for i := 0; i < orders; i++ {
			id++
			orderAt(t, c, id, 1, at(24*d+10, i), 52.495, 13.395)
		}
		stepOK(t, c, Event{Type: EvReplenish, At: at(24*d+26, 0)})
	}
	stepOK(t, c, Event{Type: EvOrderPlaced, At: at(1, 0), Label: 999, SKU: 1, Node: m1, Dest: l1, Size: NoSize}) // the partial first day
	stepOK(t, c, Event{Type: EvReplenish, At: at(2, 0)})
	assert.Zero(t, c.Forecast(m1, 1), "the partial first day is dropped")
	day(0, 2) // forecast 2, nothing to score yet
	assert.Equal(t, 2.0, c.Forecast(m1, 1))
	assert.True(t, math.IsNaN(c.Replenishment(m1, at(30, 0)).WAPE()))
	day(1, 2) // |2-2| of 2; forecast (2+2)/2
	assert.Zero(t, c.Replenishment(m1, at(60, 0)).WAPE())
	day(2, 5) // |2-5| of 5; forecast 9/3
	assert.Equal(t, 3.0, c.Forecast(m1, 1))
	st := c.Replenishment(m1, at(90, 0))
	assert.InDelta(t, 3.0/7, st.WAPE(), 1e-12)
	assert.Equal(t, 7.0, st.ForecastDemand)
}

// forecastAfter plans a start night and then, per day, places that day's
// orders for S2 near M1 and plans; it returns M1's forecast for S2.
func forecastAfter(t *testing.T, window int, daily ...int) float64 {
	n := cacheNet(t, 10, 10, OfflineServe)
	n.Policy.RestockWindow = window
	c := New(n)
	stepOK(t, c, Event{Type: EvReplenish, At: at(2, 0)})
	id := LabelID(0)
	for d, orders := range daily {
		for i := 0; i < orders; i++ {
			id++
			orderAt(t, c, id, 1, at(24*d+10, i), 52.495, 13.395)
		}
		stepOK(t, c, Event{Type: EvReplenish, At: at(24*d+26, 0)})
	}
	return c.Forecast(m1, 1)
}

// The window bounds the history: after a burst the forecast falls back to
// the new level once the burst is window days old; a longer window
// remembers it longer.
func TestRestockWindow(t *testing.T) {
	assert.Equal(t, 1.0, forecastAfter(t, 2, 9, 1, 1, 1, 1))
	assert.Equal(t, 1.0, forecastAfter(t, 4, 9, 1, 1, 1, 1))
	assert.Equal(t, 13.0/5, forecastAfter(t, 7, 9, 1, 1, 1, 1))
	assert.Greater(t, forecastAfter(t, 7, 9, 1, 1), forecastAfter(t, 2, 9, 1, 1))
}

// cover scales the heatmap policy's order.
func TestCoverDirection(t *testing.T) {
	sent := func(cover float64) int {
		n := cacheNet(t, 0, 0, OfflineServe)
		n.Policy.RestockCover = cover
		c := New(n)
		stepOK(t, c, Event{Type: EvReplenish, At: at(2, 0)})
		for i := 0; i < 4; i++ {
			stepOK(t, c, Event{Type: EvCounterSale, At: at(10, i), Node: m1, SKU: 1})
		}
		effs := stepOK(t, c, Event{Type: EvReplenish, At: at(26, 0)})
		return restocks(effs)[[2]int{int(m1), 1}]
	}
	assert.Less(t, sent(1), sent(2))
}

// The planner's state survives a snapshot: a restored core plans the same
// next night.
func TestReplenishSnapshot(t *testing.T) {
	c := New(rotNet(t, ReplenishHeatmap, false))
	stepOK(t, c, Event{Type: EvReplenish, At: at(2, 0)})
	for i := 0; i < 3; i++ {
		orderAt(t, c, LabelID(10+i), 2, at(10, i), 52.495, 13.395)
	}
	stepOK(t, c, Event{Type: EvReplenish, At: at(26, 0)})
	orderAt(t, c, 20, 2, at(30, 0), 52.535, 13.435)
	snap, err := c.MarshalBinary()
	require.NoError(t, err)
	d := New(c.Net)
	require.NoError(t, d.UnmarshalBinary(snap))
	again, err := d.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, snap, again)
	e1 := append([]Effect(nil), c.Step(Event{Type: EvReplenish, At: at(50, 0)})...)
	e2 := d.Step(Event{Type: EvReplenish, At: at(50, 0)})
	require.Equal(t, e1, e2)
	require.Equal(t, c.Replenishment(m1, at(50, 0)), d.Replenishment(m1, at(50, 0)))
}

// FuzzReplenish drives the core with random demand (online orders from
// random customer cells for any SKU, counter sales, picks, cancels,
// restocks, drops) under a random policy, SKU slots, shelf space and
// capacities, and plans every so often. After every step the inventory
// invariants hold (conservation with rotated-out units, no negative stock,
// assortment within the slots, pinned SKUs kept); every planned restock is
// for a SKU in the assortment and fits its capacity and the shelf space
// left in the central view.
//
//	go test -run '^$' -fuzz FuzzReplenish -fuzztime 30s ./model/
func FuzzReplenish(f *testing.F) {
	f.Add([]byte{0, 2, 1, 5, 9, 0, 3, 3, 1, 8, 9, 9, 2, 4, 2, 7, 9})
	f.Add([]byte{3, 0, 0, 0, 1, 2, 2, 2, 9, 5, 5, 9, 1, 1, 0, 9, 9, 9})
	f.Add([]byte{0, 3, 2, 1, 4, 2, 2, 2, 2, 2, 2, 9, 0, 9, 6, 6, 9, 1, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := &fuzzBytes{data: data}
		pick := fb.pick
		n := cacheNet(t, int32(pick(4)), int32(pick(4)), OfflineMode(pick(2)))
		n.Policy.Replenish = ReplenishPolicy(pick(int(numReplenishPolicies)))
		n.Policy.RestockWindow = 1 + pick(4)
		n.Policy.RestockCover = 0.5 + float64(pick(4))
		for _, nd := range []NodeIndex{m1, m2} {
			node := &n.Nodes[nd]
			for k := range node.Cache {
				node.Cache[k].Capacity = int32(4 + pick(8))
				node.Cache[k].Stock = min(node.Cache[k].Stock, node.Cache[k].Capacity)
				node.Cache[k].Pinned = pick(4) == 0
			}
			node.CacheSlots = int32(pick(3)) // 0: fixed, else 2 (both listed fit)
			if node.CacheSlots == 1 {
				node.CacheSlots = 3
			}
			if pick(2) == 0 {
				node.ShelfUnits = 8 + int32(pick(12))
			}
		}
		require.NoError(t, n.Validate())
		c := New(n)
		r := rand.New(rand.NewPCG(uint64(len(data)), 7))
		now := at(1, 0)
		var id LabelID
		for step := 0; fb.more() && step < 400; step++ {
			now += Instant(pick(90)) * Instant(Minute)
			var ev Event
			if x := pick(10); x < 4 {
				id++
				lat, lng := 52.49+0.05*r.Float64(), 13.39+0.05*r.Float64()
				cell, err := CellAt(lat, lng, 8)
				require.NoError(t, err)
				ev = Event{Type: EvOrderPlaced, At: now, Label: id, SKU: SKUIndex(pick(3)), Node: []NodeIndex{m1, m2}[pick(2)], Dest: l1, Size: NoSize, Cell: cell, Measured: true}
			} else {
				ev = invEvent(pick, now, &id)
				if ev.Type == EvRestock || ev.Type == EvCounterSale {
					ev.SKU = SKUIndex(pick(3))
				}
			}
			var room [2]int64
			if ev.Type == EvReplenish {
				for k, nd := range []NodeIndex{m1, m2} {
					room[k] = c.inv[nd].rp.shelfUnits
					for s := range c.inv[nd].sku {
						room[k] -= int64(c.inv[nd].central.Shelf[s])
					}
				}
			}
			effs := c.Step(ev)
			require.NoError(t, c.CheckInventory(), "step %d %v", step, ev.Type)
			sent := [2]int64{}
			for _, e := range effectsOf(effs, EffRestock) {
				k := c.inv[e.Node].sku[e.SKU]
				require.True(t, k.tracked, "restock of a SKU out of the assortment")
				require.Positive(t, e.Amount)
				require.LessOrEqual(t, int64(c.inv[e.Node].central.Shelf[e.SKU])+int64(e.Amount), int64(k.capacity))
				sent[e.Node/m2] += int64(e.Amount)
			}
			for k := range sent {
				if sent[k] > 0 {
					require.LessOrEqual(t, sent[k], max(room[k], 0), "shelf space")
				}
			}
		}
		checkReconciled(t, c, now)
	})
}
