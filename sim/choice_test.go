package sim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/model"
)

// choiceConfig is one demand cell with five pickup nodes around it: two
// lockers sharing one H3 cell (at different points of it), a locker farther
// out, a partner and a locker beyond the radius. Capacities are large: only
// the choice model decides.
func choiceConfig(t testing.TB) *Config {
	home := mustCell(t, 52.500, 13.400)
	ll := home.LatLng()
	at := func(dlat, dlng float64) (float64, float64, model.Cell) {
		lat, lng := ll.Lat+dlat, ll.Lng+dlng
		return lat, lng, mustCell(t, lat, lng)
	}
	node := func(id string, kind model.NodeKind, dlat, dlng float64) model.Node {
		lat, lng, c := at(dlat, dlng)
		n := model.Node{ID: id, Kind: kind, Lat: lat, Lng: lng, Cell: c}
		if kind == model.Partner {
			n.Counter = 1 << 20
		} else {
			n.Slots = [model.NumSizes]int32{0, 1 << 20, 0}
		}
		return n
	}
	net := &model.Network{
		Resolution: 8,
		Nodes: []model.Node{
			node("A", model.Locker, 0.0005, 0.0005),  // same cell as the customer, ~70 m
			node("B", model.Locker, -0.0010, 0.0012), // same cell, ~140 m
			node("C", model.Locker, 0.0080, 0.0000),  // ~0.9 km
			node("P", model.Partner, 0.0000, 0.0120), // ~0.8 km
			node("F", model.Locker, 0.0400, 0.0000),  // ~4.5 km: beyond the radius
		},
		SKUs:   []model.SKU{{ID: "S", Size: model.Small, Price: 10}},
		Policy: model.Policy{MaxHops: 1, Cutoff: 14 * model.Hour, ReadyBy: 22 * model.Hour, PickupWindow: 24 * model.Hour},
	}
	require.Equal(t, net.Nodes[0].Cell, net.Nodes[1].Cell, "A and B share a cell")
	c := &Config{
		Name: "choice", Network: net, Seed: 11, Start: testStart, Warmup: 0, Horizon: model.Day,
		Neighborhoods: []Neighborhood{{Name: "n", Cells: []model.Cell{home}, OrdersPerDay: 100, Hourly: flat()}},
		Fulfilment:    Fulfilment{PickTime: Dist{Kind: Constant, Mean: model.Minute}, PackTime: Dist{Kind: Constant, Mean: model.Minute}},
		Couriers:      Couriers{Fleet: 10, SpeedKmh: 15, BatchSize: 1},
		Customers: Customers{PickupDelay: Dist{Kind: Constant, Mean: model.Hour}, SubscriberPickupDelay: Dist{Kind: Constant, Mean: model.Hour},
			Choice: Choice{Model: ChoiceLogit, RadiusKm: 2, BetaPerKm: -1.2, HomeBonus: 1}},
	}
	c.Customers.Choice.KindUtility[model.Partner] = -0.3
	return c
}

// logitShares is the formula: exp(V_j)/sum exp(V_k) over the nodes within
// the radius, computed here from scratch.
func logitShares(c *Config, sub bool, home int) []float64 {
	ch := c.Customers.Choice
	ll := c.Neighborhoods[0].Cells[0].LatLng()
	out := make([]float64, len(c.Network.Nodes))
	var sum float64
	for j, n := range c.Network.Nodes {
		d := model.HaversineKm(ll.Lat, ll.Lng, n.Lat, n.Lng)
		if d > ch.RadiusKm {
			continue
		}
		v := ch.BetaPerKm*d + ch.KindUtility[n.Kind]
		if sub && j == home {
			v += ch.HomeBonus
		}
		out[j] = math.Exp(v)
		sum += out[j]
	}
	for j := range out {
		out[j] /= sum
	}
	return out
}

// drawChoices runs the world's checkout n times at noon of the first day.
func drawChoices(t testing.TB, c *Config, n int, sub bool) ([]int, *world) {
	require.NoError(t, c.Validate())
	w := newWorld(c, 0)
	w.res = &Result{}
	w.k.Now = testStart.Add(12 * model.Hour)
	counts := make([]int, len(c.Network.Nodes))
	for i := 0; i < n; i++ {
		j := w.choose(0, &w.hoods[0].cells[0], sub, 0)
		require.NotEqual(t, model.NoNode, j)
		counts[j]++
	}
	return counts, w
}

// Every node's share is within 4.5 binomial standard errors of the logit
// formula (two nodes in one cell included), and the node beyond the radius
// gets nothing.
func TestChoiceLogitProbabilities(t *testing.T) {
	const n = 200000
	c := choiceConfig(t)
	for _, sub := range []bool{false, true} {
		counts, w := drawChoices(t, c, n, sub)
		home := int(w.hoods[0].cells[0].choice.home)
		require.NotEqual(t, int(model.NoNode), home)
		want := logitShares(c, sub, home)
		for j, p := range want {
			got := float64(counts[j]) / n
			se := math.Sqrt(p * (1 - p) / n)
			assert.InDelta(t, p, got, 4.5*se+1e-12, "sub=%v node %s: share %.4f, formula %.4f", sub, c.Network.Nodes[j].ID, got, p)
		}
		assert.Zero(t, counts[4], "F lies beyond the radius")
		assert.Positive(t, counts[0])
		assert.Positive(t, counts[1], "a node sharing a cell with another is not starved")
	}
}

