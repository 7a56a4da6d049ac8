package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

type checkFlags struct {
	baseline          string
	junit             string
	markdown          string
	workers           int
	quiet             bool
	maxReplications   int
	allowInconclusive bool
}

func init() { register(newCheckCmd) }

func newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check SCENARIO... [--baseline DIR]",
		Short: "Fail when SLA metrics got worse than the committed baseline (for CI)",
		Long: `Check re-runs each scenario (its own seed) and compares every metric with
the scenario's baseline, DIR/<scenario name>.baseline.json, written by
lockstep baseline. Replication i is compared with the baseline's replication
i (the same seed gives common random numbers).

Verdicts. A checked metric is compared in its bad direction (higher or lower
is better, from the metric catalog) with the worsening its tolerance allows,
max(absolute, relative x |baseline|):
  PASS          the worsening is within the allowed (or it got better);
  FAIL          beyond the allowed AND statistically significant: by default
                the 95% CI of the paired difference now - baseline lies on
                the bad side of zero;
  INCONCLUSIVE  beyond the allowed but not significant: too few
                replications to tell a regression from noise. Never a pass.
  INFO          reported, not checked.
Unchanged code and scenario give identical numbers, so they always pass.

Power and sequential replications. Before running, check computes for each
checked metric, from the baseline's variance, how many replications detect
a worsening of exactly the allowed size with 80% power at the two-sided 5%
level (paired t test; it assumes the run and the baseline vary
independently, which common random numbers only improve on). It runs the most
any metric needs (at least the scenario's replications). Then, sequentially,
while a PASS or INCONCLUSIVE check compared fewer replications than the
observed spread of the change needs, it adds replications (up to that need,
at least half again), at most --max-replications and the baseline's
replications. A check still short at the end is UNDERPOWERED: the table's
n/needed column and a line say so; an underpowered PASS still passes, an
underpowered INCONCLUSIVE stays inconclusive. A FAIL is never underpowered.

Checked by default: pickup_success_rate and on_time_ready_rate (tolerance one
percentage point), reroutes, returns, cancelled and refunds (10%, at least 1),
fcpo (5%) and pickup_friction_p90_min (5%, at least 5 min). Other metrics are
reported (INFO); neutral ones never fail. The scenario's checks: section
changes tolerances, adds or skips metrics and picks the significance rule
(paired, overlap, none); see docs/scenario.md.

Output: a table (scenario, metric, baseline, now, delta, tolerance,
n/needed, status) and one line per failed, inconclusive or underpowered
check saying why; --junit FILE writes JUnit XML (one testcase per scenario x
metric: a failure is <failure>, an inconclusive check <error
type="inconclusive">) for GitHub, GitLab or Jenkins; --markdown FILE a
pull-request comment.

Exit codes:
  0  every check passed (or some were inconclusive and --allow-inconclusive)
  1  a check failed: an SLA regression (or a simulation failed)
  2  bad input: an invalid scenario, a missing or unreadable baseline, or a
     baseline that no longer fits the scenario (other seed, horizon, warm-up
     or metric set); the message says how to fix it, usually by
     regenerating the baseline with lockstep baseline and committing it
  3  no check failed but some were inconclusive: raise --max-replications
     (and regenerate the baseline with it), widen the tolerance, or pass
     --allow-inconclusive to accept them
When several apply, bad input (2) wins over a regression (1), which wins
over inconclusive (3).`,
		Example: `  lockstep check scenarios/quickstart.yaml scenarios/pilot-5-neighborhoods.yaml --baseline baselines
  lockstep check scenarios/*.yaml --baseline baselines --junit out/lockstep-junit.xml --markdown out/lockstep.md
  lockstep baseline scenarios/quickstart.yaml --out baselines   # accept an intended change, then commit`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.maxReplications < 2 {
				return badInput(fmt.Errorf("--max-replications must be at least 2 (got %d)", f.maxReplications))
			}
			var reports []results.CheckReport
			seen := map[string]string{}
			for _, path := range args {
				rep, err := checkOne(cmd.ErrOrStderr(), path, f, seen)
				if err != nil {
					return err
				}
				reports = append(reports, *rep)
			}
			if err := results.FormatCheckTable(cmd.OutOrStdout(), reports); err != nil {
				return failed(err)
			}
			if err := writeWith(f.junit, func(b *bytes.Buffer) error { return results.WriteJUnit(b, reports) }); err != nil {
				return failed(fmt.Errorf("--junit: %w", err))
			}
			if err := writeWith(f.markdown, func(b *bytes.Buffer) error { return results.WriteCheckMarkdown(b, reports) }); err != nil {
				return failed(fmt.Errorf("--markdown: %w", err))
			}
			var bad, fails []string
			for _, r := range reports {
				if r.Error != "" {
					bad = append(bad, r.Scenario+": "+r.Error)
				}
				for _, m := range r.Failures() {
					fails = append(fails, r.Scenario+" "+m.Metric)
				}
			}
			var unsure []string
			for _, r := range reports {
				for _, m := range r.Inconclusive() {
					unsure = append(unsure, r.Scenario+" "+m.Metric)
				}
			}
			t := results.Totals(reports)
			checked := t.Pass + t.Fail + t.Inconclusive
			switch {
			case len(bad) > 0:
				return badInput(fmt.Errorf("%d of %d scenarios could not be checked:\n  %s", len(bad), len(reports), strings.Join(bad, "\n  ")))
			case len(fails) > 0:
				return failed(fmt.Errorf("%d of %d checks failed (SLA regression): %s", t.Fail, checked, strings.Join(fails, ", ")))
			case len(unsure) > 0 && !f.allowInconclusive:
				return inconclusive(fmt.Errorf("%d of %d checks inconclusive (worse beyond the tolerance, not significant at the replications run): %s; "+
					"raise --max-replications (and regenerate the baseline with it), widen the tolerance, or pass --allow-inconclusive",
					t.Inconclusive, checked, strings.Join(unsure, ", ")))
			case len(unsure) > 0:
				fmt.Fprintf(cmd.ErrOrStderr(), "lockstep: %d of %d checks inconclusive, accepted (--allow-inconclusive): %s\n", t.Inconclusive, checked, strings.Join(unsure, ", "))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.baseline, "baseline", "baselines", "directory holding the baseline files")
	fl.StringVar(&f.junit, "junit", "", "also write the result as JUnit XML to this file")
	fl.StringVar(&f.markdown, "markdown", "", "also write the result as Markdown (a pull-request comment) to this file")
	fl.IntVar(&f.workers, "workers", 0, "replications run in parallel (default GOMAXPROCS); results are identical for any value")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fl.IntVar(&f.maxReplications, "max-replications", defaultMaxReplications, "the most replications a check compares (also capped by the baseline's)")
	fl.BoolVar(&f.allowInconclusive, "allow-inconclusive", false, "exit 0, not 3, when no check failed but some were inconclusive")
	return cmd
}

