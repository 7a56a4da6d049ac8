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
// It is wiring between scenarios, sim and results; the command line stays
// thin by calling it.
package experiment
