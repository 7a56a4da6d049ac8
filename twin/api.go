package twin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

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
	// Token, if set, is required as "Authorization: Bearer <token>" (the
	// scheme in any case) on every path except /healthz and /readyz. It is
	// never logged.
	Token   string
	Logger  *slog.Logger
	Metrics *Metrics
}

// Handler returns the twin's HTTP API.
func (r *Runner) Handler(cfg APIConfig) http.Handler {
	t := r.Twin
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
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
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"clock": t.Clock().String(), "counters": t.Counters(), "gaps": t.Gaps()})
	})
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	return auth(cfg.Token, log, mux)
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

func auth(token string, log *slog.Logger, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token)) // compared in constant time, whatever the lengths
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" {
			next.ServeHTTP(w, req)
			return
		}
		got, ok := bearer(req.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			log.Warn("api: unauthorized", "path", req.URL.Path, "remote", req.RemoteAddr) // never the header
			w.Header().Set("WWW-Authenticate", `Bearer realm="lockstep-twin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		next.ServeHTTP(w, req)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
