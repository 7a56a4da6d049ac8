package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// boxConfig is supplyConfig (one microstore M fulfilling one big locker L,
// Poisson orders at perHour) with the SKU packed in a reusable small box
// from a pool at M, couriers carrying four items.
func boxConfig(t testing.TB, pool int32, perHour float64, days int, pk Packaging) *Config {
	cfg := supplyConfig(t, -1, perHour, days)
	net := *cfg.Network
	net.Packaging = &model.Packaging{Types: []model.BoxType{{ID: "tote", Size: model.Small, Pool: pool, MassKg: 0.2}}, SKUType: []int8{0}}
	cfg.Network = &net
	cfg.Couriers.BatchSize = 4
	cfg.Couriers.Fleet = 50
	cfg.Drain = 7 * model.Day
	cfg.Packaging = &pk
	return cfg
}

// closedLoop: every box comes back (at pickup or ~2 h later), none is lost.
var closedLoop = Packaging{ReturnAtPickup: 0.6, ReturnLater: 0.4, ReturnDelay: Dist{Kind: Exponential, Mean: 2 * model.Hour}}

// atPickup: every box is handed back at the pickup itself.
var atPickup = Packaging{ReturnAtPickup: 1}

// Little's law on the closed loop of boxes: the time-mean number of boxes
// out of the pool equals the departure rate times the mean cycle time. The
// tolerance is the 99 % Student-t interval of the per-replication
// difference.
func TestBoxLoopLittlesLaw(t *testing.T) {
	const reps = 10
	cfg := boxConfig(t, 1_000_000, 4, 20, atPickup)
	var diff, rel []float64
	for rep := 0; rep < reps; rep++ {
		r, err := Run(cfg, rep)
		require.NoError(t, err)
		require.NoError(t, r.Conserved())
		p := r.Packaging
		require.NotNil(t, p)
		require.Zero(t, p.Stockouts, "the pool never runs dry")
		require.Zero(t, p.BoxesLost, "a closed loop loses nothing")
		require.Greater(t, p.Departures, uint64(1500))
		// censored cycles: boxes handed back after the last delivery stop
		// at L (no courier passes again); a handful at the end of the run
		require.Less(t, float64(p.CensoredCycles), 0.01*float64(p.Departures))
		window := float64(r.End - r.WarmupEnd)
		lw := float64(p.Departures) / window * p.WindowCycleMeanMin * float64(model.Minute)
		diff = append(diff, p.BoxesOutMean-lw)
		rel = append(rel, p.BoxesOutMean/lw-1)
		// the cycle is at least the pickup delay (1 h) plus the ride home
		require.Greater(t, p.CycleMeanMin, 60.0)
	}
	m, h := ci(diff, 0.99)
	rm, rh := ci(rel, 0.99)
	t.Logf("Little: boxes out − λ·W = %.4f ± %.4f boxes (relative %.4f ± %.4f)", m, h, rm, rh)
	require.InDelta(t, 0, m, h, "Little's law violated by the loop of boxes")
}

