package twin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-sim/lockstep/twin/transport"
)

// Embedded is the ServeConfig.Broker value that runs an embedded broker.
const Embedded = "embedded"

// ClientIDPrefix starts the MQTT client id a server derives from its data
// directory: "lockstep-twin-" and 8 hex digits (transport.ClientIDForPath).
const ClientIDPrefix = "lockstep-twin"

// ServeConfig configures a Server: a whole twin service.
type ServeConfig struct {
	// Twin configures the twin (network, windows, partition, retention,
	// logger). Metrics nil: the server makes its own (NewMetrics).
	Twin Config
	// NetworkDigest identifies the network (e.g. the SHA-256 of its
	// file); the journal records it and refuses another.
	NetworkDigest string

	// Data is the journal's directory ("": no journal, no durability).
	Data string
	// Fsync syncs the journal on every commit (off: survives kill -9, not
	// a power cut).
	Fsync bool
	// SnapshotEvery snapshots the state into the journal file after every
	// SnapshotEvery records, and on a clean stop (0: never).
	SnapshotEvery uint64

	// HTTP is the API's listen address ("": no API). A non-loopback address
	// requires Token.
	HTTP string
	// Token, if set, is required as a bearer token on the API (not on the
	// probes), or the session cookie the ops page's login exchanges it for.
	// At least MinTokenLen bytes. It is never logged.
	Token string
	// HTTPCert and HTTPKey, both or neither, are PEM files of the API's
	// certificate (chain) and key: the API is then served over TLS only.
	HTTPCert, HTTPKey string
	// Stream configures the ops page's event stream (zero: defaults).
	Stream StreamConfig

	// Broker is where Live subscribes: a broker URL (mqtt://, mqtts://),
	// or Embedded to run a broker in the process (EmbeddedBroker).
	Broker string
	// EmbeddedBroker configures the embedded broker (zero: loopback, the
	// default port; Logger: the twin's).
	EmbeddedBroker transport.BrokerConfig
	// Client configures the MQTT client for an external broker (its URL is
	// Broker's; TLS CA, credentials, session expiry, default 1h). Its
	// ClientID, when empty, is derived from Data (transport.ClientIDForPath
	// with ClientIDPrefix), so that a twin restarted on the same Data
	// resumes its session and receives what the broker queued meanwhile;
	// without Data it is random (no durability). Its Subscriptions are the
	// feed's (Live adds them).
	Client transport.ClientConfig
	// DialTimeout bounds the first connection to the broker (default 30s).
	DialTimeout time.Duration
	// ShareGroup, if set, subscribes with "$share/{group}/..." filters.
	ShareGroup string
	// (The clock, the time zone and the plausibility window are the
	// twin's: Twin.EventClock, Twin.Location, Twin.MaxPast/MaxFuture.)

	// Report and States, if set, are files written at the end (replaced
	// atomically): the divergence report and the final label states.
	Report, States string
	// Tokens: with a Key, the API serves finished labels' provenance
	// tokens; with a Dir too, each finished label's token is written there
	// (tokens.go). Its Logger defaults to the twin's.
	Tokens TokensConfig
}

// ConfigError is an error in what a Server was asked to do (a bad listen
// address, the API off loopback without a token, an invalid network or
// partition, a journal written for another network): it cannot start as
// configured. Other errors from a Server are failures.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(err error) error { return &ConfigError{err} }

// Server is one twin service: the twin, its journal and snapshots, the
// HTTP API, and either a live MQTT subscription (Live: an external broker
// or an embedded one) or the replay of a capture (Replay). When either
// ends it settles the twin (Twin.Finish) and writes the report and states
// files.
type Server struct {
	cfg     ServeConfig
	log     *slog.Logger
	metrics *Metrics
	tw      *Twin
	runner  *Runner
	journal *Journal
	ln      net.Listener
	http    *http.Server
	tls     *tls.Config // the API's TLS (nil: plain HTTP)

	failOnce     sync.Once
	failed       chan struct{} // closed when a background part (the HTTP API) fails
	failErr      error
	failReturned atomic.Bool // Replay or Live returned failErr
	closed       bool

	clientID string                           // for an external broker ("": random)
	broker   atomic.Pointer[transport.Broker] // the embedded broker, once Live started it
	tokens   *Tokens                          // nil: no provenance tokens
}

