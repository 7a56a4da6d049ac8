package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

// DefaultListen is the embedded broker's default address: loopback only.
const DefaultListen = "127.0.0.1:1883"

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	// Listen is the TCP address to listen on; "" means DefaultListen and
	// "127.0.0.1:0" picks a free port (see Broker.Addr).
	Listen string
	// Users maps usernames to passwords. When set, only these credentials
	// are accepted. When empty, anonymous clients are allowed, which is
	// only permitted on a loopback address.
	Users map[string]string
	// Grants, when not nil, restrict each user to the topics its roles
	// allow (see Role); a user without grants may connect but neither
	// publish nor subscribe. Nil: every user may use every topic. Needs
	// Users.
	Grants map[string][]Grant
	// Prefix is the feed's topic prefix the roles refer to (default
	// wire.DefaultPrefix).
	Prefix string
	// Logger receives the broker's own log (connections, errors; never
	// passwords). Nil discards it.
	Logger *slog.Logger
	// TLS, when set, makes the listener speak MQTT over TLS with this
	// configuration (at least Certificates); clients then connect with
	// mqtts:// (see URL). It changes nothing else: a non-loopback Listen
	// still requires Users.
	TLS *tls.Config
	// OnPublish, when set, receives every message a client publishes
	// (after the ACL check), one call at a time, before the broker
	// acknowledges or forwards it: a consumer in the broker's process (the
	// twin with an embedded broker) that stores the message before
	// returning has stored everything the broker acknowledged, so a crash
	// of the process loses nothing a producer was told was received.
	// An error refuses the message: an MQTT 5 producer gets PUBACK 0x80
	// (unspecified error; Client.Publish retries it), an MQTT 3.1.1
	// producer is disconnected (it resends after reconnecting), a QoS 0
	// message is dropped. Last wills the broker publishes pass through it
	// too (an error is only logged: nobody can resend a will).
	OnPublish func(Message) error
}

// MaxQueued is how many QoS 1 messages the embedded broker holds for one
// session, in flight or queued while its client is disconnected: MQTT's
// packet identifier space. More are dropped and counted (Broker.Dropped).
const MaxQueued = 65535

// Broker is an embedded MQTT 5 (and 3.1.1) broker, mochi-mqtt underneath.
type Broker struct {
	srv       *mqtt.Server
	ln        *trackingListener
	closeOnce sync.Once
	done      chan struct{}
	stop      context.CancelFunc
	tls       bool
	gate      *sessionGate
}

// StartBroker starts an embedded broker and returns once it accepts
// connections. It refuses a non-loopback Listen address without Users.
// The broker stops when ctx is cancelled or Close is called.
func StartBroker(ctx context.Context, cfg BrokerConfig) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("transport: broker listen address %q: %w", cfg.Listen, err)
	}
	if len(cfg.Users) == 0 && !IsLoopbackHost(host) {
		return nil, fmt.Errorf("transport: refusing to listen on non-loopback address %q without users: configure users (username/password) or listen on 127.0.0.1", cfg.Listen)
	}
	for u, p := range cfg.Users {
		if u == "" || p == "" {
			return nil, errors.New("transport: broker users need a non-empty username and password")
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClientWritesPending = 64 * 1024 // fewer QoS 1 drops for slow subscribers
	caps.MaximumInflight = MaxQueued            // per session, offline queue included (mochi's default: 8192)
	srv := mqtt.New(&mqtt.Options{Logger: logger, Capabilities: caps})
	if cfg.Grants != nil && len(cfg.Users) == 0 {
		return nil, errors.New("transport: broker grants need users")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = wire.DefaultPrefix
	}
	rights, err := compileGrants(cfg.Prefix, cfg.Users, cfg.Grants)
	if err != nil {
		return nil, fmt.Errorf("transport: broker: %w", err)
	}
	if cfg.Grants == nil {
		rights = nil
	}
	if len(cfg.Users) == 0 {
		err = srv.AddHook(new(auth.AllowHook), nil)
	} else {
		users := make(map[string][]byte, len(cfg.Users))
		for u, p := range cfg.Users {
			users[u] = []byte(p)
		}
		err = srv.AddHook(&passwordHook{srv: srv, users: users, rights: rights, prefix: strings.TrimSuffix(cfg.Prefix, "/") + "/"}, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("transport: broker auth: %w", err)
	}
	sh := newSessionHook(srv, cfg.OnPublish, logger)
	if err := srv.AddHook(sh, nil); err != nil {
		return nil, fmt.Errorf("transport: broker session hook: %w", err)
	}
	if cfg.TLS != nil && len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetCertificate == nil {
		return nil, errors.New("transport: broker TLS config has no certificate")
	}
	raw, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("transport: broker listen on %s: %w", cfg.Listen, err)
	}
	ln := &trackingListener{Listener: raw, conns: map[*trackedConn]struct{}{}}
	var served net.Listener = ln
	if cfg.TLS != nil {
		served = tls.NewListener(ln, cfg.TLS)
	}
	if err := srv.AddListener(listeners.NewNet("tcp", served)); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("transport: broker listen on %s: %w", cfg.Listen, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("transport: broker serve: %w", err)
	}
	bctx, stop := context.WithCancel(ctx)
	b := &Broker{srv: srv, ln: ln, done: make(chan struct{}), stop: stop, tls: cfg.TLS != nil, gate: &sh.gate}
	go func() {
		<-bctx.Done()
		b.shutdown()
	}()
	return b, nil
}

// Addr is the address the broker listens on, host:port (the real port when
// Listen asked for port 0).
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// URL is the broker's client URL, "mqtt://host:port" ("mqtts://host:port"
// with TLS).
func (b *Broker) URL() string {
	if b.tls {
		return "mqtts://" + b.Addr()
	}
	return "mqtt://" + b.Addr()
}

// Done is closed once the broker has stopped.
func (b *Broker) Done() <-chan struct{} { return b.done }

// Dropped is the number of QoS 1/2 messages the broker dropped because a
// subscriber's queue was full (0 in a healthy run).
func (b *Broker) Dropped() int64 {
	return atomic.LoadInt64(&b.srv.Info.MessagesDropped) + atomic.LoadInt64(&b.srv.Info.InflightDropped)
}

// Close stops the broker and disconnects every client (their last wills
// are not published: the broker is shutting down, not the clients failing).
func (b *Broker) Close() error {
	b.stop()
	<-b.done
	return nil
}

func (b *Broker) shutdown() {
	b.closeOnce.Do(func() {
		b.gate.close() // nothing may wait on it while mochi waits for its clients
		// Stop accepting first (mochi closes its listener after the
		// clients, so a client could reconnect in between and keep Close
		// waiting for it), then disconnect the clients ourselves: mochi
		// v2.7.9's own closer (Clients.GetByListener) takes the clients'
		// read lock twice, which deadlocks Close when a session ends
		// (Clients.Delete) in between; its listener then does not call its
		// closer again. Connections accepted but not yet registered as
		// clients are closed last.
		_ = b.ln.Listener.Close()
		b.srv.Listeners.CloseAll(func(listener string) {
			for _, cl := range b.srv.Clients.GetAll() {
				if cl.Net.Listener == listener && !cl.Closed() {
					_ = b.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
				}
			}
			b.ln.closeAll()
		})
		_ = b.srv.Close()
		close(b.done)
	})
}

// RunBroker runs an embedded broker until ctx is cancelled: the function
// behind `lockstep broker`. ready, if not nil, is called with the started
// broker (to print its URL).
func RunBroker(ctx context.Context, cfg BrokerConfig, ready func(*Broker)) error {
	b, err := StartBroker(ctx, cfg)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(b)
	}
	<-b.Done()
	return nil
}

