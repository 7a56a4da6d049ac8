package model

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// supplyNet is testNet with a supply tier: waves at 06:00, 11:00 and 16:00,
// a 1h order cutoff, 90 min lead to M1, 1h last mile, and S1 finite at the
// depot (units, inbound per day at 05:00); M1 caches S2 (stock m1S2).
func supplyNet(t testing.TB, units, inbound, m1S2 int32, fb FallbackRule) *Network {
	n := testNet(t)
	if m1S2 >= 0 {
		n.Nodes[m1].Cache = []CacheItem{{SKU: 1, Capacity: 10, Stock: m1S2}}
	}
	n.Supply = &Supply{
		Waves: []Duration{6 * Hour, 11 * Hour, 16 * Hour}, OrderCutoff: Hour,
		Lead: make([]Duration, len(n.Nodes)), HubLead: 2 * Hour, LastMile: Hour, InboundAt: 5 * Hour,
		Stock: []DepotStock{{Units: units, InboundPerDay: inbound}, {Unlimited: true}, {Unlimited: true}}, Fallback: fb,
	}
	n.Supply.Lead[m1] = 90 * Minute
	require.NoError(t, n.Validate())
	return n
}

func orderSKU(id LabelID, t Instant, sku SKUIndex) Event {
	return Event{Type: EvOrderPlaced, At: t, Label: id, SKU: sku, Node: m1, Dest: l1, Size: NoSize, Measured: true}
}

func TestNextWave(t *testing.T) {
	s := supplyNet(t, 10, 0, -1, FallbackNextDay).Supply
	for _, tc := range []struct {
		at, want Instant
	}{
		{at(0, 0), at(6, 0)},
		{at(5, 0), at(6, 0)},  // exactly the cutoff: still rides
		{at(5, 1), at(11, 0)}, // a minute late: the next wave
		{at(14, 59), at(16, 0)},
		{at(15, 30), at(30, 0)}, // after the last wave's cutoff: tomorrow 06:00
		{at(23, 59), at(30, 0)},
	} {
		require.Equal(t, tc.want, s.NextWave(tc.at), "placed %v", tc.at-day0)
	}
}

// Uncached SKUs come from the depot: the unit is taken when the order is
// placed and arrives at the fulfilling node at departure + lead; a cached SKU
// in stock is a cache hit; a cached SKU whose cache is empty goes central too.
func TestCentralSource(t *testing.T) {
	c := New(supplyNet(t, 5, 0, 1, FallbackNextDay))
	effs := stepOK(t, c, orderSKU(1, at(9, 0), 0))
	l := c.Label(1)
	require.Equal(t, StockCentral, l.Stock)
	require.Equal(t, m1, l.From)
	require.Equal(t, at(11, 0).Add(90*Minute), l.Arrive)
	lh := effectsOf(effs, EffLineHaul)
	require.Len(t, lh, 1)
	require.Equal(t, l.Arrive, lh[0].At)
	require.Equal(t, 90*Minute, lh[0].Delay)
	require.Equal(t, EffState, effs[0].Type, "the state change comes first")

	stepOK(t, c, orderSKU(2, at(9, 0), 1)) // S2 cached, 1 in stock
	require.Equal(t, StockReserved, c.Label(2).Stock)
	stepOK(t, c, orderSKU(3, at(9, 1), 1)) // cache empty now: central
	require.Equal(t, StockCentral, c.Label(3).Stock)

	st := c.Supply(m1)
	require.Equal(t, SupplyStats{CacheHits: 1, Central: 2}, st)
	require.Equal(t, int64(4), c.Depot(at(9, 2))[0].Held)

	// a picked central unit goes through the normal flow
	stepOK(t, c, Event{Type: EvScanPicked, At: l.Arrive, Label: 1})
	require.Equal(t, StockCentral, c.Label(1).Stock)
	require.NoError(t, c.CheckDepot())
}

