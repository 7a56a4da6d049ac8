package results_test

import (
	"fmt"
	"os"

	"github.com/lockstep-sim/lockstep/results"
)

// Summarize gives the mean and Student-t 95% CI of a metric over
// replications, and says how many replications would reach the precision
// target (here ±5% of the mean).
func ExampleSummarize() {
	s := results.Summarize([]float64{2, 4, 4, 4, 5, 5, 7, 9}, 0.05)
	fmt.Printf("n=%d mean=%.3f sd=%.3f\n", s.N, s.Mean, s.StdDev)
	fmt.Printf("95%% CI [%.4f, %.4f], ±%.4f (%.1f%% of the mean)\n", s.CI95Low, s.CI95High, s.HalfWidth, 100*s.RelHalfWidth)
	fmt.Printf("precision met: %v, replications needed: %d\n", s.PrecisionMet, s.ReplicationsNeeded)

	one := results.Summarize([]float64{3}, 0.05)
	fmt.Printf("one replication: mean %.0f, CI %v\n", one.Mean, one.HalfWidth)
	// Output:
	// n=8 mean=5.000 sd=2.138
	// 95% CI [3.2125, 6.7875], ±1.7875 (35.7% of the mean)
	// precision met: false, replications needed: 284
	// one replication: mean 3, CI NaN
}

// Compare analyses paired differences: replication i of both scenarios used
// the same seeds, so the shared noise cancels. The verdict follows the
// metric's direction.
func ExampleCompare() {
	base := []float64{0.81, 0.86, 0.84, 0.90, 0.79, 0.88}  // pickup success, scenario A
	other := []float64{0.84, 0.88, 0.88, 0.92, 0.82, 0.90} // same seeds, scenario B
	def, _ := results.Lookup(results.MPickupSuccessRate)
	d := results.Compare(base, other, def)
	fmt.Printf("B − A = %+.4f, 95%% CI [%.4f, %.4f]: %s\n", d.Mean, d.CI95Low, d.CI95High, d.Verdict)

	cost, _ := results.Lookup(results.MFCPO)
	fmt.Println("same change on a lower-is-better metric:", results.Compare(base, other, cost).Verdict)
	occ, _ := results.Lookup(results.MLockerOccupancy)
	fmt.Println("on a neutral metric:", results.Compare(base, other, occ).Verdict)
	// Output:
	// B − A = +0.0267, 95% CI [0.0181, 0.0352]: better
	// same change on a lower-is-better metric: worse
	// on a neutral metric: n/a
}

// CompareRuns compares whole scenarios against the first one; the table is
// what `lockstep compare` prints.
func ExampleCompareRuns() {
	mk := func(name string, rates ...float64) results.RunResult {
		r := results.RunResult{Scenario: name, Seed: 1, Horizon: "7d", Warmup: "1d"}
		for i, v := range rates {
			r.Replications = append(r.Replications, results.Replication{Index: i,
				Metrics: map[string]float64{results.MPickupSuccessRate: v, results.MFCPO: 6 + v}})
		}
		r.Finalize()
		return r
	}
	cmp, err := results.CompareRuns([]results.RunResult{
		mk("ttl-6h", 0.81, 0.86, 0.84, 0.90),
		mk("ttl-12h", 0.84, 0.88, 0.88, 0.92),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = results.FormatCompareTable(os.Stdout, &cmp)
	// Output:
	// DECISION  ttl-6h vs ttl-12h; 95% CIs on paired replications (common random numbers)
	// key metric              unit      winner   winner − runner-up  95% CI            significance
	// pickup_success_rate  ↑  share     ttl-12h  +0.027 vs ttl-6h    [0.012, 0.043]    significant
	// fcpo                 ↓  currency  ttl-6h   -0.027 vs ttl-12h   [-0.043, -0.012]  significant
	// ttl-12h vs ttl-6h, biggest differences: pickup_success_rate +0.027 (+3.2%) [0.012, 0.043] better; fcpo +0.027 (+0.4%) [0.012, 0.043] worse
	//
	// base ttl-6h; differences are scenario − base, paired by replication; 95% CIs
	// metric                  scenario  n  mean ± 95%     95% CI          Δ vs base  Δ 95% CI        verdict
	// pickup_success_rate  ↑  ttl-6h    4  0.853 ± 0.060  [0.792, 0.913]
	//                         ttl-12h   4  0.880 ± 0.052  [0.828, 0.932]  +0.027     [0.012, 0.043]  better
	// fcpo                 ↓  ttl-6h    4  6.853 ± 0.060  [6.792, 6.913]
	//                         ttl-12h   4  6.880 ± 0.052  [6.828, 6.932]  +0.027     [0.012, 0.043]  WORSE
}

// FormatSummaryTable prints one run's metrics with their CIs and the
// precision check.
func ExampleFormatSummaryTable() {
	run := results.RunResult{Scenario: "pilot", Seed: 7, Horizon: "7d", Warmup: "1d"}
	for i, v := range []float64{5.1, 5.3, 4.9, 5.2, 5.0} {
		run.Replications = append(run.Replications, results.Replication{Index: i,
			Metrics: map[string]float64{results.MFCPO: v, results.MReroutes: 10 + 4*float64(i%2)}})
	}
	run.Finalize()
	_ = results.FormatSummaryTable(os.Stdout, &run)
	// Output:
	// scenario pilot  seed 7  horizon 7d  warm-up 1d  replications 5  precision target ±5.0%
	// metric       unit      n  mean  ± 95%  95% CI        rel ±  precision
	// reroutes  ↓  count     5  11.6  2.7    [8.9, 14.3]   23.5%  need 58
	// fcpo      ↓  currency  5  5.10  0.20   [4.90, 5.30]  3.8%   ok
}