// UsersFile is what LoadUsersFile read: the users and, if the file has
// role lines, their grants (nil otherwise).
type UsersFile struct {
	Users  map[string]string
	Grants map[string][]Grant
}

// LoadUsersFile reads broker users and their roles from a file, so that
// passwords stay off the command line. Blank lines and lines starting with
// # are ignored; a line is either a user, "username:password" (the
// password is everything after the first colon), or a role, "role USER
// ROLE [ID]", ROLE one of twin, production, device (with the node or
// device id) or all. A file without role lines lets every user use every
// topic, as before roles existed; with one, a user may do only what its
// role lines allow. Errors name the file and line, never a password.
func LoadUsersFile(path string) (UsersFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return UsersFile{}, fmt.Errorf("transport: users file: %w", err)
	}
	f := UsersFile{Users: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if fields := strings.Fields(line); fields[0] == "role" {
			if len(fields) < 3 || len(fields) > 4 {
				return UsersFile{}, fmt.Errorf("transport: users file %s line %d: want role USER ROLE [ID]", path, n)
			}
			g := Grant{Role: Role(fields[2])}
			if len(fields) == 4 {
				g.ID = fields[3]
			}
			if f.Grants == nil {
				f.Grants = map[string][]Grant{}
			}
			f.Grants[fields[1]] = append(f.Grants[fields[1]], g)
			continue
		}
		u, p, ok := strings.Cut(line, ":")
		if !ok || u == "" || p == "" {
			return UsersFile{}, fmt.Errorf("transport: users file %s line %d: want username:password or role USER ROLE [ID]", path, n)
		}
		if _, dup := f.Users[u]; dup {
			return UsersFile{}, fmt.Errorf("transport: users file %s line %d: duplicate user %q", path, n, u)
		}
		f.Users[u] = p
	}
	if err := sc.Err(); err != nil {
		return UsersFile{}, fmt.Errorf("transport: users file %s: %w", path, err)
	}
	if _, err := compileGrants(wire.DefaultPrefix, f.Users, f.Grants); err != nil {
		return UsersFile{}, fmt.Errorf("transport: users file %s: %w", path, err)
	}
	return f, nil
}

// IsLoopbackHost reports whether host (of a listen address) is "localhost"
// or a loopback IP: the addresses where the broker allows anonymous
// clients.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// trackingListener remembers the connections it accepted that are still
// open, so that shutdown can close even those mochi has not registered as
// clients yet.
type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every open accepted connection, and any accepted later.
func (l *trackingListener) closeAll() {
	l.mu.Lock()
	l.closed = true
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l *trackingListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
