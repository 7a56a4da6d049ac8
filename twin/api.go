package twin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// ErrTokenRequired is returned by CheckBind for a non-loopback address
// without a token.
var ErrTokenRequired = errors.New("twin: binding the HTTP API to a non-loopback address requires a bearer token (--token or LOCKSTEP_TWIN_TOKEN)")

// isLoopback reports whether the listen address host:port binds loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MinTokenLen is the length, in bytes, of the shortest token the API
// accepts (CheckToken).
const MinTokenLen = 16

// ErrTokenTooShort is returned by CheckToken for a token shorter than
// MinTokenLen.
var ErrTokenTooShort = fmt.Errorf("twin: the HTTP API token (--token or LOCKSTEP_TWIN_TOKEN) must be at least %d bytes", MinTokenLen)

// CheckToken refuses a token shorter than MinTokenLen ("" is no token).
// The error never holds the token.
func CheckToken(token string) error {
	if token != "" && len(token) < MinTokenLen {
		return ErrTokenTooShort
	}
	return nil
}

// CheckBind refuses a non-loopback listen address without a token.
func CheckBind(addr, token string) error {
	if !isLoopback(addr) && token == "" {
		return ErrTokenRequired
	}
	return nil
}

// APIConfig configures the HTTP API.
type APIConfig struct {
	// Token, if set, is required on every path except /healthz, /readyz and
	// the ops page's login (/ui/login): as "Authorization: Bearer <token>"
	// (the scheme in any case), or as the session cookie /ui/login sets in
	// exchange for it. It is never logged.
	Token   string
	Logger  *slog.Logger
	Metrics *Metrics
	// TLS marks the session cookie Secure (the API is served over TLS).
	TLS bool
	// Stream configures the event stream (/v1/events) the ops page reads.
	Stream StreamConfig
	// Done, when closed, ends the open event streams (the server shuts
	// down; they would otherwise hold it open).
	Done <-chan struct{}
}

// Handler returns the twin's HTTP API.
func (r *Runner) Handler(cfg APIConfig) http.Handler {
	h, _ := r.handler(cfg)
	return h
}

// handler is Handler and the patterns it serves (every endpoint needs an
// entry in docs/api/openapi.yaml; a test checks).
func (r *Runner) handler(cfg APIConfig) (http.Handler, []string) {
	t := r.Twin
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := &routes{ServeMux: http.NewServeMux()}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.Ready() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
		writeJSON(w, 200, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /v1/labels/{id}", func(w http.ResponseWriter, req *http.Request) {
		v, ok := t.Label(req.PathValue("id"))
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown label"})
			return
		}
		writeJSON(w, 200, v)
	})
	tokenRoute(mux, t)
	mux.HandleFunc("GET /v1/nodes", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, t.Nodes()) })
	mux.HandleFunc("GET /v1/divergences", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		f := Filter{Kind: q.Get("kind"), Node: q.Get("node")}
		if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "kind: want one of " + strings.Join(Kinds, ", ")})
			return
		}
		for _, p := range []struct {
			name string
			dst  *model.Instant
		}{{"since", &f.Since}, {"until", &f.Until}} {
			if s := q.Get(p.name); s != "" {
				at, err := parseWhen(s)
				if err != nil {
					writeJSON(w, http.StatusBadRequest, map[string]string{"error": p.name + ": want RFC 3339"})
					return
				}
				*p.dst = at
			}
		}
		ds := t.Divergences(f)
		writeJSON(w, 200, map[string]any{"count": len(ds), "divergences": ds})
	})
	mux.HandleFunc("GET /v1/quarantine", func(w http.ResponseWriter, _ *http.Request) {
		qs := t.Quarantine()
		writeJSON(w, 200, map[string]any{"count": len(qs), "by_reason": t.Counters().Quarantined, "messages": qs})
	})
	anomalyRoutes(mux, t)
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"clock": t.Clock().String(), "counters": t.Counters(), "gaps": t.Gaps()})
	})
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
		register(cfg.Metrics.Registry, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lockstep_twin_ready",
			Help: "1 when the twin is ready (/readyz: journal restored, feed subscribed or replaying), else 0."},
			func() float64 {
				if r.Ready() {
					return 1
				}
				return 0
			}))
	}
	a := newAuth(cfg.Token, cfg.TLS, log)
	r.uiRoutes(mux, cfg, a, log)
	return a.wrap(mux), mux.patterns
}

