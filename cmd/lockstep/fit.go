package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/fit"
	"github.com/lockstep-sim/lockstep/model"
)

func init() {
	register(newFitCmd)
	register(newValidateFitCmd)
}

type fitFlags struct {
	network, data, replay, from, to, out, jsonOut  string
	minSamples, minFailures, replications, workers int
	seed                                           uint64
	validate                                       bool
}

const fitLong = `fit turns what the twin recorded into a calibrated scenario. It reads the
twin's journal (--data, the directory 'lockstep twin --data' wrote; stop the
twin or copy the directory first) or a capture (--replay: NDJSON, one received
MQTT message a line, as 'lockstep hwsim --capture' writes it; docs/feed.md) through the twin's own
ingest (decoding, quarantine, de-duplication, ordering), and writes --out: the
network file with its inputs replaced by the values the feed shows, each
commented with its sample size and goodness of fit.

What is fitted (docs/fit.md):
  neighborhoods[].orders_per_day   orders per neighborhood (customer_cell), Poisson MLE
  neighborhoods[].hourly           orders by local hour of day
  demand_calendar.weekday          orders by weekday, mean 1 (needs >= 7 days)
  neighborhoods[].sku_mix          shares of SKUs ordered
  customers.pickup_delay           ready notification to pickup, first ready episode of each
                                   parcel; exponential, lognormal, gamma, Weibull by AIC,
                                   KS check against Kaplan-Meier (empirical quantiles if it
                                   fails); waiting at the window's end = right-censored,
                                   picked up at an opening = interval-censored
  customers.no_show                the never-come share of that mixture
  couriers.speed_kmh               hand-off to first arrival regressed on distance
  nodes[].connectivity.mtbf/mttr   up and repair times from node status messages
                                   (scheduled outages left out)
  start, horizon, warmup           set to the window

A value with too few samples (--min-samples, --min-failures) keeps the
network's value, and the file says why. An empty or too-short window, a feed of
another network (unknown node or SKU ids, customer cells outside every
neighborhood, a journal written for another network file) is an error.
The same input gives the same bytes.

--validate simulates the fitted scenario over the same window (--replications,
without a drain) and compares orders, pickup success, pickup friction p50/p90,
reroutes and parcels held per node with what the feed shows: observed value,
simulated mean with its confidence interval, the prediction interval of one
period, and whether the observation lies inside it (printed; --json writes it).

Exit 0 ok, 1 the validation found fewer observations inside than expected
(below the 1 % quantile of Binomial(checks, 0.95)), 2 bad input.`

