package twin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

const openapiFile = "../docs/api/openapi.yaml"

// openAPI is docs/api/openapi.yaml, with its schemas compiled on demand.
type openAPI struct {
	doc map[string]any
	c   *jsonschema.Compiler
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	raw, err := os.ReadFile(openapiFile)
	require.NoError(t, err)
	var y any
	require.NoError(t, yaml.Unmarshal(raw, &y))
	j, err := json.Marshal(y)
	require.NoError(t, err, "the OpenAPI file is JSON-compatible YAML")
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertContent()
	require.NoError(t, c.AddResource("openapi.json", doc))
	m := doc.(map[string]any)
	require.Equal(t, "3.2.0", m["openapi"])
	return &openAPI{doc: m, c: c}
}

// operations are the documented "METHOD /path" pairs, as ServeMux
// patterns.
func (o *openAPI) operations() []string {
	var ops []string
	for path, item := range o.doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if slices.Contains([]string{"get", "put", "post", "delete", "patch", "head", "options"}, method) {
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops
}

// response is the documented response of pattern with status code, and its
// JSON pointer (nil, "" if undocumented).
func (o *openAPI) response(pattern string, code int) (map[string]any, string) {
	method, path, _ := strings.Cut(pattern, " ")
	method = strings.ToLower(method)
	op, _ := o.doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
	r, _ := op["responses"].(map[string]any)[strconv.Itoa(code)].(map[string]any)
	ptr := "#/paths/" + escapePtr(path) + "/" + method + "/responses/" + strconv.Itoa(code)
	if ref, ok := r["$ref"].(string); ok { // a shared response
		ptr = ref
		r = o.doc["components"].(map[string]any)["responses"].(map[string]any)[strings.TrimPrefix(ref, "#/components/responses/")].(map[string]any)
	}
	return r, ptr
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (o *openAPI) schema(t *testing.T, ptr string) *jsonschema.Schema {
	t.Helper()
	s, err := o.c.Compile("openapi.json" + ptr)
	require.NoError(t, err, ptr)
	return s
}

// apiCall is one request of the API test and the status it must get.
type apiCall struct {
	pattern string // the route it exercises
	method  string
	target  string
	form    url.Values
	noAuth  bool
	header  map[string]string
	want    int
}

// TestOpenAPI starts a twin service with its API (a token configured),
// replays a feed with labels, a divergence, a quarantined message, an
// anomaly and a gap, and calls every endpoint the server registers: each response's
// status, content type and body must be what docs/api/openapi.yaml says
// (JSON bodies and each event of the stream validated against their
// schemas). An endpoint without an entry there, or an entry without an
// endpoint, fails the test.
func TestOpenAPI(t *testing.T) {
	api := loadOpenAPI(t)
	dir := t.TempDir()
	cfg := serveConfig(t, dir)
	cfg.HTTP, cfg.Token = "127.0.0.1:0", testToken
	_, cfg.Tokens.Key = testSigningKey(t)
	s, err := NewServer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	base := "http://" + s.Addr().String()

	_, patterns := s.runner.handler(APIConfig{Token: testToken, Metrics: s.metrics})
	slices.Sort(patterns)
	assert.Equal(t, patterns, api.operations(), "the server's endpoints and docs/api/openapi.yaml's operations")

	calls := []apiCall{
		{pattern: "GET /healthz", target: "/healthz", noAuth: true, want: 200},
		{pattern: "GET /readyz", target: "/readyz", noAuth: true, want: 503}, // before the replay
	}
	check := func(c apiCall) {
		t.Run(c.pattern+" "+c.target, func(t *testing.T) { api.check(t, base, c) })
	}
	for _, c := range calls {
		check(c)
	}

	f := newFeed(t)
	recs := serveFeed(t)
	f.seq["M1"] = 3 // seqs 1-3 never arrive: a gap
	recs = append(recs, f.msg("M1", min_(300), wire.Heartbeat{Session: 1}),
		wire.CaptureRecord{Topic: "lockstep/v1/lockers/L1/event", Payload: []byte("{"), RecvAt: min_(300)},
		f.msg("L2", min_(301), wire.Pickup{Compartment: "S01", LabelID: "L-never-ordered", Verified: true, Method: wire.MethodPIN})) // an anomaly
	_, err = s.Replay(context.Background(), strings.NewReader(captureOf(t, recs)))
	require.NoError(t, err)

	label := "L-1"
	calls = []apiCall{
		{pattern: "GET /readyz", target: "/readyz", noAuth: true, want: 200},
		{pattern: "GET /v1/labels/{id}", target: "/v1/labels/" + label, want: 200},
		{pattern: "GET /v1/labels/{id}", target: "/v1/labels/nope", want: 404},
		{pattern: "GET /v1/labels/{id}", target: "/v1/labels/" + label, noAuth: true, want: 401},
		{pattern: "GET /v1/labels/{id}/token", target: "/v1/labels/" + label + "/token", want: 200},
		{pattern: "GET /v1/labels/{id}/token", target: "/v1/labels/L-2/token", want: 409},
		{pattern: "GET /v1/labels/{id}/token", target: "/v1/labels/nope/token", want: 404},
		{pattern: "GET /v1/labels/{id}/token", target: "/v1/labels/" + label + "/token", noAuth: true, want: 401},
		{pattern: "GET /v1/nodes", target: "/v1/nodes", want: 200},
		{pattern: "GET /v1/divergences", target: "/v1/divergences", want: 200},
		{pattern: "GET /v1/divergences", target: "/v1/divergences?kind=" + KindRerouteUnexpected + "&node=L1&since=2026-03-02T00:00:00Z", want: 200},
		{pattern: "GET /v1/divergences", target: "/v1/divergences?kind=nope", want: 400},
		{pattern: "GET /v1/quarantine", target: "/v1/quarantine", want: 200},
		{pattern: "GET /v1/anomalies", target: "/v1/anomalies", want: 200},
		{pattern: "GET /v1/status", target: "/v1/status", want: 200},
		{pattern: "GET /v1/map", target: "/v1/map", want: 200},
		{pattern: "GET /v1/events", target: "/v1/events", want: 200},
		{pattern: "GET /v1/events", target: "/v1/events", header: map[string]string{"Last-Event-ID": "1"}, want: 200},
		{pattern: "GET /v1/events", target: "/v1/events", noAuth: true, want: 401},
		{pattern: "GET /metrics", target: "/metrics", want: 200},
		{pattern: "GET /ui", target: "/ui", want: 200},
		{pattern: "GET /ui", target: "/ui?x=1", want: 303},
		{pattern: "GET /ui", target: "/ui", noAuth: true, want: 401},
		{pattern: "GET /ui", target: "/ui?token=" + testToken, noAuth: true, want: 303},
		{pattern: "GET /ui/login", target: "/ui/login", noAuth: true, want: 200},
		{pattern: "GET /ui/login", target: "/ui/login?token=" + testToken, noAuth: true, want: 303},
		{pattern: "GET /ui/login", target: "/ui/login?token=wrong-token-0123456789", noAuth: true, want: 401},
		{pattern: "POST /ui/login", method: "POST", target: "/ui/login", form: url.Values{"token": {testToken}}, noAuth: true, want: 303},
		{pattern: "POST /ui/login", method: "POST", target: "/ui/login", form: url.Values{"token": {"wrong"}}, noAuth: true, want: 401},
		{pattern: "POST /ui/login", method: "POST", target: "/ui/login", form: url.Values{"token": {strings.Repeat("x", 5000)}}, noAuth: true, want: 400},
	}
	for _, c := range calls {
		check(c)
	}
	called := map[string]bool{"GET /healthz": true}
	for _, c := range calls {
		called[c.pattern] = true
	}
	for _, p := range patterns {
		assert.True(t, called[p], "the test calls %s", p)
	}
}

// check makes the call and validates the response against the document.
func (o *openAPI) check(t *testing.T, base string, c apiCall) {
	method := c.method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+c.target, body)
	require.NoError(t, err)
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if !c.noAuth {
		req.Header.Set("Authorization", "Bearer "+testToken)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, c.want, resp.StatusCode)
	doc, ptr := o.response(c.pattern, resp.StatusCode)
	require.NotNil(t, doc, "%s: status %d is not documented", c.pattern, resp.StatusCode)
	for name, h := range docMap(doc, "headers") {
		if s, ok := docMap(h.(map[string]any), "schema")["const"].(string); ok {
			assert.Equal(t, s, resp.Header.Get(name), "header %s", name)
		} else {
			assert.NotEmpty(t, resp.Header.Get(name), "header %s", name)
		}
	}
	content := docMap(doc, "content")
	if len(content) == 0 {
		return // e.g. a redirect: no body documented
	}
	media, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Contains(t, content, media, "%s %d: content type %s is not documented", c.pattern, resp.StatusCode, media)
	ptr += "/content/" + escapePtr(media)
	switch media {
	case "application/json":
		v, err := jsonschema.UnmarshalJSON(resp.Body)
		require.NoError(t, err)
		assert.NoError(t, o.schema(t, ptr+"/schema").Validate(v))
	case "text/event-stream":
		item := o.schema(t, ptr+"/itemSchema")
		evs := readEvents(resp.Body)
		seen := map[string]bool{}
		for ev := range evs {
			if ev.Event == "comment" {
				continue
			}
			v := map[string]any{"event": ev.Event, "data": ev.Data}
			if ev.ID != "" {
				v["id"] = ev.ID
			}
			if ev.Retry != 0 {
				v["retry"] = json.Number(strconv.Itoa(ev.Retry))
			}
			assert.NoError(t, item.Validate(v), "event %s", ev.Data)
			seen[ev.Event] = true
			if seen["snapshot"] && (seen["divergence"] || c.header["Last-Event-ID"] != "") {
				break
			}
		}
		assert.True(t, seen["snapshot"])
	default:
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.NoError(t, o.schema(t, ptr+"/schema").Validate(string(b)))
	}
}

func docMap(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

// The document's schemas are strict: a field a response does not have
// fails validation (so the document cannot describe more than the server
// sends without a test noticing).
func TestOpenAPIStrict(t *testing.T) {
	api := loadOpenAPI(t)
	s := api.schema(t, "#/components/schemas/Error")
	assert.NoError(t, s.Validate(map[string]any{"error": "x"}))
	assert.Error(t, s.Validate(map[string]any{"error": "x", "extra": true}))
	ev := api.schema(t, "#/paths/"+escapePtr("/v1/events")+"/get/responses/200/content/"+escapePtr("text/event-stream")+"/itemSchema")
	assert.Error(t, ev.Validate(map[string]any{"event": "divergence", "id": "1", "data": `{"seq":1}`}), "the data's schema is asserted")
	assert.Error(t, ev.Validate(map[string]any{"event": "snapshot", "data": `not json`}))
}
