package experiment

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// trendScenario is a microstore with four SKU slots for six SKUs; from day 8
// a promotion makes S05, which it does not cache at the start, ten times as
// popular. POLICY is replaced by the replenishment policy.
const trendScenario = `
version: 1
name: trend
seed: 11
horizon: 20d
warmup: 6d
replications: 6
neighborhoods:
  - name: Kiez
    center: {lat: 52.4970, lng: 13.4310}
    radius: 2
    orders_per_day: 150
    sku_mix: {S01: 3, S02: 3, S03: 2, S04: 2, S05: 1, S06: 1}
nodes:
  - id: M1
    kind: microstore
    lat: 52.4992
    lng: 13.4185
    hours: "07:00-22:00"
    floor_area_m2: 30
    cache_slots: 4
    shelf_units: 200
    cache:
      - {sku: S01, capacity: 60, stock: 40}
      - {sku: S02, capacity: 60, stock: 40}
      - {sku: S03, capacity: 60, stock: 40}
      - {sku: S04, capacity: 60, stock: 40}
  - {id: L1, kind: locker, lat: 52.4953, lng: 13.4350, slots: {small: 60, medium: 60, large: 20}}
  - {id: L2, kind: locker, lat: 52.5010, lng: 13.4250, slots: {small: 60, medium: 60, large: 20}}
skus:
  - {id: S01, size: small, price: 10}
  - {id: S02, size: small, price: 10}
  - {id: S03, size: small, price: 10}
  - {id: S04, size: small, price: 10}
  - {id: S05, size: small, price: 10}
  - {id: S06, size: small, price: 10}
couriers: {fleet: 6, cost_per_hour: 18}
costs: {holding_per_unit_day: 0.02, space_per_m2_day: 0.9}
replenishment:
  policy: POLICY
  vehicle: {cost_per_trip: 15, cost_per_km: 0.5}
promotions:
  - {sku: S05, from: 8d, until: 20d, factor: 10}
`

// hitCounter counts measured orders and those whose unit the fulfilling
// node reserved from its own cache (a cache hit; an order for a SKU the
// node does not hold, or served by another microstore or not at all, is a
// miss). It stands in for the supply part's cache_hit_rate until they merge.
type hitCounter struct{ orders, hits int }

func (h *hitCounter) Observe(core *model.Core, ev model.Event, _ []model.Effect) {
	if ev.Type != model.EvOrderPlaced || !ev.Measured {
		return
	}
	h.orders++
	if l := core.Label(ev.Label); l != nil && l.Stock != model.StockNone && l.From == ev.Node {
		h.hits++
	}
}

type trendRun struct{ hitRate, holding, units, trips []float64 }

func runTrend(t *testing.T, policy string) trendRun {
	t.Helper()
	s, err := scenarios.Parse("trend.yaml", []byte(strings.Replace(trendScenario, "POLICY", policy, 1)))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	var out trendRun
	for rep := 0; rep < s.Replications; rep++ {
		var h hitCounter
		r, err := sim.RunObserved(cfg, rep, &h)
		require.NoError(t, err)
		require.NoError(t, r.Conserved())
		require.Positive(t, h.orders)
		out.hitRate = append(out.hitRate, float64(h.hits)/float64(h.orders))
		out.holding = append(out.holding, r.Costs.Holding)
		out.units = append(out.units, r.Replenish.UnitsHeld)
		out.trips = append(out.trips, float64(r.Replenish.RestockTrips))
	}
	return out
}

