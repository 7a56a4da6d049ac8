package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/twin/transport"
)

func init() { register(newBrokerCmd) }

func newBrokerCmd() *cobra.Command {
	var listen, usersFile, tlsCert, tlsKey string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded MQTT broker until interrupted",
		Long: `broker runs lockstep's embedded MQTT 5 broker (mochi-mqtt) so that hwsim, the
twin and any MQTT client can talk without installing anything else. It runs
until SIGINT or SIGTERM.

It listens on loopback by default. Listening on any other address requires
credentials: --users-file FILE with one "username:password" per line (blank
lines and # comments ignored); passwords never go on the command line and are
never logged.

--tls-cert and --tls-key (PEM files, both or neither) make it speak MQTT over
TLS: clients then connect to mqtts://host:port, with --ca-file when the
certificate is not signed by a CA the system trusts. TLS encrypts; it does
not replace --users-file off loopback.

Exit codes: 0 stopped by a signal, 1 the broker failed, 2 bad input (for
instance a non-loopback address without --users-file).`,
		Example: `  lockstep broker
  lockstep broker --listen 127.0.0.1:1884
  lockstep broker --listen 0.0.0.0:1883 --users-file /etc/lockstep/mqtt-users
  lockstep broker --listen 0.0.0.0:8883 --users-file users --tls-cert server.pem --tls-key server-key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return badInput(fmt.Errorf("--listen %q: want host:port: %w", listen, err))
			}
			var users map[string]string
			var grants map[string][]transport.Grant
			if usersFile != "" {
				uf, err := transport.LoadUsersFile(usersFile)
				if err != nil {
					return badInput(err)
				}
				users, grants = uf.Users, uf.Grants
				if len(users) == 0 {
					return badInput(fmt.Errorf("--users-file %s holds no users", usersFile))
				}
			}
			if len(users) == 0 && !loopbackHost(host) {
				return badInput(fmt.Errorf("refusing to listen on non-loopback address %s without credentials: pass --users-file FILE (lines of username:password) or listen on 127.0.0.1", listen))
			}
			var tlsCfg *tls.Config
			if (tlsCert == "") != (tlsKey == "") {
				return badInput(fmt.Errorf("--tls-cert and --tls-key go together"))
			}
			if tlsCert != "" {
				pair, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
				if err != nil {
					return badInput(fmt.Errorf("--tls-cert %s / --tls-key %s: %w", tlsCert, tlsKey, err))
				}
				tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
			}
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = transport.RunBroker(ctx, transport.BrokerConfig{Listen: listen, Users: users, Grants: grants, Logger: logger, TLS: tlsCfg}, func(b *transport.Broker) {
				auth := "anonymous clients allowed (loopback only)"
				if len(users) > 0 {
					auth = fmt.Sprintf("%d user(s) from %s", len(users), usersFile)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "broker listening on %s (%s); Ctrl-C to stop\n", b.URL(), auth)
			})
			if err != nil {
				return failed(err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", transport.DefaultListen, "TCP address to listen on")
	fl.StringVar(&usersFile, "users-file", "", "file of username:password lines; required off loopback")
	fl.BoolVar(&verbose, "verbose", false, "log connections")
	fl.StringVar(&tlsCert, "tls-cert", "", "PEM certificate (chain): serve MQTT over TLS (mqtts://)")
	fl.StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	return cmd
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
