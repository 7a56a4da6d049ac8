package sim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// refundLedger follows every refund and every label's end from outside the
// world (an Observer), to check the world's split of refunds into late
// refunds (a cost) and lost revenue.
type refundLedger struct {
	measured map[model.LabelID]bool
	refunded map[model.LabelID]float64
	end      map[model.LabelID]model.State
	price    []float64
	counter  []float64 // counter revenue per node: sales that found stock
	window   [2]model.Instant
}

func (o *refundLedger) Observe(core *model.Core, ev model.Event, effs []model.Effect) {
	if ev.Type == model.EvOrderPlaced {
		o.measured[ev.Label] = ev.Measured
	}
	sold := ev.Type == model.EvCounterSale && ev.At >= o.window[0] && ev.At < o.window[1]
	for _, e := range effs {
		switch e.Type {
		case model.EffRefund:
			o.refunded[e.Label] += e.Amount
		case model.EffState:
			if e.State.Terminal() {
				o.end[e.Label] = e.State
			}
		case model.EffStockout:
			sold = false
		}
	}
	if sold {
		o.counter[ev.Node] += o.price[ev.SKU]
	}
}

// starvedCity is the small city with too few couriers for its demand, so
// parcels are late (a refund of half the price) and some never reach their
// customer (no-shows returned, late ones too), and a microstore cache with a
// counter, so some orders are cancelled for lack of stock.
func starvedCity(t testing.TB) *Config {
	cfg := smallCity(t)
	cfg.Neighborhoods[0].OrdersPerDay = 150
	cfg.Couriers.Fleet = 1
	cfg.Couriers.BatchSize = 2
	cfg.Network.Policy.Refund = model.RefundShare
	cfg.Network.Policy.RefundShare = 0.5
	cfg.Network.EdgeLog = true
	cfg.Network.Nodes[0].Cache = []model.CacheItem{{SKU: 0, Capacity: 30, Stock: 30}}
	cfg.Nodes = []NodeWorld{{CounterSalesPerDay: 20}, {}, {}, {}}
	cfg.Drain = 3 * model.Day
	return cfg
}

// Every refund is booked once: refunds of collected orders (and of orders
// still unfinished at the end) are the late-refund cost, refunds of
// cancelled or returned orders lost revenue, outside total cost; a node's
// late refunds are in its cost and FCPO is the breakdown's total over the
// collected orders.
func TestRefundsSplitIntoLateRefundCostAndLostRevenue(t *testing.T) {
	cfg := starvedCity(t)
	for rep := 0; rep < 3; rep++ {
		o := &refundLedger{measured: map[model.LabelID]bool{}, refunded: map[model.LabelID]float64{}, end: map[model.LabelID]model.State{},
			counter: make([]float64, len(cfg.Network.Nodes)), window: [2]model.Instant{cfg.Start.Add(cfg.Warmup), cfg.Start.Add(cfg.Horizon)}}
		for _, s := range cfg.Network.SKUs {
			o.price = append(o.price, s.Price)
		}
		r, err := RunObserved(cfg, rep, o)
		require.NoError(t, err)
		require.NoError(t, r.Conserved())
		var late, lost float64
		var lateLabels, lostLabels int
		for id, amount := range o.refunded {
			if !o.measured[id] {
				continue
			}
			switch st, done := o.end[id]; {
			case !done || st == model.PickedUp:
				late += amount
				lateLabels++
			default:
				lost += amount
				lostLabels++
			}
		}
		require.Positive(t, lateLabels, "replication %d: the starved city has late parcels collected anyway", rep)
		require.Positive(t, lostLabels, "replication %d: and refunds of parcels never collected", rep)
		require.Positive(t, r.Stats.Cancelled, "replication %d: and cancellations", rep)
		require.InDelta(t, late, r.Costs.LateRefunds, 1e-6)
		require.InDelta(t, lost, r.LostRevenue, 1e-6)
		require.InDelta(t, r.Stats.RefundAmount, r.Costs.LateRefunds+r.LostRevenue, 1e-6)
		c := r.Costs
		require.InDelta(t, c.Total, c.Couriers+c.Fixed+c.Orders+c.Reroutes+c.Returns+c.LateRefunds+c.Restock+c.Holding+c.Space+c.LineHaul+c.Pickers, 1e-6,
			"total cost is the breakdown's sum, without lost revenue")
		var nodeLost, counter float64
		for i, n := range r.Nodes {
			nodeLost += n.LostRevenue
			counter += n.CounterRevenue
			require.InDelta(t, o.counter[i], n.CounterRevenue, 1e-6, "node %s counter revenue", n.ID)
		}
		require.InDelta(t, r.LostRevenue, nodeLost, 1e-6)
		require.Positive(t, counter)
		require.InDelta(t, counter, r.CounterRevenue, 1e-6)
	}
}