// The trending-SKU experiment: demand shifts to S05 mid-run. With common
// random numbers (replication i of each policy draws the same demand) the
// paired 95 % confidence interval of heatmap − static cache hit rate lies
// above zero (the heatmap rotates S05 in, static never holds it), and the
// interval of fill − heatmap holding cost lies above zero (fill keeps the
// shelves full). The tolerance is the CI, not a guessed margin.
func TestTrendingSKUExperiment(t *testing.T) {
	heat, static, fill := runTrend(t, "heatmap"), runTrend(t, "static"), runTrend(t, "fill")
	hit := results.Compare(static.hitRate, heat.hitRate, results.MetricDef{Better: results.HigherIsBetter})
	t.Logf("cache hit rate: heatmap %.3f, static %.3f, paired diff %.3f [%.3f, %.3f]",
		mean(heat.hitRate), mean(static.hitRate), hit.Mean, hit.CI95Low, hit.CI95High)
	require.Greater(t, hit.CI95Low, 0.0, "heatmap beats static on cache hit rate")
	hold := results.Compare(heat.holding, fill.holding, results.MetricDef{Better: results.LowerIsBetter})
	t.Logf("holding cost: fill %.1f, heatmap %.1f, paired diff %.1f [%.1f, %.1f]",
		mean(fill.holding), mean(heat.holding), hold.Mean, hold.CI95Low, hold.CI95High)
	require.Greater(t, hold.CI95Low, 0.0, "fill pays more holding cost than heatmap")
	units := results.Compare(heat.units, fill.units, results.MetricDef{})
	require.Greater(t, units.CI95Low, 0.0, "fill holds more units than heatmap")
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// trendMetric runs one replication of the trend scenario with edit applied
// to its YAML and returns a metric of the run.
func trendMetric(t *testing.T, policy string, edit func(string) string, metric func(*sim.Result) float64) float64 {
	t.Helper()
	y := edit(strings.Replace(trendScenario, "POLICY", policy, 1))
	s, err := scenarios.Parse("trend.yaml", []byte(y))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	r, err := sim.Run(cfg, 0)
	require.NoError(t, err)
	require.NoError(t, r.Conserved())
	return metric(r)
}

// Every new cost knob moves its cost in its direction.
func TestReplenishCostDirections(t *testing.T) {
	set := func(old, new string) func(string) string {
		return func(y string) string {
			require.Contains(t, y, old)
			return strings.Replace(y, old, new, 1)
		}
	}
	for _, tc := range []struct {
		name     string
		lo, hi   func(string) string
		metric   func(*sim.Result) float64
		sameRate bool // the knob only prices, it does not change the run
	}{
		{"holding_per_unit_day", set("holding_per_unit_day: 0.02", "holding_per_unit_day: 0.01"), set("holding_per_unit_day: 0.02", "holding_per_unit_day: 0.04"),
			func(r *sim.Result) float64 { return r.Costs.Holding }, true},
		{"space_per_m2_day", set("space_per_m2_day: 0.9", "space_per_m2_day: 0.5"), set("space_per_m2_day: 0.9", "space_per_m2_day: 1.5"),
			func(r *sim.Result) float64 { return r.Costs.Space }, true},
		{"cost_per_trip", set("cost_per_trip: 15", "cost_per_trip: 5"), set("cost_per_trip: 15", "cost_per_trip: 25"),
			func(r *sim.Result) float64 { return r.Costs.Restock }, true},
		{"cost_per_km", set("cost_per_km: 0.5", "cost_per_km: 0.1"), set("cost_per_km: 0.5", "cost_per_km: 2"),
			func(r *sim.Result) float64 { return r.Costs.Restock }, true},
		{"vehicle.from farther away", func(y string) string { return y },
			set("vehicle: {", "vehicle: {from: {lat: 52.60, lng: 13.60}, "),
			func(r *sim.Result) float64 { return r.Costs.Restock }, false},
		{"floor_area_m2", set("floor_area_m2: 30", "floor_area_m2: 10"), func(y string) string { return y },
			func(r *sim.Result) float64 { return r.Costs.Space }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo := trendMetric(t, "heatmap", tc.lo, tc.metric)
			hi := trendMetric(t, "heatmap", tc.hi, tc.metric)
			require.Greater(t, hi, lo)
			require.Positive(t, lo)
		})
	}
}

// cover, window and cache_slots move the stock held (one replication each;
// the differences are large and structural).
func TestReplenishKnobDirections(t *testing.T) {
	units := func(r *sim.Result) float64 { return r.Replenish.UnitsHeld }
	rot := func(r *sim.Result) float64 { return float64(r.Replenish.Rotations) }
	set := func(old, new string) func(string) string {
		return func(y string) string {
			require.Contains(t, y, old)
			return strings.Replace(y, old, new, 1)
		}
	}
	policy := "heatmap\n  cover: %s"
	lo := trendMetric(t, fmt.Sprintf(policy, "1"), func(y string) string { return y }, units)
	hi := trendMetric(t, fmt.Sprintf(policy, "2.5"), func(y string) string { return y }, units)
	require.Greater(t, hi, lo, "cover: more days of demand on the shelf")

	none := trendMetric(t, "none", func(y string) string { return y }, units)
	static := trendMetric(t, "static", func(y string) string { return y }, units)
	fill := trendMetric(t, "fill", func(y string) string { return y }, units)
	require.Less(t, none, static, "none never restocks")
	require.Less(t, static, fill, "fill stocks more than static")

	fixed := trendMetric(t, "heatmap", set("    cache_slots: 4\n", ""), rot)
	rotating := trendMetric(t, "heatmap", func(y string) string { return y }, rot)
	require.Zero(t, fixed, "without cache_slots the assortment is fixed")
	require.Positive(t, rotating, "with cache_slots the trending SKU rotates in")

	trips := func(r *sim.Result) float64 { return float64(r.Replenish.RestockTrips) }
	require.Zero(t, trendMetric(t, "none", func(y string) string { return y }, trips), "none drives no trips")
	require.Positive(t, trendMetric(t, "heatmap", func(y string) string { return y }, trips))
}

// eventLog records the core events of kinds it is asked for.
type eventLog struct {
	kinds map[model.EventType]bool
	evs   []model.Event
}

