package twin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sync"

	"github.com/lockstep-sim/lockstep/model"
)

// The ops page (/ui) is one HTML document with its style sheet and script
// inline: it loads nothing from anywhere, so it works offline and behind
// any proxy. The files under ui/ are assembled into it once; the
// Content-Security-Policy allows exactly that style sheet and that script
// (by their SHA-256), and connections to the twin itself.

//go:embed ui
var uiFiles embed.FS

// uiAssets are the assembled pages and the policy that admits them.
type uiAssets struct {
	page        []byte // the ops page
	login       []byte // the login form
	loginFailed []byte // the login form after a wrong token
	csp         string
}

var loadUI = sync.OnceValue(func() uiAssets {
	read := func(name string) []byte {
		b, err := uiFiles.ReadFile("ui/" + name)
		if err != nil {
			panic("twin: embedded ui/" + name + ": " + err.Error()) // embedded at build time: cannot happen
		}
		return b
	}
	css, js := read("app.css"), read("app.js")
	inline := func(page []byte) []byte {
		page = bytes.Replace(page, []byte("/*CSS*/"), css, 1)
		return bytes.Replace(page, []byte("/*JS*/"), js, 1)
	}
	hash := func(b []byte) string {
		sum := sha256.Sum256(b)
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	login := inline(read("login.html"))
	return uiAssets{
		page:        inline(read("index.html")),
		login:       bytes.Replace(login, []byte("<!--ERROR-->"), nil, 1),
		loginFailed: bytes.Replace(login, []byte("<!--ERROR-->"), []byte(`<p class="error" id="login-error">That token is not valid.</p>`), 1),
		csp: "default-src 'self'; script-src " + hash(js) + "; style-src " + hash(css) +
			"; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	}
})

// uiRoutes registers the ops page, its login, the map and the event
// stream.
func (r *Runner) uiRoutes(mux *routes, cfg APIConfig, a *auth, log *slog.Logger) {
	geo := newMapView(r.Twin.cfg.Network)
	mux.HandleFunc("GET /v1/map", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, geo) })
	mux.Handle("GET /v1/events", newStream(r, cfg.Stream, cfg.Metrics, cfg.Done, log))
	mux.HandleFunc("GET /ui", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.RawQuery != "" { // e.g. a ?token= that is no longer needed: keep it out of the address bar
			http.Redirect(w, req, "/ui", http.StatusSeeOther)
			return
		}
		writeHTML(w, http.StatusOK, loadUI().page)
	})
	mux.HandleFunc("GET /ui/login", a.login)
	mux.HandleFunc("POST /ui/login", a.login)
}

// login exchanges the token (?token= or the form's field) for a session
// cookie and sends the browser on to /ui; without a token it shows the
// form. With no token configured there is nothing to log in to.
func (a *auth) login(w http.ResponseWriter, req *http.Request) {
	if a == nil {
		http.Redirect(w, req, "/ui", http.StatusSeeOther)
		return
	}
	var token string
	if req.Method == http.MethodPost {
		req.Body = http.MaxBytesReader(w, req.Body, 4<<10)
		if err := req.ParseForm(); err != nil {
			writeHTML(w, http.StatusBadRequest, loadUI().loginFailed)
			return
		}
		token = req.PostForm.Get("token")
	} else {
		token = req.URL.Query().Get("token")
	}
	switch {
	case token == "" && req.URL.Path == "/ui":
		w.Header().Set("WWW-Authenticate", `Bearer realm="lockstep-twin"`)
		writeHTML(w, http.StatusUnauthorized, loadUI().login)
	case token == "":
		writeHTML(w, http.StatusOK, loadUI().login)
	case !a.valid(token):
		a.log.Warn("ui: login with a wrong token", "remote", req.RemoteAddr) // never the token
		w.Header().Set("WWW-Authenticate", `Bearer realm="lockstep-twin"`)
		writeHTML(w, http.StatusUnauthorized, loadUI().loginFailed)
	default:
		http.SetCookie(w, a.newSession())
		a.log.Info("ui: login", "remote", req.RemoteAddr)
		http.Redirect(w, req, "/ui", http.StatusSeeOther)
	}
}

// writeHTML writes one of the ops pages with the headers that confine it.
func writeHTML(w http.ResponseWriter, code int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", loadUI().csp)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	_, _ = w.Write(page)
}

// MapView is the network's geography for the ops page (/v1/map): every
// node with the boundary of its H3 cell.
type MapView struct {
	// Resolution is the H3 resolution of the nodes' cells.
	Resolution int       `json:"resolution"`
	Nodes      []MapNode `json:"nodes"`
}

// MapNode is one node on the map.
type MapNode struct {
	ID   string  `json:"id"`
	Kind string  `json:"kind"`
	Lat  float64 `json:"lat"`
	Lng  float64 `json:"lng"`
	// Cell is the node's H3 cell, Boundary its vertices as [lat, lng]
	// pairs (degrees), counter-clockwise.
	Cell     string       `json:"cell"`
	Boundary [][2]float64 `json:"boundary"`
	// Slots are the locker's compartments by size, Counter what its
	// counter can hold: its capacity (occupancy is in /v1/nodes).
	Slots   map[string]int32 `json:"slots"`
	Counter int32            `json:"counter"`
}

func newMapView(net *model.Network) MapView {
	v := MapView{Nodes: make([]MapNode, len(net.Nodes))}
	for i := range net.Nodes {
		nd := &net.Nodes[i]
		n := MapNode{ID: nd.ID, Kind: nd.Kind.String(), Lat: nd.Lat, Lng: nd.Lng, Cell: nd.Cell.String(),
			Boundary: [][2]float64{}, Slots: map[string]int32{}, Counter: nd.Counter}
		if nd.Cell.IsValid() {
			v.Resolution = nd.Cell.Resolution()
			for _, p := range nd.Cell.Boundary() {
				n.Boundary = append(n.Boundary, [2]float64{p.Lat, p.Lng})
			}
		}
		for k := model.Small; k < model.NumSizes; k++ {
			if nd.Slots[k] > 0 {
				n.Slots[k.String()] = nd.Slots[k]
			}
		}
		v.Nodes[i] = n
	}
	return v
}
