package sim

import (
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/model"
)

var testStart = model.Instant(1772409600000) // 2026-03-02 00:00 local

func mustCell(t testing.TB, lat, lng float64) model.Cell {
	c, err := model.CellAt(lat, lng, 8)
	require.NoError(t, err)
	return c
}

func flat() (h [24]float64) {
	for i := range h {
		h[i] = 1
	}
	return
}

// lossConfig is one locker with s slots fed by Poisson arrivals of rate
// perHour; a parcel that finds it full is rerouted at once to a large
// partner; stays follow stay. No TTL, no no-shows, couriers never short.
func lossConfig(t testing.TB, slots int32, perHour float64, stay Dist, days int) *Config {
	l := mustCell(t, 52.50, 13.40)
	p := mustCell(t, 52.52, 13.43)
	net := &model.Network{
		Resolution: 8,
		Nodes: []model.Node{
			{ID: "L", Kind: model.Locker, Cell: l, Lat: 52.50, Lng: 13.40, Slots: [model.NumSizes]int32{0, slots, 0}},
			{ID: "P", Kind: model.Partner, Cell: p, Lat: 52.52, Lng: 13.43, Counter: 1 << 30},
		},
		SKUs:   []model.SKU{{ID: "S", Size: model.Medium, Price: 10}},
		Policy: model.Policy{MaxHops: 1, Cutoff: 14 * model.Hour, ReadyBy: 22 * model.Hour, PickupWindow: 24 * model.Hour},
	}
	return &Config{
		Name: "loss", Network: net, Seed: 7, Start: testStart, Warmup: model.Day, Horizon: model.Duration(days) * model.Day,
		Neighborhoods: []Neighborhood{{Name: "n", Cells: []model.Cell{l}, OrdersPerDay: perHour * 24, Hourly: flat()}},
		Fulfilment:    Fulfilment{PickTime: Dist{Kind: Constant, Mean: model.Minute}, PackTime: Dist{Kind: Constant, Mean: model.Minute}},
		Couriers:      Couriers{Fleet: 200, SpeedKmh: 15, BatchSize: 1},
		Customers:     Customers{PickupDelay: stay, SubscriberPickupDelay: stay},
	}
}

