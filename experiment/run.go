package experiment

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// Options tune a run. Zero values take the scenario's settings.
type Options struct {
	Seed         *uint64 // overrides the scenario's seed
	Replications int     // overrides the scenario's replications when > 0
	// Workers bounds parallel replications; 0 means GOMAXPROCS.
	Workers int
	// Trace keeps the hourly time series in each replication.
	Trace bool
	// Precision overrides the scenario's relative CI half-width target.
	Precision float64
	// Progress, if set, is called after each replication (from any goroutine).
	Progress func(done, total int)
	// Day, if set, is called once per simulated day of every replication:
	// Day(i, d) when replication i has simulated d days, d = 1 .. the horizon
	// in days (a last partial day counted whole), in order, on the goroutine
	// running the replication (so calls for different replications are
	// concurrent). It costs nothing per event and does not change the results.
	Day func(replication, day int)
}

// replications is how many replications Run(s, opt) simulates.
func (opt Options) replications(s *scenarios.Scenario) int {
	n := s.Replications
	if opt.Replications > 0 {
		n = opt.Replications
	}
	return max(n, 1)
}

// Work is how much Run(ctx, s, opt) simulates: its replications and the
// simulated days over all of them (the number of Day calls), for progress
// bars.
func Work(s *scenarios.Scenario, opt Options) (replications int, days int64, err error) {
	cfg, err := s.Config()
	if err != nil {
		return 0, 0, err
	}
	n := opt.replications(s)
	return n, int64(n) * int64(cfg.Days()), nil
}

// Run runs the scenario's replications and returns the finalized results.
func Run(ctx context.Context, s *scenarios.Scenario, opt Options) (*results.RunResult, error) {
	cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	if opt.Seed != nil {
		cfg.Seed = *opt.Seed
	}
	reps, err := Replications(ctx, cfg, 0, opt.replications(s), opt)
	if err != nil {
		return nil, err
	}
	run := &results.RunResult{
		Scenario: s.Name, Description: s.Description, Seed: cfg.Seed,
		Horizon: cfg.Horizon.String(), Warmup: cfg.Warmup.String(), Precision: float64(s.Precision),
		Replications: reps,
	}
	if opt.Precision > 0 {
		run.Precision = opt.Precision
	}
	for _, nd := range cfg.Network.Nodes {
		run.Nodes = append(run.Nodes, results.NodeInfo{ID: nd.ID, Kind: nd.Kind.String(), Lat: nd.Lat, Lng: nd.Lng})
	}
	for _, nb := range cfg.Neighborhoods {
		if len(nb.Cells) == 0 {
			continue
		}
		info := results.NeighborhoodInfo{Name: nb.Name}
		for _, c := range nb.Cells {
			ll := c.LatLng()
			info.Lat += ll.Lat / float64(len(nb.Cells))
			info.Lng += ll.Lng / float64(len(nb.Cells))
		}
		run.Neighborhoods = append(run.Neighborhoods, info)
	}
	run.Finalize()
	if err := run.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return run, nil
}

