package transport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

// DefaultSessionExpiry is how long the broker keeps a client's session
// (subscriptions and the QoS 1 messages queued for it) after its connection
// drops, unless ClientConfig.SessionExpiry says otherwise.
const DefaultSessionExpiry = time.Hour

// Message is one MQTT application message.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool // on receipt: delivered from the broker's retained store
}

// ClientConfig configures Dial.
type ClientConfig struct {
	// URL of the broker: "mqtt://host[:1883]" (also tcp://), or
	// "mqtts://host[:8883]" (also tls://, ssl://) for TLS. Credentials may
	// be given as userinfo ("mqtt://user:pass@host:port"); Username and
	// Password take precedence. The password is never logged.
	URL string
	// ClientID identifies the session at the broker. With a stable id
	// (ClientIDForPath) a client that reconnects, or a new process after a
	// crash, resumes the session and receives what the broker queued for
	// it meanwhile. "" generates a random id: a session nobody else can
	// resume, which Close ends at the broker. See ValidClientID.
	ClientID string
	// CleanStart discards the session the broker holds for ClientID on the
	// first connection (and what it queued). Reconnections always resume.
	CleanStart bool
	// Username and Password authenticate the client; LoadCredentials
	// reads them from a file or an environment variable, so that they
	// stay out of the URL (which shows in ps).
	Username string
	Password string
	// CAFile is a PEM file of CAs to trust for TLS (default: system roots).
	CAFile string
	// InsecureSkipVerify disables TLS certificate verification (tests only).
	InsecureSkipVerify bool
	// Will is published by the broker if the connection drops without a
	// clean disconnect (or after CloseWithWill).
	Will *Message
	// KeepAlive is the MQTT keep-alive (default 30s).
	KeepAlive time.Duration
	// SessionExpiry is how long the broker keeps the session (subscriptions
	// and queued QoS 1 messages) after the connection drops (default
	// DefaultSessionExpiry, 1h; rounded down to seconds; negative: the
	// session ends with the connection).
	SessionExpiry time.Duration
	// Subscriptions are in place before the first connection: when the
	// broker resumes a session it sends the queued messages right after
	// CONNACK, and a message that finds no handler is acknowledged and
	// dropped (counted by Unrouted). Dial subscribes them and fails if the
	// broker refuses one.
	Subscriptions []Subscription
	// ReconnectDelay is the wait between connection attempts (default 1s).
	ReconnectDelay time.Duration
	// Logger receives connection events (URL without password). Nil discards.
	Logger *slog.Logger
}

// Subscription is a topic filter (possibly "$share/{group}/{filter}") and
// the handler of the messages that match it.
type Subscription struct {
	Filter string
	QoS    byte
	// Handler is called for every message matching Filter, one message at
	// a time in delivery order, on the client's receive goroutine. A QoS 1
	// message is acknowledged (PUBACK) only after Handler returned nil, so
	// a handler that stores the message before returning never has an
	// acknowledged message it did not store. When Handler returns an
	// error the message is not acknowledged, nor is any later one on that
	// connection: the client drops the connection (without DISCONNECT),
	// reconnects after ReconnectDelay and the broker sends the
	// unacknowledged messages again, from the failed one on, to Handler.
	Handler func(Message) error
}

// Client is an MQTT 5 client that reconnects on its own (autopaho) and
// subscribes again after a reconnect that did not resume its session.
type Client struct {
	cm        *autopaho.ConnectionManager
	log       *slog.Logger
	cancel    context.CancelFunc
	id        string
	ephemeral bool // random id: Close ends the session

	mu     sync.RWMutex
	routes []route
	nextID int

	// The current network connection and its number: a connection is
	// opened only after the previous one's deliveries have all returned
	// (autopaho waits for paho's workers), so dispatch always runs for
	// the connection numbered gen.
	connMu    sync.Mutex
	conn      net.Conn
	gen       atomic.Uint64
	failedGen atomic.Uint64 // a handler failed on this connection: deliver nothing more on it
	killed    bool          // under connMu; set by tests to simulate a crash: no more deliveries, no reconnect
	unrouted  atomic.Int64
	resumed   atomic.Bool

	// session is cancelled when a reconnection finds that the broker no
	// longer has our session (a restarted broker): publishes waiting for
	// a PUBACK on the old connection will not get one and are resent.
	smu     sync.Mutex
	session context.Context
	endSess context.CancelFunc

	willOnClose bool
	wmu         sync.Mutex
}

