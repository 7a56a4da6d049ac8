package sim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// ttlScenario is the quickstart over a week at 300 orders a day: enough
// parcels for the TTL knobs to show their direction.
func ttlScenario(t *testing.T, edit func(s *scenarios.Scenario)) *sim.Config {
	t.Helper()
	s, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	s.Horizon = scenarios.Duration(7 * model.Day)
	s.Neighborhoods[0].OrdersPerDay = 300
	// the TTL rules alone: no central waves or finite pickers shaping when
	// parcels are packed
	s.Supply, s.Fulfilment.Staff, s.SLA.Fallback = nil, nil, ""
	edit(s)
	require.NoError(t, s.Validate())
	cfg, err := s.Config()
	require.NoError(t, err)
	return cfg
}

// stamps records, per label, the instants the observer saw it enter states
// and the effects it drew.
type stamps struct {
	entered map[model.LabelID]map[model.State]model.Instant
	alerted map[model.LabelID]bool
}

func (s *stamps) Observe(_ *model.Core, _ model.Event, effs []model.Effect) {
	for _, e := range effs {
		switch e.Type {
		case model.EffState:
			m := s.entered[e.Label]
			if m == nil {
				m = map[model.State]model.Instant{}
				s.entered[e.Label] = m
			}
			if _, seen := m[e.State]; !seen {
				m[e.State] = e.At
			}
		case model.EffAlert:
			s.alerted[e.Label] = true
		}
	}
}

func run(t *testing.T, cfg *sim.Config) (*sim.Result, *stamps) {
	t.Helper()
	st := &stamps{entered: map[model.LabelID]map[model.State]model.Instant{}, alerted: map[model.LabelID]bool{}}
	r, err := sim.RunObserved(cfg, 0, st)
	require.NoError(t, err)
	require.NoError(t, r.Conserved())
	require.Zero(t, r.Stats.RejectedTotal(), "the sim never feeds the core an illegal or stale event")
	return r, st
}

func TestPickedTTLRedispatchPacksAtOnce(t *testing.T) {
	slowPack := func(esc string) func(s *scenarios.Scenario) {
		return func(s *scenarios.Scenario) {
			s.Fulfilment.PackTime = scenarios.Dist{Dist: scenarios.DistConstant, Mean: scenarios.Duration(40 * model.Minute)}
			s.Labels.TTL.Picked = scenarios.Duration(10 * model.Minute)
			s.Labels.Escalation.Picked = esc
		}
	}
	packWait := func(st *stamps) (worst model.Duration) {
		for _, m := range st.entered {
			if p, ok := m[model.Packed]; ok {
				worst = max(worst, p.Sub(m[model.Picked]))
			}
		}
		return worst
	}
	ra, sa := run(t, ttlScenario(t, slowPack("alert")))
	rr, sr := run(t, ttlScenario(t, slowPack("redispatch")))
	require.NotZero(t, ra.Stats.TTL.Alerts[model.Picked])
	require.Zero(t, ra.Stats.TTL.Redispatches)
	require.Equal(t, 40*model.Minute, packWait(sa), "alert only: packing takes its 40 minutes")
	require.NotZero(t, rr.Stats.TTL.Redispatches)
	require.Equal(t, 10*model.Minute, packWait(sr), "redispatch: packed when the 10-minute TTL expires")
}

func TestPackedTTLRedispatchDeliversEscalatedFirst(t *testing.T) {
	// one courier with batches of 6: parcels queue; those waiting over 45
	// minutes are escalated
	cfg := func(esc string) *sim.Config {
		return ttlScenario(t, func(s *scenarios.Scenario) {
			s.Couriers.Fleet = 1
			s.Couriers.BatchSize = 6
			s.Labels.TTL.Packed = scenarios.Duration(45 * model.Minute)
			s.Labels.Escalation.Packed = esc
		})
	}
	// mean ride (handoff to arrival) of the escalated parcels
	ride := func(st *stamps) float64 {
		var sum, n float64
		for id := range st.alerted {
			m := st.entered[id]
			h, ok1 := m[model.InTransit]
			a, ok2 := m[model.ReadyForPickup]
			if ok1 && ok2 {
				sum += float64(a.Sub(h))
				n++
			}
		}
		require.NotZero(t, n)
		return sum / n
	}
	ra, sa := run(t, cfg("alert"))
	rr, sr := run(t, cfg("redispatch"))
	require.NotZero(t, ra.Stats.TTL.Alerts[model.Packed])
	require.NotZero(t, rr.Stats.TTL.Redispatches)
	require.Less(t, ride(sr), ride(sa), "escalated parcels ride first on their courier's route")
}

func TestInTransitTTLRerouteDiverts(t *testing.T) {
	cfg := func(esc string) *sim.Config {
		return ttlScenario(t, func(s *scenarios.Scenario) {
			s.Labels.TTL.InTransit = scenarios.Duration(model.Minute)
			s.Labels.Escalation.InTransit = esc
		})
	}
	ra, _ := run(t, cfg("alert"))
	rr, _ := run(t, cfg("reroute"))
	require.NotZero(t, ra.Stats.TTL.Alerts[model.InTransit])
	require.Zero(t, ra.Stats.TTL.Diversions)
	require.NotZero(t, rr.Stats.TTL.Diversions)
	require.Greater(t, rr.Stats.Reroutes, ra.Stats.Reroutes)
	entered := func(r *sim.Result, id string) uint64 {
		for _, n := range r.Nodes {
			if n.ID == id {
				return n.Entered
			}
		}
		t.Fatalf("no node %s", id)
		return 0
	}
	require.Greater(t, entered(rr, "P1"), entered(ra, "P1"), "the partner takes the diverted parcels")
}

