package twin

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/internal/testbin"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// distinctCells is how many H3 cells the network's nodes are in.
func distinctCells(net *model.Network) int {
	seen := map[model.Cell]bool{}
	for _, n := range net.Nodes {
		seen[n.Cell] = true
	}
	return len(seen)
}

var chromium = testbin.Chromium("the ops page test (headless Chromium)")

// browser starts headless Chromium for t and returns a tab's context, with
// the URLs of every request the tab makes and what it writes to its
// console (errors, uncaught exceptions, Content-Security-Policy
// violations).
func browser(t *testing.T, ctx context.Context) (tab context.Context, requests, console func() []string) {
	t.Helper()
	bin := chromium.Need(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	tab, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	var mu sync.Mutex
	var reqs, msgs []string
	require.NoError(t, chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			reqs = append(reqs, e.Request.URL)
			mu.Unlock()
		}
	}))
	go func() {
		for m, err := range chromedp.Console(tab) {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, string(m.Type)+": "+m.URL+": "+m.Text)
			mu.Unlock()
		}
	}()
	snap := func(s *[]string) func() []string {
		return func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), *s...) }
	}
	return tab, snap(&reqs), snap(&msgs)
}

// TestOpsPageInChromium runs a live twin (API with a token, a broker),
// logs in to /ui through its form in headless Chromium, waits until the
// map shows the network's nodes on their H3 cells, publishes through the
// broker three parcels' lives with a production bug (a reroute the core
// does not make) and a node going offline, and waits until the page shows
// the divergence, the offline node and the counters, without a reload.
// Every request the page makes goes to the twin itself, and it logs no
// error: its inline script and style pass the Content-Security-Policy.
func TestOpsPageInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tab, requests, console := browser(t, ctx)
	b := testBroker(t, ctx)
	cfg := serveConfig(t, t.TempDir())
	cfg.Broker, cfg.HTTP, cfg.Token = b.URL(), "127.0.0.1:0", testToken
	cfg.Twin.Window = opsWindow
	cfg.Stream = StreamConfig{Poll: 50 * time.Millisecond, Snapshot: 200 * time.Millisecond}
	s, _, _ := startLive(t, ctx, cfg)
	base := "http://" + s.Addr().String()

	poll := func(what, expr string, within time.Duration) {
		t.Helper()
		_, err := chromedp.Run(tab, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(within)))
		require.NoError(t, err, "%s: %s\nconsole: %q", what, expr, console())
	}
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(base+"/ui")))
	poll("the login form", `document.querySelector("form[action='/ui/login'] input#token") !== null`, 20*time.Second)
	_, err := chromedp.Run(tab, chromedp.WaitEvent(page.LoadEventFired, func(page.EventLoadEventFired) bool { return true },
		chromedp.Steps(chromedp.SendKeys(chromedp.ID("token"), testToken), chromedp.Submit(chromedp.ID("token")))))
	require.NoError(t, err)
	net := s.Twin().cfg.Network
	poll("the nodes on their cells, the stream live",
		`document.querySelectorAll("#map g.node").length === `+itoa(len(net.Nodes))+
			` && document.querySelectorAll("#map polygon.cell").length >= 1`+
			` && document.querySelector("#conn").dataset.state === "live"`, 30*time.Second)
	loc, err := chromedp.Run(tab, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, base+"/ui", loc, "the login sent the browser on to the page")
	cells, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#map polygon.cell")].map(p => p.dataset.cell + " " + p.getAttribute("points").split(" ").length)`))
	require.NoError(t, err)
	for _, c := range cells {
		assert.Regexp(t, `^[0-9a-f]{15} 6$`, c, "a hexagon per cell")
	}
	assert.Len(t, cells, distinctCells(net), "one hexagon per distinct cell")

	recs, want := opsFeed(t)
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	for _, r := range recs {
		require.NoError(t, pub.Publish(ctx, r.Topic, r.Payload, wire.QoS, false))
	}
	published := time.Now()
	poll("the divergence, the offline node, the counters",
		`document.querySelector('#divergences tr[data-label="`+want.Label+`"][data-kind="`+want.Kind+`"]') !== null`+
			` && document.querySelector('#map g.node[data-node="L2"]').dataset.online === "false"`+
			` && document.querySelector('#nodes tr[data-node="L2"] td.state').textContent === "offline"`+
			` && document.querySelector("#c-received").textContent === "`+itoa(len(recs))+`"`, 15*time.Second)
	t.Logf("the divergence showed %v after the last publish", time.Since(published).Round(time.Millisecond))

	row, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#divergences tr[data-label="`+want.Label+`"]`)))
	require.NoError(t, err)
	for _, v := range []string{want.Label, want.Kind, want.Production, want.Core} {
		assert.Contains(t, row, v)
	}
	total, err := chromedp.Run(tab, chromedp.Text(chromedp.ID("div-total")))
	require.NoError(t, err)
	assert.Equal(t, "(1 so far)", total)

	reqs := requests()
	require.NotEmpty(t, reqs)
	for _, u := range reqs {
		p, err := url.Parse(u)
		require.NoError(t, err)
		assert.True(t, p.Scheme == "data" || strings.HasPrefix(u, base+"/"), "the page loaded %s, not from the twin", u)
	}
	for _, path := range []string{"/ui", "/ui/login", "/v1/map", "/v1/events"} {
		assert.Contains(t, reqs, base+path, "the page requested %s", path)
	}
	for _, m := range console() {
		if m == "error: "+base+"/ui: Failed to load resource: the server responded with a status of 401 (Unauthorized)" {
			continue // the login form, before the login
		}
		assert.NotRegexp(t, `^(error|exception|warning):`, m, "the page logged it")
	}
}
