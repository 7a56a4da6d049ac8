package twin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/internal/testcert"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func apiRunner(t *testing.T) (*Runner, *Metrics) {
	m := NewMetrics()
	no := false
	tw, err := New(Config{Network: quickstart(t), Window: time5m, Replenish: &no, Metrics: m})
	require.NoError(t, err)
	f := newFeed(t)
	r := NewRunner(tw, nil)
	recs := f.lifecycle("L-A", 0, true)
	recs = append(recs, f.msg("prod-core", min_(100), wire.LabelState{LabelID: "L-A", State: wire.LabelRerouting, Node: "L1", RerouteTo: "P1"}))
	recs = append(recs, wire.CaptureRecord{Topic: "lockstep/v1/lockers/L1/event", Payload: []byte("{")})
	require.NoError(t, r.Accept(recs...))
	tw.Finish()
	return r, m
}

func get(t *testing.T, h http.Handler, path, token string) (int, map[string]any, string) {
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var v map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &v)
	return w.Code, v, w.Body.String()
}

func TestAPI(t *testing.T) {
	r, m := apiRunner(t)
	h := r.Handler(APIConfig{Metrics: m})
	code, _, _ := get(t, h, "/healthz", "")
	assert.Equal(t, 200, code)
	code, _, _ = get(t, h, "/readyz", "")
	assert.Equal(t, 503, code)
	r.SetReady(true)
	code, _, _ = get(t, h, "/readyz", "")
	assert.Equal(t, 200, code)

	code, v, _ := get(t, h, "/v1/labels/L-A", "")
	require.Equal(t, 200, code)
	assert.Equal(t, "picked_up", v["state"])
	assert.Equal(t, true, v["chain_verified"])
	assert.Len(t, v["chain"], 6)
	code, _, _ = get(t, h, "/v1/labels/nope", "")
	assert.Equal(t, 404, code)

	code, _, body := get(t, h, "/v1/nodes", "")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"id": "L1"`)

	code, v, _ = get(t, h, "/v1/divergences?kind=reroute_unexpected", "")
	assert.Equal(t, 200, code)
	assert.EqualValues(t, 1, v["count"])
	_, v, _ = get(t, h, "/v1/divergences?kind=state_mismatch", "")
	assert.EqualValues(t, 0, v["count"])
	_, v, _ = get(t, h, "/v1/divergences?node=L1&since="+wire.FormatInstant(min_(99)), "")
	assert.EqualValues(t, 1, v["count"])
	_, v, _ = get(t, h, "/v1/divergences?until="+wire.FormatInstant(min_(99)), "")
	assert.EqualValues(t, 0, v["count"])
	code, _, _ = get(t, h, "/v1/divergences?since=yesterday", "")
	assert.Equal(t, 400, code)
	code, v, _ = get(t, h, "/v1/divergences?kind=reroute_unexpeted", "")
	assert.Equal(t, 400, code, "a misspelt kind is an error, not an empty list")
	assert.Contains(t, v["error"], KindRerouteUnexpected)

	_, v, _ = get(t, h, "/v1/quarantine", "")
	assert.EqualValues(t, 1, v["count"])

	_, _, body = get(t, h, "/metrics", "")
	for _, want := range []string{`lockstep_twin_messages_total{type="scan"} 4`, `lockstep_twin_quarantined_total{reason="bad_json"} 1`,
		`lockstep_twin_divergences_total{kind="reroute_unexpected"} 1`, "lockstep_twin_processing_seconds_bucket", "lockstep_twin_late_total 0"} {
		assert.Contains(t, body, want)
	}
}

func TestAPIToken(t *testing.T) {
	assert.NoError(t, CheckBind("127.0.0.1:8080", ""))
	assert.NoError(t, CheckBind("[::1]:8080", ""))
	assert.NoError(t, CheckBind("localhost:8080", ""))
	assert.ErrorIs(t, CheckBind("0.0.0.0:8080", ""), ErrTokenRequired)
	assert.ErrorIs(t, CheckBind(":8080", ""), ErrTokenRequired)
	assert.NoError(t, CheckBind("0.0.0.0:8080", "s3cret"))

	r, m := apiRunner(t)
	var logs strings.Builder
	h := r.Handler(APIConfig{Token: "s3cret", Metrics: m, Logger: testLogger(&logs)})
	code, _, _ := get(t, h, "/v1/nodes", "")
	assert.Equal(t, 401, code)
	code, _, _ = get(t, h, "/v1/nodes", "wrong")
	assert.Equal(t, 401, code)
	code, _, _ = get(t, h, "/metrics", "")
	assert.Equal(t, 401, code)
	code, _, _ = get(t, h, "/v1/nodes", "s3cret")
	assert.Equal(t, 200, code)
	code, _, _ = get(t, h, "/healthz", "")
	assert.Equal(t, 200, code)
	assert.NotContains(t, logs.String(), "s3cret")
	assert.NotContains(t, logs.String(), "wrong")
	_ = model.NoNode
}

// testToken is a token long enough for the API (MinTokenLen).
const testToken = "test-token-0123456789abcdef"

// Authorization's scheme is case-insensitive (RFC 7235 section 2.1): any
// case of "Bearer", then one or more spaces, then exactly the token.
func TestAPIBearerScheme(t *testing.T) {
	r, m := apiRunner(t)
	h := r.Handler(APIConfig{Token: testToken, Metrics: m})
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer " + testToken, 200},
		{"bearer " + testToken, 200},
		{"BEARER " + testToken, 200},
		{"bEaReR   " + testToken, 200},
		{"Bearer " + testToken + "x", 401},
		{"Bearer " + testToken[1:], 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"Bearer" + testToken, 401},
		{"Basic " + testToken, 401},
		{testToken, 401},
		{"", 401},
	} {
		t.Run(tc.header, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/v1/nodes", nil)
			req.Header.Set("Authorization", tc.header)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, tc.want, w.Code)
			if tc.want == 401 {
				assert.Equal(t, `Bearer realm="lockstep-twin"`, w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// A token shorter than MinTokenLen bytes is refused at startup, without
// saying what it was; a non-loopback address without a token still is.
func TestAPITokenLength(t *testing.T) {
	assert.NoError(t, CheckToken(""))
	assert.NoError(t, CheckToken(strings.Repeat("x", MinTokenLen)))
	assert.ErrorIs(t, CheckToken(strings.Repeat("x", MinTokenLen-1)), ErrTokenTooShort)
	for _, tc := range []struct {
		name, http, token string
		want              error
	}{
		{"short, loopback", "127.0.0.1:0", "s3cret-s3cret", ErrTokenTooShort},
		{"short, no api", "", "s3cret-s3cret", ErrTokenTooShort},
		{"short, off loopback", "0.0.0.0:0", "s3cret-s3cret", ErrTokenTooShort},
		{"none, off loopback", "0.0.0.0:0", "", ErrTokenRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := serveConfig(t, t.TempDir())
			cfg.HTTP, cfg.Token = tc.http, tc.token
			_, err := NewServer(cfg)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, tc.want)
			if tc.token != "" {
				assert.NotContains(t, err.Error(), tc.token)
			}
		})
	}
	assert.Contains(t, ErrTokenTooShort.Error(), "at least 16 bytes")
}

// selfSigned writes a throwaway certificate for 127.0.0.1 and its key as
// PEM files and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	ca := testcert.NewCA(t, "lockstep twin test")
	certFile, keyFile = ca.ServerFiles(t)
	return certFile, keyFile, ca.Pool()
}

// With a certificate and key the API is served over TLS only: a client
// that trusts the certificate gets the API, plain HTTP gets nothing of it,
// and the session cookie is Secure. Both files or neither; files that
// cannot be used are a configuration error.
func TestAPITLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	cfg := serveConfig(t, t.TempDir())
	cfg.HTTP, cfg.Token, cfg.HTTPCert, cfg.HTTPKey = "127.0.0.1:0", testToken, certFile, keyFile
	s, err := NewServer(cfg)
	require.NoError(t, err)
	defer s.Close()
	addr := s.Addr().String()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest("GET", "https://"+addr+"/v1/nodes", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.NotNil(t, resp.TLS)

	resp, err = client.Get("https://" + addr + "/ui/login?token=" + testToken)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
	assert.True(t, resp.Cookies()[0].Secure, "the session cookie goes over TLS only")

	resp, err = http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain HTTP to the TLS port")
	assert.NotContains(t, string(body), `"status"`)

	_, err = (&http.Client{}).Get("https://" + addr + "/healthz")
	require.Error(t, err, "a client that does not trust the certificate")

	otherCert, otherKey, _ := selfSigned(t)
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"certificate without key", certFile, "", "both the certificate and the key"},
		{"key without certificate", "", keyFile, "both the certificate and the key"},
		{"missing file", certFile + ".nope", keyFile, "no such file"},
		{"key of another certificate", certFile, otherKey, "private key does not match"},
		{"not a certificate", otherKey, otherCert, "http api tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := serveConfig(t, t.TempDir())
			cfg.HTTP, cfg.HTTPCert, cfg.HTTPKey = "127.0.0.1:0", tc.cert, tc.key
			_, err := NewServer(cfg)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
