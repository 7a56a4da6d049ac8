package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/results"
)

func init() { register(newReportCmd) }

func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Write plots and a self-contained report.html from results in DIR",
		Long: `Report reads every results.json under DIR (the output of run or compare),
writes the plots (PNG and SVG) to DIR/plots and one self-contained
DIR/report.html: scenario summaries with confidence intervals, the comparison
against the first scenario (in lexical order of their directories) when there
are several, and every plot. The report needs no network to view. Plots that
need data the results lack (the occupancy and utilisation plots need the
hourly trace of --trace or --report) are named in the report, with the reason,
and in a note on stderr.`,
		Example: `  lockstep run scenarios/pilot-5-neighborhoods.yaml --out out/pilot && lockstep report out/pilot
  lockstep compare a.yaml b.yaml --out out/ab && lockstep report out/ab`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			var paths []string
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && d.Name() == "results.json" {
					paths = append(paths, p)
				}
				return nil
			})
			if err != nil {
				return badInput(fmt.Errorf("read %s: %w", dir, err))
			}
			if len(paths) == 0 {
				return badInput(fmt.Errorf("no results.json under %s: run 'lockstep run SCENARIO --out %s' first", dir, dir))
			}
			sort.Strings(paths)
			var runs []results.RunResult
			for _, p := range paths {
				f, err := os.Open(p)
				if err != nil {
					return badInput(err)
				}
				run, err := results.ReadRunJSON(f)
				f.Close()
				if err != nil {
					return badInput(fmt.Errorf("%s: %w", p, err))
				}
				runs = append(runs, run)
			}
			var cmp *results.Comparison
			if len(runs) > 1 {
				c, err := results.CompareRuns(runs)
				if err != nil {
					return badInput(err)
				}
				cmp = &c
			}
			missing, err := writeReport(dir, runs, cmp)
			if err != nil {
				return failed(err)
			}
			noteMissing(cmd.ErrOrStderr(), missing)
			fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(dir, results.ReportFile))
			return nil
		},
	}
}