// checkOne checks one scenario file. Bad input (invalid scenario, missing or
// mismatched baseline) comes back as a report with Error set, so the other
// scenarios are still checked and the JUnit file shows it; a failed
// simulation is an error.
func checkOne(stderr io.Writer, path string, f checkFlags, seen map[string]string) (*results.CheckReport, error) {
	regen := fmt.Sprintf("lockstep baseline %s --out %s", path, f.baseline)
	bad := func(name, format string, args ...any) *results.CheckReport {
		return &results.CheckReport{Scenario: name, Error: fmt.Sprintf(format, args...)}
	}
	s, err := scenarios.Load(path)
	if err != nil {
		return bad(path, "%v", err), nil
	}
	cfg, err := checkConfig(s)
	if err != nil {
		return bad(s.Name, "%s: %v", path, err), nil
	}
	file := results.BaselineFileName(s.Name)
	if other, dup := seen[file]; dup {
		return bad(s.Name, "%s and %s both name a scenario whose baseline is %s; give the scenarios distinct names", other, path, file), nil
	}
	seen[file] = path
	bpath := filepath.Join(f.baseline, file)
	base, err := results.ReadBaselineFile(bpath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad(s.Name, "no baseline at %s; create it with: %s (and commit it)", bpath, regen), nil
	case err != nil:
		return bad(s.Name, "cannot read the baseline: %v; regenerate it with: %s", err, regen), nil
	}
	var early []string
	if base.Seed != s.Seed {
		early = append(early, fmt.Sprintf("seed %d in the baseline, %d in %s", base.Seed, s.Seed, path))
	}
	if len(early) > 0 {
		return bad(s.Name, "the scenario changed shape since its baseline (%s); if that is intended, re-run: %s", strings.Join(early, "; "), regen), nil
	}
	cfg.MaxReplications = f.maxReplications
	l := loaded{path: path, s: s, cfg: cfg}
	var run *results.RunResult
	rep, err := results.CheckSequential(base, cfg, s.Replications, func(n int) (*results.RunResult, error) {
		var err error
		if run == nil {
			run, err = runForCheck(stderr, l, n, f.workers, f.quiet)
		} else {
			err = extendForCheck(stderr, l, run, n, f.workers, f.quiet)
		}
		if err != nil {
			return nil, &simError{err}
		}
		return run, nil
	})
	var mm *results.MismatchError
	var se *simError
	switch {
	case errors.As(err, &se):
		return nil, failed(se.err)
	case errors.As(err, &mm):
		return bad(s.Name, "the scenario changed shape since its baseline (%s); if that is intended, re-run: %s", strings.Join(mm.Problems, "; "), regen), nil
	case err != nil:
		return bad(s.Name, "%s: %v", path, err), nil
	}
	return rep, nil
}

// simError marks a failed simulation (exit 1) among check's errors.
type simError struct{ err error }

func (e *simError) Error() string { return e.err.Error() }

// writeWith renders into a buffer and writes it to path ("" writes nothing),
// creating the parent directory.
func writeWith(path string, render func(*bytes.Buffer) error) error {
	if path == "" {
		return nil
	}
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
