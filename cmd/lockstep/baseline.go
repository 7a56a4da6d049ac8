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
	out     string
	workers int
	quiet   bool
}

func init() { register(newBaselineCmd) }

func newBaselineCmd() *cobra.Command {
	var f baselineFlags
	cmd := &cobra.Command{
		Use:   "baseline SCENARIO... [--out DIR]",
		Short: "Record the SLA baseline that lockstep check compares against",
		Long: `Baseline runs each scenario (its own seed and replications) and writes one
baseline file per scenario to --out: DIR/<scenario name>.baseline.json.

A baseline file is versioned JSON with a stable layout, small enough to commit
and review: the scenario's name, seed, replications, horizon, warm-up and
nodes, then one line per metric (catalog order) with its mean, 95% CI, n and
the per-replication values that the paired test of lockstep check uses. The
same scenario and seed always give the same bytes.

Regenerate and commit the baselines when a change to the simulator or to a
scenario is meant to move the numbers; review the diff like code.`,
		Example: `  lockstep baseline scenarios/quickstart.yaml scenarios/pilot-5-neighborhoods.yaml --out baselines
  go run ./cmd/lockstep baseline scenarios/*.yaml --out baselines   # from a checkout
  lockstep check scenarios/quickstart.yaml --baseline baselines      # then, in CI`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loaded, err := loadForCheck(args)
			if err != nil {
				return badInput(err)
			}
			for _, l := range loaded {
				run, err := runForCheck(cmd.ErrOrStderr(), l, f.workers, f.quiet)
				if err != nil {
					return failed(err)
				}
				if err := checkedMetricsMeasured(l, run); err != nil {
					return badInput(err)
				}
				path, err := results.WriteBaselineFile(f.out, results.NewBaseline(run))
				if err != nil {
					return failed(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s: seed %d, %d replications, %d metrics)\n",
					path, run.Scenario, run.Seed, len(run.Replications), len(run.Summary))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "baselines", "directory for the baseline files")
	fl.IntVar(&f.workers, "workers", 0, "replications run in parallel (default GOMAXPROCS); the baseline is identical for any value")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	return cmd
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

func runForCheck(stderr io.Writer, l loaded, workers int, quiet bool) (*results.RunResult, error) {
	opt := experiment.Options{Workers: workers}
	bar := startProgress(stderr, quiet, "simulating "+l.s.Name, &opt, func(o experiment.Options) (int, int64, error) { return experiment.Work(l.s, o) })
	run, err := experiment.Run(context.Background(), l.s, opt)
	bar.finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Clean(l.path), err)
	}
	return run, nil
}