type route struct {
	id     int    // MQTT 5 subscription identifier
	filter string // as subscribed, possibly $share/group/...
	match  string // filter without the $share/group/ prefix
	qos    byte
	fn     func(Message) error
}

// ParseURL parses a broker URL, returning it without userinfo, plus the
// credentials it carried.
func ParseURL(raw string) (u *url.URL, user, pass string, err error) {
	u, err = url.Parse(raw)
	if err != nil {
		return nil, "", "", fmt.Errorf("transport: broker URL: %w", redactErr(err, raw))
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
		u.User = nil
	}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp":
		u.Scheme, port = "mqtt", "1883"
	case "mqtts", "tls", "ssl":
		u.Scheme, port = "tls", "8883"
	default:
		return nil, "", "", fmt.Errorf("transport: broker URL %s: scheme must be mqtt, tcp, mqtts, tls or ssl", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, "", "", fmt.Errorf("transport: broker URL %s: no host", u.Redacted())
	}
	if u.Port() == "" {
		u.Host += ":" + port
	}
	return u, user, pass, nil
}

// redactErr keeps a *url.Error from echoing a password.
func redactErr(err error, raw string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("invalid URL: " + ue.Err.Error())
	}
	return err
}

// Dial connects to the broker and returns once the first connection is up
// and cfg.Subscriptions are subscribed. It fails fast when the broker
// refuses the connection (bad credentials, for instance), its TLS
// certificate does not verify (wrong CA or host name) or it refuses a
// subscription, and otherwise retries until ctx is done. ctx bounds only
// the dial; the client lives until Close.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	u, user, pass, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Username != "" || cfg.Password != "" {
		user, pass = cfg.Username, cfg.Password
	}
	ephemeral := cfg.ClientID == ""
	if ephemeral {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.ClientID = "lockstep-" + hex.EncodeToString(b[:])
	} else if err := ValidClientID(cfg.ClientID); err != nil {
		return nil, fmt.Errorf("transport: client id %q: %w", cfg.ClientID, err)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.KeepAlive, 30*time.Second)
	def(&cfg.ReconnectDelay, time.Second)
	if cfg.SessionExpiry == 0 {
		cfg.SessionExpiry = DefaultSessionExpiry
	}
	expiry := uint32(min(max(cfg.SessionExpiry, 0)/time.Second, 1<<32-1))
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("broker", u.Redacted(), "client_id", cfg.ClientID)

	var tlsCfg *tls.Config
	if u.Scheme == "tls" {
		tlsCfg = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("transport: CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("transport: CA file %s holds no PEM certificate", cfg.CAFile)
			}
			tlsCfg.RootCAs = pool
		}
	}

	c := &Client{log: logger, id: cfg.ClientID, ephemeral: ephemeral}
	c.session, c.endSess = context.WithCancel(context.Background())
	for _, s := range cfg.Subscriptions {
		if _, err := c.addRoute(s); err != nil {
			return nil, err
		}
	}
	up := make(chan struct{}, 1)
	refused := make(chan error, 1)
	first := true
	pc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        tlsCfg,
		KeepAlive:                     uint16(min(cfg.KeepAlive/time.Second, 65535)),
		CleanStartOnInitialConnection: cfg.CleanStart || ephemeral,
		SessionExpiryInterval:         expiry,
		ReconnectBackoff: func(attempt int) time.Duration {
			if attempt == 0 && first {
				return 0
			}
			return cfg.ReconnectDelay
		},
		ConnectTimeout:    10 * time.Second,
		ConnectUsername:   user,
		ConnectPassword:   []byte(pass),
		AttemptConnection: c.attemptConnection(tlsCfg),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ack *paho.Connack) {
			logger.Info("mqtt connected", "session_present", ack.SessionPresent)
			if first {
				c.resumed.Store(ack.SessionPresent)
			}
			select {
			case up <- struct{}{}:
			default:
			}
			if !first { // Dial subscribes on the first connection
				if !ack.SessionPresent {
					c.smu.Lock()
					c.endSess()
					c.session, c.endSess = context.WithCancel(context.Background())
					c.smu.Unlock()
				}
				go c.resubscribe(cm, ack.SessionPresent)
			}
			first = false
		},
		OnConnectionDown: func() bool {
			if c.isKilled() {
				return false
			}
			logger.Warn("mqtt connection lost; reconnecting")
			return true
		},
		OnConnectError: func(err error) {
			logger.Warn("mqtt connect failed", "err", err)
			var ce *autopaho.ConnackError
			var ve *tls.CertificateVerificationError
			var fatal error
			switch {
			case errors.As(err, &ce):
				fatal = fmt.Errorf("transport: broker %s refused connection: reason 0x%02x %s", u.Redacted(), ce.ReasonCode, ce.Reason)
			case errors.As(err, &ve):
				fatal = fmt.Errorf("transport: broker %s: TLS certificate not trusted (check CAFile): %w", u.Redacted(), ve)
			}
			if fatal != nil {
				select {
				case refused <- fatal:
				default:
				}
			}
		},
		DisconnectPacketBuilder: func() *paho.Disconnect {
			c.wmu.Lock()
			defer c.wmu.Unlock()
			d := &paho.Disconnect{ReasonCode: 0}
			if c.willOnClose {
				d.ReasonCode = 0x04 // disconnect with will message
			}
			if c.ephemeral && expiry > 0 {
				// nobody can resume a random id's session: end it now
				// rather than let the broker queue for it until it expires
				zero := uint32(0)
				d.Properties = &paho.DisconnectProperties{SessionExpiryInterval: &zero}
			}
			return d
		},
		ClientConfig: paho.ClientConfig{
			ClientID:          cfg.ClientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){c.dispatch},
		},
	}
	if w := cfg.Will; w != nil {
		pc.WillMessage = &paho.WillMessage{Topic: w.Topic, Payload: w.Payload, QoS: w.QoS, Retain: w.Retain}
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	cm, err := autopaho.NewConnection(lctx, pc)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("transport: %w", err)
	}
	c.cm = cm
	fail := func(err error) (*Client, error) {
		cancel()
		<-cm.Done()
		return nil, err
	}
	select {
	case <-up:
	case err := <-refused:
		return fail(err)
	case <-ctx.Done():
		return fail(fmt.Errorf("transport: connect to %s: %w", u.Redacted(), ctx.Err()))
	}
	c.mu.RLock()
	routes := append([]route(nil), c.routes...)
	c.mu.RUnlock()
	for _, r := range routes {
		if err := c.subscribeRoute(ctx, r); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// attemptConnection dials the broker (TCP, TLS over TCP) and records the
// connection, so that a failed handler can drop it before the automatic
// PUBACK is written.
func (c *Client) attemptConnection(tlsCfg *tls.Config) func(context.Context, autopaho.ClientConfig, *url.URL) (net.Conn, error) {
	return func(ctx context.Context, _ autopaho.ClientConfig, u *url.URL) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var conn net.Conn
		var err error
		if tlsCfg != nil {
			d := tls.Dialer{Config: tlsCfg}
			conn, err = d.DialContext(ctx, "tcp", u.Host)
			if err == nil { // as autopaho does: a tls.Conn's writes need the lock
				conn = packets.NewThreadSafeConn(conn)
			}
		} else {
			// the bare *net.TCPConn, as autopaho uses it: paho writes a
			// PUBLISH as net.Buffers, one writev on a TCPConn but one write
			// per buffer through a wrapper (15% more CPU in BenchmarkBroker)
			var d net.Dialer
			conn, err = d.DialContext(ctx, "tcp", u.Host)
		}
		if err != nil {
			return nil, err
		}
		c.connMu.Lock()
		c.conn = conn
		c.gen.Add(1)
		c.connMu.Unlock()
		return conn, nil
	}
}

