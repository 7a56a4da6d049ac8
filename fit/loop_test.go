package fit

import (
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

const loopNetwork = "testdata/loop.yaml"

var loop struct {
	once    sync.Once
	dir     string
	capture string
	recs    []wire.CaptureRecord
	err     error
}

// loopCapture is hwsim's feed of testdata/loop.yaml (three simulated weeks,
// in process, no broker), written as a capture: what a twin records.
func loopCapture(t *testing.T) (string, []wire.CaptureRecord) {
	t.Helper()
	loop.once.Do(func() {
		loop.dir, loop.err = os.MkdirTemp("", "fit-loop-")
		if loop.err != nil {
			return
		}
		var n *Network
		if n, loop.err = LoadNetwork(loopNetwork); loop.err != nil {
			return
		}
		cfg, err := n.Scenario.Config()
		if err != nil {
			loop.err = err
			return
		}
		loc, _ := n.Scenario.Location()
		items, _, _, err := hwsim.Generate(hwsim.Config{Sim: cfg, Location: loc})
		if err != nil {
			loop.err = err
			return
		}
		loop.capture = filepath.Join(loop.dir, "loop.ndjson")
		f, err := os.Create(loop.capture)
		if err != nil {
			loop.err = err
			return
		}
		defer f.Close()
		w := wire.NewCaptureWriter(f)
		for _, it := range items {
			if it.Kind != hwsim.ItemMessage {
				continue
			}
			rec := wire.CaptureRecord{Topic: it.Topic, RecvAt: it.At, Retain: it.Retain, Payload: it.Payload}
			loop.recs = append(loop.recs, rec)
			if loop.err = w.Write(rec); loop.err != nil {
				return
			}
		}
		loop.err = w.Flush()
	})
	require.NoError(t, loop.err)
	return loop.capture, loop.recs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if loop.dir != "" {
		_ = os.RemoveAll(loop.dir)
	}
	os.Exit(code)
}

func fitLoop(t *testing.T, opt Options) *Result {
	t.Helper()
	capture, _ := loopCapture(t)
	n, err := LoadNetwork(loopNetwork)
	require.NoError(t, err)
	obs, err := ReadCapture(n, capture)
	require.NoError(t, err)
	r, err := Fit(n, obs, opt)
	require.NoError(t, err)
	return r
}

// TestClosedLoopRecovery: hwsim simulates a known scenario, fit reads the
// feed through the twin's ingest and recovers the scenario's inputs. Every
// tolerance is three standard errors of the estimate under the true value
// (a two-sided 99.7 % band): Poisson for rates, binomial for shares, the
// observed information for the pickup-delay mixture, exponential (mean /
// sqrt(events)) for MTBF and MTTR.
func TestClosedLoopRecovery(t *testing.T) {
	r := fitLoop(t, Options{})
	sc := r.Net.Scenario
	require.Equal(t, 21, r.Days)

	t.Run("demand", func(t *testing.T) {
		exposure := float64(r.Days) // the window is three whole weeks: weekday factors average to 1
		for i, h := range r.Hoods {
			truth := sc.Neighborhoods[i].OrdersPerDay
			se := math.Sqrt(truth*exposure) / exposure
			assert.InDelta(t, truth, h.OrdersPerDay, 3*se, "%s orders_per_day", h.Name)
			require.NotNil(t, h.SKUMix, h.Name)
			mix, sum := sc.Neighborhoods[i].SKUMix, 0.0
			for _, v := range mix {
				sum += v
			}
			for sku, w := range mix {
				p := w / sum
				assert.InDelta(t, p, h.SKUMix[sku], 3*math.Sqrt(p*(1-p)/float64(h.N)), "%s sku_mix %s", h.Name, sku)
			}
			if _, ok := mix["S03"]; !ok {
				assert.Less(t, h.SKUMix["S03"], 0.5/float64(h.N), "%s: a SKU never ordered there gets no weight", h.Name)
			}
		}
		// the hourly profile of North, hour by hour: Poisson counts
		north := sc.Neighborhoods[0]
		sumH := 0.0
		for _, v := range north.Hourly {
			sumH += v
		}
		for h, w := range north.Hourly {
			want := w / sumH * 24
			se := math.Sqrt(want / (float64(r.Hoods[0].N) / 24))
			assert.InDelta(t, want, r.Hoods[0].Hourly[h], 3*se, "North hourly[%d]", h)
		}
		require.NotNil(t, r.Weekday)
		total := float64(r.Orders) / 7 // orders per weekday, on average
		for d, w := range sc.DemandCalendar.Weekday {
			// SE of a factor: w / sqrt(orders on that weekday) = sqrt(w / total)
			assert.InDelta(t, w, r.Weekday[d], 3*math.Sqrt(w/total), "weekday[%d]", d)
		}
	})

	t.Run("pickup delay and no-show", func(t *testing.T) {
		pf := r.Pickup
		require.NotNil(t, pf.Chosen)
		assert.Equal(t, "lognormal", pf.Chosen.Family, "the true family has the lowest AIC")
		truth := distuv.LogNormal{Mu: math.Log(4), Sigma: 0.8}
		assert.InDelta(t, truth.Mean(), pf.Chosen.Mean, 3*pf.Chosen.MeanSE, "mean pickup delay (hours)")
		assert.Greater(t, pf.Chosen.KSP, KSLevel, "the chosen family passes the KS check")
		// the mixture's SE (observed information) is larger than the
		// binomial SE of a share: who never comes is not observed directly
		q := float64(sc.Customers.NoShow)
		binom := math.Sqrt(q * (1 - q) / float64(pf.Sample.N()))
		assert.InDelta(t, q, pf.Chosen.Q, 3*math.Max(binom, pf.Chosen.QSE), "no-show share")
		assert.NotEmpty(t, pf.Sample.Censored, "parcels still waiting at the end are in the fit, censored")
		assert.NotEmpty(t, pf.Sample.Intervals, "the partner's closed nights are interval-censored")
	})

	t.Run("courier speed", func(t *testing.T) {
		// handoff_time is a constant 2m: hand-off to first arrival is
		// exactly km/speed + 2 min, up to millisecond rounding
		assert.InDelta(t, sc.Couriers.SpeedKmh, r.Speed.Kmh, 0.01)
		assert.InDelta(t, 2.0, r.Speed.Intercept, 0.01)
	})

	t.Run("connectivity", func(t *testing.T) {
		for _, nf := range r.Nodes {
			nd := sc.NodeByID(nf.ID)
			if !nd.Connectivity.MTBF.Given() {
				assert.Zero(t, nf.MTBF, "%s never drops", nf.ID)
				assert.Zero(t, nf.Failures, nf.ID)
				continue
			}
			require.Positive(t, nf.MTBF, "%s: %s", nf.ID, nf.Note)
			mtbf := nd.Connectivity.MTBF.Mean.Model().Hours()
			mttr := nd.Connectivity.MTTR.Mean.Model().Hours()
			assert.InDelta(t, mtbf, nf.MTBF, 3*mtbf/math.Sqrt(float64(nf.Failures)), "%s MTBF", nf.ID)
			assert.InDelta(t, mttr, nf.MTTR, 3*mttr/math.Sqrt(float64(nf.Repairs)), "%s MTTR", nf.ID)
		}
	})
}
