package transport

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/internal/mqtttest"
)

const secret = "s3cret-Zq7" // must never show in an error or a log

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	ok := []struct {
		name, content, user, pass string
	}{
		{"plain", "twin:" + secret, "twin", secret},
		{"newline", "twin:" + secret + "\n", "twin", secret},
		{"crlf", "twin:" + secret + "\r\n", "twin", secret},
		{"colon in password", "twin:" + secret + ":x", "twin", secret + ":x"},
		{"spaces kept", "twin: " + secret + " ", "twin", " " + secret + " "},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadCredentials(file(tt.name, tt.content), "")
			require.NoError(t, err)
			assert.Equal(t, Credentials{Username: tt.user, Password: tt.pass}, c)
		})
	}
	bad := []struct{ name, content, want string }{
		{"empty", "", "want username:password"},
		{"no colon", secret, "want username:password"},
		{"no user", ":" + secret, "want username:password"},
		{"no password", "twin:\n", "want username:password"},
		{"two lines", "twin:" + secret + "\nother:x\n", "single line"},
		{"two newlines", "twin:" + secret + "\n\n", "single line"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			p := file(tt.name, tt.content)
			_, err := LoadCredentials(p, "")
			require.ErrorContains(t, err, tt.want)
			assert.Contains(t, err.Error(), p, "the error names the file")
			assert.NotContains(t, err.Error(), secret)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		p := filepath.Join(dir, "absent")
		_, err := LoadCredentials(p, "")
		require.ErrorContains(t, err, p)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("LOCKSTEP_TEST_CREDS", "hwsim:"+secret+"\n")
		c, err := LoadCredentials("", "LOCKSTEP_TEST_CREDS")
		require.NoError(t, err)
		assert.Equal(t, Credentials{Username: "hwsim", Password: secret}, c)

		t.Setenv("LOCKSTEP_TEST_CREDS", secret)
		_, err = LoadCredentials("", "LOCKSTEP_TEST_CREDS")
		require.ErrorContains(t, err, "environment variable LOCKSTEP_TEST_CREDS: want username:password")
		assert.NotContains(t, err.Error(), secret)

		_, err = LoadCredentials("", "LOCKSTEP_TEST_UNSET_VARIABLE")
		require.ErrorContains(t, err, "LOCKSTEP_TEST_UNSET_VARIABLE is not set")
	})
	t.Run("one source", func(t *testing.T) {
		_, err := LoadCredentials("x", "Y")
		require.ErrorContains(t, err, "not both")
		_, err = LoadCredentials("", "")
		require.ErrorContains(t, err, "no file or environment variable")
	})
}

// Printing or logging Credentials never shows the password.
func TestCredentialsRedacted(t *testing.T) {
	c := Credentials{Username: "twin", Password: secret}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, c)
		assert.NotContains(t, out, secret, verb)
		assert.Contains(t, out, "twin", verb)
	}
	assert.NotContains(t, fmt.Sprint(struct{ C Credentials }{c}), secret)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("connect", "creds", c)
	assert.NotContains(t, buf.String(), secret)
	assert.Contains(t, buf.String(), "twin:<redacted>")
}

// TestSecretsNeverLogged runs a broker and clients with debug logs through
// successful and refused connections, credentials in the config and in the
// URL, ACL refusals and a publish: neither the logs nor the errors contain
// a password.
func TestSecretsNeverLogged(t *testing.T) {
	var logs mqtttest.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := StartBroker(context.Background(), BrokerConfig{Listen: "127.0.0.1:0", Logger: logger,
		Users:  map[string]string{"twin": secret, "lkr-1": secret + "-lkr"},
		Grants: map[string][]Grant{"twin": {{Role: RoleTwin}}, "lkr-1": {{Role: RoleDevice, ID: "lkr-1"}}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	_, port := splitPort(t, b.Addr())

	ctx := context.Background()
	var errs []error
	try := func(cfg ClientConfig) *Client {
		cfg.Logger = logger
		limit := 5 * time.Second
		if cfg.ReconnectDelay > 0 { // nothing listens: give up soon
			limit = 300 * time.Millisecond
		}
		dctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		c, err := Dial(dctx, cfg)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	got := newCollector()
	twin := try(ClientConfig{URL: b.URL(), Username: "twin", Password: secret,
		Subscriptions: []Subscription{{Filter: "lockstep/v1/#", QoS: 1, Handler: func(m Message) error { got.handle(m); return nil }}}})
	require.NotNil(t, twin)
	dev := try(ClientConfig{URL: "mqtt://lkr-1:" + secret + "-lkr@127.0.0.1:" + port})
	require.NotNil(t, dev)
	require.NoError(t, dev.Publish(ctx, "lockstep/v1/lockers/lkr-1/event", []byte("hello"), 1, false))
	errs = append(errs, dev.Publish(ctx, "lockstep/v1/labels/L-1/state", []byte("forged"), 1, false))
	got.waitFor(t, "hello", 5*time.Second)
	try(ClientConfig{URL: b.URL(), Username: "twin", Password: secret + "-wrong"})
	try(ClientConfig{URL: "mqtt://twin:" + secret + "@127.0.0.1:" + port,
		Will: &Message{Topic: "lockstep/v1/nodes/x/status", Payload: []byte("w"), QoS: 1}})
	try(ClientConfig{URL: "mqtt://twin:" + secret + "@127.0.0.1:1", ReconnectDelay: 10 * time.Millisecond})
	require.Len(t, errs, 4)
	require.NoError(t, twin.Close())
	require.NoError(t, b.Close())

	for _, err := range errs {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
	}
	require.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), secret)
	assert.Contains(t, logs.String(), "mqtt connected", "the client logs were captured")
}
