package twin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// opsWindow is the reorder window of the ops page's tests: short, so the
// divergence of opsFeed is found while the twin runs, not at its end.
const opsWindow = model.Minute

var itoa = strconv.Itoa

// opsFeed is serveFeed in event order, with L2 going online and then
// offline, and heartbeats that carry the clock past production's reroute
// plus the tolerance: a twin with opsWindow finds the divergence without
// being finished. It returns the records and that one divergence.
func opsFeed(t *testing.T) ([]wire.CaptureRecord, Divergence) {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i, l := range []string{"L-1", "L-2", "L-3"} {
		recs = append(recs, f.lifecycle(l, int64(i*3), i != 1)...)
	}
	recs = append(recs,
		f.msg("prod-core", min_(200), wire.LabelState{LabelID: "L-2", State: wire.LabelRerouting, Node: "L1", RerouteTo: "P1"}),
		f.msg("L2", min_(1), wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 1}),
		f.msg("L2", min_(205), wire.Status{State: wire.NodeOffline, Reason: wire.ReasonShutdown, Session: 1}),
		f.msg("M1", min_(210), wire.Heartbeat{Session: 1}),
		f.msg("M1", min_(220), wire.Heartbeat{Session: 1}))
	slices.SortStableFunc(recs, func(a, b wire.CaptureRecord) int { return int(a.RecvAt - b.RecvAt) })
	no := false
	ref, err := New(Config{Network: quickstart(t), Window: opsWindow, Replenish: &no})
	require.NoError(t, err)
	ref.IngestBatch(recs)
	ds := ref.Divergences(Filter{})
	require.Len(t, ds, 1, "the feed diverges once, before the twin is finished")
	require.Equal(t, KindRerouteUnexpected, ds[0].Kind)
	return recs, ds[0]
}

// sseEvent is one Server-Sent Event as a client parses it.
type sseEvent struct {
	Event, ID, Data string
	Retry           int
}

// readEvents parses Server-Sent Events from r onto the channel until r
// ends; a comment line is an event named "comment".
func readEvents(r io.Reader) <-chan sseEvent {
	out := make(chan sseEvent, 1024)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, ":") {
				out <- sseEvent{Event: "comment", Data: line}
				continue
			}
			if line == "" {
				if ev.Data != "" {
					out <- ev
				}
				ev = sseEvent{}
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.Event = value
			case "id":
				ev.ID = value
			case "data":
				ev.Data += value
			case "retry":
				ev.Retry, _ = strconv.Atoi(value)
			}
		}
	}()
	return out
}

// openStream opens /v1/events on srv (with the token, resuming after
// last if not empty); the stream ends with the test.
func openStream(t *testing.T, srv *httptest.Server, last string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp, readEvents(resp.Body)
}

// next returns the next event named name (skipping others), failing t
// after a deadline.
func next(t *testing.T, evs <-chan sseEvent, name string) sseEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-evs:
			require.True(t, ok, "the stream ended before a %s event", name)
			if ev.Event == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within 20s", name)
		}
	}
}

// gathered is the sum of the series of the metric name on m's registry.
func gathered(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			sum += s.GetCounter().GetValue() + s.GetGauge().GetValue()
		}
	}
	return sum
}

func streamRunner(t *testing.T) (*Runner, *httptest.Server, *Metrics) {
	t.Helper()
	m := NewMetrics()
	no := false
	tw, err := New(Config{Network: quickstart(t), Window: opsWindow, Replenish: &no, Metrics: m})
	require.NoError(t, err)
	r := NewRunner(tw, nil)
	r.SetReady(true)
	srv := httptest.NewServer(r.Handler(APIConfig{Token: testToken, Metrics: m,
		Stream: StreamConfig{Poll: 20 * time.Millisecond, Snapshot: 50 * time.Millisecond, Heartbeat: 50 * time.Millisecond, Backlog: 2}}))
	t.Cleanup(srv.Close)
	return r, srv, m
}

