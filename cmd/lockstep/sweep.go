package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/sweep"
)

type sweepFlags struct {
	file         string
	vary         []string
	replications int
	seed         uint64
	metric       string
	out          string
	workers      int
	shard        string
	shards       int
	shardFromEnv bool
	quiet        bool
}

func init() { register(newSweepCmd) }

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep BASE.yaml --vary PATH=V1,V2,... [--vary ...] | sweep --file SWEEP.yaml",
		Short: "Run a full factorial parameter grid over a scenario, on one machine or as shards",
		Long: `Sweep runs every combination of the --vary values (a full factorial grid)
on the base scenario, each grid point for --replications replications with
the same seed (common random numbers), and writes to --out:

  sweep.json, sweep.csv     one row per grid point: its parameter values and
                            every metric's mean and 95% CI
  sweep-METRIC-vs-PATH.png/.svg
                            the --metric against each varied parameter,
                            one line per combination of the others, CI bars
  shards/shard-0000-of-0001.json
                            the work file every finished (point, replication)
                            streams to, so memory stays flat for any grid

A PATH names any scalar field of the scenario, as scenario errors name it:
  labels.ttl.ready_for_pickup      couriers.fleet
  nodes[L1].slots.medium           (a list element by id or name)
  neighborhoods[0].orders_per_day  (by index)
  neighborhoods[*].orders_per_day  (every element)
Values keep their YAML syntax (12h, 20%, "14:00"); each grid point is
re-validated like 'lockstep validate', and errors name the path and value.

Shards. --shard I/N runs only work items k with k mod N = I (item k is
replication k mod R of grid point k div R) and writes OUT/shard-IIII-of-NNNN.json;
'lockstep merge' joins a complete set into the very bytes a single run writes.
In a Kubernetes Indexed Job, --shard-from-env takes I from JOB_COMPLETION_INDEX
and N from --shards or LOCKSTEP_SHARDS (JOB_COMPLETION_INDEX alone also selects
the shard when --shard is not given). See docs/sweep.md and deploy/k8s/.

A sweep file (for review in git) holds the same definition:
  sweep:
    base: ../scenarios/pilot-5-neighborhoods.yaml   # relative to the sweep file
    replications: 10
    metric: pickup_success_rate
    vary:
      - {path: labels.ttl.ready_for_pickup, values: [6h, 12h, 24h]}
      - {path: couriers.fleet, values: [10, 14]}`,
		Example: `  lockstep sweep scenarios/quickstart.yaml --vary couriers.fleet=2,3,4 --vary labels.ttl.ready_for_pickup=12h,24h
  lockstep sweep --file sweeps/pilot-ttl-fleet.yaml --out out/sweep
  lockstep sweep --file sweeps/pilot-ttl-fleet.yaml --shard 3/8 --out /data/shards
  lockstep merge /data/shards/shard-*.json --out out/sweep`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sw, err := loadSweep(cmd, &f, args)
			if err != nil {
				return badInput(err)
			}
			sh, sharded, err := chooseShard(&f)
			if err != nil {
				return badInput(err)
			}
			stderr := cmd.ErrOrStderr()
			opt := sweep.Options{Workers: f.workers}
			what := "shard " + sh.String()
			if !sharded {
				sh, what = sweep.Shard{Index: 0, Count: 1}, fmt.Sprintf("sweeping %d points", sw.Info.Points)
			}
			bar := sweepProgress(stderr, f.quiet, what, sw, sh, &opt)
			if !sharded {
				out, err := sweep.Run(context.Background(), sw, f.out, opt)
				bar.finish()
				if err != nil {
					return failed(err)
				}
				if err := sweepTable(cmd.OutOrStdout(), out); err != nil {
					return failed(err)
				}
				if !f.quiet {
					for _, p := range out.Files {
						fmt.Fprintln(stderr, "wrote", p)
					}
				}
				return nil
			}
			total := sh.ItemCount(sw.Info.Items())
			path, err := sweep.RunShardFile(context.Background(), sw, sh, f.out, opt)
			bar.finish()
			if err != nil {
				return failed(err)
			}
			if !f.quiet {
				fmt.Fprintf(stderr, "wrote %s: shard %s, %d of %d work items (%d points × %d replications)\n",
					path, sh, total, sw.Info.Items(), sw.Info.Points, sw.Info.Replications)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", "sweep file with a sweep: section (base, vary, replications, seed, metric)")
	fl.StringArrayVar(&f.vary, "vary", nil, "PATH=V1,V2,... a parameter and its values (repeat for more; the grid is every combination)")
	fl.IntVar(&f.replications, "replications", 0, "replications per grid point (default: the sweep file's, else the base scenario's)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for every grid point (default: the sweep file's, else the base scenario's)")
	fl.StringVar(&f.metric, "metric", "", "metric to plot against each parameter (default "+sweep.DefaultMetric+")")
	fl.StringVar(&f.out, "out", "out/sweep", "output directory (with --shard: where the shard file goes)")
	fl.IntVar(&f.workers, "workers", 0, "work items run in parallel (default GOMAXPROCS); output is identical for any N")
	fl.StringVar(&f.shard, "shard", "", "I/N: run only shard I (from 0) of N and write its shard file")
	fl.IntVar(&f.shards, "shards", 0, "shard count N when the index comes from "+sweep.EnvShardIndex+" (default env "+sweep.EnvShardCount+")")
	fl.BoolVar(&f.shardFromEnv, "shard-from-env", false, "take the shard index from "+sweep.EnvShardIndex+" (Kubernetes Indexed Job); it must be set")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar or notes on stderr")
	return cmd
}