// Replications runs replications first..first+n-1 of cfg on up to
// opt.Workers goroutines, calling opt.Progress and opt.Day, and returns them
// in index order (with the hourly trace if opt.Trace). Run calls it for a
// scenario; a sweep for one replication of a grid point.
func Replications(ctx context.Context, cfg *sim.Config, first, n int, opt Options) ([]results.Replication, error) {
	workers, trace, progress := opt.Workers, opt.Trace, opt.Progress
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	out := make([]results.Replication, n)
	errs := make([]error, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				var onDay func(int)
				if opt.Day != nil {
					rep := first + i
					onDay = func(d int) { opt.Day(rep, d) }
				}
				r, err := sim.RunDaily(cfg, first+i, nil, onDay)
				if err != nil {
					errs[i] = fmt.Errorf("replication %d: %w", first+i, err)
					continue
				}
				if err := r.Conserved(); err != nil {
					errs[i] = fmt.Errorf("replication %d: %w", first+i, err)
					continue
				}
				collectLargeWorld()
				out[i] = Replication(cfg, r, trace)
				if progress != nil {
					mu.Lock()
					done++
					d := done
					mu.Unlock()
					progress(d, n)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			return nil, ctx.Err()
		}
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// largeWorld is the live heap from which collectLargeWorld collects.
var largeWorld uint64 = 64 << 20

// collectLargeWorld runs a collection when the live heap is at least
// largeWorld: the replication that just returned has left its world (the
// parcels in flight, the queue, the histograms) unreachable, and its
// results are built next. Without it the collector comes round only when
// the heap reaches the goal set while the world was live, so the results'
// allocations land on top of the dead world: a 6-day locker-metro's heap
// went from 235 MB live to 266 MB before the world was collected, and that
// was the run's peak RSS. A collection with the world dead marks only
// what else is live (35 MB there). Small worlds (the pilot's replications
// in parallel) never reach largeWorld and pay nothing.
func collectLargeWorld() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() >= largeWorld {
		runtime.GC()
	}
}

// Replication converts one simulated replication into the results vocabulary.
func Replication(cfg *sim.Config, r *sim.Result, trace bool) results.Replication {
	s := &r.Stats
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	orders := float64(s.Orders)
	m := map[string]float64{
		results.MOrders:             orders,
		results.MReady:              float64(s.Ready),
		results.MCollected:          float64(s.PickedUp),
		results.MCollectedWithinSLA: float64(s.PickedUpWithinSLA),
		results.MPickupSuccessRate:  ratio(float64(s.PickedUpWithinSLA), orders),
		results.MOnTimeReadyRate:    ratio(float64(s.ReadyOnTime), orders),
		results.MReroutes:           float64(s.Reroutes),
		results.MReturns:            float64(s.Returned),
		results.MCancelled:          float64(s.Cancelled),
		results.MRefunds:            float64(s.Refunds),
		results.MRefundAmount:       s.RefundAmount,
		results.MTotalCost:          r.Costs.Total,
		results.MFCPO:               ratio(r.Costs.Total, float64(s.PickedUp)),
		results.MPickupFrictionP50:  s.Friction.Quantile(0.5),
		results.MPickupFrictionP90:  s.Friction.Quantile(0.9),
		results.MCourierUtilization: r.CourierUtilization,
		results.MLockerOccupancy:    r.LockerOccupancy,
		results.MInFlight:           float64(r.InFlight),
		results.MRejectedEvents:     float64(s.RejectedTotal()),
	}
	costMetrics(m, r)
	ttlMetrics(m, &s.TTL)
	if r.Edge {
		inventoryMetrics(m, &r.Inventory)
		m[results.MReconciliationLagP90Min] = r.Inventory.ReconcileLagP90
		replenishMetrics(m, &r.Replenish)
	}
	choiceMetrics(m, cfg, r)
	supplyMetrics(cfg, r, m, nil)
	touchMetrics(m, r)
	packagingMetrics(m, r.Packaging)
	rep := results.Replication{Index: r.Replication, Metrics: m, PerNode: map[string]map[string]float64{},
		DemandByCell: map[string]float64{}, PickupDelay: results.NewHistogram(10, 6*24*3)}
	for i, n := range r.Nodes {
		pn := map[string]float64{
			"orders": float64(n.Orders), results.MCollected: float64(n.PickedUp), "arrivals": float64(n.Arrivals),
			"refused": float64(n.Refused), "occupancy": n.Occupancy, "cost": n.Cost,
		}
		if n.PickedUp > 0 {
			pn[results.MFCPO] = n.FCPO
		}
		if r.Edge {
			inventoryMetrics(pn, &n.Inventory)
			if len(cfg.Network.Nodes[i].Cache) > 0 {
				replenishMetrics(pn, &n.Replenish)
			}
		}
		supplyMetrics(cfg, r, pn, &n)
		nodeCostMetrics(pn, &n)
		rep.PerNode[n.ID] = pn
	}
	microstoreMetrics(rep.PerNode, r)
	rep.PerNeighborhood = neighborhoodMetrics(r)
	for _, c := range r.Cells() {
		rep.DemandByCell[c.String()] = float64(r.DemandByCell[c])
	}
	// the core's one-minute bins folded into the report's ten-minute bins
	pd := &rep.PickupDelay
	for minute, cnt := range s.Friction.Counts {
		if b := minute / 10; minute < model.HistogramBins && b < len(pd.Counts) {
			pd.Counts[b] += int64(cnt)
		} else {
			pd.Overflow += int64(cnt)
		}
	}
	warmDays := int(r.WarmupEnd.Sub(r.Start) / model.Day)
	for _, d := range r.Daily {
		if d.Day < warmDays {
			continue
		}
		rep.Daily = append(rep.Daily, results.DailyPoint{Day: d.Day - warmDays, Orders: float64(d.Orders),
			CollectedWithinSLA: float64(d.PickedUpWithinSLA), PickupSuccessRate: dayRate(d)})
	}
	cohortMetrics(m, &rep, r)
	nodeReasonMetrics(&rep, r)
	operatorMetrics(cfg, r, m, &rep)
	if trace {
		for _, h := range r.Trace {
			rep.Trace = append(rep.Trace, results.TracePoint{Hour: float64(h.Hour), Orders: float64(h.Orders), Ready: float64(h.Ready),
				Collected: float64(h.PickedUp), Occupancy: h.Occupancy, CourierUtilization: h.CourierUtilization, Drift: h.Drift})
		}
	}
	return rep
}

// inventoryMetrics adds the cache-first counters (a run's or a node's).
func inventoryMetrics(m map[string]float64, inv *sim.InventoryResult) {
	m[results.MDriftIntegral] = inv.DriftIntegral
	m[results.MDriftMax] = inv.DriftMax
	m[results.MConflicts] = float64(inv.Conflicts)
	m[results.MOversells] = float64(inv.Oversells)
	m[results.MStockouts] = float64(inv.Stockouts)
	m[results.MOfflinePickupsFailed] = float64(inv.OfflinePickupsFailed)
	m[results.MOfflinePickupsDelayed] = float64(inv.OfflinePickupsDelayed)
}

// dayRate is the day's pickup success rate, NaN (null in JSON) without orders.
func dayRate(d sim.DayResult) float64 {
	if d.Orders == 0 {
		return math.NaN()
	}
	return float64(d.PickedUpWithinSLA) / float64(d.Orders)
}