// The chi-square statistic over the nodes agrees with the formula.
func TestChoiceLogitChiSquare(t *testing.T) {
	const n = 100000
	c := choiceConfig(t)
	counts, _ := drawChoices(t, c, n, false)
	want := logitShares(c, false, -1)
	var chi2 float64
	df := -1
	for j, p := range want {
		if p == 0 {
			continue
		}
		e := p * n
		chi2 += (float64(counts[j]) - e) * (float64(counts[j]) - e) / e
		df++
	}
	crit := distuv.ChiSquared{K: float64(df)}.Quantile(0.9999)
	assert.Less(t, chi2, crit, "chi-square %.2f with %d df", chi2, df)
}

// Each knob moves the shares the way it says.
func TestChoiceKnobDirections(t *testing.T) {
	const n = 40000
	share := func(c *Config, node int, sub bool) float64 {
		counts, _ := drawChoices(t, c, n, sub)
		return float64(counts[node]) / n
	}
	tests := []struct {
		name  string
		set   func(c *Config)
		node  int
		sub   bool
		rises bool
		delta float64
	}{
		{"steeper distance favours the nearest", func(c *Config) { c.Customers.Choice.BetaPerKm = -4 }, 0, false, true, 0.01},
		{"a lower partner constant loses the partner share", func(c *Config) { c.Customers.Choice.KindUtility[model.Partner] = -2 }, 3, false, false, 0.01},
		{"a smaller radius drops the far nodes", func(c *Config) { c.Customers.Choice.RadiusKm = 0.5 }, 2, false, false, 0.01},
		{"a larger radius brings in the farthest node", func(c *Config) { c.Customers.Choice.RadiusKm = 5 }, 4, false, true, 0.0005},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := share(choiceConfig(t), tt.node, tt.sub)
			c := choiceConfig(t)
			tt.set(c)
			after := share(c, tt.node, tt.sub)
			if tt.rises {
				assert.Greater(t, after, before+tt.delta)
			} else {
				assert.Less(t, after, before-tt.delta)
			}
		})
	}
	t.Run("a home bonus raises the subscribers' share of their home node", func(t *testing.T) {
		c := choiceConfig(t)
		c.Customers.Choice.HomeBonus = 0
		_, w := drawChoices(t, c, 1, true)
		home := int(w.hoods[0].cells[0].choice.home)
		before := share(c, home, true)
		c = choiceConfig(t)
		c.Customers.Choice.HomeBonus = 2
		after := share(c, home, true)
		assert.Greater(t, after, before+0.05)
	})
}

// The home node is drawn per seed: the same seed gives the same home.
func TestChoiceHomeDeterministic(t *testing.T) {
	c := choiceConfig(t)
	_, a := drawChoices(t, c, 1, true)
	_, b := drawChoices(t, c, 1, true)
	assert.Equal(t, a.hoods[0].cells[0].choice.home, b.hoods[0].cells[0].choice.home)
}

// A node that is not active is never offered; when nothing within the
// radius is active the order is unserved only if no node is active at all.
func TestChoiceInactiveNotOffered(t *testing.T) {
	c := choiceConfig(t)
	c.Network.Nodes[0].Kind = model.Popup
	c.Network.Nodes[0].ActiveFrom, c.Network.Nodes[0].ActiveUntil = testStart.Add(2*model.Day), testStart.Add(3*model.Day)
	counts, _ := drawChoices(t, c, 20000, false)
	assert.Zero(t, counts[0])
	assert.Positive(t, counts[1])
}

// capacityConfig: a small locker next to the customers and a partner with a
// large counter 1 km away; customers collect late, so the locker fills.
func capacityConfig(t testing.TB, aware bool) *Config {
	c := lossConfig(t, 20, 6, Dist{Kind: Exponential, Mean: 12 * model.Hour}, 10)
	c.Customers.Choice = Choice{Model: ChoiceLogit, RadiusKm: 5, BetaPerKm: -1.2, CapacityAware: aware}
	return c
}

// A capacity-aware checkout cuts the parcels refused at the locker and
// reports how often the first choice had no room.
func TestCapacityAwareCheckoutCutsRefusals(t *testing.T) {
	off, err := Run(capacityConfig(t, false), 0)
	require.NoError(t, err)
	on, err := Run(capacityConfig(t, true), 0)
	require.NoError(t, err)
	require.Positive(t, off.Nodes[0].Refused, "the locker overflows without capacity-aware checkout")
	assert.Less(t, float64(on.Nodes[0].Refused), 0.5*float64(off.Nodes[0].Refused),
		"refused at the locker: %d aware vs %d unaware", on.Nodes[0].Refused, off.Nodes[0].Refused)
	assert.Zero(t, off.FirstChoiceUnavailable)
	assert.Positive(t, on.FirstChoiceUnavailable)
	assert.Less(t, on.FirstChoiceUnavailable, on.Stats.Orders)
	require.NoError(t, on.Conserved())
}

// With the nearest rule and capacity awareness, a full nearest node is
// skipped for the next one.
func TestCapacityAwareNearest(t *testing.T) {
	c := capacityConfig(t, true)
	c.Customers.Choice.Model = ChoiceNearest
	on, err := Run(c, 0)
	require.NoError(t, err)
	c.Customers.Choice.CapacityAware = false
	off, err := Run(c, 0)
	require.NoError(t, err)
	assert.Zero(t, off.Nodes[1].Orders, "nearest without capacity: the partner is never chosen")
	assert.Positive(t, on.Nodes[1].Orders)
	assert.Less(t, on.Nodes[0].Refused, off.Nodes[0].Refused)
}

// The checkout allocates nothing per order.
func TestChooseAllocatesNothing(t *testing.T) {
	c := choiceConfig(t)
	c.Customers.Choice.CapacityAware = true
	_, w := drawChoices(t, c, 1, false)
	ci := &w.hoods[0].cells[0]
	allocs := testing.AllocsPerRun(1000, func() { w.choose(0, ci, true, 0) })
	assert.Zero(t, allocs)
}