// erlangB is the Erlang loss formula by the stable recursion.
func erlangB(s int, a float64) float64 {
	b := 1.0
	for k := 1; k <= s; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ci returns the mean and half-width of the conf-level Student-t interval.
func ci(xs []float64, conf float64) (mean, half float64) {
	mean, sd := stat.MeanStdDev(xs, nil)
	n := float64(len(xs))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(1 - (1-conf)/2)
	return mean, t * sd / math.Sqrt(n)
}

func TestErlangBLossLocker(t *testing.T) {
	const reps = 12
	cases := []struct {
		name    string
		slots   int32
		perHour float64
		meanH   float64
		stay    func(mean model.Duration) Dist
	}{
		{"S=5 a=4 exponential", 5, 2, 2, func(m model.Duration) Dist { return Dist{Kind: Exponential, Mean: m} }},
		{"S=5 a=4 lognormal", 5, 2, 2, func(m model.Duration) Dist {
			return Dist{Kind: LogNormal, Median: model.Duration(float64(m) / math.Exp(0.5)), Sigma: 1}
		}},
		{"S=10 a=7 exponential", 10, 3.5, 2, func(m model.Duration) Dist { return Dist{Kind: Exponential, Mean: m} }},
		{"S=10 a=7 uniform", 10, 3.5, 2, func(m model.Duration) Dist { return Dist{Kind: Uniform, Min: 0, Max: 2 * m} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mean := model.Duration(tc.meanH * float64(model.Hour))
			cfg := lossConfig(t, tc.slots, tc.perHour, tc.stay(mean), 40)
			cfg.Drain = 7 * model.Day
			var lost, little, littleDwell []float64
			for rep := 0; rep < reps; rep++ {
				r, err := Run(cfg, rep)
				require.NoError(t, err)
				require.NoError(t, r.Conserved())
				L := r.Nodes[0]
				require.Greater(t, L.Arrivals, uint64(1000))
				lost = append(lost, float64(L.Refused)/float64(L.Arrivals))
				// Little: mean occupied = entry rate x mean stay
				window := float64(r.End - r.WarmupEnd)
				little = append(little, L.Occupancy-float64(L.Entered)/window*float64(mean))
				// and with the measured dwell (cohort.go) in place of the known mean stay
				littleDwell = append(littleDwell, L.Occupancy-float64(L.Entered)/window*L.DwellMean*float64(model.Minute))
			}
			want := erlangB(int(tc.slots), tc.perHour*tc.meanH)
			m, h := ci(lost, 0.99)
			t.Logf("rerouted fraction %.4f ± %.4f (99%% CI), Erlang B %.4f", m, h, want)
			require.InDelta(t, want, m, h, "Erlang B(%d, %.1f) outside the 99%% CI of %d replications", tc.slots, tc.perHour*tc.meanH, reps)
			m, h = ci(little, 0.99)
			t.Logf("Little: occupancy - lambda*W = %.4f ± %.4f", m, h)
			require.InDelta(t, 0, m, h, "Little's law violated")
			m, h = ci(littleDwell, 0.99)
			t.Logf("Little with the measured dwell: occupancy - lambda*dwell = %.4f ± %.4f", m, h)
			require.InDelta(t, 0, m, h, "Little's law violated by the measured dwell")
		})
	}
}

// smallCity is a quickstart-sized city with every mechanism switched on.
func smallCity(t testing.TB) *Config {
	ms := mustCell(t, 52.500, 13.400)
	cells := []model.Cell{mustCell(t, 52.505, 13.405), mustCell(t, 52.495, 13.395), mustCell(t, 52.51, 13.39)}
	net := &model.Network{
		Resolution: 8,
		Nodes: []model.Node{
			{ID: "M1", Kind: model.Microstore, Cell: ms, Lat: 52.5, Lng: 13.4, FixedCostPerDay: 80, FloorArea: 40},
			{ID: "L1", Kind: model.Locker, Cell: cells[0], Lat: 52.505, Lng: 13.405, Slots: [model.NumSizes]int32{5, 8, 2}, FixedCostPerDay: 12},
			{ID: "L2", Kind: model.Locker, Cell: cells[1], Lat: 52.495, Lng: 13.395, Slots: [model.NumSizes]int32{4, 6, 2}, FixedCostPerDay: 12},
			{ID: "P1", Kind: model.Partner, Cell: cells[2], Lat: 52.51, Lng: 13.39, Counter: 30, Hours: model.Hours{{From: 9 * model.Hour, To: 20 * model.Hour}}, FixedCostPerDay: 5},
		},
		SKUs:   []model.SKU{{ID: "A", Size: model.Small, Price: 9}, {ID: "B", Size: model.Medium, Price: 19}, {ID: "C", Size: model.Large, Price: 39}},
		Policy: model.Policy{MaxHops: 2, RerouteCost: 3, RerouteDelay: 30 * model.Minute, Cutoff: 14 * model.Hour, ReadyBy: 22 * model.Hour, PickupWindow: 24 * model.Hour},
	}
	net.Policy.TTL[model.ReadyForPickup] = 24 * model.Hour
	var hourly [24]float64
	for h := 8; h < 22; h++ {
		hourly[h] = 1
	}
	return &Config{
		Name: "small", Network: net, Seed: 42, Start: testStart, Warmup: model.Day, Horizon: 6 * model.Day,
		Neighborhoods: []Neighborhood{{Name: "n1", Cells: cells, OrdersPerDay: 60, Hourly: hourly, SubscriberShare: 0.2}},
		Fulfilment:    Fulfilment{PickTime: Dist{Kind: LogNormal, Median: 4 * model.Minute, Sigma: 0.4}, PackTime: Dist{Kind: Constant, Mean: 2 * model.Minute}},
		Couriers:      Couriers{Fleet: 2, SpeedKmh: 15, Shift: model.Hours{{From: 7 * model.Hour, To: 21 * model.Hour}}, CostPerHour: 18, BatchSize: 4, HandoffTime: Dist{Mean: 2 * model.Minute}},
		Customers: Customers{PickupDelay: Dist{Kind: Exponential, Mean: 10 * model.Hour}, NoShow: 0.1,
			SubscriberPickupDelay: Dist{Kind: Exponential, Mean: 3 * model.Hour}, SubscriberNoShow: 0.02},
		Costs: Costs{PerOrder: 1, PerReturn: 4},
	}
}

func TestConservationAndSanity(t *testing.T) {
	cfg := smallCity(t)
	for rep := 0; rep < 5; rep++ {
		r, err := Run(cfg, rep)
		require.NoError(t, err)
		require.NoError(t, r.Conserved())
		s := r.Stats
		require.Greater(t, s.Orders, uint64(200))
		require.Greater(t, s.PickedUp, s.Orders/2)
		require.LessOrEqual(t, s.PickedUpWithinSLA, s.PickedUp)
		require.LessOrEqual(t, s.ReadyOnTime, s.Ready)
		require.Greater(t, s.Returned, uint64(0), "10%% no-shows must end up returned")
		require.Greater(t, r.CourierUtilization, 0.0)
		require.Less(t, r.CourierUtilization, 1.0)
		require.Greater(t, r.LockerOccupancy, 0.0)
		require.Less(t, r.LockerOccupancy, 1.0)
		require.Zero(t, s.RejectedTotal(), "the world only sends legal events")
		var perNode uint64
		for _, n := range r.Nodes {
			perNode += n.PickedUp
		}
		require.Equal(t, s.PickedUp, perNode)
		var within uint64
		for _, d := range r.Daily {
			within += d.PickedUpWithinSLA
		}
		require.Equal(t, s.PickedUpWithinSLA, within)
		require.Len(t, r.Daily, 6)
		require.Len(t, r.Trace, 6*24)
		require.InDelta(t, r.Costs.Total, r.Costs.Couriers+r.Costs.Fixed+r.Costs.Orders+r.Costs.Reroutes+r.Costs.Returns+r.Costs.LateRefunds+r.Costs.LineHaul+r.Costs.Pickers, 1e-6)
		require.InDelta(t, s.RefundAmount, r.Costs.LateRefunds+r.LostRevenue, 1e-6, "every refund is a late refund or lost revenue")
	}
}

func TestFewerCouriersDegradeSLA(t *testing.T) {
	base := smallCity(t)
	base.Neighborhoods[0].OrdersPerDay = 150
	starved := smallCity(t)
	starved.Neighborhoods[0].OrdersPerDay = 150
	starved.Couriers.Fleet = 1
	starved.Couriers.BatchSize = 1
	var a, b float64
	for rep := 0; rep < 3; rep++ {
		ra, err := Run(base, rep)
		require.NoError(t, err)
		rb, err := Run(starved, rep)
		require.NoError(t, err)
		a += float64(ra.Stats.ReadyOnTime) / float64(ra.Stats.Orders)
		b += float64(rb.Stats.ReadyOnTime) / float64(rb.Stats.Orders)
	}
	require.Greater(t, a, b+0.3, "one courier with batch 1 must miss far more deadlines")
}

func TestRunDeterministic(t *testing.T) {
	cfg := smallCity(t)
	a, err := Run(cfg, 3)
	require.NoError(t, err)
	b, err := Run(cfg, 3)
	require.NoError(t, err)
	require.Equal(t, a, b)
	c, err := Run(cfg, 4)
	require.NoError(t, err)
	require.NotEqual(t, a.Stats.Orders, c.Stats.Orders)
}

func TestFinishedLabelsVerify(t *testing.T) {
	cfg := smallCity(t)
	w := newWorld(cfg, 0)
	w.res = &Result{Start: cfg.Start, WarmupEnd: cfg.Start.Add(cfg.Warmup), End: cfg.Start.Add(cfg.Horizon), DemandByCell: map[model.Cell]uint64{}}
	n := 0
	w.core.OnFinish = func(l *model.Label) {
		require.Equal(t, -1, l.Verify(), "label %d chain broken", l.ID)
		n++
		w.finished(l)
	}
	w.start()
	w.k.Run(w)
	require.Greater(t, n, 200)
}

func TestDistSamplesMatchGonum(t *testing.T) {
	r := NewStreams(1, 0).Rand("dist")
	cases := []struct {
		d   Dist
		cdf func(x float64) float64
	}{
		{Dist{Kind: Exponential, Mean: 1000}, distuv.Exponential{Rate: 1.0 / 1000}.CDF},
		{Dist{Kind: LogNormal, Median: 1000, Sigma: 0.5}, distuv.LogNormal{Mu: math.Log(1000), Sigma: 0.5}.CDF},
		{Dist{Kind: Uniform, Min: 100, Max: 900}, distuv.Uniform{Min: 100, Max: 900}.CDF},
	}
	for _, c := range cases {
		const n = 20000
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(c.d.Sample(r))
		}
		// Kolmogorov-Smirnov statistic against the gonum CDF; critical value at 0.1%: 1.95/sqrt(n)
		var ks float64
		sort.Float64s(xs)
		for i, x := range xs {
			f := c.cdf(x)
			ks = math.Max(ks, math.Max(math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f)))
		}
		require.Less(t, ks, 1.95/math.Sqrt(n)+0.0005, "%+v: KS %.4f", c.d, ks) // +0.0005 for rounding to whole ms
		mean := stat.Mean(xs, nil)
		require.InDelta(t, float64(c.d.MeanDuration()), mean, 0.03*mean)
	}
}