// NewServer builds the twin, opens the journal (checking it was written
// for this network) and restores the state from it, and starts the HTTP
// API. Errors in the configuration are *ConfigError.
func NewServer(cfg ServeConfig) (_ *Server, err error) {
	if cfg.HTTP != "" {
		if _, _, err := net.SplitHostPort(cfg.HTTP); err != nil {
			return nil, configErr(fmt.Errorf("twin: http api address %q: want host:port", cfg.HTTP))
		}
		if err := CheckBind(cfg.HTTP, cfg.Token); err != nil {
			return nil, configErr(err)
		}
	}
	if err := CheckToken(cfg.Token); err != nil {
		return nil, configErr(err)
	}
	tlsCfg, err := httpTLS(cfg.HTTPCert, cfg.HTTPKey)
	if err != nil {
		return nil, configErr(err)
	}
	s := &Server{cfg: cfg, log: logger(cfg.Twin.Logger), metrics: cfg.Twin.Metrics, failed: make(chan struct{}), tls: tlsCfg}
	if id := cfg.Client.ClientID; id != "" {
		if err := transport.ValidClientID(id); err != nil {
			return nil, configErr(fmt.Errorf("twin: mqtt client id %q: %w", id, err))
		}
		s.clientID = id
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
		s.cfg.Twin.Metrics = s.metrics
	}
	if cfg.Tokens.Key != nil {
		tc := cfg.Tokens
		if tc.Logger == nil {
			tc.Logger = s.log
		}
		if s.tokens, err = NewTokens(tc); err != nil {
			return nil, configErr(err)
		}
		s.cfg.Twin.Tokens = s.tokens
	} else if cfg.Tokens.Dir != "" {
		return nil, configErr(errors.New("twin: a tokens directory needs a signing key (--tokens-key FILE)"))
	}
	if s.tw, err = New(s.cfg.Twin); err != nil {
		_ = s.tokens.Close()
		return nil, configErr(err)
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if cfg.Data != "" {
		if s.journal, err = OpenJournal(cfg.Data, cfg.Fsync); err != nil {
			return nil, err
		}
		if err := s.journal.CheckNetwork(cfg.NetworkDigest); err != nil {
			return nil, configErr(err)
		}
		if s.clientID == "" && cfg.Broker != Embedded {
			// after OpenJournal made the directory: symbolic links resolve
			if s.clientID, err = transport.ClientIDForPath(ClientIDPrefix, cfg.Data); err != nil {
				return nil, err
			}
		}
	}
	s.runner = NewRunner(s.tw, s.journal)
	s.runner.SnapshotEvery = cfg.SnapshotEvery
	s.runner.OnSnapshot = func(pos uint64, size int, took time.Duration, err error) {
		if err != nil {
			s.log.Error("snapshot failed (the journal still has every record)", "records", pos, "err", err)
			return
		}
		s.log.Info("snapshot", "records", pos, "bytes", size, "elapsed", took.String())
	}
	start := time.Now()
	if err := s.runner.Restore(); err != nil {
		return nil, err
	}
	if s.runner.SkippedSnapshot != nil {
		s.log.Warn("snapshot not used; re-applied the whole journal", "reason", s.runner.SkippedSnapshot.Error())
	}
	if s.runner.Restored > 0 {
		s.log.Info("journal restored", "records", s.runner.Restored, "from_snapshot", s.runner.FromSnapshot,
			"reapplied", s.runner.Restored-s.runner.FromSnapshot, "elapsed", time.Since(start).String())
	}
	if cfg.HTTP != "" {
		if err := s.serveHTTP(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// httpTLS loads the API's certificate and key (both or neither).
func httpTLS(cert, key string) (*tls.Config, error) {
	if (cert == "") != (key == "") {
		return nil, errors.New("twin: http api tls: give both the certificate and the key (--http-tls-cert, --http-tls-key), or neither")
	}
	if cert == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("twin: http api tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// serveHTTP listens on cfg.HTTP and serves the API in the background; if
// serving fails, the running Replay or Live returns the error.
func (s *Server) serveHTTP() error {
	ln, err := net.Listen("tcp", s.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("twin: http api: %w", err)
	}
	s.ln = ln
	done := make(chan struct{}) // closed on Shutdown: ends the event streams, which never go idle
	s.http = &http.Server{Handler: s.runner.Handler(APIConfig{Token: s.cfg.Token, Logger: s.log, Metrics: s.metrics,
		TLS: s.tls != nil, Stream: s.cfg.Stream, Done: done}),
		ReadHeaderTimeout: 10 * time.Second, TLSConfig: s.tls}
	s.http.RegisterOnShutdown(func() { close(done) })
	go func() {
		var err error
		if s.tls != nil {
			err = s.http.ServeTLS(ln, "", "")
		} else {
			err = s.http.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			s.fail(fmt.Errorf("twin: http api: %w", err))
		}
	}()
	s.log.Info("http api", "addr", ln.Addr().String(), "auth", s.cfg.Token != "", "tls", s.tls != nil)
	return nil
}

func (s *Server) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		close(s.failed)
	})
}

// failure is the error of a failed background part (nil while none).
func (s *Server) failure() error {
	select {
	case <-s.failed:
		return s.failErr
	default:
		return nil
	}
}

// returned notes that err goes back to the caller of Replay or Live (so
// Close does not return the same failure again).
func (s *Server) returned(err error) error {
	if f := s.failure(); f != nil && errors.Is(err, f) {
		s.failReturned.Store(true)
	}
	return err
}

// running returns ctx, also cancelled (with the error as its cause) when a
// background part of the server fails.
func (s *Server) running(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-s.failed:
			cancel(s.failErr)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// Twin is the server's twin.
func (s *Server) Twin() *Twin { return s.tw }

// Addr is the HTTP API's address (nil without one).
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Replay feeds a capture through the journal to the twin (resuming after
// the records the journal already holds), then settles the twin and writes
// the report and states files.
func (s *Server) Replay(ctx context.Context, capture io.Reader) (ReplayStats, error) {
	ctx, cancel := s.running(ctx)
	defer cancel()
	s.runner.SetReady(true)
	st, err := s.runner.Replay(ctx, capture, 512)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause
		}
		return st, s.returned(err)
	}
	return st, s.finish()
}

// Live connects to the broker (or starts the embedded one), takes the
// feed and runs until ctx is done, then settles the twin and writes the
// report and states files. It returns an error if the broker cannot be
// reached, a message cannot be journaled (the message is not
// acknowledged: see LiveConfig.OnError) or the HTTP API fails.
func (s *Server) Live(ctx context.Context) error {
	if s.cfg.Broker == "" {
		return configErr(errors.New("twin: live: no broker (a URL or embedded)"))
	}
	ctx, cancel := s.running(ctx)
	defer cancel()
	tc := s.cfg.Twin
	lc := LiveConfig{Topics: tc.Topics, ShareGroup: s.cfg.ShareGroup, Nodes: tc.Nodes, DialTimeout: s.cfg.DialTimeout,
		OnError: func(err error) {
			s.log.Error("cannot journal a message; stopping without acknowledging it", "err", err)
		},
		OnBroker: s.broker.Store,
	}
	if s.cfg.Data == "" {
		s.log.Warn("no journal (--data): no durability; what the twin received is lost when it stops")
	}
	var err error
	if s.cfg.Broker == Embedded {
		bc := s.cfg.EmbeddedBroker
		if bc.Logger == nil {
			bc.Logger = s.log
		}
		if bc.Prefix == "" {
			bc.Prefix = tc.Topics.Prefix
		}
		err = s.runner.LiveEmbedded(ctx, bc, lc)
	} else {
		cc := s.cfg.Client
		cc.URL, cc.ClientID = s.cfg.Broker, s.clientID
		if cc.Logger == nil {
			cc.Logger = s.log
		}
		if cc.ClientID == "" {
			s.log.Warn("no client id (--client-id or --data): a random one; the broker queues nothing for the twin while it is down")
		}
		err = s.runner.Live(ctx, cc, lc)
	}
	// Live and LiveEmbedded disconnect before they return: nothing is
	// accepted after the twin is finished
	if err != nil {
		return s.returned(err)
	}
	return s.finish()
}

// ClientID is the MQTT client id Live connects to an external broker with:
// ServeConfig.Client.ClientID, or derived from Data (ClientIDForPath), or
// "" (a random one, without Data).
func (s *Server) ClientID() string { return s.clientID }

// Broker is the embedded broker Live runs (nil before it started, or with
// an external broker).
func (s *Server) Broker() *transport.Broker { return s.broker.Load() }

// finish snapshots the state (a restart then re-applies nothing), settles
// the twin and writes the outputs. The snapshot comes first: Finish
// releases the reorder buffer and settles every comparison, which a
// restart must not inherit.
func (s *Server) finish() error {
	if s.cfg.SnapshotEvery > 0 && s.runner.behind() {
		_ = s.runner.Snapshot() // a failure is logged; the journal has every record
	}
	s.tw.Finish()
	if s.tokens != nil {
		if err := s.tokens.Flush(); err != nil {
			return fmt.Errorf("twin: %w", err)
		}
	}
	if err := writeFile(s.cfg.Report, s.tw.WriteReport); err != nil {
		return fmt.Errorf("twin: report: %w", err)
	}
	if err := writeFile(s.cfg.States, s.tw.WriteStates); err != nil {
		return fmt.Errorf("twin: states: %w", err)
	}
	return nil
}

// writeFile replaces the file at path (if any) with what write writes.
func writeFile(path string, write func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(out); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Close stops the HTTP API and closes the journal. It returns the HTTP
// API's error, if serving it failed.
func (s *Server) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("twin: http api: %w", err))
		}
		cancel()
	}
	if f := s.failure(); f != nil && !s.failReturned.Load() {
		errs = append(errs, f)
	}
	if s.journal != nil {
		if err := s.journal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("twin: journal: %w", err))
		}
	}
	if err := s.tokens.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Serve runs a live twin service until ctx is done: NewServer, Live,
// Close. Errors in the configuration are *ConfigError.
func Serve(ctx context.Context, cfg ServeConfig) (err error) {
	s, err := NewServer(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	return s.Live(ctx)
}