// Neighborhoods split the cohort exactly: orders, collected orders, within
// SLA and lost revenue add up to the run's; the nodes' costs are shared
// out among them without loss (every node here has orders or a microstore
// whose nodes have).
func TestNeighborhoodResultsAddUp(t *testing.T) {
	cfg := starvedCity(t)
	all := cfg.Neighborhoods[0]
	cfg.Neighborhoods = []Neighborhood{all, all}
	cfg.Neighborhoods[0].Name, cfg.Neighborhoods[0].Cells = "north", all.Cells[2:]
	cfg.Neighborhoods[1].Name, cfg.Neighborhoods[1].Cells = "south", all.Cells[:2]
	cfg.Neighborhoods[1].OrdersPerDay = 60
	r, err := Run(cfg, 0)
	require.NoError(t, err)
	require.Len(t, r.Hoods, 2)
	var orders, collected, within uint64
	var cost, lost, nodeCost float64
	for _, h := range r.Hoods {
		require.Positive(t, h.Orders, h.Name)
		require.Positive(t, h.Collected, h.Name)
		orders += h.Orders
		collected += h.Collected
		within += h.WithinSLA
		cost += h.Cost
		lost += h.LostRevenue
		require.Equal(t, h.Collected, h.Friction.N, "%s: one friction per collected order", h.Name)
		require.InDelta(t, h.Cost/float64(h.Collected), h.FCPO, 1e-9)
	}
	for _, n := range r.Nodes {
		nodeCost += n.Cost
	}
	require.Equal(t, r.Stats.Orders, orders)
	require.Equal(t, r.Stats.PickedUp, collected)
	require.Equal(t, r.Stats.PickedUpWithinSLA, within)
	require.InDelta(t, r.LostRevenue, lost, 1e-6)
	require.InDelta(t, nodeCost, cost, 1e-6*nodeCost)
	require.Equal(t, "north", r.Hoods[0].Name)
}

// A microstore's results cover the pickup nodes it serves: with two
// microstores every node goes to its nearest, costs and collected orders
// add up to the nodes', and FCPO and RSMI are the ratios.
func TestMicrostoreResults(t *testing.T) {
	cfg := starvedCity(t)
	net := cfg.Network
	// a second microstore beside P1 (north-west): P1 is nearer to it than to M1
	m2 := net.Nodes[3]
	m2.ID, m2.Kind, m2.Counter, m2.Hours, m2.FloorArea = "M2", model.Microstore, 10, nil, 25
	m2.Lat, m2.Lng = 52.512, 13.388
	m2.Cell = mustCell(t, m2.Lat, m2.Lng)
	m2.Cache = []model.CacheItem{{SKU: 1, Capacity: 20, Stock: 20}}
	net.Nodes = append(net.Nodes, m2)
	cfg.Nodes = append(cfg.Nodes, NodeWorld{CounterSalesPerDay: 10})
	cfg.Couriers.Fleet = 2
	r, err := Run(cfg, 1)
	require.NoError(t, err)
	require.Len(t, r.Microstores, 2)
	require.Equal(t, []string{"M1", "L1", "L2"}, r.Microstores[0].Nodes)
	require.Equal(t, []string{"P1", "M2"}, r.Microstores[1].Nodes)
	var cost, nodeCost float64
	var collected uint64
	for _, m := range r.Microstores {
		require.Positive(t, m.Collected, m.ID)
		require.InDelta(t, m.Cost/float64(m.Collected), m.FCPO, 1e-9)
		require.Positive(t, m.M2Days, m.ID)
		require.InDelta(t, m.Revenue/m.M2Days, m.RSMI, 1e-9)
		cost += m.Cost
		collected += m.Collected
	}
	for _, n := range r.Nodes {
		nodeCost += n.Cost
	}
	require.InDelta(t, nodeCost, cost, 1e-6)
	require.Equal(t, r.Stats.PickedUp, collected)
	days := float64(cfg.Horizon-cfg.Warmup) / float64(model.Day)
	require.InDelta(t, 40*days, r.Microstores[0].M2Days, 1e-9)
	require.InDelta(t, 25*days, r.Microstores[1].M2Days, 1e-9)
}

