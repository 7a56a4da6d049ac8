package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

type hwsimFlags struct {
	broker, speed, faults, capture, truth, prefix, caFile string
	clientID, credsFile, credsEnv                         string
	replication, workers                                  int
	seed                                                  uint64
	heartbeat, maxSkew                                    string
	quiet                                                 bool

	drop, duplicate, reorder, delay, skew, malformed, disconnect float64
	reorderWindow                                                int
	delayMax, skewMax, reconnectAfter                            string
	malformedKinds                                               []string
}

func init() { register(newHwsimCmd) }

func newHwsimCmd() *cobra.Command {
	var f hwsimFlags
	cmd := &cobra.Command{
		Use:   "hwsim SCENARIO --broker URL|embedded",
		Short: "Virtual scanners and lockers: publish a simulated day as the real MQTT feed",
		Long: `hwsim runs one replication of the scenario and publishes what the hardware and
production would emit, in the feed format of docs/feed.md, over MQTT with QoS 1:
scans at pick, pack, hand-off and delivery; locker door, slot, pickup and
occupancy events; node status (retained, last will on connectivity drops; an
offline node buffers and flushes on reconnect) and heartbeats; orders; and
production's label-state decisions.

Messages are paced in accelerated wall time: --speed 60 publishes one simulated
minute per wall second; --speed max as fast as the broker acknowledges.
Publishes are pipelined (--workers), each source's in order, and across sources
the feed arrives as a live one would: a publish waits until none still in flight
was due more than --max-skew (1s of simulated time) before it. So the capture of
a run without faults replays through "lockstep twin" with its default --window
(5s) and no late message, whatever the speed.
--broker embedded starts an in-process broker on a free loopback port.

Broker credentials come from --credentials-file or --credentials-env (one line
username:password) rather than the URL, which shows in ps. hwsim publishes
every topic of the feed, production's orders and label states included, so on
a broker with roles its user needs the role all (or production plus a device
line per node). Client.Publish keeps each message until its PUBACK and resends
it after a reconnect; --client-id gives hwsim a stable id (and a persistent
session) instead of a random one.

Faults (duplicates, reordering, delays, drops, clock skew, malformed payloads,
broker disconnects) come from --faults FILE (docs/hwsim.md, examples in
scenarios/faults/) and/or the fault flags, which override the file. The same
scenario, seed and faults give the same messages and the same fault pattern.
--truth writes the final true state of every label and every injected fault
(dropped messages are the sequence gaps a receiver must see).

Exit codes: 0 ok, 1 the run or the broker failed, 2 bad input or usage.`,
		Example: `  lockstep hwsim scenarios/quickstart.yaml --broker embedded --speed max
  lockstep hwsim scenarios/quickstart.yaml --broker mqtt://127.0.0.1:1883 --speed 60
  lockstep hwsim scenarios/quickstart.yaml --broker embedded --speed max \
      --faults scenarios/faults/flaky.yaml --capture out/feed.ndjson --truth out/truth.json
  lockstep hwsim scenarios/examples/offline-serve.yaml --broker mqtts://broker:8883 --ca-file ca.pem \
      --credentials-file /etc/lockstep/hwsim-mqtt --drop 0.01 --seed 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHwsim(cmd, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.broker, "broker", "", "broker URL (mqtt://host:port, mqtts://host:port) or \"embedded\" (required)")
	fl.StringVar(&f.credsFile, "credentials-file", "", "file holding the broker credentials as username:password (one line)")
	fl.StringVar(&f.credsEnv, "credentials-env", "", "name of an environment variable holding the broker credentials as username:password (e.g. "+transport.DefaultCredentialsEnv+")")
	fl.StringVar(&f.clientID, "client-id", "", "MQTT client id (default: a random one)")
	fl.StringVar(&f.speed, "speed", "60", "simulated time per wall time (60: a simulated minute per second), or \"max\"")
	fl.StringVar(&f.faults, "faults", "", "YAML fault file (see docs/hwsim.md)")
	fl.StringVar(&f.capture, "capture", "", "write an NDJSON capture of exactly what was published to FILE (its directory is created)")
	fl.StringVar(&f.truth, "truth", "", "write the true final label states and the injected faults to FILE (JSON; its directory is created)")
	fl.StringVar(&f.prefix, "prefix", wire.DefaultPrefix, "topic prefix")
	fl.IntVar(&f.replication, "replication", 0, "which replication of the scenario to simulate")
	fl.Uint64Var(&f.seed, "seed", 0, "override the scenario's seed (also seeds the faults)")
	fl.StringVar(&f.heartbeat, "heartbeat", "5m", "simulated interval between node heartbeats (0: none)")
	fl.IntVar(&f.workers, "workers", 16, "publishes in flight (per-source order is kept)")
	fl.StringVar(&f.maxSkew, "max-skew", "1s", "bound on the disorder across sources, in simulated time (keep it inside the twin's --window)")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM CA file for mqtts:// brokers")
	fl.BoolVar(&f.quiet, "quiet", false, "no summary on stderr")
	fl.Float64Var(&f.drop, "drop", 0, "fault: share of messages dropped (sequence gaps)")
	fl.Float64Var(&f.duplicate, "duplicate", 0, "fault: share of messages published twice")
	fl.Float64Var(&f.reorder, "reorder", 0, "fault: share of messages held back behind later ones of their source")
	fl.IntVar(&f.reorderWindow, "reorder-window", 0, "fault: reordered messages go after 1..N later messages (default 5)")
	fl.Float64Var(&f.delay, "delay", 0, "fault: share of messages delayed")
	fl.StringVar(&f.delayMax, "delay-max", "", "fault: longest delay, simulated (default 2m)")
	fl.Float64Var(&f.skew, "skew", 0, "fault: share of devices with a skewed clock")
	fl.StringVar(&f.skewMax, "skew-max", "", "fault: largest clock skew, either way (default 30s)")
	fl.Float64Var(&f.malformed, "malformed", 0, "fault: share of messages with a malformed payload")
	fl.StringSliceVar(&f.malformedKinds, "malformed-kinds", nil, "fault: malformed kinds: bad_json, missing_field, wrong_type, unknown_type (default all)")
	fl.Float64Var(&f.disconnect, "disconnect", 0, "fault: per-message probability of a broker disconnect")
	fl.StringVar(&f.reconnectAfter, "reconnect-after", "", "fault: simulated time until the reconnect (default 30s)")
	return cmd
}

// faultsFrom builds the fault settings: the file, then the flags that were set.
func faultsFrom(fl *pflag.FlagSet, f *hwsimFlags) (hwsim.Faults, error) {
	var fs hwsim.Faults
	if f.faults != "" {
		var err error
		if fs, err = hwsim.LoadFaults(f.faults); err != nil {
			return fs, err
		}
	}
	dur := func(name, v string, dst *hwsim.Duration) error {
		if !fl.Changed(name) {
			return nil
		}
		d, err := hwsim.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		*dst = d
		return nil
	}
	set := func(name string, v float64, dst *float64) {
		if fl.Changed(name) {
			*dst = v
		}
	}
	set("drop", f.drop, &fs.Drop)
	set("duplicate", f.duplicate, &fs.Duplicate)
	set("reorder", f.reorder, &fs.Reorder.Rate)
	set("delay", f.delay, &fs.Delay.Rate)
	set("skew", f.skew, &fs.Skew.Rate)
	set("malformed", f.malformed, &fs.Malformed.Rate)
	set("disconnect", f.disconnect, &fs.Disconnect.Rate)
	if fl.Changed("reorder-window") {
		fs.Reorder.Window = f.reorderWindow
	}
	if fl.Changed("malformed-kinds") {
		fs.Malformed.Kinds = f.malformedKinds
	}
	for _, d := range []struct {
		name, v string
		dst     *hwsim.Duration
	}{{"delay-max", f.delayMax, &fs.Delay.Max}, {"skew-max", f.skewMax, &fs.Skew.Max}, {"reconnect-after", f.reconnectAfter, &fs.Disconnect.ReconnectAfter}} {
		if err := dur(d.name, d.v, d.dst); err != nil {
			return fs, err
		}
	}
	fs.Defaults()
	if err := fs.Validate(); err != nil {
		return fs, fmt.Errorf("faults: %w", err)
	}
	return fs, nil
}

func parseSpeed(s string) (float64, error) {
	if strings.EqualFold(s, "max") {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || v > 1e9 {
		return 0, fmt.Errorf("--speed must be a positive number (60 = one simulated minute per second) or \"max\", not %q", s)
	}
	return v, nil
}

func runHwsim(cmd *cobra.Command, path string, f *hwsimFlags) error {
	if f.broker == "" {
		return badInput(fmt.Errorf("--broker is required: a URL (mqtt://127.0.0.1:1883) or \"embedded\""))
	}
	speed, err := parseSpeed(f.speed)
	if err != nil {
		return badInput(err)
	}
	faults, err := faultsFrom(cmd.Flags(), f)
	if err != nil {
		return badInput(err)
	}
	hb, err := hwsim.ParseDuration(f.heartbeat)
	if err != nil {
		return badInput(fmt.Errorf("--heartbeat: %w", err))
	}
	heartbeat := model.Duration(hb)
	skew, err := hwsim.ParseDuration(f.maxSkew)
	if err != nil || skew <= 0 {
		return badInput(fmt.Errorf("--max-skew must be a positive duration (1s, 500ms), not %q", f.maxSkew))
	}
	if heartbeat == 0 {
		heartbeat = -1
	}
	if f.replication < 0 {
		return badInput(fmt.Errorf("--replication must be >= 0"))
	}
	if f.prefix == "" || strings.ContainsAny(f.prefix, "+#") {
		return badInput(fmt.Errorf("--prefix %q must be a non-empty topic without wildcards", f.prefix))
	}
	var creds transport.Credentials
	if f.broker != "embedded" {
		if _, _, _, err := transport.ParseURL(f.broker); err != nil {
			return badInput(err)
		}
		if f.credsFile != "" || f.credsEnv != "" {
			if creds, err = transport.LoadCredentials(f.credsFile, f.credsEnv); err != nil {
				return badInput(err)
			}
		}
	} else if f.credsFile != "" || f.credsEnv != "" {
		return badInput(fmt.Errorf("--credentials-file and --credentials-env apply to an external broker (--broker URL)"))
	}
	if f.clientID != "" {
		if err := transport.ValidClientID(f.clientID); err != nil {
			return badInput(fmt.Errorf("--client-id %q: %w", f.clientID, err))
		}
	}
	s, err := scenarios.Load(path)
	if err != nil {
		return badInput(err)
	}
	if cmd.Flags().Changed("seed") {
		s.Seed = f.seed
	}
	cfg, err := s.Config()
	if err != nil {
		return badInput(err)
	}
	loc, err := s.Location()
	if err != nil {
		return badInput(err)
	}
	if cmd.Flags().Changed("seed") {
		cfg.Seed = f.seed
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	url := f.broker
	if url == "embedded" {
		b, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
		if err != nil {
			return failed(err)
		}
		defer b.Close()
		url = b.URL()
		if !f.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "embedded broker on %s\n", url)
		}
	}
	rc := hwsim.RunConfig{
		Gen:     hwsim.Config{Sim: cfg, Replication: f.replication, Prefix: f.prefix, Faults: faults, Heartbeat: heartbeat, Location: loc},
		Speed:   speed,
		Workers: f.workers,
		MaxSkew: model.Duration(skew),
		Logger:  logger,
		Dial: func(ctx context.Context) (hwsim.Conn, error) {
			dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			return transport.Dial(dctx, transport.ClientConfig{URL: url, CAFile: f.caFile, Logger: logger, ClientID: f.clientID,
				Username: creds.Username, Password: creds.Password})
		},
	}
	var capFile *os.File
	for _, p := range []string{f.capture, f.truth} {
		if p != "" {
			if err := mkdirFor(p); err != nil {
				return badInput(err)
			}
		}
	}
	if f.capture != "" {
		if capFile, err = os.Create(f.capture); err != nil {
			return badInput(fmt.Errorf("--capture: %w", err))
		}
		defer capFile.Close()
		rc.Capture = wire.NewCaptureWriter(capFile)
	}
	truth, st, err := hwsim.Run(ctx, rc)
	if err != nil {
		return failed(err)
	}
	if capFile != nil {
		if err := capFile.Close(); err != nil {
			return failed(fmt.Errorf("--capture: %w", err))
		}
	}
	if f.truth != "" {
		if err := hwsim.WriteTruthFile(f.truth, truth); err != nil {
			return failed(err)
		}
	}
	c := truth.Counts
	fmt.Fprintf(cmd.OutOrStdout(), "published %d messages (%d labels) in %s, %.0f msg/s\n",
		st.Published, len(truth.Labels), st.Elapsed.Round(time.Millisecond), st.Rate())
	if faults.Any() {
		fmt.Fprintf(cmd.OutOrStdout(), "faults: %d dropped, %d duplicated, %d malformed, %d delayed, %d reordered, %d disconnects, %d skewed devices\n",
			c.Dropped, c.Duplicated, c.Malformed, c.Delayed, c.Reordered, c.Disconnects, len(truth.Skew))
	}
	if c.Offline > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "nodes went offline %d times; %d messages buffered and flushed on reconnect\n", c.Offline, c.Buffered)
	}
	if !f.quiet {
		for _, p := range []string{f.capture, f.truth} {
			if p != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", p)
			}
		}
	}
	return nil
}
