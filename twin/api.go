package twin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
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

// CheckBind refuses a non-loopback listen address without a token.
func CheckBind(addr, token string) error {
	if !isLoopback(addr) && token == "" {
		return ErrTokenRequired
	}
	return nil
}

// APIConfig configures the HTTP API.
type APIConfig struct {
	// Token, if set, is required as "Authorization: Bearer <token>" on every
	// path except /healthz and /readyz. It is never logged.
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
	anomalyRoutes(mux, t)
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"clock": t.Clock().String(), "counters": t.Counters(), "gaps": t.Gaps()})
	})
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	return auth(cfg.Token, log, mux)
}

// anomalyRoutes serves /v1/anomalies: the accepted messages about labels
// the twin never saw ordered, with their ids (the newest QuarantineMax;
// by_reason counts all).
func anomalyRoutes(mux *http.ServeMux, t *Twin) {
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

func auth(token string, log *slog.Logger, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" {
			next.ServeHTTP(w, req)
			return
		}
		got := []byte(req.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
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