// RSMI divides by the cached floor area in use: a pop-up with a cache that
// exists for two of the five measured days counts two days of its area, so
// its RSMI is its revenue over those m²-days (not diluted by the days it
// did not exist), and the run's RSMI is all revenue over all m²-days in use.
func TestRSMIOfPopupNotDiluted(t *testing.T) {
	cfg := starvedCity(t)
	net := cfg.Network
	pop := net.Nodes[3]
	pop.ID, pop.Kind, pop.FloorArea, pop.Counter, pop.Hours = "POP", model.Popup, 15, 20, nil
	pop.Lat, pop.Lng = 52.506, 13.398
	pop.Cell = mustCell(t, pop.Lat, pop.Lng)
	pop.Cache = []model.CacheItem{{SKU: 1, Capacity: 60, Stock: 60}}
	from := cfg.Start.Add(cfg.Warmup + 2*model.Day)
	pop.ActiveFrom, pop.ActiveUntil = from, from.Add(2*model.Day)
	net.Nodes = append(net.Nodes, pop)
	cfg.Nodes = append(cfg.Nodes, NodeWorld{CounterSalesPerDay: 30})
	r, err := Run(cfg, 0)
	require.NoError(t, err)
	p := r.Nodes[4]
	require.Equal(t, "POP", p.ID)
	require.InDelta(t, 15*2.0, p.M2Days, 1e-9, "two active days of 15 m²")
	require.Positive(t, p.CounterRevenue, "counter sales while it exists")
	require.InDelta(t, p.Revenue/p.M2Days, p.RSMI, 1e-9)
	days := float64(cfg.Horizon-cfg.Warmup) / float64(model.Day)
	diluted := p.Revenue / (15 * days)
	require.InDelta(t, diluted*days/2, p.RSMI, 1e-9, "2.5 times what dividing by the whole window would give")
	var rev, m2 float64
	for _, n := range r.Nodes {
		rev += n.Revenue
		m2 += n.M2Days
	}
	require.InDelta(t, 40*days+30, m2, 1e-9, "M1's cache all window, the pop-up's two days, no other cache")
	require.InDelta(t, r.Revenue+r.CounterRevenue, rev, 1e-6)
	require.InDelta(t, rev/m2, r.RSMI, 1e-9)
}

// The new results are as deterministic as the rest: same scenario and
// replication, same microstores and neighborhoods, to the bit.
func TestMetricsDeterministic(t *testing.T) {
	cfg := starvedCity(t)
	all := cfg.Neighborhoods[0]
	cfg.Neighborhoods = []Neighborhood{all, all}
	cfg.Neighborhoods[1].Name = "twin"
	a, err := Run(cfg, 2)
	require.NoError(t, err)
	b, err := Run(cfg, 2)
	require.NoError(t, err)
	require.Equal(t, a.Hoods, b.Hoods)
	require.Equal(t, a.Microstores, b.Microstores)
	require.Equal(t, a.Costs, b.Costs)
	require.Equal(t, a.LostRevenue, b.LostRevenue)
	require.Equal(t, a.RSMI, b.RSMI)
	require.NotEqual(t, a.Hoods[0].Orders, a.Hoods[1].Orders, "two streams, not one copied")
}

// The neighborhood friction histogram grows as needed and gives, to the
// bit, the quantiles a full model.Histogram gives, whether read
// directly or as the model.Histogram it converts to; bins of 256 and more
// (carried out of their byte) included.
func TestMinuteHistMatchesModelHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial, vals := range [][]float64{
		{3.2, 0, -1, 59.9, 60, 1440.5, 30, 2.5, 25000, 700},
		nil,
		{42},
	} {
		if trial == 1 { // many values, some bins past 256
			for range 5000 {
				vals = append(vals, math.Floor(rng.ExpFloat64()*90)+rng.Float64())
			}
			for range 300 {
				vals = append(vals, 12.5)
			}
		}
		var g MinuteHist
		var full model.Histogram
		for i, v := range vals {
			g.add(v)
			full.Add(v)
			require.LessOrEqual(t, g.top, model.HistogramBins+1, "value %d", i)
		}
		h := g.Histogram()
		for _, q := range []float64{0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1, 1.5} {
			got := math.Float64bits(g.Quantile(q))
			require.Equal(t, math.Float64bits(h.Quantile(q)), got, "trial %d q %v", trial, q)
			if q <= 1 { // past 1, each answers its own last bin + 1
				require.Equal(t, math.Float64bits(full.Quantile(q)), got, "trial %d q %v", trial, q)
			}
		}
		require.Equal(t, full.N, g.N)
		require.Equal(t, full.N, h.N)
		require.Equal(t, full.Sum, h.Sum)
		require.Equal(t, full.Sum, g.Sum)
	}
}

// With one neighborhood its results are the run's: orders, collected,
// within SLA, friction quantiles (same one-minute bins) and lost revenue.
func TestOneNeighborhoodIsTheRun(t *testing.T) {
	r, err := Run(starvedCity(t), 1)
	require.NoError(t, err)
	require.Len(t, r.Hoods, 1)
	h := r.Hoods[0]
	require.Equal(t, r.Stats.Orders, h.Orders)
	require.Equal(t, r.Stats.PickedUp, h.Collected)
	require.Equal(t, r.Stats.PickedUpWithinSLA, h.WithinSLA)
	for _, q := range []float64{0.5, 0.9} {
		require.Equal(t, r.Stats.Friction.Quantile(q), h.Friction.Quantile(q), "q %v", q)
	}
	require.InDelta(t, r.LostRevenue, h.LostRevenue, 1e-9)
}