func (l *eventLog) Observe(_ *model.Core, ev model.Event, _ []model.Effect) {
	if l.kinds[ev.Type] {
		l.evs = append(l.evs, ev)
	}
}

func trendEvents(t *testing.T, y string, kinds ...model.EventType) (*sim.Config, []model.Event) {
	t.Helper()
	s, err := scenarios.Parse("trend.yaml", []byte(y))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	l := &eventLog{kinds: map[model.EventType]bool{}}
	for _, k := range kinds {
		l.kinds[k] = true
	}
	_, err = sim.RunObserved(cfg, 0, l)
	require.NoError(t, err)
	return cfg, l.evs
}

// A restock arrives plan_at + lead_time + the drive from the depot at
// speed_kmh: later with a later plan or a longer lead, earlier with a
// faster vehicle.
func TestRestockTiming(t *testing.T) {
	arrival := func(edit string) model.Duration {
		y := strings.Replace(strings.Replace(trendScenario, "POLICY", "heatmap"+edit, 1), "  vehicle: {cost_per_trip: 15, cost_per_km: 0.5}\n", "", 1)
		_, evs := trendEvents(t, y, model.EvRestock)
		require.NotEmpty(t, evs)
		tod := model.TimeOfDay(evs[0].At)
		for _, ev := range evs {
			require.Equal(t, tod, model.TimeOfDay(ev.At), "every night the same")
		}
		return tod
	}
	far := "\n  vehicle: {from: {lat: 52.60, lng: 13.60}, speed_kmh: %d}"
	base := arrival("\n  plan_at: \"02:00\"\n  lead_time: 1h" + fmt.Sprintf(far, 20))
	// 52.60,13.60 is ~16.3 km from M1: about 49 min at 20 km/h
	require.InDelta(t, float64(3*model.Hour+49*model.Minute), float64(base), float64(3*model.Minute))
	require.Greater(t, arrival("\n  plan_at: \"03:00\"\n  lead_time: 1h"+fmt.Sprintf(far, 20)), base, "plan_at")
	require.Greater(t, arrival("\n  plan_at: \"02:00\"\n  lead_time: 3h"+fmt.Sprintf(far, 20)), base, "lead_time")
	require.Less(t, arrival("\n  plan_at: \"02:00\"\n  lead_time: 1h"+fmt.Sprintf(far, 40)), base, "speed_kmh")
}

// A promotion raises its SKU's share of the orders inside its window, in
// its neighborhoods, and changes nothing before it starts (the same random
// numbers pick the same SKUs).
func TestPromotionDirection(t *testing.T) {
	orders := func(promo string) (before []model.SKUIndex, share float64) {
		y := strings.Replace(strings.Replace(trendScenario, "POLICY", "heatmap", 1),
			"  - {sku: S05, from: 8d, until: 20d, factor: 10}", promo, 1)
		cfg, evs := trendEvents(t, y, model.EvOrderPlaced)
		from := cfg.Start.Add(8 * model.Day)
		var in, s05 int
		for _, ev := range evs {
			if ev.At < from {
				before = append(before, ev.SKU)
				continue
			}
			in++
			if ev.SKU == 4 {
				s05++
			}
		}
		return before, float64(s05) / float64(in)
	}
	b1, flat := orders("  - {sku: S05, from: 8d, until: 20d, factor: 1}")
	b3, three := orders("  - {sku: S05, from: 8d, until: 20d, factor: 3}")
	b10, ten := orders("  - {sku: S05, from: 8d, until: 20d, factor: 10}")
	twoHoods := func(promo string) string {
		return strings.Replace(promo, "\nnodes:", `
  - name: Nord
    center: {lat: 52.5050, lng: 13.4200}
    radius: 1
    orders_per_day: 150
    sku_mix: {S01: 3, S02: 3, S03: 2, S04: 2, S05: 1, S06: 1}
nodes:`, 1)
	}
	share := func(y string) float64 {
		cfg, evs := trendEvents(t, twoHoods(strings.Replace(y, "POLICY", "heatmap", 1)), model.EvOrderPlaced)
		var in, s05 int
		for _, ev := range evs {
			if ev.At >= cfg.Start.Add(8*model.Day) {
				in++
				if ev.SKU == 4 {
					s05++
				}
			}
		}
		return float64(s05) / float64(in)
	}
	all := share(trendScenario)
	one := share(strings.Replace(trendScenario, "factor: 10}", "factor: 10, neighborhoods: [Nord]}", 1))
	none := share(strings.Replace(trendScenario, "factor: 10}", "factor: 1}", 1))
	require.Equal(t, b1, b3)
	require.Equal(t, b1, b10)
	require.Less(t, flat, three)
	require.Less(t, three, ten)
	require.InDelta(t, 1.0/12, flat, 0.02)
	require.InDelta(t, 10.0/21, ten, 0.03)
	require.Less(t, none, one, "a promotion in one of two neighborhoods")
	require.Less(t, one, all, "promotes less than one in both")
}