func newFitCmd() *cobra.Command {
	var f fitFlags
	cmd := &cobra.Command{
		Use:   "fit --network FILE (--data DIR | --replay CAPTURE) --out FITTED.yaml",
		Short: "Fit a scenario from the twin's journal or a capture (and validate it)",
		Long:  fitLong,
		Example: `  # a capture from hwsim (or production), three weeks
  lockstep hwsim scenarios/quickstart.yaml --broker embedded --speed max --capture feed.ndjson
  lockstep fit --network scenarios/quickstart.yaml --replay feed.ndjson --out fitted.yaml

  # a stopped twin's journal, a window of whole local days (--to excluded), then validate
  lockstep fit --network net.yaml --data /var/lib/twin --from 2026-03-02 --to 2026-03-23 \
      --out fitted.yaml --validate --replications 10 --json validation.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.out == "" {
				return badInput(errors.New("fit: --out FITTED.yaml is required"))
			}
			return runFit(cmd, f)
		},
	}
	fitFlagSet(cmd, &f)
	cmd.Flags().BoolVar(&f.validate, "validate", false, "also simulate the fitted scenario over the window and compare it with the feed")
	return cmd
}

func newValidateFitCmd() *cobra.Command {
	var f fitFlags
	cmd := &cobra.Command{
		Use:     "validate-fit --network FILE (--data DIR | --replay CAPTURE) [--out FITTED.yaml]",
		Short:   "Fit a scenario from the twin's feed and check it reproduces the window (fit --validate)",
		Long:    "validate-fit is fit --validate; --out is optional.\n\n" + fitLong,
		Example: `  lockstep validate-fit --network scenarios/quickstart.yaml --replay feed.ndjson --replications 10`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.validate = true
			return runFit(cmd, f)
		},
	}
	fitFlagSet(cmd, &f)
	return cmd
}

func fitFlagSet(cmd *cobra.Command, f *fitFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.network, "network", "", "the network file the twin runs with (a scenario; required)")
	fl.StringVar(&f.data, "data", "", "the twin's --data directory: read its journal")
	fl.StringVar(&f.replay, "replay", "", "a capture (NDJSON) to read instead of a journal")
	fl.StringVar(&f.from, "from", "", "first day of the window, YYYY-MM-DD on the network's local clock (default: the feed's first day)")
	fl.StringVar(&f.to, "to", "", "day after the window, YYYY-MM-DD, excluded (default: the last local midnight of the feed)")
	fl.StringVar(&f.out, "out", "", "where the fitted scenario goes")
	fl.IntVar(&f.minSamples, "min-samples", fit.DefaultMinSamples, "fewest observations a fitted value needs; with fewer the network's value is kept (and commented)")
	fl.IntVar(&f.minFailures, "min-failures", fit.DefaultMinFailures, "fewest drops and repairs a node's MTBF/MTTR needs")
	fl.IntVar(&f.replications, "replications", fit.DefaultValidateReplications, "validation: replications of the fitted scenario (>= 2)")
	fl.Uint64Var(&f.seed, "seed", 0, "validation: seed of the replications (default: the scenario's seed mixed with a constant, independent of the feed's)")
	fl.IntVar(&f.workers, "workers", 0, "validation: parallel replications (default GOMAXPROCS)")
	fl.StringVar(&f.jsonOut, "json", "", "validation: also write the comparison as JSON to this file")
}

func parseDay(name, s string) (model.Instant, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("fit: --%s %q: want a day, YYYY-MM-DD (the window is whole local days)", name, s)
	}
	return model.InstantOf(t), nil
}

func runFit(cmd *cobra.Command, f fitFlags) error {
	if f.network == "" {
		return badInput(errors.New("fit: --network FILE is required"))
	}
	if (f.data == "") == (f.replay == "") {
		return badInput(errors.New("fit: give exactly one of --data DIR (a twin's journal) and --replay CAPTURE"))
	}
	if f.replications < 2 {
		return badInput(fmt.Errorf("fit: --replications %d: a validation needs at least 2", f.replications))
	}
	from, err := parseDay("from", f.from)
	if err != nil {
		return badInput(err)
	}
	to, err := parseDay("to", f.to)
	if err != nil {
		return badInput(err)
	}
	net, err := fit.LoadNetwork(f.network)
	if err != nil {
		return badInput(err)
	}
	var obs *fit.Observations
	if f.data != "" {
		obs, err = fit.ReadJournal(net, f.data)
	} else {
		obs, err = fit.ReadCapture(net, f.replay)
	}
	if err != nil {
		return badInput(err)
	}
	if from == 0 || to == 0 {
		df, dt := obs.DefaultWindow()
		from, to = orDefault(from, df), orDefault(to, dt)
	}
	res, err := fit.Fit(net, obs, fit.Options{From: from, To: to, MinSamples: f.minSamples, MinFailures: f.minFailures})
	if err != nil {
		return badInput(err)
	}
	out, err := res.YAML()
	if err != nil {
		return failed(err)
	}
	stdout := cmd.OutOrStdout()
	if f.out != "" {
		if err := os.WriteFile(f.out, out, 0o644); err != nil {
			return failed(fmt.Errorf("fit: %w", err))
		}
		fmt.Fprintf(stdout, "wrote %s: %d days from %s, %d orders (see the comments in the file for each value)\n",
			f.out, res.Days, from.Time().Format("2006-01-02"), res.Orders)
	}
	if !f.validate {
		return nil
	}
	opt := fit.ValidateOptions{Replications: f.replications, Workers: f.workers}
	if cmd.Flags().Changed("seed") {
		opt.Seed = &f.seed
	}
	v, err := res.Validate(context.Background(), out, opt)
	if err != nil {
		return failed(err)
	}
	if err := v.Print(stdout); err != nil {
		return failed(err)
	}
	if f.jsonOut != "" {
		fh, err := os.Create(f.jsonOut)
		if err != nil {
			return failed(fmt.Errorf("fit: %w", err))
		}
		err = v.WriteJSON(fh)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return failed(fmt.Errorf("fit: %w", err))
		}
	}
	if v.Inside < v.Floor() {
		return failed(fmt.Errorf("fit: validation: %d of %d observed values inside their prediction intervals, fewer than the %d expected at least when the scenario is right",
			v.Inside, len(v.Checks), v.Floor()))
	}
	return nil
}

func orDefault(v, d model.Instant) model.Instant {
	if v == 0 {
		return d
	}
	return v
}
