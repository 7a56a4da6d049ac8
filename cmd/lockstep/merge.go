package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/sweep"
)

func init() { register(newMergeCmd) }

func newMergeCmd() *cobra.Command {
	var out, metric string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "merge SHARD_FILES... --out DIR",
		Short: "Join the shard files of a sweep into its sweep.json, sweep.csv and plots",
		Long: `Merge reads the files written by 'lockstep sweep --shard I/N' (or by the
pods of a Kubernetes Indexed Job) and writes to --out exactly what a
single-machine run of the same sweep writes: byte-identical sweep.json and
sweep.csv, and the plots.

Arguments may be globs (quoted, for images without a shell): lockstep
expands them itself. It checks the files form one complete set: every shard 0..N-1 exactly once
(missing and duplicated shards are named), all from the same sweep
definition (a hash of the base file's bytes, the vary spec, replications and
seed), each holding every one of its work items (an interrupted shard is
caught). Exit code 2 when they do not.`,
		Example: `  lockstep merge out/shards/shard-*.json --out out/sweep
  lockstep merge /data/shards/shard-*.json --out /data/result --metric fcpo`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := expandGlobs(args)
			if err != nil {
				return badInput(err)
			}
			set, err := sweep.OpenShards(args)
			if err != nil {
				return badInput(err)
			}
			set.Close()
			res, err := sweep.MergeShards(args, out, metric)
			if err != nil {
				return failed(err)
			}
			if err := sweepTable(cmd.OutOrStdout(), res); err != nil {
				return failed(err)
			}
			if !quiet {
				for _, p := range res.Files {
					fmt.Fprintln(cmd.ErrOrStderr(), "wrote", p)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "out/sweep", "output directory for sweep.json, sweep.csv and the plots")
	cmd.Flags().StringVar(&metric, "metric", "", "metric to plot (default: the sweep's)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no notes on stderr")
	return cmd
}

// expandGlobs replaces arguments that are not files but glob patterns by the
// files they match, in sorted order; a pattern matching nothing is an error.
func expandGlobs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if _, err := os.Stat(a); err == nil || !strings.ContainsAny(a, "*?[") {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("no shard files match %q", a)
		}
		out = append(out, m...)
	}
	return out, nil
}
