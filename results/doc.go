// Package results is lockstep's vocabulary for what a run measured and what it
// means: the metric catalog, the results.json data model (one scenario, all
// replications), replication statistics with Student-t confidence intervals and
// a precision check, paired scenario comparison under common random numbers,
// text/CSV/JSON writers, plots (PNG and SVG) and a self-contained HTML report.
//
// The simulator (package sim) fills a [Replication] per replication; the
// command line collects them into a [RunResult], calls [RunResult.Finalize] and
// writes results.json with [WriteRunJSON]. Comparing scenarios is
// [CompareRuns] over several RunResults that used the same seed, so that
// replication i of every scenario saw the same random numbers and the
// differences can be analysed pairwise. Its [Headline] puts the decision
// first (key metrics' winners with paired CIs, the nodes behind the biggest
// differences); the command adds the scenario files' [ParamDiff]s and, with
// compare --select, a [Selection]. [FormatCompareTable] prints the headline
// before the table, and report.html opens with it.
//
// The words are fixed once (docs/results.md): an order is ready when made
// ready for pickup and collected when its customer picks it up; FCPO is
// total_cost, the sum of [CostComponents], over collected orders; lost
// revenue is not a cost. [FormatSummaryTable] follows the summary with the
// cost breakdown, the microstores and the neighborhoods ([BreakdownHTML] is
// the same for report.html); tables and plots clip confidence intervals to
// a metric's [Feasible] range, results.json keeps them raw.
//
// SLA regression checks (lockstep baseline / check, docs/ci.md): [NewBaseline]
// and [WriteBaselineFile] record a run; [Check] judges a later run against it,
// metric by metric (PASS, FAIL, INCONCLUSIVE, INFO, with the power of each
// check); [PlanCheck] and [RequiredReplications] size a check from the
// baseline's variance (80% power, two-sided 5%), and [CheckSequential] runs
// the whole sequential check given a function that grows the run:
//
//	base, _ := results.ReadBaselineFile("baselines/quickstart.baseline.json")
//	rep, err := results.CheckSequential(base, cfg, s.Replications, grow)
//	results.FormatCheckTable(os.Stdout, []results.CheckReport{*rep})
//
// Everything here is deterministic: the same inputs give byte-identical JSON,
// CSV, tables, images and HTML (no wall clock, no global randomness, sorted map
// keys, non-finite numbers written as JSON null).
package results
