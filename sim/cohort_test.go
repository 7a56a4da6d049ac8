package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// The drain follows the cohort to its end: with a cap long enough nothing is
// censored although orders were unfinished at the horizon; without a drain
// every one of those is censored; with a tiny cap some are. Every measured
// order is accounted for in each case.
func TestDrainCensoring(t *testing.T) {
	cases := []struct {
		name  string
		drain model.Duration
		check func(t *testing.T, r *Result)
	}{
		{"long cap", 7 * model.Day, func(t *testing.T, r *Result) {
			require.Zero(t, r.Censored)
			require.Greater(t, r.DrainEnd, r.End)
			require.LessOrEqual(t, r.DrainEnd, r.End.Add(7*model.Day))
		}},
		{"no drain", 0, func(t *testing.T, r *Result) {
			require.Equal(t, r.InFlight, r.Censored)
			require.Equal(t, r.End, r.DrainEnd)
		}},
		{"tiny cap", model.Minute, func(t *testing.T, r *Result) {
			require.Greater(t, r.Censored, 0)
			require.LessOrEqual(t, r.Censored, r.InFlight)
			require.Equal(t, r.End.Add(model.Minute), r.DrainEnd)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallCity(t)
			cfg.Drain = tc.drain
			for rep := 0; rep < 3; rep++ {
				r, err := Run(cfg, rep)
				require.NoError(t, err)
				require.NoError(t, r.Conserved())
				require.Greater(t, r.InFlight, 0, "orders of the last evening are unfinished at the horizon")
				require.Zero(t, r.Stats.RejectedTotal())
				tc.check(t, r)
			}
		})
	}
}

// Extending the drain cap beyond what the cohort needs changes nothing at
// all: the run stops when the last measured order finishes.
func TestDrainCapBeyondNeedChangesNothing(t *testing.T) {
	a := smallCity(t)
	a.Drain = 7 * model.Day
	b := smallCity(t)
	b.Drain = 60 * model.Day
	for rep := 0; rep < 3; rep++ {
		ra, err := Run(a, rep)
		require.NoError(t, err)
		rb, err := Run(b, rep)
		require.NoError(t, err)
		require.Equal(t, ra, rb)
	}
}

// The drain places no orders and sells nothing at the counter; the trace
// goes on into it, the window's time-based measures do not.
func TestDrainPlacesNoOrders(t *testing.T) {
	cfg := smallCity(t)
	cfg.Drain = 7 * model.Day
	r, err := Run(cfg, 0)
	require.NoError(t, err)
	cut := smallCity(t)
	rc, err := Run(cut, 0)
	require.NoError(t, err)
	require.Equal(t, rc.Parcels, r.Parcels, "no order after the horizon")
	require.Equal(t, rc.Stats.Orders, r.Stats.Orders)
	require.Equal(t, rc.CourierUtilization, r.CourierUtilization, "window measures stop at the horizon")
	require.Equal(t, rc.LockerOccupancy, r.LockerOccupancy)
	require.Equal(t, rc.Costs.Couriers, r.Costs.Couriers)
	require.Equal(t, rc.Costs.Fixed, r.Costs.Fixed)
	require.Greater(t, r.Stats.PickedUp, rc.Stats.PickedUp, "the drain finishes the cohort")
	require.Greater(t, len(r.Trace), len(rc.Trace), "the trace goes on into the drain")
	for _, h := range r.Trace[len(rc.Trace):] {
		require.Zero(t, h.Orders)
	}
	require.Len(t, r.Daily, len(rc.Daily), "daily rows stay per order day")
}

// couriers.handoff_time: a longer handoff keeps couriers busier and parcels
// waiting longer for one; a distribution with the same mean as a constant
// gives different runs with similar means, and a constant draws nothing.
func TestHandoffTimeDirection(t *testing.T) {
	run := func(d Dist) (util, wait float64) {
		cfg := smallCity(t)
		cfg.Neighborhoods[0].OrdersPerDay = 120
		cfg.Couriers.HandoffTime = d
		for rep := 0; rep < 3; rep++ {
			r, err := Run(cfg, rep)
			require.NoError(t, err)
			require.NoError(t, r.Conserved())
			util += r.CourierUtilization / 3
			wait += r.CourierWait.Mean() / 3
		}
		return util, wait
	}
	u2, w2 := run(Dist{Kind: Constant, Mean: 2 * model.Minute})
	u8, w8 := run(Dist{Kind: Constant, Mean: 8 * model.Minute})
	require.Greater(t, u8, u2+0.05, "utilisation")
	require.Greater(t, w8, w2, "courier wait")
	ue, _ := run(Dist{Kind: Exponential, Mean: 2 * model.Minute})
	require.NotEqual(t, u2, ue)
	require.InDelta(t, u2, ue, 0.05)
}

