package results_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/lockstep-sim/lockstep/results"
)

// run builds a small finalized run: in a real test it comes from
// experiment.Run(ctx, scenario, experiment.Options{}).
func run(success, fcpo []float64) *results.RunResult {
	r := &results.RunResult{Scenario: "pilot", Seed: 42, Horizon: "30d", Warmup: "2d"}
	for i := range success {
		r.Replications = append(r.Replications, results.Replication{Index: i, Metrics: map[string]float64{
			results.MPickupSuccessRate: success[i], results.MFCPO: fcpo[i], results.MOrders: 1000 + float64(i),
		}})
	}
	r.Finalize()
	return r
}

// Check regresses SLA behaviour inside a team's own go test: keep a baseline
// file in the repository (results.ReadBaselineFile, or results.NewBaseline of
// a known-good run), re-run the scenario with the change, and fail the test
// when a metric got worse beyond its tolerance. Here a change drops pickup
// success by 3 points on every replication (same seed, so the paired CI is
// tight) while the cost per order stays within its 5% tolerance.
func ExampleCheck() {
	before := run([]float64{0.89, 0.90, 0.88, 0.91}, []float64{9.8, 9.9, 9.7, 9.9})
	after := run([]float64{0.86, 0.87, 0.85, 0.88}, []float64{10.0, 10.1, 9.9, 10.2})

	var file bytes.Buffer // in a repository: baselines/pilot.baseline.json
	_ = results.WriteBaseline(&file, results.NewBaseline(before))
	base, _ := results.ReadBaseline(&file)

	cfg := results.CheckConfig{Metrics: map[string]results.Tolerance{
		results.MFCPO: {Relative: 0.05}, // the default, written out
	}}
	report, err := results.Check(base, after, cfg)
	if err != nil { // *results.MismatchError: regenerate the baseline
		fmt.Println(err)
		return
	}
	if !report.Passed() { // in a test: t.Error(report.Summary())
		fmt.Println(report.Summary())
	}
	_ = results.FormatCheckTable(os.Stdout, []results.CheckReport{*report})
	// Output:
	// pilot pickup_success_rate: FAIL: 0.8950 → 0.8650 (-0.03000, -3.4%, worse), beyond the tolerance ±0.01 (allowed worsening 0.01); paired 95% CI of the change [-0.03000, -0.03000] excludes 0
	// scenario  metric                  baseline  now     delta             tolerance  n/needed       status
	// pilot     orders               ·  1002      1002    +0.00             –          –              INFO
	// pilot     pickup_success_rate  ↑  0.8950    0.8650  -0.03000 (-3.4%)  ±0.01      4/2 (plan 29)  FAIL
	// pilot     fcpo                 ↓  9.825     10.05   +0.2250 (+2.3%)   5%         4/3            PASS
	// pilot: compared 4 replications (at most 4)
	// FAIL pilot pickup_success_rate: 0.8950 → 0.8650 (-0.03000, -3.4%, worse), beyond the tolerance ±0.01 (allowed worsening 0.01); paired 95% CI of the change [-0.03000, -0.03000] excludes 0
	// 1 checks passed, 1 failed, 0 inconclusive, 1 reported only, over 1 scenarios
}