// The stream starts with a snapshot (and the reconnection delay), pushes
// each divergence as it is found, and snapshots the counters and nodes as
// they change; a reconnecting client resumes after its Last-Event-ID.
func TestEventStream(t *testing.T) {
	r, srv, m := streamRunner(t)
	resp, evs := openStream(t, srv, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	first := next(t, evs, "snapshot")
	assert.Equal(t, 3000, first.Retry)
	var snap StreamSnapshot
	require.NoError(t, json.Unmarshal([]byte(first.Data), &snap))
	assert.True(t, snap.Ready)
	assert.Empty(t, snap.Clock, "no message yet")
	assert.Len(t, snap.Nodes, len(r.Twin.cfg.Network.Nodes))
	assert.Equal(t, 1.0, gathered(t, m, "lockstep_twin_events_clients"))

	recs, want := opsFeed(t)
	require.NoError(t, r.Accept(recs...))
	ev := next(t, evs, "divergence")
	assert.Equal(t, "1", ev.ID)
	wantData, err := json.Marshal(StreamDivergence{Seq: 1, Divergence: want})
	require.NoError(t, err)
	assert.JSONEq(t, string(wantData), ev.Data)
	require.Eventually(t, func() bool {
		require.NoError(t, json.Unmarshal([]byte(next(t, evs, "snapshot").Data), &snap))
		return snap.Counters.Received == uint64(len(recs))
	}, 20*time.Second, time.Millisecond)
	assert.Equal(t, 1, snap.Divergences)
	assert.Equal(t, wire.FormatInstant(min_(210)), snap.Clock, "the last heartbeat is still in the reorder window")
	l2 := snap.Nodes[slices.IndexFunc(snap.Nodes, func(n NodeView) bool { return n.ID == "L2" })]
	assert.False(t, l2.Online)

	// a new stream starts with the latest divergences; one resuming
	// after the last it saw gets none again
	_, fresh := openStream(t, srv, "")
	assert.Equal(t, "1", next(t, fresh, "divergence").ID)
	_, resumed := openStream(t, srv, "1")
	for range 3 {
		assert.Contains(t, []string{"snapshot", "comment"}, (<-resumed).Event, "nothing but snapshots and heartbeats")
	}
	next(t, resumed, "comment") // heartbeats keep an idle connection open
}

// serve runs one request through h (with a cookie, if given).
func serve(h http.Handler, method, target string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// With a token, the ops page shows its login form; the token (?token= or
// the form) is exchanged for an HttpOnly session cookie that opens the
// page and the API; a wrong token, a forged or an expired cookie open
// nothing; the token never reaches the logs.
func TestUILogin(t *testing.T) {
	r, m := apiRunner(t)
	var logs strings.Builder
	h := r.Handler(APIConfig{Token: testToken, Metrics: m, Logger: testLogger(&logs)})

	w := serve(h, "GET", "/ui", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Body.String(), `<form method="post" action="/ui/login">`)
	assert.NotContains(t, w.Body.String(), "login-error")
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'self'")
	assert.Equal(t, `Bearer realm="lockstep-twin"`, w.Header().Get("WWW-Authenticate"))
	assert.Equal(t, http.StatusUnauthorized, serve(h, "GET", "/v1/map", nil, nil).Code)

	for _, wrong := range []*httptest.ResponseRecorder{
		serve(h, "GET", "/ui/login?token=not-the-token-0123456789", nil, nil),
		serve(h, "GET", "/ui?token=not-the-token-0123456789", nil, nil),
		serve(h, "POST", "/ui/login", nil, url.Values{"token": {"not-the-token-0123456789"}}),
	} {
		assert.Equal(t, http.StatusUnauthorized, wrong.Code)
		assert.Contains(t, wrong.Body.String(), "That token is not valid.")
		assert.Empty(t, wrong.Result().Cookies())
	}

	var cookies []*http.Cookie
	for _, ok := range []*httptest.ResponseRecorder{
		serve(h, "GET", "/ui/login?token="+testToken, nil, nil),
		serve(h, "GET", "/ui?token="+testToken, nil, nil),
		serve(h, "POST", "/ui/login", nil, url.Values{"token": {testToken}}),
	} {
		require.Equal(t, http.StatusSeeOther, ok.Code)
		assert.Equal(t, "/ui", ok.Header().Get("Location"))
		require.Len(t, ok.Result().Cookies(), 1)
		c := ok.Result().Cookies()[0]
		assert.Equal(t, sessionCookie, c.Name)
		assert.True(t, c.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.False(t, c.Secure, "plain HTTP")
		assert.Equal(t, int(sessionTTL.Seconds()), c.MaxAge)
		assert.NotContains(t, c.Value, testToken)
		cookies = append(cookies, c)
	}
	c := cookies[0]
	w = serve(h, "GET", "/ui", c, nil)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `<svg id="map"`)
	for _, path := range []string{"/v1/map", "/v1/nodes", "/v1/status", "/metrics"} {
		assert.Equal(t, http.StatusOK, serve(h, "GET", path, c, nil).Code, path)
	}
	w = serve(h, "GET", "/ui?token="+testToken, c, nil)
	assert.Equal(t, http.StatusSeeOther, w.Code, "a token no longer needed leaves the address bar")
	assert.Equal(t, "/ui", w.Header().Get("Location"))

	forged := *c
	forged.Value = strings.Replace(c.Value, ".", "9.", 1) // a later expiry, the old signature
	assert.Equal(t, http.StatusUnauthorized, serve(h, "GET", "/v1/nodes", &forged, nil).Code)
	assert.Equal(t, http.StatusUnauthorized, serve(h, "GET", "/v1/nodes", &http.Cookie{Name: sessionCookie, Value: "x"}, nil).Code)

	a := newAuth(testToken, true, testLogger(io.Discard))
	s := a.newSession()
	assert.True(t, s.Secure)
	assert.True(t, a.session(s.Value))
	a.now = func() time.Time { return time.Now().Add(sessionTTL + time.Second) }
	assert.False(t, a.session(s.Value), "expired")
	assert.False(t, newAuth(testToken+"-other", false, nil).session(s.Value), "another token's session")

	assert.NotContains(t, logs.String(), testToken)
	assert.NotContains(t, logs.String(), "not-the-token")
	assert.NotContains(t, logs.String(), c.Value)
}

// Without a token the page needs no login.
func TestUIWithoutToken(t *testing.T) {
	r, m := apiRunner(t)
	h := r.Handler(APIConfig{Metrics: m})
	assert.Equal(t, http.StatusOK, serve(h, "GET", "/ui", nil, nil).Code)
	w := serve(h, "GET", "/ui/login", nil, nil)
	assert.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/ui", w.Header().Get("Location"))
}

// The page is self-contained: its policy admits exactly its inline script
// and style (by hash) and connections to the twin, and it names no other
// origin.
func TestUISelfContained(t *testing.T) {
	r, m := apiRunner(t)
	h := r.Handler(APIConfig{Metrics: m})
	login := r.Handler(APIConfig{Metrics: m, Token: testToken})
	for _, w := range []*httptest.ResponseRecorder{serve(h, "GET", "/ui", nil, nil), serve(login, "GET", "/ui", nil, nil),
		serve(login, "GET", "/ui/login?token=x", nil, nil)} {
		page := w.Body.String()
		csp := w.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"} {
			assert.Contains(t, csp, want)
		}
		assert.NotContains(t, csp, "unsafe-inline")
		for _, tag := range []string{"script", "style"} {
			for _, inline := range regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(page, -1) {
				sum := sha256.Sum256([]byte(inline[1]))
				assert.Contains(t, csp, tag+"-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", "the inline %s is admitted", tag)
			}
		}
		assert.NotRegexp(t, `<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//`, page)
		for _, u := range regexp.MustCompile(`https?://[^"'\s)]+`).FindAllString(page, -1) {
			assert.Equal(t, "http://www.w3.org/2000/svg", u, "the only URL is the SVG namespace")
		}
		assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
	}
	assert.Contains(t, serve(h, "GET", "/ui", nil, nil).Body.String(), "<script>", "the page's script is inline")
}

// blockedWriter is a client that accepts nothing until unblocked.
type blockedWriter struct {
	header  http.Header
	mu      sync.Mutex
	buf     bytes.Buffer
	unblock chan struct{}
	writing chan struct{} // closed at the first write
	once    sync.Once
}

func (w *blockedWriter) Header() http.Header { return w.header }
func (w *blockedWriter) WriteHeader(int)     {}
func (w *blockedWriter) Flush()              {}
func (w *blockedWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.writing) })
	<-w.unblock
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// A client that reads nothing holds up neither ingest nor the other
// streams: when it reads again it gets the latest MaxLag divergences, and
// its snapshot and lockstep_twin_events_dropped_total count the ones it
// skipped.
func TestEventStreamSlowClient(t *testing.T) {
	m := NewMetrics()
	no := false
	tw, err := New(Config{Network: quickstart(t), Window: opsWindow, Replenish: &no, Metrics: m})
	require.NoError(t, err)
	r := NewRunner(tw, nil)
	const lag, n = 3, 12
	s := newStream(r, StreamConfig{Poll: 5 * time.Millisecond, Snapshot: 5 * time.Millisecond, Heartbeat: time.Hour, MaxLag: lag}, m, nil, testLogger(io.Discard))
	slow := &blockedWriter{header: http.Header{}, unblock: make(chan struct{}), writing: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.ServeHTTP(slow, httptest.NewRequest("GET", "/v1/events", nil).WithContext(ctx))
	}()
	unblock := sync.OnceFunc(func() { close(slow.unblock) })
	t.Cleanup(func() { cancel(); unblock(); <-served })
	<-slow.writing // the slow client's stream is stuck in its first write

	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close) // after the stream's cleanup
	_, fast := openStream(t, srv, "")
	next(t, fast, "snapshot")

	// production reports, one after the other, n labels the twin never saw:
	// each is a divergence once the clock is past it plus the tolerance
	f := newFeed(t)
	for i := range n {
		at := int64(10 * i)
		ingested := make(chan struct{})
		go func() {
			defer close(ingested)
			assert.NoError(t, r.Accept(
				f.msg("prod-core", min_(at), wire.LabelState{LabelID: "X-" + itoa(i), State: wire.LabelPicked, Node: "M1"}),
				f.msg("M1", min_(at+3), wire.Heartbeat{Session: 1}), f.msg("M1", min_(at+5), wire.Heartbeat{Session: 1})))
		}()
		select {
		case <-ingested:
		case <-time.After(20 * time.Second):
			t.Fatal("ingest is held up by a stream")
		}
		ev := next(t, fast, "divergence")
		assert.Equal(t, itoa(i+1), ev.ID, "the reading client gets every divergence")
		assert.Contains(t, ev.Data, `"label":"X-`+itoa(i)+`"`)
	}
	require.Len(t, tw.Divergences(Filter{Kind: KindUnknownLabel}), n)
	assert.Zero(t, gathered(t, m, "lockstep_twin_events_dropped_total"), "nothing dropped yet")

	unblock()
	var got []sseEvent
	require.Eventually(t, func() bool {
		slow.mu.Lock()
		defer slow.mu.Unlock()
		got = nil
		for ev := range readEvents(bytes.NewReader(slow.buf.Bytes())) {
			got = append(got, ev)
		}
		return slices.ContainsFunc(got, func(ev sseEvent) bool { return strings.Contains(ev.Data, `"dropped":`+itoa(n-lag)) })
	}, 20*time.Second, 5*time.Millisecond, "a snapshot tells the slow client what it skipped")
	var ids []string
	for _, ev := range got {
		if ev.Event == "divergence" {
			ids = append(ids, ev.ID)
		}
	}
	assert.Equal(t, []string{itoa(n - 2), itoa(n - 1), itoa(n)}, ids, "the latest divergences, in order")
	assert.Equal(t, float64(n-lag), gathered(t, m, "lockstep_twin_events_dropped_total"))
}

// Closing the server ends the open streams (they never go idle): Close
// returns at once, without an error.
func TestEventStreamShutdown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := testBroker(t, ctx)
	cfg := serveConfig(t, t.TempDir())
	cfg.Broker, cfg.HTTP = b.URL(), "127.0.0.1:0"
	s, stop, done := startLive(t, ctx, cfg)
	resp, err := http.Get("http://" + s.Addr().String() + "/v1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	evs := readEvents(resp.Body)
	next(t, evs, "snapshot")
	stop()
	require.NoError(t, <-done)
	start := time.Now()
	require.NoError(t, s.Close())
	assert.Less(t, time.Since(start), 4*time.Second, "Close did not wait for the stream")
	for range evs { // the stream ended
	}
}
