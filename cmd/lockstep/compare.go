package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
		sel          selectFlags
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
The output files are described in docs/results.md.

The output leads with the decision (the headline, also first in compare.json
and report.html): for each key metric the winner, its paired difference with
the runner-up, the 95% CI and whether it is significant; a warning when the
scenarios' horizons or warm-ups differ; the parameters that differ between
the scenario files (by YAML path, e.g. nodes[L1].slots.small); and for each
scenario against the base its biggest significant differences and the nodes
whose refusals, reroutes and returns changed most.

--select METRIC names the best scenario on METRIC with a guarantee: Kim and
Nelson's fully sequential procedure KN (valid with common random numbers)
takes --n0 replications of each scenario (the compare's own are reused),
then adds replications to the scenarios still in contention until one is
left. With probability at least --pcs it is the best whenever the best is
better than every other by at least --delta (the indifference zone, in the
metric's unit; required), in the metric's direction. It stops without the
guarantee at --max-replications per scenario and says so.`,
		Example: `  lockstep compare scenarios/pilot-5-neighborhoods.yaml my-variant.yaml --replications 20
  lockstep compare a.yaml b.yaml c.yaml --out out/abc --report
  lockstep compare a.yaml b.yaml c.yaml --select fcpo --delta 0.25 --pcs 0.95`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("replications") && replications < 1 {
				return badInput(fmt.Errorf("--replications must be at least 1 (got %d); leave it out for the first scenario's", replications))
			}
			sopt, err := sel.options(cmd)
			if err != nil {
				return badInput(err)
			}
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
			params, err := scenarios.DiffFiles(args)
			if err != nil {
				return badInput(err)
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
			if cmp.Headline != nil {
				cmp.Headline.Parameters = make([]results.ParamDiff, len(params))
				for i, p := range params {
					cmp.Headline.Parameters[i] = results.ParamDiff{Path: p.Path, Values: p.Values}
				}
			}
			if sopt != nil {
				s, err := experiment.Select(context.Background(), scs, runs, *sopt, opt)
				if err != nil {
					return failed(err)
				}
				cmp.Headline.Selection = s
			}
			missing, err := writeCompare(out, runs, cmp, report)
			if err != nil {
				return failed(err)
			}
			if err := results.FormatCompareTable(cmd.OutOrStdout(), cmp); err != nil {
				return failed(err)
			}
			if s := cmp.Headline.Selection; s != nil {
				fmt.Fprintln(cmd.OutOrStdout())
				if err := results.FormatSelection(cmd.OutOrStdout(), s); err != nil {
					return failed(err)
				}
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
	sel.register(fl)
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

// selectFlags are compare's ranking-and-selection flags.
type selectFlags struct {
	metric string
	delta  float64
	pcs    float64
	n0     int
	max    int
}

func (s *selectFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&s.metric, "select", "", "name the best scenario on this metric with a probability-of-correct-selection guarantee (Kim–Nelson KN); needs --delta")
	fl.Float64Var(&s.delta, "delta", 0, "with --select: indifference zone in the metric's unit (differences smaller than this do not matter)")
	fl.Float64Var(&s.pcs, "pcs", experiment.DefaultPCS, "with --select: probability of correct selection to guarantee, in (1/k, 1)")
	fl.IntVar(&s.n0, "n0", experiment.DefaultN0, "with --select: first-stage replications per scenario (at least 2)")
	fl.IntVar(&s.max, "max-replications", experiment.DefaultSelectMax, "with --select: cap on replications per scenario; reaching it ends without the guarantee")
}

// options checks the flags and returns the selection's options, nil without
// --select.
func (s *selectFlags) options(cmd *cobra.Command) (*experiment.SelectOptions, error) {
	fl := cmd.Flags()
	if s.metric == "" {
		for _, name := range []string{"delta", "pcs", "n0", "max-replications"} {
			if fl.Changed(name) {
				return nil, fmt.Errorf("--%s needs --select METRIC", name)
			}
		}
		return nil, nil
	}
	switch {
	case !fl.Changed("delta"):
		return nil, fmt.Errorf("--select needs --delta: the smallest difference in %s worth detecting, in its unit", s.metric)
	case !(s.delta > 0) || math.IsInf(s.delta, 0):
		return nil, fmt.Errorf("--delta must be a positive number, got %v", s.delta)
	case !(s.pcs > 0 && s.pcs < 1):
		return nil, fmt.Errorf("--pcs must be in (0, 1), got %v", s.pcs)
	case s.n0 < 2:
		return nil, fmt.Errorf("--n0 must be at least 2, got %d", s.n0)
	case s.max < s.n0:
		return nil, fmt.Errorf("--max-replications %d is below --n0 %d", s.max, s.n0)
	}
	if _, ok := results.Lookup(s.metric); !ok {
		return nil, fmt.Errorf("--select %s: not a catalog metric (docs/results.md lists them)", s.metric)
	}
	return &experiment.SelectOptions{Metric: s.metric, Delta: s.delta, PCS: s.pcs, N0: s.n0, Max: s.max}, nil
}
