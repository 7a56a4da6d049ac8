// Package experiment runs scenarios: it builds the simulator's configuration
// from a scenario, runs its replications in parallel on a bounded pool of
// workers and gathers what they measured into a results.RunResult.
//
// Replication i always draws from the streams derived from (seed, i, name),
// and results are stored by index, so the output is identical whatever the
// number of workers or the order replications finish in:
//
//	s, err := scenarios.Load("scenarios/quickstart.yaml")
//	run, err := experiment.Run(ctx, s, experiment.Options{Replications: 10})
//	results.FormatSummaryTable(os.Stdout, run)
//
// [Extend] adds replications to a run (a sequential check grows its run in
// stages, with the same results as one run of them all).
//
// Compare runs several scenarios with common random numbers; Select then
// names the best of them on one metric with Kim and Nelson's procedure KN,
// adding replications until one is left (a probability of correct selection
// guaranteed outside an indifference zone):
//
//	runs, cmp, err := experiment.Compare(ctx, scs, opt)
//	sel, err := experiment.Select(ctx, scs, runs, experiment.SelectOptions{Metric: results.MFCPO, Delta: 0.25}, opt)
//
// It is wiring between scenarios, sim and results; the command line stays
// thin by calling it. Each replication's metrics are filled by topic
// (run.go, and supply.go, replenish.go, choice.go, cohort.go, operator.go
// for their parts).
package experiment
