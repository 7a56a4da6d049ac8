package main

import (
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
	var listen, usersFile string
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

Exit codes: 0 stopped by a signal, 1 the broker failed, 2 bad input (for
instance a non-loopback address without --users-file).`,
		Example: `  lockstep broker
  lockstep broker --listen 127.0.0.1:1884
  lockstep broker --listen 0.0.0.0:1883 --users-file /etc/lockstep/mqtt-users`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return badInput(fmt.Errorf("--listen %q: want host:port: %w", listen, err))
			}
			var users map[string]string
			if usersFile != "" {
				if users, err = transport.LoadUsersFile(usersFile); err != nil {
					return badInput(err)
				}
				if len(users) == 0 {
					return badInput(fmt.Errorf("--users-file %s holds no users", usersFile))
				}
			}
			if len(users) == 0 && !loopbackHost(host) {
				return badInput(fmt.Errorf("refusing to listen on non-loopback address %s without credentials: pass --users-file FILE (lines of username:password) or listen on 127.0.0.1", listen))
			}
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = transport.RunBroker(ctx, transport.BrokerConfig{Listen: listen, Users: users, Logger: logger}, func(b *transport.Broker) {
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
	return cmd
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