// dropConnection closes the current network connection without a
// DISCONNECT, as a crash would; autopaho reconnects unless killed.
func (c *Client) dropConnection() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.conn != nil {
		_ = c.conn.Close()
	}
}

// isKilled reports whether kill (tests) closed the connection for good; once
// true, the connection is already closed, so no PUBACK can follow.
func (c *Client) isKilled() bool {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.killed
}

// ClientID is the client identifier the client connects with.
func (c *Client) ClientID() string { return c.id }

// Resumed reports whether the broker resumed a session on the first
// connection (CONNACK session present): what it had queued for ClientID
// is being delivered.
func (c *Client) Resumed() bool { return c.resumed.Load() }

// Unrouted is the number of messages that arrived for no handler (for
// instance from a subscription a resumed session kept from an earlier run
// that this run no longer makes); they were acknowledged and dropped.
func (c *Client) Unrouted() int64 { return c.unrouted.Load() }

// Publish sends one message and, for QoS 1, waits for the broker's
// acknowledgement: it returns nil only on a successful PUBACK. While the
// connection is down it waits for the reconnection and retries, as it
// does when the broker answers with a transient failure (0x80 unspecified
// error, 0x83 implementation specific error, 0x97 quota exceeded), until
// ctx is done; so a message may reach the broker twice (at least once:
// receivers de-duplicate by msg_id). A permanent refusal (0x87 not
// authorized, for instance) is returned at once.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if topic == "" || strings.ContainsAny(topic, "+#") {
		return fmt.Errorf("transport: publish: invalid topic %q", topic)
	}
	p := &paho.Publish{Topic: topic, Payload: payload, QoS: qos, Retain: retain}
	for {
		if err := c.cm.AwaitConnection(ctx); err != nil {
			return fmt.Errorf("transport: publish %s: %w", topic, err)
		}
		resp, err := c.publishOnce(ctx, p)
		switch {
		case resp != nil && resp.ReasonCode >= 0x80:
			rc := resp.ReasonCode
			err = fmt.Errorf("transport: publish %s: broker reason 0x%02x%s%s", topic, rc, reasonName(rc), reasonString(resp.Properties))
			if !transientReason(rc) {
				return err
			}
		case err == nil:
			return nil
		case errors.Is(err, paho.ErrInvalidArguments) || ctx.Err() != nil:
			return fmt.Errorf("transport: publish %s: %w", topic, err)
		}
		c.log.Debug("publish failed; retrying", "topic", topic, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("transport: publish %s: %w", topic, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// publishOnce sends p and waits for its acknowledgement, or until the
// broker turns out to have lost our session (paho would wait for the
// PUBACK until its 10 s packet timeout; with the session kept, paho
// resends p itself and the PUBACK comes).
func (c *Client) publishOnce(ctx context.Context, p *paho.Publish) (*paho.PublishResponse, error) {
	c.smu.Lock()
	sess := c.session
	c.smu.Unlock()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(sess, cancel)
	defer stop()
	resp, err := c.cm.Publish(pctx, p)
	if err != nil && sess.Err() != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("the broker lost the session: %w", err)
	}
	return resp, err
}

// Reason codes this package names (MQTT 5, 2.4).
const (
	reasonUnspecified    byte = 0x80
	reasonImplementation byte = 0x83
	reasonNotAuthorized  byte = 0x87
	reasonIDInUse        byte = 0x91
	reasonQuotaExceeded  byte = 0x97
)

// transientReason reports whether a negative PUBACK may succeed when
// retried.
func transientReason(rc byte) bool {
	return rc == reasonUnspecified || rc == reasonImplementation || rc == reasonQuotaExceeded
}

func reasonName(rc byte) string {
	switch rc {
	case reasonUnspecified:
		return " (unspecified error)"
	case reasonImplementation:
		return " (implementation specific error)"
	case reasonNotAuthorized:
		return " (not authorized)"
	case 0x90:
		return " (topic name invalid)"
	case reasonIDInUse:
		return " (packet identifier in use)"
	case reasonQuotaExceeded:
		return " (quota exceeded)"
	}
	return ""
}

func reasonString(p *paho.PublishResponseProperties) string {
	if p == nil || p.ReasonString == "" {
		return ""
	}
	return ": " + p.ReasonString
}

// Subscribe subscribes to filter and calls handler for every message whose
// topic matches it, in the order the broker delivers them, on the client's
// receive goroutine (a slow handler slows delivery; it must not call
// Subscribe). A QoS 1 message is acknowledged once handler returns (use
// SubscribeTo for a handler that can refuse a message). Shared
// subscriptions ("$share/{group}/{filter}") work as plain filters. Filters
// of one Client must not overlap (brokers differ in how they deliver a
// message matching two subscriptions of one session), so Subscribe rejects
// a filter that some topic could match together with an earlier one; use
// another Client instead. The subscription is renewed after every
// reconnect that did not resume the session.
func (c *Client) Subscribe(ctx context.Context, filter string, qos byte, handler func(Message)) error {
	return c.SubscribeTo(ctx, Subscription{Filter: filter, QoS: qos, Handler: func(m Message) error {
		handler(m)
		return nil
	}})
}

// SubscribeTo adds a subscription after Dial; see Subscription for when a
// message is acknowledged. With a resumed session, prefer
// ClientConfig.Subscriptions: messages the broker queued arrive right after
// the connection is up, before SubscribeTo can register a handler.
func (c *Client) SubscribeTo(ctx context.Context, s Subscription) error {
	r, err := c.addRoute(s)
	if err != nil {
		return err
	}
	for {
		if err := c.cm.AwaitConnection(ctx); err != nil {
			return fmt.Errorf("transport: subscribe %q: %w", s.Filter, err)
		}
		err := c.subscribeRoute(ctx, r)
		if err == nil || ctx.Err() != nil || !errors.Is(err, autopaho.ConnectionDownError) {
			return err
		}
	}
}

// addRoute validates s and registers its handler.
func (c *Client) addRoute(s Subscription) (route, error) {
	filter := s.Filter
	match := filter
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		_, f, ok := strings.Cut(rest, "/")
		if !ok || f == "" {
			return route{}, fmt.Errorf("transport: subscribe: invalid shared subscription %q", filter)
		}
		match = f
	}
	if err := validFilter(match); err != nil {
		return route{}, fmt.Errorf("transport: subscribe %q: %w", filter, err)
	}
	if s.Handler == nil {
		return route{}, fmt.Errorf("transport: subscribe %q: no handler", filter)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.routes {
		if filtersOverlap(o.match, match) {
			return route{}, fmt.Errorf("transport: subscribe %q overlaps %q on the same client", filter, o.filter)
		}
	}
	c.nextID++
	r := route{id: c.nextID, filter: filter, match: match, qos: s.QoS, fn: s.Handler}
	c.routes = append(c.routes, r)
	return r, nil
}

func (c *Client) subscribeRoute(ctx context.Context, r route) error {
	// RetainHandling 1: retained messages only when the subscription is
	// new, so a renewed subscription does not replay them. The
	// subscription identifier routes each delivery to its own handler.
	id := r.id
	for {
		ack, err := c.cm.Subscribe(ctx, &paho.Subscribe{
			Properties:    &paho.SubscribeProperties{SubscriptionIdentifier: &id},
			Subscriptions: []paho.SubscribeOptions{{Topic: r.filter, QoS: r.qos, RetainHandling: 1}},
		})
		var rc byte
		if ack != nil && len(ack.Reasons) > 0 {
			rc = ack.Reasons[0]
		}
		switch {
		case rc == reasonIDInUse:
			// mochi-mqtt v2.7.9 checks a SUBSCRIBE's packet id against
			// the ids of its own in-flight messages to us (a resumed
			// session's queue): paho's next SUBSCRIBE takes the next id
			select {
			case <-ctx.Done():
				return fmt.Errorf("transport: subscribe %q: %w", r.filter, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
			continue
		case rc >= 0x80:
			return fmt.Errorf("transport: subscribe %q: broker reason 0x%02x%s", r.filter, rc, reasonName(rc))
		case err != nil:
			return fmt.Errorf("transport: subscribe %q: %w", r.filter, err)
		}
		return nil
	}
}

func (c *Client) resubscribe(cm *autopaho.ConnectionManager, sessionPresent bool) {
	if sessionPresent {
		return // the broker kept our subscriptions
	}
	c.mu.RLock()
	routes := append([]route(nil), c.routes...)
	c.mu.RUnlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, r := range routes {
		if err := c.subscribeRoute(ctx, r); err != nil {
			c.log.Error("resubscribe failed", "filter", r.filter, "err", err)
		}
	}
}

// dispatch hands a received PUBLISH to its handler. paho writes the PUBACK
// after dispatch returns, whatever it returns (checked in paho v0.23.0:
// Client.routePublishPackets acks once every OnPublishReceived callback has
// returned, unless EnableManualAcknowledgment, whose acks go out on a
// timer and starve brokers with small in-flight windows). So a failed
// handler closes the network connection first: the PUBACK write then
// fails, the broker still holds the message, and every later delivery on
// that connection is skipped (PUBACKs go in order; the broker resends
// them all after the reconnect).
func (c *Client) dispatch(pr paho.PublishReceived) (bool, error) {
	gen := c.gen.Load()
	if gen != 0 && c.failedGen.Load() == gen || c.isKilled() {
		return true, nil
	}
	p := pr.Packet
	msg := Message{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
	c.mu.RLock()
	var fn func(Message) error
	if p.Properties != nil && p.Properties.SubscriptionIdentifier != nil {
		id := *p.Properties.SubscriptionIdentifier
		for _, r := range c.routes {
			if r.id == id {
				fn = r.fn
				break
			}
		}
	}
	if fn == nil { // no (known) identifier: the subscription whose filter matches
		for _, r := range c.routes {
			if MatchTopic(r.match, p.Topic) {
				fn = r.fn
				break
			}
		}
	}
	c.mu.RUnlock()
	if fn == nil {
		if c.unrouted.Add(1) == 1 {
			c.log.Warn("message for no subscription acknowledged and dropped (a resumed session's old subscription?)", "topic", p.Topic)
		}
		return false, nil
	}
	err := fn(msg)
	if err == nil {
		return true, nil
	}
	if p.QoS > 0 {
		c.failedGen.Store(gen)
		c.dropConnection()
		c.log.Warn("handler failed: message not acknowledged; reconnecting for redelivery", "topic", p.Topic, "err", err)
	} else {
		c.log.Warn("handler failed on a QoS 0 message (dropped)", "topic", p.Topic, "err", err)
	}
	return true, err
}

// Close disconnects cleanly: the broker discards the will.
func (c *Client) Close() error { return c.close(false) }

// CloseWithWill disconnects with reason 0x04, asking the broker to publish
// the will as if the connection had dropped (for fault injection).
func (c *Client) CloseWithWill() error { return c.close(true) }

func (c *Client) close(will bool) error {
	c.wmu.Lock()
	c.willOnClose = will
	c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.cm.Disconnect(ctx)
	c.cancel()
	return err
}

// MatchTopic reports whether topic matches the MQTT filter (no $share
// prefix): "+" matches one level, a final "#" any number of levels
// (including none); wildcards do not match topics starting with "$" at the
// first level.
func MatchTopic(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	fs := strings.Split(filter, "/")
	ts := strings.Split(topic, "/")
	for i, f := range fs {
		if f == "#" {
			return true
		}
		if i >= len(ts) {
			return false
		}
		if f != "+" && f != ts[i] {
			return false
		}
	}
	return len(fs) == len(ts)
}

func validFilter(f string) error {
	if f == "" {
		return errors.New("empty filter")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return errors.New("# must be a whole last level")
		}
		if strings.Contains(l, "+") && l != "+" {
			return errors.New("+ must be a whole level")
		}
	}
	return nil
}

// filtersOverlap reports whether some topic matches both filters.
func filtersOverlap(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; ; i++ {
		if i < len(as) && as[i] == "#" || i < len(bs) && bs[i] == "#" {
			return true
		}
		if i == len(as) || i == len(bs) {
			return len(as) == len(bs)
		}
		if as[i] != "+" && bs[i] != "+" && as[i] != bs[i] {
			return false
		}
	}
}

// ClientIDForPath derives a stable client id from a data directory, so
// that a restarted process (same directory) resumes its session: prefix,
// "-" and the first 8 hex digits of the SHA-256 of the directory's
// absolute path (symbolic links resolved when the directory exists), e.g.
// ClientIDForPath("lockstep-twin", "/var/lib/twin") = "lockstep-twin-…"
// (22 characters). Two processes must not share an id: the broker
// disconnects the older connection when the newer one connects.
func ClientIDForPath(prefix, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("transport: client id for %s: %w", dir, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	sum := sha256.Sum256([]byte(abs))
	id := prefix + "-" + hex.EncodeToString(sum[:4])
	if err := ValidClientID(id); err != nil {
		return "", fmt.Errorf("transport: client id prefix %q: %w", prefix, err)
	}
	return id, nil
}

// ValidClientID checks a client id: 1–128 characters of [A-Za-z0-9._:-],
// starting with a letter or digit (the feed's identifier rule, so ids are
// safe in topics, logs and ACLs). MQTT guarantees only 1–23 characters of
// [0-9a-zA-Z]; Mosquitto, EMQX, HiveMQ and mochi-mqtt accept these.
func ValidClientID(id string) error {
	if !wire.ValidID(id) {
		return errors.New("want 1..128 characters of [A-Za-z0-9._:-], starting with a letter or digit")
	}
	return nil
}
