package results

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/uber/h3-go/v4"
)

// Synthetic data for tests: a Berlin pilot with five nodes. Replication i of
// every scenario draws from the same stream (seed, i), so scenarios share
// random numbers the way the simulator's common random numbers do.

var berlinNodes = []NodeInfo{
	{ID: "L-KRZ", Kind: "locker", Lat: 52.4990, Lng: 13.4030},     // Kreuzberg, Kottbusser Tor
	{ID: "P-NKL", Kind: "partner", Lat: 52.4811, Lng: 13.4350},    // Neukölln, Hermannplatz
	{ID: "L-FHN", Kind: "locker", Lat: 52.5160, Lng: 13.4540},     // Friedrichshain, Boxhagener Platz
	{ID: "M-MIT", Kind: "microstore", Lat: 52.5219, Lng: 13.4132}, // Mitte, Alexanderplatz
	{ID: "U-PBG", Kind: "popup", Lat: 52.5383, Lng: 13.4246},      // Prenzlauer Berg, Kollwitzplatz
}

// scenarioEffect shifts a scenario's outcomes against the base.
type scenarioEffect struct {
	success   float64 // added to success/on-time rates
	costMul   float64 // multiplies costs
	friction  float64 // minutes added to pickup delays
	occupancy float64 // added to locker occupancy
}

func synthRun(name string, seed uint64, reps, days int, eff scenarioEffect) RunResult {
	if eff.costMul == 0 {
		eff.costMul = 1
	}
	run := RunResult{Scenario: name, Seed: seed, Horizon: "8d", Warmup: "1d", Nodes: berlinNodes,
		Description: "synthetic Berlin pilot for tests"}
	cells := berlinCells()
	for i := range reps {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		rep := Replication{Index: i, Metrics: map[string]float64{}, PerNode: map[string]map[string]float64{},
			DemandByCell: map[string]float64{}, PickupDelay: NewHistogram(5, 96)}
		orders := math.Round(900 + 60*rng.NormFloat64())
		success := clamp01(0.86 + eff.success + 0.02*rng.NormFloat64())
		onTime := clamp01(0.93 + eff.success + 0.015*rng.NormFloat64())
		delivered := math.Round(orders * onTime)
		picked := math.Round(delivered * 0.97)
		total := (5200 + 300*rng.NormFloat64()) * eff.costMul
		refunds := math.Round(orders * (1 - onTime))
		occ := clamp01(0.55 + eff.occupancy + 0.05*rng.NormFloat64())
		util := clamp01(0.62 + 0.04*rng.NormFloat64())
		for j := 0; j < int(picked); j++ {
			rep.PickupDelay.Add(rng.ExpFloat64()*(70+eff.friction) + 3)
		}
		rep.CourierWait = NewHistogram(1, 120) // its own stream: the other numbers stay as they were
		cw := rand.New(rand.NewPCG(seed, uint64(i)+1<<32))
		for j := 0; j < int(delivered); j++ {
			rep.CourierWait.Add(cw.ExpFloat64() * 12)
		}
		m := rep.Metrics
		m[MOrders] = orders
		m[MReady] = delivered
		m[MCollected] = picked
		m[MCollectedWithinSLA] = math.Round(orders * success)
		m[MPickupSuccessRate] = success
		m[MOnTimeReadyRate] = onTime
		m[MReroutes] = math.Round(40 + 8*rng.NormFloat64())
		m[MReturns] = math.Round(math.Abs(4 + 2*rng.NormFloat64()))
		m[MCancelled] = math.Round(math.Abs(6 + 2*rng.NormFloat64()))
		m[MRefunds] = refunds
		m[MRefundAmount] = refunds * 4.5
		m[MTotalCost] = total
		m[MFCPO] = total / picked
		m[MPickupFrictionP50] = rep.PickupDelay.Quantile(0.5)
		m[MPickupFrictionP90] = rep.PickupDelay.Quantile(0.9)
		m[MRSMI] = 310 + 25*rng.NormFloat64()
		m[MCourierUtilization] = util
		m[MLockerOccupancy] = occ
		m[MInFlight] = math.Round(30 + 5*rng.NormFloat64())
		m[MRejectedEvents] = 0
		m[MDriftIntegral] = 120 + 30*rng.NormFloat64()
		m[MDriftMax] = math.Round(math.Abs(6 + 2*rng.NormFloat64()))
		m[MConflicts] = math.Round(math.Abs(3 + 1.5*rng.NormFloat64()))
		m[MOversells] = math.Round(math.Abs(1 + rng.NormFloat64()))
		m[MStockouts] = math.Round(math.Abs(9 + 3*rng.NormFloat64()))
		m[MOfflinePickupsFailed] = math.Round(math.Abs(2 + rng.NormFloat64()))
		m[MReconciliationLagP90Min] = 14 + 3*rng.NormFloat64()
		for k, n := range berlinNodes {
			share := []float64{0.26, 0.18, 0.22, 0.2, 0.14}[k]
			no := math.Round(orders * share)
			rep.PerNode[n.ID] = map[string]float64{
				"orders":    no,
				"fcpo":      total * share / no * (0.8 + 0.1*float64(k)) * (1 + 0.05*rng.NormFloat64()),
				"occupancy": clamp01(occ + 0.1*rng.NormFloat64()),
				"drift_max": math.Round(math.Abs(2 + rng.NormFloat64())),
			}
		}
		for h := range days * 24 {
			hod := float64(h % 24)
			wave := math.Max(0, math.Sin(math.Pi*(hod-7)/14)) // daytime wave
			rep.Trace = append(rep.Trace, TracePoint{
				Hour:               float64(h),
				Orders:             math.Round(orders / float64(days) / 10 * wave * 1.6),
				Ready:              math.Round(orders / float64(days) / 10 * wave * 1.5),
				Collected:          math.Round(orders / float64(days) / 10 * wave * 1.4),
				Occupancy:          clamp01(occ*(0.6+0.6*wave) + 0.03*rng.NormFloat64()),
				CourierUtilization: clamp01(util*(0.3+0.9*wave) + 0.03*rng.NormFloat64()),
				Drift:              math.Abs(3 + rng.NormFloat64()),
			})
		}
		for d := range days {
			o := math.Round(orders/float64(days) + 10*rng.NormFloat64())
			s := clamp01(success + 0.03*rng.NormFloat64())
			rep.Daily = append(rep.Daily, DailyPoint{Day: d, Orders: o, CollectedWithinSLA: math.Round(o * s), PickupSuccessRate: s})
		}
		for _, c := range cells {
			rep.DemandByCell[c.id] = math.Round(c.weight * orders / 40 * (1 + 0.1*rng.NormFloat64()))
		}
		run.Replications = append(run.Replications, rep)
	}
	run.Finalize()
	return run
}