// sweepProgress is the progress bar of run and compare for shard sh of sw
// (the whole sweep is shard 0/1): its work items as the replications, their
// simulated days as the bar, on stderr. It hooks itself into opt.
func sweepProgress(stderr io.Writer, quiet bool, what string, sw *sweep.Sweep, sh sweep.Shard, opt *sweep.Options) *simProgress {
	var hooks experiment.Options
	p := startProgress(stderr, quiet, what, &hooks, func(experiment.Options) (int, int64, error) {
		items, days := sw.Work(sh)
		return items, days, nil
	})
	opt.Progress, opt.Day = hooks.Progress, hooks.Day
	return p
}

// loadSweep builds the sweep definition from the sweep file or the
// positional base and --vary flags; flags override the file.
func loadSweep(cmd *cobra.Command, f *sweepFlags, args []string) (*sweep.Sweep, error) {
	var def sweep.Def
	switch {
	case f.file != "" && len(args) > 0:
		return nil, errors.New("give either a base scenario or --file, not both")
	case f.file != "" && len(f.vary) > 0:
		return nil, errors.New("--vary cannot be combined with --file: put the parameters in the sweep file")
	case f.file != "":
		d, err := sweep.LoadFile(f.file)
		if err != nil {
			return nil, err
		}
		def = d
	case len(args) == 0:
		return nil, errors.New("no base scenario: lockstep sweep BASE.yaml --vary PATH=V1,V2,... (or --file SWEEP.yaml); see --help")
	default:
		data, err := os.ReadFile(args[0])
		if err != nil {
			return nil, err
		}
		def = sweep.Def{BaseName: args[0], Base: data}
		for _, v := range f.vary {
			vr, err := sweep.ParseVary(v)
			if err != nil {
				return nil, err
			}
			def.Vary = append(def.Vary, vr)
		}
	}
	if cmd.Flags().Changed("replications") && f.replications < 1 {
		return nil, fmt.Errorf("--replications must be at least 1 (got %d); leave it out for the scenario's", f.replications)
	}
	if f.replications > 0 {
		def.Replications = f.replications
	}
	if cmd.Flags().Changed("seed") {
		def.Seed = &f.seed
	}
	if f.metric != "" {
		def.Metric = f.metric
	}
	return sweep.New(def)
}

// chooseShard: --shard, else the Indexed Job environment; sharded is false
// for a single-machine run.
func chooseShard(f *sweepFlags) (sh sweep.Shard, sharded bool, err error) {
	if f.shard != "" {
		if f.shardFromEnv {
			return sh, false, errors.New("--shard and --shard-from-env exclude each other")
		}
		sh, err = sweep.ParseShard(f.shard)
		return sh, true, err
	}
	sh, ok, err := sweep.ShardFromEnv(f.shards, os.Getenv)
	if err != nil {
		return sh, false, err
	}
	if !ok && f.shardFromEnv {
		return sh, false, fmt.Errorf("--shard-from-env: %s is not set (it is set by a Kubernetes Indexed Job; elsewhere use --shard I/N)", sweep.EnvShardIndex)
	}
	if !ok && f.shards > 0 {
		return sh, false, fmt.Errorf("--shards %d needs a shard index: --shard I/%d or %s", f.shards, f.shards, sweep.EnvShardIndex)
	}
	return sh, ok, nil
}

// sweepTable prints the plotted metric per grid point.
func sweepTable(w io.Writer, out *sweep.Output) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	info := out.Info
	fmt.Fprintf(tw, "point")
	for _, p := range info.Parameters {
		fmt.Fprintf(tw, "\t%s", p.Path)
	}
	fmt.Fprintf(tw, "\t%s\t95%% CI\n", info.Metric)
	for i, pt := range out.Plot {
		fmt.Fprintf(tw, "%d", i)
		for _, v := range pt.Values {
			fmt.Fprintf(tw, "\t%s", v)
		}
		s := pt.Stats
		fmt.Fprintf(tw, "\t%s\t%s\n", num(s.Mean), ci(s))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d points × %d replications, seed %d; every metric in %s\n",
		info.Points, info.Replications, info.Seed, filepath.Join(filepath.Dir(out.Files[0]), "sweep.csv"))
	return err
}

func num(v float64) string {
	if v != v {
		return "–"
	}
	return fmt.Sprintf("%.4g", v)
}

func ci(s results.Summary) string {
	if s.CI95Low != s.CI95Low {
		return "–"
	}
	return "[" + num(s.CI95Low) + ", " + num(s.CI95High) + "]"
}