// Each knob of the packaging world moves its metric in the documented
// direction, with common random numbers: the paired difference's 99 % CI
// must exclude zero on the right side.
func TestBoxKnobDirections(t *testing.T) {
	const reps = 6
	lossy := closedLoop
	lossy.ReturnAtPickup, lossy.ReturnLater = 0.5, 0.3
	lossy.Lost, lossy.Damaged = 0.02, 0.02
	type metric func(*PackagingResult) float64
	stockouts := func(p *PackagingResult) float64 { return float64(p.Stockouts) }
	lost := func(p *PackagingResult) float64 { return float64(p.BoxesLost) }
	tests := []struct {
		name   string
		pool   [2]int32
		mod    func(*Packaging)
		metric metric
		up     bool // the metric grows from the first to the second setting
	}{
		{"bigger pool fewer stockouts", [2]int32{40, 80}, nil, stockouts, false},
		{"more returns at pickup fewer stockouts", [2]int32{40, 40}, func(p *Packaging) { p.ReturnAtPickup = 0.75 }, stockouts, false},
		{"more later returns higher reuse", [2]int32{40, 40}, func(p *Packaging) { p.ReturnLater = 0.5 },
			func(p *PackagingResult) float64 { return p.ReuseRate }, true},
		{"more later returns fewer kept", [2]int32{1e5, 1e5}, func(p *Packaging) { p.ReturnLater = 0.4 },
			func(p *PackagingResult) float64 { return float64(p.Kept) }, false},
		{"longer return delay longer cycle", [2]int32{40, 40}, func(p *Packaging) { p.ReturnDelay.Mean = 12 * model.Hour },
			func(p *PackagingResult) float64 { return p.CycleMeanMin }, true},
		{"more lost at nodes more boxes lost", [2]int32{1e5, 1e5}, func(p *Packaging) { p.Lost = 0.1 }, lost, true},
		{"more damaged more boxes lost", [2]int32{1e5, 1e5}, func(p *Packaging) { p.Damaged = 0.1 }, lost, true},
		// a pool that runs dry: fewer uses, so fewer boxes to lose after the warm-up
		{"smaller pool fewer boxes lost", [2]int32{1e5, 40}, nil, lost, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pb := lossy
			if tc.mod != nil {
				tc.mod(&pb)
			}
			a := boxConfig(t, tc.pool[0], 4, 8, lossy)
			b := boxConfig(t, tc.pool[1], 4, 8, pb)
			var d []float64
			for rep := 0; rep < reps; rep++ {
				ra, err := Run(a, rep)
				require.NoError(t, err)
				rb, err := Run(b, rep)
				require.NoError(t, err)
				d = append(d, tc.metric(rb.Packaging)-tc.metric(ra.Packaging))
			}
			m, h := ci(d, 0.99)
			t.Logf("paired difference %.2f ± %.2f", m, h)
			if tc.up {
				require.Greater(t, m-h, 0.0)
			} else {
				require.Less(t, m+h, 0.0)
			}
		})
	}
}

// The packaging cost is the documented sum, its prices act linearly, and
// it is part of the total.
func TestPackagingCost(t *testing.T) {
	pk := closedLoop
	pk.Lost, pk.Damaged = 0.05, 0.05
	pk.Costs = PackagingCosts{SingleUse: 0.3, ReusableUse: 0.1, Wash: 0.05, BoxLost: 4}
	cfg := boxConfig(t, 30, 4, 6, pk)
	r, err := Run(cfg, 0)
	require.NoError(t, err)
	p := r.Packaging
	require.Positive(t, p.Stockouts)
	require.Positive(t, p.BoxesLost)
	want := float64(p.Packed-p.Reusable)*0.3 + float64(p.Reusable)*0.1 + float64(p.Home)*0.05 + float64(p.BoxesLost)*4
	assert.InDelta(t, want, p.Cost, 1e-9)
	assert.InDelta(t, p.Cost, r.Costs.Packaging, 1e-9)
	// the total minus packaging is the total of the same run with free packaging
	free := pk
	free.Costs = PackagingCosts{}
	r0, err := Run(boxConfig(t, 30, 4, 6, free), 0)
	require.NoError(t, err)
	assert.InDelta(t, r0.Costs.Total+p.Cost, r.Costs.Total, 1e-6)
	assert.InDelta(t, 0.2*float64(p.Reusable), p.AvoidedKg, 1e-9)
	assert.InDelta(t, float64(p.Reusable)/float64(p.Packed), p.ReuseRate, 1e-12)
	assert.Equal(t, p.BoxesLost, p.Kept+p.Refused+p.Lost+p.Damaged)
}

// Packaging changes no other random number: a scenario with reusable boxes
// that never take space or courier room (pool 0: every parcel single-use)
// gives the run without packaging, outcome for outcome.
func TestPackagingOffIsInvisible(t *testing.T) {
	base := supplyConfig(t, -1, 4, 5)
	base.Couriers.BatchSize = 4
	base.Couriers.Fleet = 50
	base.Drain = 7 * model.Day
	with := boxConfig(t, 0, 4, 5, closedLoop)
	r0, err := Run(base, 1)
	require.NoError(t, err)
	r1, err := Run(with, 1)
	require.NoError(t, err)
	assert.Equal(t, r0.Stats, r1.Stats)
	assert.Nil(t, r0.Packaging)
	require.NotNil(t, r1.Packaging)
	assert.Equal(t, r1.Packaging.Packed, r1.Packaging.Stockouts)
}
