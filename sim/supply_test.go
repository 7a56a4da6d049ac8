package sim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// supplyConfig is one microstore M (caching the one SKU with the given
// stock, none when stock < 0) fulfilling one large locker L, fed by Poisson
// orders at perHour around the clock; couriers never short.
func supplyConfig(t testing.TB, stock int32, perHour float64, days int) *Config {
	m := mustCell(t, 52.50, 13.40)
	l := mustCell(t, 52.51, 13.41)
	net := &model.Network{
		Resolution: 8,
		Nodes: []model.Node{
			{ID: "M", Kind: model.Microstore, Cell: m, Lat: 52.50, Lng: 13.40},
			{ID: "L", Kind: model.Locker, Cell: l, Lat: 52.51, Lng: 13.41, Slots: [model.NumSizes]int32{0, 1 << 20, 0}},
		},
		SKUs:   []model.SKU{{ID: "S", Size: model.Medium, Price: 10}},
		Policy: model.Policy{MaxHops: 1, Cutoff: 14 * model.Hour, ReadyBy: 22 * model.Hour, PickupWindow: 24 * model.Hour},
	}
	if stock >= 0 {
		net.Nodes[0].Cache = []model.CacheItem{{SKU: 0, Capacity: stock, Stock: stock}}
	}
	return &Config{
		Name: "supply", Network: net, Seed: 11, Start: testStart, Warmup: model.Day, Horizon: model.Duration(days) * model.Day,
		Neighborhoods: []Neighborhood{{Name: "n", Cells: []model.Cell{l}, OrdersPerDay: perHour * 24, Hourly: flat()}},
		Fulfilment: Fulfilment{PickTime: Dist{Kind: Exponential, Mean: 4 * model.Minute},
			PackTime: Dist{Kind: Constant, Mean: 2 * model.Minute}},
		Couriers:  Couriers{Fleet: 500, SpeedKmh: 15, BatchSize: 1},
		Customers: Customers{PickupDelay: Dist{Kind: Constant, Mean: model.Hour}, SubscriberPickupDelay: Dist{Kind: Constant, Mean: model.Hour}},
	}
}

// withSupply gives cfg a depot with every SKU unlimited, waves at the given
// clock times and the given lead to every node.
func withSupply(cfg *Config, lead model.Duration, waves ...model.Duration) *Config {
	n := *cfg.Network
	n.Supply = &model.Supply{Waves: waves, Lead: make([]model.Duration, len(n.Nodes)), HubLead: lead,
		Stock: make([]model.DepotStock, len(n.SKUs))}
	for i := range n.Supply.Lead {
		n.Supply.Lead[i] = lead
	}
	for k := range n.Supply.Stock {
		n.Supply.Stock[k].Unlimited = true
	}
	out := *cfg
	out.Network = &n
	return &out
}

// A cache that never runs out with a zero-lead central tier beside it gives
// exactly the result without the central tier: the depot is never used.
func TestInfiniteCacheEqualsNoCentralPath(t *testing.T) {
	base := supplyConfig(t, 1<<30, 6, 4)
	for rep := range 2 {
		a, err := Run(base, rep)
		require.NoError(t, err)
		b, err := Run(withSupply(base, 0, 0, 12*model.Hour), rep)
		require.NoError(t, err)
		require.NoError(t, b.Conserved())
		require.Positive(t, a.Stats.Orders)
		require.Equal(t, a.Stats, b.Stats)
		require.Equal(t, a.Costs, b.Costs)
		require.Equal(t, a.Daily, b.Daily)
		require.Equal(t, a.CourierUtilization, b.CourierUtilization)
		require.Equal(t, a.Stats.Orders, b.Supply.CacheHits)
		require.Zero(t, b.Supply.Central)
		require.Zero(t, b.Supply.LineHaulParcels)
	}
}

type pickRecorder struct {
	placed, picked map[model.LabelID]model.Instant
	arrive         map[model.LabelID]model.Instant
	ready          map[model.LabelID]model.Instant
}

func (r *pickRecorder) Observe(c *model.Core, ev model.Event, effs []model.Effect) {
	switch ev.Type {
	case model.EvOrderPlaced:
		r.placed[ev.Label] = ev.At
		if l := c.Label(ev.Label); l != nil {
			r.arrive[ev.Label] = l.Arrive
		}
	case model.EvScanPicked:
		r.picked[ev.Label] = ev.At
	case model.EvArrived:
		for _, e := range effs {
			if e.Type == model.EffState && e.State == model.ReadyForPickup {
				r.ready[ev.Label] = ev.At
			}
		}
	}
}

