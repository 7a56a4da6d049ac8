package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/provenance"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func init() { register(newTwinCmd) }

type twinFlags struct {
	network, broker, replay, httpAddr, data, report, states, prefix, shareGroup, nodes, token, clock, logLevel string
	tolerance, window, dedupRetention, labelRetention, maxPast, maxFuture, sourceIdle                          time.Duration
	fsync                                                                                                      bool
	snapshotEvery                                                                                              uint64
	httpTLSCert, httpTLSKey                                                                                    string
	clientID, credsFile, credsEnv, caFile, brokerListen                                                        string
	sessionExpiry                                                                                              time.Duration
	tokensDir, tokensKey                                                                                       string
}

func newTwinCmd() *cobra.Command {
	var f twinFlags
	cmd := &cobra.Command{
		Use:   "twin --network FILE.yaml (--broker URL|embedded | --replay CAPTURE.ndjson)",
		Short: "Run the core in shadow mode beside production and report divergences",
		Long: `twin listens to the live scanner, locker, node and production feeds (or replays
a capture of them), drives the core with them in event time, and records every
place where production's label decisions differ from the core's: a reroute the
core would not have made, a missing refund, a slot the core thinks is free.

Every received message is written to a bbolt journal in --data before it is
applied (live: before the MQTT acknowledgement); a restart restores the latest
state snapshot from the same file (taken every --snapshot-every records) and
re-applies only the records after it, then carries on. --replay exits at the end of the capture and prints a
summary (a file without a single capture line, empty or not a capture, is
bad input: exit 2, naming its first line); live mode runs until SIGINT/SIGTERM. Both write --report (divergences,
sorted NDJSON) and --states (final label states) at the end.

Sessions (--broker URL): the twin connects with a stable client id,
lockstep-twin- and a hash of --data (--client-id overrides it), and a
persistent session (--session-expiry, 1h): while it is down the broker keeps
its subscriptions and queues its QoS 1 messages, and the twin restarted on
the same --data receives them. Without --data the id is random and nothing is
durable. The broker must keep enough (Mosquitto: max_queued_messages, 1000 by
default, and persistence true). Broker credentials come from
--credentials-file or --credentials-env (one line username:password), not
the URL, which shows in ps. --broker embedded runs a broker in the process
(--broker-listen, loopback) and journals each message before the broker
acknowledges it; it keeps nothing across a restart, so producers must resend
what was not acknowledged (docs/feed.md).

Time: feed instants are real (RFC 3339 with an offset); the core runs on the
local wall clock of the network file's timezone (UTC when it has none). With
--clock wall (the default) each message's receive instant (the wall clock
live, recv_at in a replay) is the receive clock: an instant more than
--max-past before it or --max-future after it is quarantined
(instant_out_of_range), buffered messages are released a --window behind it
and behind every source heard within --source-idle, and live the core's
clock runs with the wall clock from startup. --clock event ignores receive
instants: the feed's instants are the only clock (hwsim's accelerated time),
and live gives exactly the replay's output.

The HTTP API (/healthz, /readyz, /v1/labels/{id}, /v1/labels/{id}/token, /v1/nodes, /v1/divergences,
/v1/quarantine, /v1/anomalies, /v1/status, /v1/map, /v1/events, /metrics) and the ops page
(/ui: the nodes on a map, ingest counters and the latest divergences, live)
listen on loopback unless --token (or LOCKSTEP_TWIN_TOKEN, at least 16 bytes)
is set; the token is never logged. With --http-tls-cert and --http-tls-key the
API is served over TLS. Its responses are described in docs/api/openapi.yaml;
docs/twin.md has it all.

Provenance tokens: with --tokens-key FILE (an Ed25519 private key, as
lockstep keygen writes) the API serves each finished label's custody as a
signed token (GET /v1/labels/{id}/token); with --tokens DIR too, the twin
writes DIR/<label>.token for every label that finishes (picked up, returned,
cancelled), durably and off the core's path. lockstep verify checks them.

Exit codes: 0 ok, 1 the twin failed, 2 bad input.`,
		Example: `  lockstep twin --network scenarios/quickstart.yaml --replay capture.ndjson --report divergences.ndjson
  lockstep twin --network scenarios/quickstart.yaml --broker embedded --http 127.0.0.1:8080 --data /var/lib/lockstep-twin
  lockstep twin --network region-a.yaml --broker mqtt://broker:1883 --share-group twin --nodes L1,L2,P1
  LOCKSTEP_MQTT_CREDENTIALS=twin:secret lockstep twin --network city.yaml --broker mqtts://broker:8883 \
      --ca-file ca.pem --credentials-env LOCKSTEP_MQTT_CREDENTIALS --data /var/lib/lockstep-twin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTwin(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.network, "network", "", "scenario file with the network (nodes, SKUs, labels, SLA); required")
	fl.StringVar(&f.broker, "broker", "", "broker URL (mqtt://host:1883, mqtts://...) or 'embedded'")
	fl.StringVar(&f.clientID, "client-id", "", "MQTT client id at the broker (default: lockstep-twin- and a hash of the --data path, so a restart resumes the session; random without --data; twins on different hosts need their own)")
	fl.DurationVar(&f.sessionExpiry, "session-expiry", transport.DefaultSessionExpiry, "how long the broker keeps the twin's session, and queues its messages, while it is disconnected (0: the session ends with the connection)")
	fl.StringVar(&f.credsFile, "credentials-file", "", "file holding the broker credentials as username:password (one line)")
	fl.StringVar(&f.credsEnv, "credentials-env", "", "name of an environment variable holding the broker credentials as username:password (e.g. "+transport.DefaultCredentialsEnv+")")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM CA file to verify an mqtts:// broker (default: the system's roots)")
	fl.StringVar(&f.brokerListen, "broker-listen", transport.DefaultListen, "with --broker embedded: the broker's listen address (loopback)")
	fl.StringVar(&f.replay, "replay", "", "replay this NDJSON capture instead of subscribing")
	fl.StringVar(&f.httpAddr, "http", "", "HTTP API listen address, e.g. 127.0.0.1:8080 (off when empty)")
	fl.StringVar(&f.data, "data", "", "directory of the durable journal (none when empty)")
	fl.BoolVar(&f.fsync, "fsync", true, "fsync the journal on every commit (off: survives kill -9, not power loss)")
	fl.Uint64Var(&f.snapshotEvery, "snapshot-every", 100000, "snapshot the state into --data every N accepted records, bounding restart time (0: never)")
	fl.StringVar(&f.report, "report", "", "write the divergence report (sorted NDJSON) here at the end")
	fl.StringVar(&f.states, "states", "", "write the final label states (sorted NDJSON) here at the end")
	fl.DurationVar(&f.tolerance, "tolerance", 2*time.Minute, "how far production's transitions may lag or lead the core's")
	fl.DurationVar(&f.window, "window", 5*time.Second, "reorder window: a message waits this long past its instant for earlier ones")
	fl.DurationVar(&f.maxPast, "max-past", 24*time.Hour, "quarantine a message whose instant is more than this before its receive instant (instant_out_of_range); 0: no bound")
	fl.DurationVar(&f.maxFuture, "max-future", 5*time.Minute, "quarantine a message whose instant is more than this after its receive instant (--clock wall); 0: no bound")
	fl.DurationVar(&f.sourceIdle, "source-idle", time.Minute, "a source whose newest instant is this far behind the receive clock stops holding the others back; 0: sources never hold")
	fl.DurationVar(&f.labelRetention, "label-retention", 7*24*time.Hour, "how long (event time) a finished label stays in memory for the API and late reports; 0 keeps every label")
	fl.DurationVar(&f.dedupRetention, "dedup-retention", 48*time.Hour, "how long (event time) msg_ids are kept for de-duplication; older duplicates are caught by (source, seq)")
	fl.StringVar(&f.prefix, "prefix", wire.DefaultPrefix, "topic prefix")
	fl.StringVar(&f.shareGroup, "share-group", "", "subscribe with $share/NAME/... (several instances; see docs/twin.md)")
	fl.StringVar(&f.nodes, "nodes", "", "comma-separated node ids this instance owns (partitioning; default all)")
	fl.StringVar(&f.token, "token", "", "bearer token for the HTTP API and the ops page (or env LOCKSTEP_TWIN_TOKEN); at least 16 bytes; required off loopback")
	fl.StringVar(&f.httpTLSCert, "http-tls-cert", "", "PEM certificate (chain) to serve the HTTP API over TLS; needs --http-tls-key")
	fl.StringVar(&f.httpTLSKey, "http-tls-key", "", "PEM private key of --http-tls-cert")
	fl.StringVar(&f.clock, "clock", "wall", "wall: receive instants (live the wall clock, in a replay recv_at) check and release instants, and live the clock runs on wall time; event: the feed's instants only (hwsim's accelerated time; live == replay)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.tokensDir, "tokens", "", "write each finished label's provenance token to DIR/<label>.token (needs --tokens-key)")
	fl.StringVar(&f.tokensKey, "tokens-key", "", "Ed25519 private key file that signs provenance tokens (PEM or raw; lockstep keygen); enables GET /v1/labels/{id}/token")
	return cmd
}

func runTwin(cmd *cobra.Command, f twinFlags) error {
	if f.network == "" {
		return badInput(errors.New("--network FILE.yaml is required"))
	}
	if (f.broker == "") == (f.replay == "") {
		return badInput(errors.New("give exactly one of --broker URL|embedded and --replay CAPTURE"))
	}
	if f.clock != "wall" && f.clock != "event" {
		return badInput(fmt.Errorf("--clock %q: want wall or event", f.clock))
	}
	cc, err := twinClient(cmd, f)
	if err != nil {
		return badInput(err)
	}
	if f.tolerance <= 0 || f.window < 0 || f.dedupRetention <= 0 || f.labelRetention < 0 || f.maxPast < 0 || f.maxFuture < 0 || f.sourceIdle < 0 {
		return badInput(errors.New("--tolerance and --dedup-retention must be > 0; --window, --label-retention, --max-past, --max-future and --source-idle >= 0"))
	}
	labelRetention := model.Duration(f.labelRetention.Milliseconds())
	if labelRetention == 0 {
		labelRetention = -1 // keep every label
	}
	token := f.token
	if token == "" {
		token = os.Getenv("LOCKSTEP_TWIN_TOKEN")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return badInput(fmt.Errorf("--log-level: %w", err))
	}
	logger := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	if u, user, _, err := transport.ParseURL(f.broker); err == nil && user != "" {
		logger.Warn("the --broker URL holds credentials, which show in ps: use --credentials-file or --credentials-env", "broker", u.Redacted())
	}
	raw, err := os.ReadFile(f.network)
	if err != nil {
		return badInput(err)
	}
	sc, err := scenarios.Parse(f.network, raw)
	if err != nil {
		return badInput(err)
	}
	network, err := sc.Network()
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", f.network, err))
	}
	loc, err := sc.Location()
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", f.network, err))
	}
	tokens, err := twinTokens(f)
	if err != nil {
		return badInput(err)
	}
	sum := sha256.Sum256(raw)
	cfg := twin.ServeConfig{
		Twin: twin.Config{Network: network, Location: loc, Topics: wire.Topics{Prefix: f.prefix}, Window: model.Duration(f.window.Milliseconds()),
			EventClock: f.clock == "event", MaxPast: bound(f.maxPast), MaxFuture: bound(f.maxFuture), SourceIdle: bound(f.sourceIdle),
			Tolerance: model.Duration(f.tolerance.Milliseconds()), IDRetention: model.Duration(f.dedupRetention.Milliseconds()),
			LabelRetention: labelRetention, Nodes: nodesOrNil(f.nodes), Logger: logger,
			ReplenishAt: sc.Replenishment.PlanAt.Duration(), RestockLead: sc.Replenishment.LeadTime.Model()},
		NetworkDigest: hex.EncodeToString(sum[:]),
		Data:          f.data, Fsync: f.fsync, SnapshotEvery: f.snapshotEvery,
		HTTP: f.httpAddr, Token: token, HTTPCert: f.httpTLSCert, HTTPKey: f.httpTLSKey,
		Broker: f.broker, ShareGroup: f.shareGroup, Client: cc, EmbeddedBroker: transport.BrokerConfig{Listen: f.brokerListen},
		Report: f.report, States: f.states, Tokens: tokens,
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.replay == "" {
		return twinExit(twin.Serve(ctx, cfg))
	}
	srv, err := twin.NewServer(cfg)
	if err != nil {
		return twinExit(err)
	}
	defer srv.Close()
	in, err := os.Open(f.replay)
	if err != nil {
		return badInput(err)
	}
	defer in.Close()
	st, err := srv.Replay(ctx, in)
	if err != nil {
		return twinExit(err)
	}
	if err := emptyReplay(f.replay, st); err != nil {
		return badInput(err) // nothing to replay: bad input, not a quiet day
	}
	if err := srv.Close(); err != nil {
		return twinExit(err)
	}
	tw := srv.Twin()
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"records": st.Records, "resumed_from_journal": st.Skipped, "bad_capture_lines": st.BadLines,
		"elapsed_s": st.Elapsed.Seconds(), "counters": tw.Counters(), "labels": len(tw.Labels()), "gaps": len(tw.Gaps())})
}

// twinClient checks the flags of the connection to an external broker
// (they apply to --broker URL only; --broker-listen to --broker embedded
// only) and returns the client's configuration: client id, session
// expiry, credentials (read from the file or variable), CA file.
func twinClient(cmd *cobra.Command, f twinFlags) (transport.ClientConfig, error) {
	fl := cmd.Flags()
	external := f.broker != "" && f.broker != twin.Embedded
	for _, name := range []string{"client-id", "session-expiry", "credentials-file", "credentials-env", "ca-file"} {
		if fl.Changed(name) && !external {
			return transport.ClientConfig{}, fmt.Errorf("--%s applies to an external broker (--broker URL)", name)
		}
	}
	if fl.Changed("broker-listen") && f.broker != twin.Embedded {
		return transport.ClientConfig{}, errors.New("--broker-listen applies to --broker embedded")
	}
	if f.broker == twin.Embedded {
		host, _, err := net.SplitHostPort(f.brokerListen)
		if err != nil {
			return transport.ClientConfig{}, fmt.Errorf("--broker-listen %q: want host:port", f.brokerListen)
		}
		if !transport.IsLoopbackHost(host) {
			return transport.ClientConfig{}, fmt.Errorf("--broker-listen %s: the twin's embedded broker has no users, so it listens on loopback only; run `lockstep broker` with users for other addresses", f.brokerListen)
		}
	}
	if !external {
		return transport.ClientConfig{}, nil
	}
	if _, _, _, err := transport.ParseURL(f.broker); err != nil {
		return transport.ClientConfig{}, err
	}
	if f.sessionExpiry < 0 {
		return transport.ClientConfig{}, errors.New("--session-expiry must be >= 0")
	}
	cc := transport.ClientConfig{ClientID: f.clientID, SessionExpiry: f.sessionExpiry, CAFile: f.caFile}
	if f.sessionExpiry == 0 {
		cc.SessionExpiry = -1 // ClientConfig: negative ends the session with the connection
	}
	if fl.Changed("client-id") {
		if err := transport.ValidClientID(f.clientID); err != nil {
			return transport.ClientConfig{}, fmt.Errorf("--client-id %q: %w", f.clientID, err)
		}
	}
	if f.credsFile != "" || f.credsEnv != "" {
		creds, err := transport.LoadCredentials(f.credsFile, f.credsEnv)
		if err != nil {
			return transport.ClientConfig{}, err
		}
		cc.Username, cc.Password = creds.Username, creds.Password
	}
	return cc, nil
}

// twinExit maps the twin service's errors to exit codes: 2 for its
// configuration, 1 for failures.
func twinExit(err error) error {
	var ce *twin.ConfigError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return badInput(err)
	}
	return failed(err)
}

// bound is a duration flag where 0 means no bound (the twin's -1).
func bound(d time.Duration) model.Duration {
	if d == 0 {
		return -1
	}
	return model.Duration(d.Milliseconds())
}

func nodesOrNil(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// twinTokens loads the provenance signing key (--tokens-key) for the
// token directory (--tokens) and the API.
func twinTokens(f twinFlags) (twin.TokensConfig, error) {
	if f.tokensKey == "" {
		if f.tokensDir != "" {
			return twin.TokensConfig{}, errors.New("--tokens DIR needs --tokens-key FILE (the Ed25519 private key that signs them; lockstep keygen)")
		}
		return twin.TokensConfig{}, nil
	}
	key, err := provenance.LoadPrivateKey(f.tokensKey)
	if err != nil {
		return twin.TokensConfig{}, fmt.Errorf("--tokens-key: %w", err)
	}
	return twin.TokensConfig{Key: key, Dir: f.tokensDir}, nil
}