// routes is a ServeMux that records the patterns registered on it.
type routes struct {
	*http.ServeMux
	patterns []string
}

func (m *routes) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routes) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// anomalyRoutes serves /v1/anomalies: the accepted messages about labels
// the twin never saw ordered, with their ids (the newest QuarantineMax;
// by_reason counts all).
func anomalyRoutes(mux *routes, t *Twin) {
	mux.HandleFunc("GET /v1/anomalies", func(w http.ResponseWriter, _ *http.Request) {
		as := t.Anomalies()
		writeJSON(w, 200, map[string]any{"count": len(as), "by_reason": t.Counters().Anomalies, "anomalies": as})
	})
}

func parseWhen(s string) (model.Instant, error) {
	if at, err := wire.ParseInstant(s); err == nil {
		return at, nil
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return model.InstantOf(tm), nil
}

// sessionCookie is the cookie /ui/login sets in exchange for the token:
// an EventSource cannot send an Authorization header.
const sessionCookie = "lockstep_twin_session"

// sessionTTL is how long a session cookie is valid.
const sessionTTL = 12 * time.Hour

// auth checks the API's credentials: the bearer token, or a session cookie
// derived from it. A nil *auth (no token configured) lets everything in.
type auth struct {
	sum    [32]byte // SHA-256 of the token: compared in constant time, whatever the lengths
	key    []byte   // HMAC key of the session cookies
	secure bool     // Secure cookies (TLS)
	log    *slog.Logger
	now    func() time.Time
}

func newAuth(token string, secure bool, log *slog.Logger) *auth {
	if token == "" {
		return nil
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("lockstep twin session key v1"))
	return &auth{sum: sha256.Sum256([]byte(token)), key: mac.Sum(nil), secure: secure, log: log, now: time.Now}
}

// public paths need no credentials: the probes, and the login that hands
// out the session cookie.
func public(path string) bool { return path == "/healthz" || path == "/readyz" || path == "/ui/login" }

// valid reports whether token is the API's token (in constant time).
func (a *auth) valid(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], a.sum[:]) == 1
}

// bearer returns the credentials of an "Authorization: Bearer <token>"
// header. The scheme is case-insensitive (RFC 7235 section 2.1, RFC 6750).
func bearer(header string) (string, bool) {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimLeft(cred, " ")
	return cred, cred != ""
}

// authorized reports whether req carries the token or a valid session.
func (a *auth) authorized(req *http.Request) bool {
	if a == nil {
		return true
	}
	if tok, ok := bearer(req.Header.Get("Authorization")); ok {
		return a.valid(tok)
	}
	c, err := req.Cookie(sessionCookie)
	return err == nil && a.session(c.Value)
}

// newSession is a session cookie valid for sessionTTL:
// "<expiry unix seconds>.<HMAC of it>" (it does not hold the token).
func (a *auth) newSession() *http.Cookie {
	exp := strconv.FormatInt(a.now().Add(sessionTTL).Unix(), 10)
	return &http.Cookie{Name: sessionCookie, Value: exp + "." + a.sign(exp), Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode}
}

func (a *auth) sign(exp string) string {
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(exp))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// session reports whether v is a session cookie this API issued and has
// not expired.
func (a *auth) session(v string) bool {
	exp, sig, ok := strings.Cut(v, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(a.sign(exp))) {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && a.now().Unix() < unix
}

// wrap lets authorized requests (and public paths) through to next. An
// unauthorized request for the ops page gets its login form; any other,
// a 401.
func (a *auth) wrap(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if public(req.URL.Path) || a.authorized(req) {
			next.ServeHTTP(w, req)
			return
		}
		a.log.Warn("api: unauthorized", "path", req.URL.Path, "remote", req.RemoteAddr) // never the header, cookie or query
		if req.URL.Path == "/ui" {
			a.login(w, req)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="lockstep-twin"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
