package transport

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

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
	// ClientID identifies the session at the broker; "" generates a random one.
	ClientID string
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
	// and queued QoS 1 messages) across a reconnect (default 5m).
	SessionExpiry time.Duration
	// ReconnectDelay is the wait between connection attempts (default 1s).
	ReconnectDelay time.Duration
	// Logger receives connection events (URL without password). Nil discards.
	Logger *slog.Logger
}

// Client is an MQTT 5 client that reconnects on its own (autopaho) and
// re-subscribes after every reconnect.
type Client struct {
	cm     *autopaho.ConnectionManager
	log    *slog.Logger
	cancel context.CancelFunc

	mu     sync.RWMutex
	subs   []subscription
	nextID int

	willOnClose bool
	wmu         sync.Mutex
}

type subscription struct {
	id     int    // MQTT 5 subscription identifier
	filter string // as subscribed, possibly $share/group/...
	match  string // filter without the $share/group/ prefix
	qos    byte
	fn     func(Message)
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

// Dial connects to the broker and returns once the first connection is up.
// It fails fast when the broker refuses the connection (bad credentials,
// for instance) or its TLS certificate does not verify (wrong CA or host
// name), and otherwise retries until ctx is done. ctx bounds only
// the dial; the client lives until Close.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	u, user, pass, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Username != "" || cfg.Password != "" {
		user, pass = cfg.Username, cfg.Password
	}
	if cfg.ClientID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.ClientID = "lockstep-" + hex.EncodeToString(b[:])
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.KeepAlive, 30*time.Second)
	def(&cfg.SessionExpiry, 5*time.Minute)
	def(&cfg.ReconnectDelay, time.Second)
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

	c := &Client{log: logger}
	up := make(chan struct{}, 1)
	refused := make(chan error, 1)
	first := true
	pc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        tlsCfg,
		KeepAlive:                     uint16(min(cfg.KeepAlive/time.Second, 65535)),
		CleanStartOnInitialConnection: true,
		SessionExpiryInterval:         uint32(cfg.SessionExpiry / time.Second),
		ReconnectBackoff: func(attempt int) time.Duration {
			if attempt == 0 && first {
				return 0
			}
			return cfg.ReconnectDelay
		},
		ConnectTimeout:  10 * time.Second,
		ConnectUsername: user,
		ConnectPassword: []byte(pass),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ack *paho.Connack) {
			logger.Info("mqtt connected", "session_present", ack.SessionPresent)
			select {
			case up <- struct{}{}:
			default:
			}
			if !first { // nothing subscribed before the first connection
				go c.resubscribe(cm, ack.SessionPresent)
			}
			first = false
		},
		OnConnectionDown: func() bool {
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
			if c.willOnClose {
				return &paho.Disconnect{ReasonCode: 0x04} // disconnect with will message
			}
			return &paho.Disconnect{ReasonCode: 0}
		},
		ClientConfig: paho.ClientConfig{
			ClientID:          cfg.ClientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){c.dispatch},
		},
	}
	if user != "" {
		pc.ConnectUsername = user
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
	select {
	case <-up:
		return c, nil
	case err := <-refused:
		cancel()
		<-cm.Done()
		return nil, err
	case <-ctx.Done():
		cancel()
		<-cm.Done()
		return nil, fmt.Errorf("transport: connect to %s: %w", u.Redacted(), ctx.Err())
	}
}

