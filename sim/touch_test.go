package sim_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// touchScenario is the pickup-windows example edited by edit.
func touchScenario(t *testing.T, edit func(s *scenarios.Scenario)) *sim.Config {
	t.Helper()
	s, err := scenarios.Load("../scenarios/examples/pickup-windows.yaml")
	require.NoError(t, err)
	edit(s)
	require.NoError(t, s.Validate())
	cfg, err := s.Config()
	require.NoError(t, err)
	return cfg
}

// touchLog records, per measured label, its window, when it was placed, first
// made ready and picked up.
type touchLog struct {
	window                    map[model.LabelID]model.Window
	placed, ready, pickup     map[model.LabelID]model.Instant
	measured                  map[model.LabelID]bool
	rewards                   int
	rewardAmount              float64
	offPeakWindows, allWindow int
}

func (l *touchLog) Observe(_ *model.Core, ev model.Event, effs []model.Effect) {
	if ev.Type == model.EvOrderPlaced && ev.Measured {
		l.measured[ev.Label] = true
		l.placed[ev.Label] = ev.At
		if w := ev.Window(); w.Has() {
			l.window[ev.Label] = w
		}
	}
	for _, e := range effs {
		if !l.measured[e.Label] {
			continue
		}
		switch {
		case e.Type == model.EffState && e.State == model.ReadyForPickup:
			if _, ok := l.ready[e.Label]; !ok {
				l.ready[e.Label] = e.At
			}
		case e.Type == model.EffState && e.State == model.PickedUp:
			l.pickup[e.Label] = e.At
		case e.Type == model.EffReward:
			l.rewards++
			l.rewardAmount += e.Amount
		}
	}
}

func runTouch(t *testing.T, cfg *sim.Config, rep int) (*sim.Result, *touchLog) {
	t.Helper()
	l := &touchLog{window: map[model.LabelID]model.Window{}, placed: map[model.LabelID]model.Instant{},
		ready: map[model.LabelID]model.Instant{}, pickup: map[model.LabelID]model.Instant{}, measured: map[model.LabelID]bool{}}
	r, err := sim.RunObserved(cfg, rep, l)
	require.NoError(t, err)
	require.NoError(t, r.Conserved())
	require.Zero(t, r.Stats.RejectedTotal(), "the sim never feeds the core an illegal or stale event")
	require.NotNil(t, r.Touch)
	return r, l
}

// within4σ asserts a binomial share k/n is within 4 standard errors of p.
func within4σ(t *testing.T, k, n uint64, p float64, what string) {
	t.Helper()
	require.Positive(t, n, what)
	se := math.Sqrt(p * (1 - p) / float64(n))
	assert.InDelta(t, p, float64(k)/float64(n), 4*se+1e-12, "%s: %d of %d, want %.4f ± 4·%.4f", what, k, n, p, se)
}

func TestTouchWindowsOfferedAsConfigured(t *testing.T) {
	tests := []struct {
		name                 string
		slot, minLead, ahead model.Duration
		hours                string
	}{
		{"2h slots 08-22, 3h..36h", 2 * model.Hour, 3 * model.Hour, 36 * model.Hour, "08:00-22:00"},
		{"1h slots in two spans, 1h..12h", model.Hour, model.Hour, 12 * model.Hour, "07:00-09:00,17:00-21:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := touchScenario(t, func(s *scenarios.Scenario) {
				w := s.Touch.Windows
				w.Slot, w.MinLead, w.Ahead = scenarios.Duration(tt.slot), scenarios.Duration(tt.minLead), scenarios.Duration(tt.ahead)
				w.Hours = scenarios.MustHours(tt.hours)
			})
			_, l := runTouch(t, cfg, 0)
			require.NotEmpty(t, l.window)
			hours := cfg.Touch.Hours
			for id, w := range l.window {
				lead := w.Open.Sub(l.placed[id])
				require.Equal(t, tt.slot, w.Close.Sub(w.Open), "slot length")
				require.GreaterOrEqual(t, lead, tt.minLead)
				require.LessOrEqual(t, lead, tt.ahead)
				require.True(t, hours.OpenAt(w.Open) && hours.OpenAt(w.Close-1), "window %v inside the hours", w)
				tod := model.TimeOfDay(w.Open)
				aligned := false
				for _, s := range hours {
					aligned = aligned || (tod >= s.From && (tod-s.From)%tt.slot == 0)
				}
				require.True(t, aligned, "windows tile the spans from their start")
			}
		})
	}
}

func TestTouchShareOfCustomersChoosingWindows(t *testing.T) {
	for _, share := range []float64{0.2, 0.6, 0.9} {
		cfg := touchScenario(t, func(s *scenarios.Scenario) { s.Touch.Windows.Share = scenarios.Fraction(share) })
		r, _ := runTouch(t, cfg, 0)
		// every customer offered windows chooses one with probability share
		within4σ(t, r.Stats.Touch.Windowed, r.Touch.Offered, share, "windowed of offered")
	}
}