// Conserved also holds the refunds to account: a refund booked twice or
// not at all is an error naming the numbers.
func TestConservedChecksRefunds(t *testing.T) {
	r, err := Run(starvedCity(t), 0)
	require.NoError(t, err)
	require.NoError(t, r.Conserved())
	r.LostRevenue += 9
	err = r.Conserved()
	require.Error(t, err)
	require.Contains(t, err.Error(), "booked as late-refund cost")
}

// denseHoodCosts is hoodResults' cost sharing as it was written first, over
// a dense [hood][node] table: the reference for the sparse one.
func denseHoodCosts(fulfil []model.NodeIndex, cost []float64, hoodNode [][]uint64) []float64 {
	n := len(cost)
	orders := make([]float64, n)
	group := map[model.NodeIndex]float64{}
	var all float64
	for h := range hoodNode {
		for i, o := range hoodNode[h] {
			orders[i] += float64(o)
			group[fulfil[i]] += float64(o)
			all += float64(o)
		}
	}
	out := make([]float64, len(hoodNode))
	for h, ho := range hoodNode {
		hgroup := map[model.NodeIndex]float64{}
		var hall float64
		for i, o := range ho {
			hgroup[fulfil[i]] += float64(o)
			hall += float64(o)
		}
		for i, c := range cost {
			switch g := fulfil[i]; {
			case orders[i] > 0:
				out[h] += c * float64(ho[i]) / orders[i]
			case group[g] > 0:
				out[h] += c * hgroup[g] / group[g]
			case all > 0:
				out[h] += c * hall / all
			}
		}
	}
	return out
}

// The sparse cost sharing sums the dense one's nonzero terms in the same
// order: the same costs to the bit, over random networks (groups with and
// without orders, nodes nobody chose, zero, negative and non-finite costs).
func TestHoodCostsMatchDense(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 1))
	for trial := 0; trial < 300; trial++ {
		n, nh, ng := 1+r.IntN(40), 1+r.IntN(12), 1+r.IntN(5)
		fulfil := make([]model.NodeIndex, n)
		cost := make([]float64, n)
		for i := range fulfil {
			fulfil[i] = model.NodeIndex(r.IntN(ng) - 1) // -1: the hub (NoNode)
			switch r.IntN(10) {
			case 0:
				cost[i] = 0
			case 1:
				cost[i] = -r.Float64() * 100
			case 2:
				if trial%7 == 0 {
					cost[i] = math.Inf(1)
				}
			default:
				cost[i] = r.Float64() * 1e4
			}
		}
		dense := make([][]uint64, nh)
		w := &world{fulfil: fulfil, res: &Result{Nodes: make([]NodeResult, n)}}
		for i := range cost {
			w.res.Nodes[i].Cost = cost[i]
		}
		w.mx.hoods = make([]HoodResult, nh)
		w.mx.friction = make([]MinuteHist, nh)
		w.mx.hoodNode = make([]nodeCounts, nh)
		for h := range dense {
			dense[h] = make([]uint64, n)
			if trial%5 == 0 {
				continue // nobody ordered anything
			}
			for k := r.IntN(3 * nodeCountsScan); k > 0; k-- {
				j := model.NodeIndex(r.IntN(n))
				if trial%3 == 0 {
					j = model.NodeIndex(r.IntN(1 + n/4)) // a few popular nodes
				}
				dense[h][j]++
				w.mx.hoodNode[h].add(j)
			}
		}
		want := denseHoodCosts(fulfil, cost, dense)
		w.hoodResults()
		for h := range want {
			got := w.res.Hoods[h].Cost
			if math.IsNaN(want[h]) {
				require.True(t, math.IsNaN(got), "trial %d hood %d", trial, h)
				continue
			}
			require.Equal(t, math.Float64bits(want[h]), math.Float64bits(got), "trial %d hood %d: %v vs %v", trial, h, want[h], got)
		}
	}
}

// Counts past a byte in one bin carry (binCounts) and read back whole.
func TestMinuteHistCarries(t *testing.T) {
	var g MinuteHist
	for range 700 {
		g.add(5.5)
	}
	g.add(2)
	h := g.Histogram()
	require.Equal(t, uint64(700), h.Counts[5])
	require.Equal(t, uint64(1), h.Counts[2])
	require.Len(t, h.Counts, 6)
	require.Equal(t, uint64(701), h.N)
}