// Reroutes and returns ride with the fleet: a ready-for-pickup TTL that
// expires more often sends couriers on more reroute trips, more no-shows on
// more return trips, and both show in courier utilisation.
func TestTripsUseTheFleet(t *testing.T) {
	run := func(ttl model.Duration, noShow float64) (rerouteShare, returnShare, util float64) {
		cfg := smallCity(t)
		cfg.Drain = 7 * model.Day
		cfg.Network.Policy.TTL[model.ReadyForPickup] = ttl
		cfg.Customers.NoShow, cfg.Customers.SubscriberNoShow = noShow, noShow
		for rep := 0; rep < 3; rep++ {
			r, err := Run(cfg, rep)
			require.NoError(t, err)
			require.NoError(t, r.Conserved())
			require.Zero(t, r.Stats.RejectedTotal())
			rerouteShare += r.CourierRerouteShare / 3
			returnShare += r.CourierReturnShare / 3
			util += r.CourierUtilization / 3
		}
		return
	}
	r24, ret24, u24 := run(24*model.Hour, 0.1)
	r4, _, u4 := run(4*model.Hour, 0.1)
	_, ret30, u30 := run(24*model.Hour, 0.3)
	require.Greater(t, r24, 0.0)
	require.Greater(t, ret24, 0.0)
	require.Greater(t, r4, r24, "a shorter TTL reroutes more")
	require.Greater(t, u4, u24)
	require.Greater(t, ret30, ret24, "more no-shows return more")
	require.Greater(t, u30, u24)
}

// A parcel rerouted from a locker is collected there by a courier from its
// base: between the reroute and the handoff at the node lie at least the
// reroute delay, the ride from the base and the handoff time.
func TestRerouteCollectedByCourier(t *testing.T) {
	cfg := smallCity(t)
	cfg.Network.Policy.TTL[model.ReadyForPickup] = 4 * model.Hour
	w := newWorld(cfg, 0)
	ob := &rerouteObs{rerouted: map[model.LabelID]model.Instant{}}
	_, err := RunObserved(cfg, 0, ob)
	require.NoError(t, err)
	require.Greater(t, len(ob.gaps), 10)
	for _, g := range ob.gaps {
		min := cfg.Network.Policy.RerouteDelay + w.travel(w.bases[0].pos, w.pos[g.node]) + 2*model.Minute
		require.GreaterOrEqual(t, g.d, min, "node %d", g.node)
	}
}

type rerouteGap struct {
	node model.NodeIndex
	d    model.Duration
}

type rerouteObs struct {
	rerouted map[model.LabelID]model.Instant
	gaps     []rerouteGap
}

func (o *rerouteObs) Observe(_ *model.Core, ev model.Event, effs []model.Effect) {
	for _, e := range effs {
		if e.Type == model.EffReroute && e.Reason == model.ReasonTTLExpired {
			o.rerouted[e.Label] = e.At
		}
	}
	if at, ok := o.rerouted[ev.Label]; ok && ev.Type == model.EvHandoff {
		o.gaps = append(o.gaps, rerouteGap{ev.Node, ev.At.Sub(at)})
		delete(o.rerouted, ev.Label)
	}
}

// Fewer couriers: parcels wait longer for one after packing.
func TestCourierWaitDirection(t *testing.T) {
	wait := func(fleet int) float64 {
		cfg := smallCity(t)
		cfg.Neighborhoods[0].OrdersPerDay = 150
		cfg.Couriers.Fleet = fleet
		var m float64
		for rep := 0; rep < 3; rep++ {
			r, err := Run(cfg, rep)
			require.NoError(t, err)
			require.Greater(t, r.CourierWait.N, uint64(0))
			m += r.CourierWait.Mean() / 3
		}
		return m
	}
	require.Greater(t, wait(1), wait(4)+5)
}

// The dwell histogram's quantiles interpolate within bins and clamp at the
// top.
func TestDwellQuantile(t *testing.T) {
	var d dwell
	require.Zero(t, d.quantile(0.9))
	for i := 0; i < 100; i++ {
		d.add(float64(i)) // 0..99 minutes
	}
	require.InDelta(t, 49.5, d.mean(), 1e-9)
	require.InDelta(t, 90, d.quantile(0.9), dwellBin)
	d.add(30 * 24 * 60)
	require.Equal(t, dwellBin*dwellBins, d.quantile(1))
}