// Stockouts by cause: a cached SKU whose cache and depot are empty is
// out_of_stock, an uncached SKU with an empty depot is central; both are
// cancelled at once, and the depot's units come back when an order is
// cancelled later.
func TestCentralStockouts(t *testing.T) {
	c := New(supplyNet(t, 1, 0, 0, FallbackNextDay))
	n := c.Net
	n.Supply.Stock[1] = DepotStock{} // S2: finite, none at the depot
	c = New(n)
	stepOK(t, c, orderSKU(1, at(9, 0), 0))
	effs := stepOK(t, c, orderSKU(2, at(9, 1), 0))
	require.Len(t, effectsOf(effs, EffStockout), 1)
	require.Nil(t, c.Label(2), "cancelled at once")
	stepOK(t, c, orderSKU(3, at(9, 2), 1))
	st := c.Supply(m1)
	require.Equal(t, uint64(1), st.Central)
	require.Equal(t, uint64(1), st.StockoutsCentral, "S1 is not cached at M1")
	require.Equal(t, uint64(1), st.StockoutsOutOfStock, "S2 is cached at M1, cache and depot empty")
	require.Equal(t, uint64(2), c.Inventory(m1, at(9, 3)).Stats.Stockouts, "the cache-first stockout counter sees both")
	require.Equal(t, uint64(2), c.Stats.Cancelled)

	stepOK(t, c, Event{Type: EvCancel, At: at(9, 30), Label: 1, Reason: ReasonCancelled})
	d := c.Depot(at(9, 31))[0]
	require.Equal(t, int64(1), d.Held)
	require.Equal(t, int64(1), d.Back)
	require.NoError(t, c.CheckDepot())
}

// Conservation at the depot: initial + inbound + back = taken + held, with a
// daily inbound, orders and restock takes, every step of a week.
func TestDepotConservation(t *testing.T) {
	c := New(supplyNet(t, 3, 4, -1, FallbackNextDay))
	id := LabelID(1)
	var taken int64
	for d := 0; d < 7; d++ {
		for h := 0; h < 24; h += 2 {
			effs := c.Step(orderSKU(id, at(24*d+h, 10), 0))
			require.Empty(t, effectsOf(effs, EffReject))
			if len(effectsOf(effs, EffStockout)) == 0 {
				taken++
			}
			id++
			require.NoError(t, c.CheckDepot())
		}
		require.NoError(t, c.CheckDepot())
	}
	dep := c.Depot(at(24*7, 0))[0]
	require.Equal(t, int64(3), dep.Initial)
	require.Equal(t, int64(7*4), dep.Inbound, "inbound at 05:00 on each of the 7 days")
	require.Equal(t, taken, dep.TakenOrders)
	require.Equal(t, dep.Initial+dep.Inbound+dep.Back, dep.TakenOrders+dep.Held)
	require.Positive(t, c.Supply(m1).StockoutsCentral, "12 orders a day against 4 units of inbound")
}

// sla.fallback: a same-day order whose wave arrives after ready_by - last
// mile is promised for the next day (next_day) or kept and missed (miss);
// orders whose wave is in time, and next-day orders, are untouched.
func TestFallback(t *testing.T) {
	tests := []struct {
		name        string
		rule        FallbackRule
		placed      Instant
		lastMile    Duration
		wantSameDay bool
		wantDue     Instant
		nextDay     uint64
		missed      uint64
	}{
		// 09:00 rides 11:00, arrives 12:30: in time for 22:00
		{"in time, next_day", FallbackNextDay, at(9, 0), Hour, true, at(22, 0), 0, 0},
		{"in time, miss", FallbackMiss, at(9, 0), Hour, true, at(22, 0), 0, 0},
		// 13:30 rides 16:00, arrives 17:30; with 5h last mile ready 22:30 > 22:00
		{"too late, next_day", FallbackNextDay, at(13, 30), 5 * Hour, false, at(46, 0), 1, 0},
		{"too late, miss", FallbackMiss, at(13, 30), 5 * Hour, true, at(22, 0), 0, 1},
		// exactly on time: arrival + last mile == ready_by
		{"on the edge", FallbackNextDay, at(13, 30), 4*Hour + 30*Minute, true, at(22, 0), 0, 0},
		// 15:30 is after the cutoff anyway: a next-day order, untouched
		{"next-day order", FallbackMiss, at(15, 30), 5 * Hour, false, at(46, 0), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := supplyNet(t, 0, 0, -1, tc.rule)
			n.Supply.Stock[0] = DepotStock{Unlimited: true}
			n.Supply.LastMile = tc.lastMile
			n.Policy.Cutoff = 15 * Hour
			c := New(n)
			effs := stepOK(t, c, orderSKU(1, tc.placed, 0))
			l := c.Label(1)
			require.Equal(t, tc.wantSameDay, l.SameDay)
			require.Equal(t, tc.wantDue, l.Due)
			sla := effectsOf(effs, EffSetTimer)
			require.Equal(t, tc.wantDue, sla[len(sla)-1].At, "the SLA timer follows the due")
			st := c.Supply(m1)
			require.Equal(t, tc.nextDay, st.FallbackNextDay)
			require.Equal(t, tc.missed, st.FallbackMissed)
			if tc.wantSameDay {
				require.Equal(t, uint64(1), c.Stats.SameDay)
			} else {
				require.Zero(t, c.Stats.SameDay)
			}
		})
	}
}