func TestTouchKeepShare(t *testing.T) {
	// Keepers come inside what is left of their window, the others after it;
	// a parcel ready after its window closed (deliver_lead 6h makes that
	// rare) can only be collected after it. So inside/(collected) = keep.
	for _, keep := range []float64{0.5, 0.9} {
		cfg := touchScenario(t, func(s *scenarios.Scenario) {
			s.Touch.Windows.Keep = scenarios.Fraction(keep)
			s.Touch.Windows.DeliverLead = scenarios.Duration(6 * model.Hour)
		})
		r, l := runTouch(t, cfg, 0)
		s := r.Stats.Touch
		require.Zero(t, s.BeforeWindow, "nobody comes before the window")
		late := 0
		for id, w := range l.window {
			if at, ok := l.ready[id]; ok && at >= w.Close {
				late++
			}
		}
		require.Less(t, late, 5)
		within4σ(t, s.InWindow, s.InWindow+s.AfterWindow-uint64(late), keep, "kept windows")
	}
}

func TestTouchMissDelay(t *testing.T) {
	// Those who miss come Miss after the close: the mean lateness is the
	// exponential's mean within 4 standard errors (CLT; the sd of an
	// exponential is its mean).
	for _, mean := range []model.Duration{2 * model.Hour, 6 * model.Hour} {
		cfg := touchScenario(t, func(s *scenarios.Scenario) {
			s.Touch.Windows.Keep = 0.5
			s.Touch.Windows.DeliverLead = scenarios.Duration(6 * model.Hour)
			s.Touch.Windows.Miss = scenarios.Dist{Dist: scenarios.DistExponential, Mean: scenarios.Duration(mean)}
			s.Labels.TTL.ReadyForPickup = scenarios.Duration(7 * 24 * model.Hour) // no TTL cuts the tail
			s.Nodes = s.Nodes[:3]                                                 // M1, L1, L2: no opening hours delay a visit
		})
		_, l := runTouch(t, cfg, 0)
		var sum float64
		n := 0
		for id, w := range l.window {
			at, ok := l.pickup[id]
			if !ok || at < w.Close || l.ready[id] >= w.Close {
				continue
			}
			sum += float64(at.Sub(w.Close))
			n++
		}
		require.Greater(t, n, 200)
		got := sum / float64(n)
		se := float64(mean) / math.Sqrt(float64(n))
		assert.InDelta(t, float64(mean), got, 4*se, "mean lateness after a missed window (n=%d)", n)
	}
}

func TestTouchQuickRewardElasticity(t *testing.T) {
	// Without windows and partner hours, a customer's delay d ~ Exp(10h);
	// with a reward R for pickup within W and elasticity e, the share
	// rewarded is P(d <= W) + P(d > W)(1 - exp(-e R)) (no-shows aside). Each
	// of the three knobs moves it, and the cost is R per reward.
	for _, tc := range []struct {
		e, amount float64
		within    model.Duration
	}{
		{0, 1, 4 * model.Hour}, {0.4, 1, 4 * model.Hour}, {1.5, 1, 4 * model.Hour},
		{0.4, 3, 4 * model.Hour}, {0.4, 1, 8 * model.Hour},
	} {
		cfg := touchScenario(t, func(s *scenarios.Scenario) {
			s.Touch.Windows = nil
			s.Touch.Rewards.Elasticity = tc.e
			s.Touch.Rewards.Quick = &scenarios.QuickReward{Amount: tc.amount, Within: scenarios.Duration(tc.within)}
			s.Nodes = s.Nodes[:3] // M1, L1, L2: lockers open around the clock
		})
		r, l := runTouch(t, cfg, 0)
		in := 1 - math.Exp(-float64(tc.within)/float64(10*model.Hour))
		want := in + (1-in)*(1-math.Exp(-tc.e*tc.amount))
		within4σ(t, r.Stats.Touch.QuickRewards, r.Stats.PickedUp, want, "quick rewards of pickups")
		require.InDelta(t, tc.amount*float64(r.Stats.Touch.QuickRewards), r.Costs.Rewards, 1e-6)
		require.Equal(t, uint64(l.rewards), r.Stats.Touch.QuickRewards)
	}
}