// Publish sends one message and, for QoS 1, waits for the broker's
// acknowledgement. While the connection is down it waits for the
// reconnection and retries until ctx is done, so a message may reach the
// broker twice (at least once: receivers de-duplicate by msg_id).
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if topic == "" || strings.ContainsAny(topic, "+#") {
		return fmt.Errorf("transport: publish: invalid topic %q", topic)
	}
	p := &paho.Publish{Topic: topic, Payload: payload, QoS: qos, Retain: retain}
	for {
		if err := c.cm.AwaitConnection(ctx); err != nil {
			return fmt.Errorf("transport: publish %s: %w", topic, err)
		}
		resp, err := c.cm.Publish(ctx, p)
		if err == nil {
			if resp != nil && resp.ReasonCode >= 0x80 {
				return fmt.Errorf("transport: publish %s: broker reason 0x%02x %s", topic, resp.ReasonCode, reasonString(resp.Properties))
			}
			return nil
		}
		if errors.Is(err, paho.ErrInvalidArguments) || ctx.Err() != nil {
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

func reasonString(p *paho.PublishResponseProperties) string {
	if p == nil {
		return ""
	}
	return p.ReasonString
}

// Subscribe subscribes to filter and calls handler for every message whose
// topic matches it, in the order the broker delivers them, on the client's
// receive goroutine (a slow handler slows delivery; it must not call
// Subscribe). Shared subscriptions ("$share/{group}/{filter}") work as
// plain filters. Filters of one Client must not overlap (brokers differ
// in how they deliver a message matching two subscriptions of one
// session), so Subscribe rejects a filter that some topic could match
// together with an earlier one; use another Client instead. The
// subscription is renewed after every reconnect.
func (c *Client) Subscribe(ctx context.Context, filter string, qos byte, handler func(Message)) error {
	match := filter
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		_, f, ok := strings.Cut(rest, "/")
		if !ok || f == "" {
			return fmt.Errorf("transport: subscribe: invalid shared subscription %q", filter)
		}
		match = f
	}
	if err := validFilter(match); err != nil {
		return fmt.Errorf("transport: subscribe %q: %w", filter, err)
	}
	c.mu.Lock()
	for _, o := range c.subs {
		if filtersOverlap(o.match, match) {
			c.mu.Unlock()
			return fmt.Errorf("transport: subscribe %q overlaps %q on the same client", filter, o.filter)
		}
	}
	c.nextID++
	s := subscription{id: c.nextID, filter: filter, match: match, qos: qos, fn: handler}
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	for {
		if err := c.cm.AwaitConnection(ctx); err != nil {
			return fmt.Errorf("transport: subscribe %q: %w", filter, err)
		}
		err := c.subscribe(ctx, c.cm, s)
		if err == nil || ctx.Err() != nil || !errors.Is(err, autopaho.ConnectionDownError) {
			return err
		}
	}
}

func (c *Client) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, s subscription) error {
	filter := s.filter
	// RetainHandling 1: retained messages only when the subscription is
	// new, so a renewed subscription does not replay them. The
	// subscription identifier routes each delivery to its own handler when
	// filters overlap (the broker then delivers one copy per subscription).
	id := s.id
	ack, err := cm.Subscribe(ctx, &paho.Subscribe{
		Properties:    &paho.SubscribeProperties{SubscriptionIdentifier: &id},
		Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: s.qos, RetainHandling: 1}},
	})
	if err != nil {
		return fmt.Errorf("transport: subscribe %q: %w", filter, err)
	}
	for _, rc := range ack.Reasons {
		if rc >= 0x80 {
			return fmt.Errorf("transport: subscribe %q: broker reason 0x%02x", filter, rc)
		}
	}
	return nil
}

func (c *Client) resubscribe(cm *autopaho.ConnectionManager, sessionPresent bool) {
	if sessionPresent {
		return // the broker kept our subscriptions
	}
	c.mu.RLock()
	subs := append([]subscription(nil), c.subs...)
	c.mu.RUnlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range subs {
		if err := c.subscribe(ctx, cm, s); err != nil {
			c.log.Error("resubscribe failed", "filter", s.filter, "err", err)
		}
	}
}

func (c *Client) dispatch(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	msg := Message{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if p.Properties != nil && p.Properties.SubscriptionIdentifier != nil {
		id := *p.Properties.SubscriptionIdentifier
		for _, s := range c.subs {
			if s.id == id {
				s.fn(msg)
				return true, nil
			}
		}
	}
	// No (known) identifier: every subscription whose filter matches.
	handled := false
	for _, s := range c.subs {
		if MatchTopic(s.match, p.Topic) {
			s.fn(msg)
			handled = true
		}
	}
	return handled, nil
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