type weightedCell struct {
	id     string
	weight float64
}

// berlinCells: the res-8 cells within two rings of every node, weighted by
// grid distance to the nearest node.
func berlinCells() []weightedCell {
	w := map[h3.Cell]float64{}
	for _, n := range berlinNodes {
		origin := h3.LatLngToCell(h3.NewLatLng(n.Lat, n.Lng), 8)
		for k, ring := range origin.GridDiskDistances(2) {
			for _, c := range ring {
				if c == 0 {
					continue
				}
				w[c] = math.Max(w[c], 1/float64(1+k))
			}
		}
	}
	out := make([]weightedCell, 0, len(w))
	for c, v := range w {
		out = append(out, weightedCell{c.String(), v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

// threeScenarios: a base, a better one and a costlier one, 12 replications each.
func threeScenarios() []RunResult {
	return []RunResult{
		synthRun("ttl-6h", 42, 12, 3, scenarioEffect{}),
		synthRun("ttl-12h", 42, 12, 3, scenarioEffect{success: 0.03, friction: 15, occupancy: 0.12}),
		synthRun("more-lockers", 42, 12, 3, scenarioEffect{success: 0.01, costMul: 1.15, friction: -10}),
	}
}

func distinctColors(img interface {
	Bounds() image.Rectangle
	At(x, y int) color.Color
}) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}] = true
		}
	}
	return len(seen)
}