// An order that loses a reconciliation conflict is served from the depot
// (with a supply tier) instead of another microstore.
func TestConflictLoserGoesCentral(t *testing.T) {
	n := cacheNet(t, 1, 5, OfflineServe)
	n.Supply = &Supply{Waves: []Duration{11 * Hour}, Lead: make([]Duration, len(n.Nodes)),
		Stock: []DepotStock{{Unlimited: true}, {Unlimited: true}, {Unlimited: true}}}
	n.Supply.Lead[m1] = Hour
	require.NoError(t, n.Validate())
	c := New(n)
	stepOK(t, c, Event{Type: EvNodeOffline, At: at(9, 0), Node: m1})
	stepOK(t, c, order(1, at(9, 10)))
	require.Equal(t, StockPending, c.Label(1).Stock)
	stepOK(t, c, Event{Type: EvCounterSale, At: at(9, 20), Node: m1, SKU: 0})
	effs := stepOK(t, c, Event{Type: EvNodeOnline, At: at(10, 0), Node: m1})
	l := c.Label(1)
	require.Equal(t, StockCentral, l.Stock)
	require.Equal(t, m1, l.From, "stays with its node, not moved to M2")
	require.Equal(t, at(12, 0), l.Arrive)
	require.Len(t, effectsOf(effs, EffLineHaul), 1)
	require.Equal(t, uint64(1), c.Inventory(m1, at(10, 0)).Stats.Rerouted)
}

// A snapshot taken while central orders ride their waves restores the depot,
// the counters and the arrivals.
func TestSnapshotSupply(t *testing.T) {
	c := New(supplyNet(t, 5, 2, 1, FallbackNextDay))
	stepOK(t, c, orderSKU(1, at(9, 0), 0))
	stepOK(t, c, orderSKU(2, at(9, 5), 1))
	stepOK(t, c, orderSKU(3, at(13, 30), 0))
	data, err := c.MarshalBinary()
	require.NoError(t, err)
	d := New(c.Net)
	require.NoError(t, d.UnmarshalBinary(data))
	require.Equal(t, c.Label(3).Arrive, d.Label(3).Arrive)
	require.Equal(t, c.Depot(at(9, 0)), d.Depot(at(9, 0)))
	require.Equal(t, c.SupplyTotal(), d.SupplyTotal())
	again, err := d.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, data, again)
	// both go on the same way: the next day's inbound and a new order
	e1, e2 := c.Step(orderSKU(4, at(30, 0), 0)), d.Step(orderSKU(4, at(30, 0), 0))
	require.Equal(t, e1, e2)
	require.Equal(t, c.Depot(at(30, 0)), d.Depot(at(30, 0)))

	// a snapshot of a network without a supply tier is refused
	require.Error(t, New(testNet(t)).UnmarshalBinary(data))
}
