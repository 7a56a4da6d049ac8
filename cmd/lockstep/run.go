package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

type runFlags struct {
	seed         uint64
	replications int
	workers      int
	out          string
	format       string
	trace        bool
	quiet        bool
	precision    shareFlag
	report       bool
}

func init() { register(newRunCmd) }

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Simulate a scenario and report SLA, cost and friction metrics",
		Long: `Run simulates the scenario's replications in parallel (every core by default)
and prints a summary table: per metric the mean over replications, the 95%
confidence interval (Student t) and a precision check. results.json (schema in
docs/results.md) goes to --out. --report adds plots and report.html, and
records the hourly trace (as --trace does) that the occupancy and utilisation
plots need.

The same file and seed give byte-identical results.json, whatever --workers.`,
		Example: `  lockstep run scenarios/pilot-5-neighborhoods.yaml
  lockstep run scenarios/quickstart.yaml --replications 20 --out out/qs
  lockstep run scenarios/pilot-5-neighborhoods.yaml --seed 7 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "table" && f.format != "json" {
				return badInput(fmt.Errorf("--format must be table or json, not %q", f.format))
			}
			if cmd.Flags().Changed("replications") && f.replications < 1 {
				return badInput(fmt.Errorf("--replications must be at least 1 (got %d); leave it out for the scenario's", f.replications))
			}
			s, err := scenarios.Load(args[0])
			if err != nil {
				return badInput(err)
			}
			printWarnings(cmd.ErrOrStderr(), s)
			opt := experiment.Options{Replications: f.replications, Workers: f.workers, Trace: f.trace || f.report, Precision: float64(f.precision)}
			if cmd.Flags().Changed("seed") {
				opt.Seed = &f.seed
			}
			bar := startProgress(cmd.ErrOrStderr(), f.quiet, "simulating "+s.Name, &opt, func(o experiment.Options) (int, int64, error) { return experiment.Work(s, o) })
			run, err := experiment.Run(context.Background(), s, opt)
			bar.finish()
			if err != nil {
				return failed(err)
			}
			if err := writeRun(f.out, run); err != nil {
				return failed(err)
			}
			var missing []results.MissingPlot
			if f.report {
				if missing, err = writeReport(f.out, []results.RunResult{*run}, nil); err != nil {
					return failed(err)
				}
			}
			if f.format == "json" {
				if err := results.WriteRunJSON(cmd.OutOrStdout(), run); err != nil {
					return failed(err)
				}
			} else if err := results.FormatSummaryTable(cmd.OutOrStdout(), run); err != nil {
				return failed(err)
			}
			if !f.quiet {
				noteMissing(cmd.ErrOrStderr(), missing)
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", filepath.Join(f.out, "results.json"))
				if f.report {
					noteReport(cmd.ErrOrStderr(), f.out)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&f.seed, "seed", 0, "override the scenario's seed")
	fl.IntVar(&f.replications, "replications", 0, "override the scenario's number of replications")
	fl.IntVar(&f.workers, "workers", 0, "replications run in parallel (default GOMAXPROCS)")
	fl.StringVar(&f.out, "out", "out", "directory for results.json")
	fl.StringVar(&f.format, "format", "table", "stdout format: table or json")
	fl.BoolVar(&f.trace, "trace", false, "keep the hourly time series (orders, ready, collected, occupancy, courier utilization, drift) in results.json")
	fl.BoolVar(&f.report, "report", false, "also write plots (PNG, SVG) and a self-contained report.html to --out (implies --trace)")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar or notes on stderr")
	fl.Var(&f.precision, "precision", "target relative CI half-width for the precision check, 0.05 or 5% (default: the scenario's, 5%)")
	return cmd
}

func writeRun(dir string, run *results.RunResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	path := filepath.Join(dir, "results.json")
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := results.WriteRunJSON(fh, run); err != nil {
		fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return fh.Close()
}

// isTerminal reports whether w is a terminal (a variable, for tests).
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressDelay is how long simulation runs before its progress bar
// appears: work that finishes sooner draws nothing (a variable, for tests).
var progressDelay = time.Second

// simProgress is the progress bar of run and compare on stderr: the
// replications done out of all in its description, the simulated days done
// out of all (all replications of all scenarios) as the bar with days per
// second, and the ETA. newSimProgress returns nil, and nothing is drawn,
// with --quiet or when stderr is not a terminal; the bar appears only once
// the work has run progressDelay, so short work stays silent. Its methods
// accept nil. It writes only to stderr: results do not depend on it.
type simProgress struct {
	what      string
	repsTotal int
	out       *delayedWriter
	bar       *progressbar.ProgressBar

	mu   sync.Mutex
	reps int
	days int64
}

func newSimProgress(stderr io.Writer, quiet bool, what string, reps int, days int64) *simProgress {
	if quiet || reps <= 0 || days <= 0 || !isTerminal(stderr) {
		return nil
	}
	p := &simProgress{what: what, repsTotal: reps, out: &delayedWriter{w: stderr, after: time.Now().Add(progressDelay)}}
	// the bar writes through delayedWriter, so it cannot size itself to the
	// terminal: leave room for the description, counts and times
	width := 30
	if f, ok := stderr.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = max(10, min(40, cols-len(p.describe())-48))
		}
	}
	p.bar = progressbar.NewOptions64(days,
		progressbar.OptionSetWriter(p.out),
		progressbar.OptionSetDescription(p.describe()),
		progressbar.OptionSetWidth(width),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("days"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	return p
}

// startProgress sizes a simProgress by work (the replications and simulated
// days opt asks for) and hooks it into opt; nil (nothing drawn) when
// newSimProgress says so or work fails (the run itself then reports why).
func startProgress(stderr io.Writer, quiet bool, what string, opt *experiment.Options, work func(experiment.Options) (int, int64, error)) *simProgress {
	reps, days, err := work(*opt)
	if err != nil {
		return nil
	}
	p := newSimProgress(stderr, quiet, what, reps, days)
	p.hook(opt)
	return p
}

func (p *simProgress) describe() string {
	return fmt.Sprintf("%s: %d/%d replications, simulated days", p.what, p.reps, p.repsTotal)
}

// hook makes opt report to p: a step of the bar per simulated day, the
// description per replication.
func (p *simProgress) hook(opt *experiment.Options) {
	if p == nil {
		return
	}
	opt.Day = func(int, int) { p.day() }
	opt.Progress = func(int, int) { p.replication() }
}

func (p *simProgress) day() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.days++
	_ = p.bar.Set64(p.days)
}

func (p *simProgress) replication() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reps++
	p.bar.Describe(p.describe())
}

// finish clears the bar if it was drawn.
func (p *simProgress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.shown.Load() {
		_ = p.bar.Finish()
	}
}

// delayedWriter drops writes until after, then passes them all on.
type delayedWriter struct {
	w     io.Writer
	after time.Time
	shown atomic.Bool // something was written
}

func (d *delayedWriter) Write(b []byte) (int, error) {
	if !d.shown.Load() {
		if time.Now().Before(d.after) {
			return len(b), nil
		}
		d.shown.Store(true)
	}
	return d.w.Write(b)
}

// noteReport says where run --report put the report and the plots.
func noteReport(w io.Writer, dir string) {
	fmt.Fprintf(w, "wrote %s\n", filepath.Join(dir, results.ReportFile))
	plots := filepath.Join(dir, "plots")
	n := 0
	for _, ext := range results.PlotFormats {
		m, _ := filepath.Glob(filepath.Join(plots, "*."+ext))
		n += len(m)
	}
	fmt.Fprintf(w, "wrote %d plots as %s (%d files) to %s\n", n/len(results.PlotFormats), strings.Join(results.PlotFormats, " and "), n, plots+string(filepath.Separator))
}

// shareFlag is a flag holding a share in (0, 1], written as in YAML: a
// number (0.05) or a percentage (5%). Zero means "not given".
type shareFlag float64

func (s *shareFlag) String() string {
	if *s == 0 {
		return ""
	}
	return scenarios.Fraction(*s).String()
}

func (s *shareFlag) Set(v string) error {
	f, err := scenarios.ParseFraction(v)
	if err != nil {
		return err
	}
	if f <= 0 {
		return fmt.Errorf("must be > 0 (got %s)", strings.TrimSpace(v))
	}
	*s = shareFlag(f)
	return nil
}

func (s *shareFlag) Type() string { return "share" }
