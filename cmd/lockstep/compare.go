package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

func init() { register(newCompareCmd) }

func newCompareCmd() *cobra.Command {
	var (
		seed         uint64
		replications int
		workers      int
		out          string
		report       bool
		trace        bool
		quiet        bool
	)
	cmd := &cobra.Command{
		Use:   "compare A.yaml B.yaml [C.yaml ...]",
		Short: "Compare scenarios with common random numbers and paired confidence intervals",
		Long: `Compare runs every scenario with the same seed and replication indices, so
replication i of each scenario draws the same random numbers (streams are
aligned by name): differences are paired, and their confidence intervals are
far narrower than with independent runs.

For each metric it prints each scenario's mean and 95% CI, the paired
difference against the first scenario with its 95% CI, and a verdict: better
or worse when the CI excludes zero (in the metric's direction), no significant
difference otherwise, n/a for neutral metrics. compare.json, compare.csv and
each scenario's results.json go to --out; --report adds plots and report.html
(and records the hourly trace, which the occupancy and utilisation plots need).
The output files are described in docs/results.md.`,
		Example: `  lockstep compare scenarios/pilot-5-neighborhoods.yaml my-variant.yaml --replications 20
  lockstep compare a.yaml b.yaml c.yaml --out out/abc --report`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var scs []*scenarios.Scenario
			seen := map[string]string{}
			for _, path := range args {
				s, err := scenarios.Load(path)
				if err != nil {
					return badInput(err)
				}
				if prev, dup := seen[s.Name]; dup {
					return badInput(fmt.Errorf("%s and %s both name their scenario %q: give each a distinct name", prev, path, s.Name))
				}
				seen[s.Name] = path
				scs = append(scs, s)
			}
			opt := experiment.Options{Replications: replications, Workers: workers, Trace: trace || report}
			if cmd.Flags().Changed("seed") {
				opt.Seed = &seed
			}
			bar := startProgress(cmd.ErrOrStderr(), quiet, fmt.Sprintf("comparing %d scenarios", len(scs)), &opt,
				func(o experiment.Options) (int, int64, error) { return experiment.CompareWork(scs, o) })
			runs, cmp, err := experiment.Compare(context.Background(), scs, opt)
			bar.finish()
			if err != nil {
				return failed(err)
			}
			missing, err := writeCompare(out, runs, cmp, report)
			if err != nil {
				return failed(err)
			}
			if err := results.FormatCompareTable(cmd.OutOrStdout(), cmp); err != nil {
				return failed(err)
			}
			if !quiet {
				noteMissing(cmd.ErrOrStderr(), missing)
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", filepath.Join(out, "compare.json"))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&seed, "seed", 0, "seed for every scenario (default: the first scenario's)")
	fl.IntVar(&replications, "replications", 0, "replications per scenario (default: the first scenario's)")
	fl.IntVar(&workers, "workers", 0, "replications run in parallel (default GOMAXPROCS)")
	fl.StringVar(&out, "out", "out", "directory for compare.json, compare.csv and per-scenario results")
	fl.BoolVar(&report, "report", false, "also write plots (PNG, SVG) and a self-contained report.html (implies --trace)")
	fl.BoolVar(&trace, "trace", false, "keep the hourly time series (orders, ready, collected, occupancy, courier utilization, drift) in each results.json")
	fl.BoolVar(&quiet, "quiet", false, "no progress bar or notes on stderr")
	return cmd
}

// writeCompare writes the comparison's files to dir and, with report, the
// plots and report.html; it returns the plots left out for lack of data.
func writeCompare(dir string, runs []results.RunResult, cmp *results.Comparison, report bool) ([]results.MissingPlot, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	for i := range runs {
		if err := writeRun(filepath.Join(dir, runs[i].Scenario), &runs[i]); err != nil {
			return nil, err
		}
	}
	if err := writeFile(filepath.Join(dir, "compare.json"), func(f *os.File) error { return results.WriteCompareJSON(f, cmp) }); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, "compare.csv"), func(f *os.File) error { return results.WriteCompareCSV(f, cmp) }); err != nil {
		return nil, err
	}
	if report {
		return writeReport(dir, runs, cmp)
	}
	return nil, nil
}

func writeFile(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// writeReport writes the plots to dir/plots and dir/report.html, and returns
// the plots left out for lack of data (report.html names them too).
func writeReport(dir string, runs []results.RunResult, cmp *results.Comparison) ([]results.MissingPlot, error) {
	if _, err := results.WritePlots(filepath.Join(dir, "plots"), runs); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	if _, err := results.WriteReport(dir, runs, cmp); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	missing, err := results.MissingPlots(runs)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	return missing, nil
}

// noteMissing tells the user on w which plots were left out and why.
func noteMissing(w io.Writer, missing []results.MissingPlot) {
	for _, m := range missing {
		fmt.Fprintf(w, "note: plot %s not drawn: %s\n", m.Name, m.Reason)
	}
}
