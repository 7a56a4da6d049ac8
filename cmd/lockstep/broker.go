package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func init() { register(newBrokerCmd) }

type brokerFlags struct {
	listen, usersFile, credsFile, credsEnv, prefix, tlsCert, tlsKey string
	verbose                                                         bool
}

func newBrokerCmd() *cobra.Command {
	var f brokerFlags
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded MQTT broker until interrupted",
		Long: `broker runs lockstep's embedded MQTT 5 (and 3.1.1) broker (mochi-mqtt) so
that hwsim, the twin and any MQTT client can talk without installing
anything else. It runs until SIGINT or SIGTERM. It keeps nothing on disk: a
restart empties its sessions, queues and retained messages.

It listens on loopback by default, where anonymous clients may connect.
Listening on any other address requires credentials, which never go on the
command line and are never logged:

--users-file FILE     users, one "username:password" per line (the password
                      is everything after the first colon; blank lines and
                      # comments ignored), and optional role lines
                      "role USER ROLE [ID]" that restrict what each user may
                      do with the feed's topics (under --prefix):
                        twin        subscribe to PREFIX/# (also shared),
                                    publish nothing
                        production  publish PREFIX/orders/+ and
                                    PREFIX/labels/+/state (the only role
                                    besides all that may publish label_state)
                        device ID   publish PREFIX/lockers/ID/event,
                                    PREFIX/nodes/ID/status (also as its last
                                    will) and PREFIX/scanners/ID/scan; a
                                    gateway gets one line per id
                        all         everything (simulators such as hwsim)
                      A file without role lines lets every user use every
                      topic; with role lines a user without one may connect
                      but do nothing. Refused publishes get PUBACK 0x87 (an
                      MQTT 3.1.1 client is disconnected), refused
                      subscriptions SUBACK 0x87.
--credentials-file FILE, --credentials-env VAR
                      one more user from a file or an environment variable
                      holding "username:password" (one line; the same format
                      clients read theirs from), with role all.

Example users file (chmod 600):

  # lockstep broker users
  twin:6f1c0b7e9d2a
  prod-core:0a9e77c1f3b4
  lkr-12:c2d94e0a7718
  gw-north:91be0c4d2f65
  hwsim:5d3a8e1b0c9f
  role twin twin
  role prod-core production
  role lkr-12 device lkr-12
  role gw-north device lkr-20
  role gw-north device scn-7
  role hwsim all

--tls-cert and --tls-key (PEM files, both or neither) make it speak MQTT over
TLS: clients then connect to mqtts://host:port, with --ca-file when the
certificate is not signed by a CA the system trusts. TLS encrypts; it does
not replace credentials off loopback.

Sessions: a client that connects with clean start off and a session expiry
(lockstep's clients do) gets what was queued for it while it was away, up
to 65535 QoS 1 messages per session. docs/feed.md describes sessions, roles
and credentials.

Exit codes: 0 stopped by a signal, 1 the broker failed, 2 bad input (for
instance a non-loopback address without users).`,
		Example: `  lockstep broker
  lockstep broker --listen 127.0.0.1:1884
  lockstep broker --listen 0.0.0.0:1883 --users-file /etc/lockstep/mqtt-users
  lockstep broker --listen 0.0.0.0:1883 --credentials-env LOCKSTEP_MQTT_CREDENTIALS  # set by systemd or a k8s Secret
  lockstep broker --listen 0.0.0.0:8883 --users-file users --tls-cert server.pem --tls-key server-key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBroker(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", transport.DefaultListen, "TCP address to listen on")
	fl.StringVar(&f.usersFile, "users-file", "", "file of username:password and role lines; users are required off loopback")
	fl.StringVar(&f.credsFile, "credentials-file", "", "file holding one more user as username:password (role all)")
	fl.StringVar(&f.credsEnv, "credentials-env", "", "name of an environment variable holding one more user as username:password (role all)")
	fl.StringVar(&f.prefix, "prefix", wire.DefaultPrefix, "topic prefix the roles refer to")
	fl.BoolVar(&f.verbose, "verbose", false, "log connections")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate (chain): serve MQTT over TLS (mqtts://)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	return cmd
}

// brokerConfig turns the flags into the broker's configuration and a
// description of who may connect (never a password).
func brokerConfig(f brokerFlags) (transport.BrokerConfig, string, error) {
	cfg := transport.BrokerConfig{Listen: f.listen, Prefix: f.prefix}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return cfg, "", fmt.Errorf("--listen %q: want host:port: %w", f.listen, err)
	}
	if f.prefix == "" || strings.ContainsAny(f.prefix, "+#") {
		return cfg, "", fmt.Errorf("--prefix %q must be a non-empty topic without wildcards", f.prefix)
	}
	var auth []string
	if f.usersFile != "" {
		uf, err := transport.LoadUsersFile(f.usersFile)
		if err != nil {
			return cfg, "", err
		}
		if len(uf.Users) == 0 {
			return cfg, "", fmt.Errorf("--users-file %s holds no users", f.usersFile)
		}
		cfg.Users, cfg.Grants = uf.Users, uf.Grants
		roles := "no roles: every user may use every topic"
		if uf.Grants != nil {
			roles = fmt.Sprintf("roles for %d", len(uf.Grants))
		}
		auth = append(auth, fmt.Sprintf("%d user(s) from %s, %s", len(uf.Users), f.usersFile, roles))
	}
	if f.credsFile != "" || f.credsEnv != "" {
		c, err := transport.LoadCredentials(f.credsFile, f.credsEnv)
		if err != nil {
			return cfg, "", err
		}
		if _, dup := cfg.Users[c.Username]; dup {
			return cfg, "", fmt.Errorf("user %q is in --users-file and in the credentials", c.Username)
		}
		if cfg.Users == nil {
			cfg.Users = map[string]string{}
		}
		cfg.Users[c.Username] = c.Password
		if cfg.Grants != nil {
			cfg.Grants[c.Username] = []transport.Grant{{Role: transport.RoleAll}}
		}
		auth = append(auth, fmt.Sprintf("user %s from the credentials", c.Username))
	}
	if len(cfg.Users) == 0 {
		if !transport.IsLoopbackHost(host) {
			return cfg, "", fmt.Errorf("refusing to listen on non-loopback address %s without credentials: pass --users-file FILE (lines of username:password) or --credentials-file/--credentials-env, or listen on 127.0.0.1", f.listen)
		}
		auth = append(auth, "anonymous clients allowed (loopback only)")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return cfg, "", errors.New("--tls-cert and --tls-key go together")
	}
	if f.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return cfg, "", fmt.Errorf("--tls-cert %s / --tls-key %s: %w", f.tlsCert, f.tlsKey, err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	return cfg, strings.Join(auth, "; "), nil
}

func runBroker(cmd *cobra.Command, f brokerFlags) error {
	cfg, auth, err := brokerConfig(f)
	if err != nil {
		return badInput(err)
	}
	if cfg.Grants != nil {
		var idle []string
		for u := range cfg.Users {
			if len(cfg.Grants[u]) == 0 {
				idle = append(idle, u)
			}
		}
		slices.Sort(idle)
		for _, u := range idle {
			fmt.Fprintf(cmd.ErrOrStderr(), "lockstep broker: user %s has no role line: it may connect but neither publish nor subscribe\n", u)
		}
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = transport.RunBroker(ctx, cfg, func(b *transport.Broker) {
		fmt.Fprintf(cmd.OutOrStdout(), "broker listening on %s (%s); Ctrl-C to stop\n", b.URL(), auth)
	})
	if err != nil {
		return failed(err)
	}
	return nil
}