// Without caches every order goes central: it is picked (received) at the
// microstore exactly when the schedule says, departure of the first wave it
// makes plus the lead, and ready one pack and one courier ride later.
func TestNoCacheEverythingCentral(t *testing.T) {
	const lead = 90 * model.Minute
	cfg := withSupply(supplyConfig(t, -1, 3, 3), lead, 6*model.Hour, 11*model.Hour, 16*model.Hour)
	cfg.Network.Supply.OrderCutoff = model.Hour
	rec := &pickRecorder{map[model.LabelID]model.Instant{}, map[model.LabelID]model.Instant{}, map[model.LabelID]model.Instant{}, map[model.LabelID]model.Instant{}}
	r, err := RunObserved(cfg, 0, rec)
	require.NoError(t, err)
	require.NoError(t, r.Conserved())
	require.Equal(t, r.Stats.Orders, r.Supply.Central)
	require.Zero(t, r.Supply.CacheHits+r.Supply.BackStore)
	s := cfg.Network.Supply
	ride := model.Duration(math.Sqrt(2)*1.3*float64(model.Hour)/15) + 0 // bound on one courier leg (< 1.3 km here)
	n := 0
	for id, at := range rec.placed {
		want := s.NextWave(at).Add(lead)
		require.Equal(t, want, rec.arrive[id], "label %d", id)
		if p, ok := rec.picked[id]; ok {
			require.Equal(t, want, p, "label %d placed %v", id, at-model.DayStart(at))
			n++
		}
		if rd, ok := rec.ready[id]; ok {
			d := rd.Sub(want)
			require.GreaterOrEqual(t, d, 2*model.Minute, "ready after the pack")
			require.LessOrEqual(t, d, 2*model.Minute+ride, "ready within pack + one courier ride")
		}
	}
	require.Greater(t, n, 150)
	require.Equal(t, r.Supply.LineHaulParcels, r.Supply.Central)
	require.Positive(t, r.Supply.Waves)
	require.LessOrEqual(t, r.Supply.Waves, uint64(3*3))
}

// The line-haul prices act: per parcel on every central parcel, per wave on
// every departure that carried one.
func TestLineHaulCosts(t *testing.T) {
	cfg := withSupply(supplyConfig(t, -1, 3, 3), model.Hour, 6*model.Hour, 16*model.Hour)
	run := func(parcel, wave float64) *Result {
		c := *cfg
		c.Supply = SupplyCosts{PerParcel: parcel, PerWave: wave}
		r, err := Run(&c, 0)
		require.NoError(t, err)
		return r
	}
	zero, p, w := run(0, 0), run(0.5, 0), run(0, 40)
	require.Zero(t, zero.Costs.LineHaul)
	require.InDelta(t, 0.5*float64(p.Supply.LineHaulParcels), p.Costs.LineHaul, 1e-9)
	require.InDelta(t, 40*float64(w.Supply.Waves), w.Costs.LineHaul, 1e-9)
	require.Greater(t, p.Costs.Total, zero.Costs.Total)
	require.Greater(t, w.Costs.Total, zero.Costs.Total)
	var nodes float64
	for _, n := range w.Nodes {
		nodes += n.Cost
	}
	require.InDelta(t, w.Costs.Total-zero.Costs.Total, nodes-func() float64 {
		var s float64
		for _, n := range zero.Nodes {
			s += n.Cost
		}
		return s
	}(), 1e-6, "the wave cost is spread over the nodes")
}

// A finite depot runs out: orders are cancelled as central stockouts and
// conservation holds at the depot.
func TestFiniteDepot(t *testing.T) {
	cfg := withSupply(supplyConfig(t, -1, 3, 4), model.Hour, 6*model.Hour, 16*model.Hour)
	cfg.Network.Supply.Stock[0] = model.DepotStock{Units: 20, InboundPerDay: 30}
	r, err := Run(cfg, 0)
	require.NoError(t, err)
	require.NoError(t, r.Conserved())
	require.Positive(t, r.Supply.StockoutsCentral)
	require.Equal(t, r.Stats.Cancelled, r.Supply.StockoutsCentral)
	require.Equal(t, r.Stats.Orders, r.Supply.Central+r.Supply.StockoutsCentral)
}