func TestTouchRewardWithoutElasticityChangesOnlyCost(t *testing.T) {
	// The touch streams are the layer's own: a reward no one responds to
	// leaves every outcome as it was and adds exactly its cost.
	base := touchScenario(t, func(s *scenarios.Scenario) { s.Touch.Rewards.Quick = nil; s.Touch.Rewards.Elasticity = 0 })
	paid := touchScenario(t, func(s *scenarios.Scenario) { s.Touch.Rewards.Elasticity = 0 })
	a, _ := runTouch(t, base, 1)
	b, _ := runTouch(t, paid, 1)
	require.Positive(t, b.Costs.Rewards)
	sa, sb := a.Stats, b.Stats
	sa.Touch, sb.Touch = model.TouchStats{}, model.TouchStats{}
	require.Equal(t, sa, sb)
	require.InDelta(t, a.Costs.Total+b.Costs.Rewards, b.Costs.Total, 1e-6)
}

func TestTouchOffPeakReward(t *testing.T) {
	// An off-peak credit draws windows to the off-peak hours (the choice's
	// utility + e·R) and raises the share who keep them.
	run := func(amount float64) (offPeak float64, kept float64) {
		cfg := touchScenario(t, func(s *scenarios.Scenario) {
			s.Touch.Rewards.Quick = nil
			s.Touch.Rewards.Elasticity = 1
			s.Touch.Rewards.OffPeak = &scenarios.OffPeakReward{Amount: amount, Hours: scenarios.MustHours("08:00-12:00,20:00-22:00")}
			s.Touch.Windows.Keep = 0.6
		})
		r, l := runTouch(t, cfg, 0)
		n := 0
		for _, w := range l.window {
			if cfg.Network.Policy.Touch.OffPeakWindow(w) {
				n++
			}
		}
		s := r.Stats.Touch
		require.Equal(t, s.OffPeakRewards, uint64(l.rewards))
		return float64(n) / float64(len(l.window)), float64(s.InWindow) / float64(s.InWindow+s.AfterWindow)
	}
	lowShare, lowKept := run(0.01)
	highShare, highKept := run(2)
	assert.Greater(t, highShare, lowShare+0.1, "off-peak windows chosen")
	assert.Greater(t, highKept, lowKept+0.05, "windows kept")
}

func TestTouchOffPeakHours(t *testing.T) {
	// more off-peak hours: more windows earn the off-peak credit
	rewards := func(hours string) uint64 {
		cfg := touchScenario(t, func(s *scenarios.Scenario) {
			s.Touch.Rewards.Quick = nil
			s.Touch.Rewards.OffPeak = &scenarios.OffPeakReward{Amount: 0.5, Hours: scenarios.MustHours(hours)}
		})
		r, _ := runTouch(t, cfg, 0)
		return r.Stats.Touch.OffPeakRewards
	}
	narrow, wide := rewards("20:00-22:00"), rewards("08:00-12:00,18:00-22:00")
	assert.Positive(t, narrow)
	assert.Greater(t, wide, 2*narrow)
}

func TestTouchPerWindowCapacity(t *testing.T) {
	share := func(per int) (float64, float64) {
		cfg := touchScenario(t, func(s *scenarios.Scenario) { s.Touch.Windows.PerWindow = per })
		r, _ := runTouch(t, cfg, 0)
		return float64(r.Touch.Full) / float64(r.Stats.Orders), float64(r.Stats.Touch.Windowed) / float64(r.Stats.Orders)
	}
	fullTight, windowedTight := share(1)
	fullLoose, windowedLoose := share(0)
	assert.Greater(t, fullTight, fullLoose)
	assert.Less(t, windowedTight, windowedLoose)
}

func TestTouchDeliverLeadAndBeta(t *testing.T) {
	stat := func(lead model.Duration, beta float64) (lateShare, meanLeadH float64, dwell float64) {
		cfg := touchScenario(t, func(s *scenarios.Scenario) {
			s.Touch.Windows.DeliverLead = scenarios.Duration(lead)
			s.Touch.Windows.BetaPerHour = &beta
		})
		r, l := runTouch(t, cfg, 0)
		var sum float64
		for id, w := range l.window {
			sum += float64(w.Open.Sub(l.placed[id])) / float64(model.Hour)
		}
		var held, n float64
		for _, nd := range r.Nodes {
			held += nd.DwellMean * float64(nd.Dwelled)
			n += float64(nd.Dwelled)
		}
		return float64(r.Stats.Touch.ReadyLate) / float64(r.Stats.Touch.Windowed), sum / float64(len(l.window)), held / n
	}
	lateShort, _, dwellShort := stat(30*model.Minute, -0.05)
	lateLong, _, dwellLong := stat(6*model.Hour, -0.05)
	assert.Greater(t, lateShort, lateLong, "a shorter deliver lead makes more windowed parcels late")
	assert.Greater(t, dwellLong, dwellShort, "a longer deliver lead makes parcels wait longer in the lockers")
	_, leadPatient, _ := stat(2*model.Hour, 0)
	_, leadEager, _ := stat(2*model.Hour, -0.3)
	assert.Greater(t, leadPatient, leadEager+2, "a more negative beta_per_hour picks sooner windows")
}
