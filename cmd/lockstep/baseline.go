package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

type baselineFlags struct {
	out             string
	workers         int
	quiet           bool
	maxReplications int
}

// defaultMaxReplications caps the replications of lockstep baseline and
// lockstep check: enough for the bundled quickstart's tolerances on most
// metrics, at about 4 ms a replication.
const defaultMaxReplications = 100

// pilotReplications is the fewest replications lockstep baseline runs to
// estimate the variance it sizes the baseline from (the scenario's
// replications when more): with 10, the standard deviation is known to
// about ±25%.
const pilotReplications = 10

func init() { register(newBaselineCmd) }

func newBaselineCmd() *cobra.Command {
	var f baselineFlags
	cmd := &cobra.Command{
		Use:   "baseline SCENARIO... [--out DIR]",
		Short: "Record the SLA baseline that lockstep check compares against",
		Long: `Baseline runs each scenario (its own seed) and writes one baseline file per
scenario to --out: DIR/<scenario name>.baseline.json.

How many replications: a check can only detect a worsening as large as a
tolerance allows if it compares enough replications, and it can compare at
most as many as the baseline holds. So baseline first runs the scenario's
replications (at least 10) to estimate each metric's variance, computes for
every metric the scenario checks how many replications detect its allowed
worsening with 80% power at the two-sided 5% level (see lockstep check
--help), and adds replications until the baseline holds the most any checked
metric needs, at most --max-replications (default 100). It prints what drove
the number and which metrics stay underpowered at the cap.

A baseline file is versioned JSON (baseline_version 2) with a stable layout,
small enough to commit and review: the scenario's name, seed, replications,
horizon, warm-up and nodes, then one line per metric (catalog order) with its
n, mean, 95% CI, variance and the per-replication values that the paired test
of lockstep check uses. The same scenario, seed and --max-replications always
give the same bytes.

Regenerate and commit the baselines when a change to the simulator or to a
scenario is meant to move the numbers; review the diff like code.`,
		Example: `  lockstep baseline scenarios/quickstart.yaml scenarios/pilot-5-neighborhoods.yaml --out baselines
  go run ./cmd/lockstep baseline scenarios/*.yaml --out baselines   # from a checkout
  lockstep check scenarios/quickstart.yaml --baseline baselines      # then, in CI`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.maxReplications < 2 {
				return badInput(fmt.Errorf("--max-replications must be at least 2 (got %d)", f.maxReplications))
			}
			loaded, err := loadForCheck(args)
			if err != nil {
				return badInput(err)
			}
			for _, l := range loaded {
				first := min(max(l.s.Replications, pilotReplications), f.maxReplications)
				run, err := runForCheck(cmd.ErrOrStderr(), l, first, f.workers, f.quiet)
				if err != nil {
					return failed(err)
				}
				if err := checkedMetricsMeasured(l, run); err != nil {
					return badInput(err)
				}
				// plan from the variance so far; a larger sample may ask for more
				var plan results.CheckPlan
				for {
					plan = results.PlanBaseline(results.NewBaseline(run), l.cfg, l.s.Replications, f.maxReplications)
					if plan.Replications <= len(run.Replications) {
						break
					}
					if err := extendForCheck(cmd.ErrOrStderr(), l, run, plan.Replications, f.workers, f.quiet); err != nil {
						return failed(err)
					}
				}
				path, err := results.WriteBaselineFile(f.out, results.NewBaseline(run))
				if err != nil {
					return failed(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s: seed %d, %d replications, %d metrics)\n",
					path, run.Scenario, run.Seed, len(run.Replications), len(run.Summary))
				printPlan(cmd.OutOrStdout(), plan)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "baselines", "directory for the baseline files")
	fl.IntVar(&f.workers, "workers", 0, "replications run in parallel (default GOMAXPROCS); the baseline is identical for any value")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fl.IntVar(&f.maxReplications, "max-replications", defaultMaxReplications, "the most replications a baseline holds (and so the most a check can compare)")
	return cmd
}

// printPlan says, per checked metric, how many replications its power needs.
func printPlan(w io.Writer, p results.CheckPlan) {
	for _, m := range p.Metrics {
		mark := " "
		if m.Underpowered {
			mark = "!"
		}
		fmt.Fprintf(w, "  %s %-26s %s\n", mark, m.Metric, m.Note)
	}
}

// loaded is one scenario file ready to run and check.
type loaded struct {
	path string
	s    *scenarios.Scenario
	cfg  results.CheckConfig
}

// loadForCheck loads every scenario and its checks section, and refuses two
// files whose scenario names share a baseline file. Errors name the file.
func loadForCheck(paths []string) ([]loaded, error) {
	var out []loaded
	var errs []error
	byFile := map[string]string{}
	for _, p := range paths {
		s, err := scenarios.Load(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cfg, err := checkConfig(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		name := results.BaselineFileName(s.Name)
		if other, dup := byFile[name]; dup {
			errs = append(errs, fmt.Errorf("%s and %s both name a scenario whose baseline is %s; give the scenarios distinct names", other, p, name))
			continue
		}
		byFile[name] = p
		out = append(out, loaded{path: p, s: s, cfg: cfg})
	}
	return out, errors.Join(errs...)
}

// checkConfig is the results configuration of a scenario's checks section.
func checkConfig(s *scenarios.Scenario) (results.CheckConfig, error) {
	over := make(map[string]results.ToleranceOverride, len(s.Checks.Metrics))
	for name, m := range s.Checks.Metrics {
		over[name] = results.ToleranceOverride{Absolute: m.Absolute, Relative: (*float64)(m.Relative),
			Significance: results.Significance(m.Significance), Skip: m.Skip}
	}
	return results.NewCheckConfig(s.Checks.Significance, over)
}

// checkedMetricsMeasured refuses a checks section that lists a metric the
// scenario does not measure.
func checkedMetricsMeasured(l loaded, run *results.RunResult) error {
	var errs []error
	for _, name := range l.cfg.Unmeasured(run) {
		errs = append(errs, fmt.Errorf("%s: checks.metrics.%s: the scenario does not measure %s", l.path, name, name))
	}
	return errors.Join(errs...)
}

// runForCheck runs replications 0 .. n−1 of a scenario.
func runForCheck(stderr io.Writer, l loaded, n, workers int, quiet bool) (*results.RunResult, error) {
	opt := experiment.Options{Workers: workers, Replications: n}
	bar := startProgress(stderr, quiet, "simulating "+l.s.Name, &opt, func(o experiment.Options) (int, int64, error) { return experiment.Work(l.s, o) })
	run, err := experiment.Run(context.Background(), l.s, opt)
	bar.finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Clean(l.path), err)
	}
	return run, nil
}

// extendForCheck adds replications to run until it has total.
func extendForCheck(stderr io.Writer, l loaded, run *results.RunResult, total, workers int, quiet bool) error {
	opt := experiment.Options{Workers: workers}
	more := total - len(run.Replications)
	bar := startProgress(stderr, quiet, fmt.Sprintf("simulating %s (replications %d-%d)", l.s.Name, len(run.Replications)+1, total), &opt,
		func(o experiment.Options) (int, int64, error) {
			o.Replications = more
			return experiment.Work(l.s, o)
		})
	err := experiment.Extend(context.Background(), l.s, run, total, opt)
	bar.finish()
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Clean(l.path), err)
	}
	return nil
}