func TestShortReadyTTLRaisesReroutesAndReturns(t *testing.T) {
	tests := []struct {
		name  string
		short func(s *scenarios.Scenario)
	}{
		{"constant", func(s *scenarios.Scenario) { s.Labels.TTL.ReadyForPickup = scenarios.Duration(2 * model.Hour) }},
		{"rule for every occupancy", func(s *scenarios.Scenario) {
			zero := scenarios.Fraction(0)
			s.Labels.ReadyTTL = []scenarios.ReadyTTLRule{{When: scenarios.ReadyWhen{OccupancyAbove: &zero}, TTL: scenarios.Duration(2 * model.Hour)}, {TTL: scenarios.Duration(24 * model.Hour)}}
		}},
		{"rule for every weekday", func(s *scenarios.Scenario) {
			s.Labels.ReadyTTL = []scenarios.ReadyTTLRule{{When: scenarios.ReadyWhen{Weekday: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}, TTL: scenarios.Duration(2 * model.Hour)}}
		}},
	}
	base, _ := run(t, ttlScenario(t, func(*scenarios.Scenario) {}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := run(t, ttlScenario(t, tt.short))
			require.Greater(t, r.Stats.TTL.ReadyExpired, base.Stats.TTL.ReadyExpired)
			require.Greater(t, r.Stats.Reroutes+r.Stats.Returned, base.Stats.Reroutes+base.Stats.Returned)
		})
	}
}

func TestSubscriberReadyTTLRule(t *testing.T) {
	// subscribers get 2h, everyone else 24h: fewer expiries than 2h for all,
	// more than 24h for all
	yes := true
	sub, _ := run(t, ttlScenario(t, func(s *scenarios.Scenario) {
		s.Neighborhoods[0].SubscriberShare = 0.5
		s.Labels.ReadyTTL = []scenarios.ReadyTTLRule{{When: scenarios.ReadyWhen{Subscriber: &yes}, TTL: scenarios.Duration(2 * model.Hour)}}
	}))
	none, _ := run(t, ttlScenario(t, func(s *scenarios.Scenario) { s.Neighborhoods[0].SubscriberShare = 0.5 }))
	all, _ := run(t, ttlScenario(t, func(s *scenarios.Scenario) {
		s.Neighborhoods[0].SubscriberShare = 0.5
		s.Labels.TTL.ReadyForPickup = scenarios.Duration(2 * model.Hour)
	}))
	require.Greater(t, sub.Stats.TTL.ReadyExpired, none.Stats.TTL.ReadyExpired)
	require.Less(t, sub.Stats.TTL.ReadyExpired, all.Stats.TTL.ReadyExpired)
}

func TestExpiryPractice(t *testing.T) {
	// return to sender after 12h; a reminder 4h before
	expiry := func(x scenarios.Expiry) *sim.Config {
		return ttlScenario(t, func(s *scenarios.Scenario) {
			s.Labels.TTL.ReadyForPickup = scenarios.Duration(12 * model.Hour)
			s.Labels.Expiry = x
		})
	}
	rerouted, _ := run(t, expiry(scenarios.Expiry{Action: scenarios.ExpiryReroute}))
	returned, _ := run(t, expiry(scenarios.Expiry{Action: scenarios.ExpiryReturn}))
	require.Greater(t, returned.Stats.Returned, rerouted.Stats.Returned, "return: expired parcels go back to sender")
	require.Less(t, returned.Stats.Reroutes, rerouted.Stats.Reroutes)
	require.Zero(t, returned.Stats.TTL.Reminders)

	respond, _ := run(t, expiry(scenarios.Expiry{Action: scenarios.ExpiryReturn, Reminder: scenarios.Duration(4 * model.Hour), Respond: 0.5}))
	require.NotZero(t, respond.Stats.TTL.Reminders)
	require.Zero(t, respond.Stats.TTL.Extensions)
	require.Greater(t, respond.Stats.PickedUp, returned.Stats.PickedUp, "reminded customers come sooner")
	require.Less(t, respond.Stats.Returned, returned.Stats.Returned)
	require.Less(t, respond.MissedPickups, returned.MissedPickups, "a replaced late visit is not a missed pickup")

	ext := scenarios.Expiry{Action: scenarios.ExpiryReturn, Reminder: scenarios.Duration(4 * model.Hour), Respond: 0.5,
		Extension: scenarios.Duration(24 * model.Hour), AskExtension: 0.5}
	extended, _ := run(t, expiry(ext))
	require.NotZero(t, extended.Stats.TTL.Extensions)
	require.Less(t, extended.Stats.Returned, respond.Stats.Returned, "the extension lowers returns")
	require.Less(t, extended.Stats.TTL.ReadyExpired, respond.Stats.TTL.ReadyExpired)
}

func TestTTLRulesDeterministic(t *testing.T) {
	cfg := ttlScenario(t, func(s *scenarios.Scenario) {
		s.Labels.TTL.Packed = scenarios.Duration(30 * model.Minute)
		s.Labels.Escalation.Packed = "redispatch"
		s.Labels.Expiry = scenarios.Expiry{Action: scenarios.ExpiryReturn, Reminder: scenarios.Duration(6 * model.Hour), Respond: 0.3,
			Extension: scenarios.Duration(24 * model.Hour), AskExtension: 0.3}
	})
	a, _ := run(t, cfg)
	b, _ := run(t, cfg)
	require.Equal(t, a.Stats, b.Stats)
	require.NotZero(t, a.Stats.TTL.Extensions)
}