// erlangC is the probability an arrival waits in an M/M/c queue with
// offered load a (Erlang C, from Erlang B).
func erlangC(c int, a float64) float64 {
	b := erlangB(c, a)
	return b / (1 - a/float64(c)*(1-b))
}

// Finite pickers are an M/M/c queue when orders are Poisson, picking is
// exponential and packing takes no time: the mean wait for a picker matches
// Erlang C within the 99 % confidence interval of the replications.
func TestPickersErlangC(t *testing.T) {
	const (
		reps    = 12
		c       = 3
		perHour = 14.0
		pick    = 10 * model.Minute
	)
	cfg := supplyConfig(t, -1, perHour, 15)
	cfg.Fulfilment.PickTime = Dist{Kind: Exponential, Mean: pick}
	cfg.Fulfilment.PackTime = Dist{Kind: Constant}
	cfg.Fulfilment.Staff = &Staff{Default: c}
	mu := float64(model.Hour) / float64(pick) // per hour
	a := perHour / mu
	want := erlangC(c, a) / (float64(c)*mu - perHour) * 60 // minutes
	var waits, utils []float64
	for rep := range reps {
		r, err := Run(cfg, rep)
		require.NoError(t, err)
		require.NoError(t, r.Conserved())
		require.True(t, r.Supply.Staffed)
		waits = append(waits, r.Supply.PickWaitMean)
		utils = append(utils, r.Supply.PickerUtilization())
	}
	mean, half := ci(waits, 0.99)
	t.Logf("Erlang C Wq %.2f min, simulated %.2f ± %.2f", want, mean, half)
	require.InDelta(t, want, mean, half)
	um, uh := ci(utils, 0.99)
	require.InDelta(t, a/c, um, uh+0.002, "utilisation is the offered load per picker")
}

// Fewer pickers, longer waits; nobody picks while the node is closed, so
// night orders wait for the opening.
func TestStaffDirection(t *testing.T) {
	cfg := supplyConfig(t, -1, 10, 4)
	wait := func(mut func(*Config)) SupplyResult {
		c := *cfg
		n := *c.Network
		n.Nodes = append([]model.Node(nil), n.Nodes...)
		c.Network = &n
		mut(&c)
		r, err := Run(&c, 0)
		require.NoError(t, err)
		return r.Supply
	}
	three := wait(func(c *Config) { c.Fulfilment.Staff = &Staff{Default: 3} })
	two := wait(func(c *Config) { c.Fulfilment.Staff = &Staff{Default: 2} })
	require.Greater(t, two.PickWaitMean, three.PickWaitMean)
	require.Greater(t, two.PickerUtilization(), three.PickerUtilization())
	shifts := wait(func(c *Config) {
		c.Fulfilment.Staff = &Staff{Default: 3, Nodes: [][]StaffShift{{{Span: model.Span{From: 0, To: 12 * model.Hour}, Pickers: 3},
			{Span: model.Span{From: 12 * model.Hour, To: model.Day}, Pickers: 1}}}}
	})
	require.Greater(t, shifts.PickWaitMean, three.PickWaitMean, "one picker in the afternoon")
	closed := wait(func(c *Config) {
		c.Network.Nodes[0].Hours = model.Hours{{From: 8 * model.Hour, To: 20 * model.Hour}}
		c.Fulfilment.Staff = &Staff{Default: 3}
	})
	require.Greater(t, closed.PickWaitP90, 4*60.0, "night orders wait for 08:00")
	require.InDelta(t, 3*12*float64(model.Hour)*3, closed.StaffedTime, 1, "3 pickers x 12 h x 3 measured days")
}

// Picker-hours cost money: cost_per_hour x staffed hours, in the total and
// in the microstore's node cost.
func TestPickerCost(t *testing.T) {
	cfg := supplyConfig(t, -1, 10, 4)
	run := func(rate float64) *Result {
		c := *cfg
		c.Fulfilment.Staff = &Staff{Default: 2, CostPerHour: rate}
		r, err := Run(&c, 0)
		require.NoError(t, err)
		return r
	}
	free, paid := run(0), run(17)
	require.Zero(t, free.Costs.Pickers)
	require.InDelta(t, 2*24*3*17.0, paid.Costs.Pickers, 1e-6, "2 pickers around the clock, 3 measured days")
	require.InDelta(t, free.Costs.Total+paid.Costs.Pickers, paid.Costs.Total, 1e-6)
	require.InDelta(t, free.Nodes[0].Cost+paid.Costs.Pickers, paid.Nodes[0].Cost, 1e-6)
}
