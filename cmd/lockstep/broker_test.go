package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/internal/mqtttest"
	"github.com/lockstep-sim/lockstep/twin/transport"
)

// startBrokerCmd runs `lockstep broker args...` until the test ends and
// returns its URL (from the line it prints once listening) and its output.
func startBrokerCmd(t *testing.T, args ...string) (string, *mqtttest.Buffer, *mqtttest.Buffer) {
	t.Helper()
	cmd := newBrokerCmd()
	var out, errOut mqtttest.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"--listen", "127.0.0.1:0"}, args...))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "a signal stops the broker cleanly")
		case <-time.After(10 * time.Second):
			t.Error("broker did not stop")
		}
	})
	re := regexp.MustCompile(`broker listening on (mqtts?://\S+)`)
	var url string
	require.Eventually(t, func() bool {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			return true
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "broker did not start: %s", errOut.String())
	return url, &out, &errOut
}

// TestBrokerCommandRolesAndCredentials runs the command with a users file
// with roles and one more user from an environment variable, and checks
// what each may do; no password shows in its output.
func TestBrokerCommandRolesAndCredentials(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(users, []byte(`# test users
twin:pw-twin-71
lkr-12:pw-lkr-72
idle:pw-idle-73
role twin twin
role lkr-12 device lkr-12
`), 0o600))
	t.Setenv("LOCKSTEP_TEST_BROKER_CREDS", "hwsim:pw-hwsim-74\n")
	url, out, errOut := startBrokerCmd(t, "--users-file", users, "--credentials-env", "LOCKSTEP_TEST_BROKER_CREDS")
	assert.Contains(t, out.String(), "3 user(s) from "+users+", roles for 2; user hwsim from the credentials")
	assert.Contains(t, errOut.String(), "user idle has no role line")

	ctx := context.Background()
	dial := func(user, pass string, subs ...transport.Subscription) (*transport.Client, error) {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := transport.Dial(dctx, transport.ClientConfig{URL: url, Username: user, Password: pass, Subscriptions: subs})
		if err == nil {
			t.Cleanup(func() { _ = c.Close() })
		}
		return c, err
	}
	got := make(chan string, 10)
	_, err := dial("twin", "pw-twin-71", transport.Subscription{Filter: "lockstep/v1/#", QoS: 1,
		Handler: func(m transport.Message) error { got <- string(m.Payload); return nil }})
	require.NoError(t, err)
	lkr, err := dial("lkr-12", "pw-lkr-72")
	require.NoError(t, err)
	require.NoError(t, lkr.Publish(ctx, "lockstep/v1/lockers/lkr-12/event", []byte("own"), 1, false))
	require.ErrorContains(t, lkr.Publish(ctx, "lockstep/v1/labels/L-1/state", []byte("forged"), 1, false), "0x87")
	hw, err := dial("hwsim", "pw-hwsim-74")
	require.NoError(t, err)
	require.NoError(t, hw.Publish(ctx, "lockstep/v1/labels/L-1/state", []byte("hwsim"), 1, false))
	_, err = dial("hwsim", "wrong")
	require.ErrorContains(t, err, "0x86")
	for _, want := range []string{"own", "hwsim"} {
		select {
		case p := <-got:
			require.Equal(t, want, p)
		case <-time.After(10 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	for _, s := range []string{out.String(), errOut.String()} {
		assert.NotContains(t, s, "pw-")
	}
}

func TestBrokerCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	users := write("users", "twin:pw-twin-81\nrole twin twin\n")
	badRole := write("bad-role", "twin:pw-twin-82\nrole twin admin\n")
	badCreds := write("bad-creds", "pw-only-83\n")
	dupCreds := write("dup-creds", "twin:pw-twin-84\n")
	t.Setenv("LOCKSTEP_TEST_EMPTY", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"open listener", []string{"--listen", "0.0.0.0:0"}, "--credentials-file"},
		{"unknown role", []string{"--users-file", badRole}, "unknown role"},
		{"malformed credentials", []string{"--credentials-file", badCreds}, badCreds + ": want username:password"},
		{"unset variable", []string{"--credentials-env", "LOCKSTEP_TEST_UNSET_84"}, "LOCKSTEP_TEST_UNSET_84 is not set"},
		{"empty variable", []string{"--credentials-env", "LOCKSTEP_TEST_EMPTY"}, "LOCKSTEP_TEST_EMPTY: want username:password"},
		{"both sources", []string{"--credentials-file", dupCreds, "--credentials-env", "X"}, "not both"},
		{"user twice", []string{"--users-file", users, "--credentials-file", dupCreds}, `user "twin" is in --users-file and in the credentials`},
		{"wildcard prefix", []string{"--prefix", "lockstep/+"}, "--prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := lockstep(t, append([]string{"broker"}, tt.args...)...)
			require.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.NotContains(t, errOut, "pw-", "no password in an error")
		})
	}
}

// The help teaches the users file: its format, every role and an example.
func TestBrokerHelp(t *testing.T) {
	code, out, _ := lockstep(t, "broker", "--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"--users-file", "--credentials-file", "--credentials-env", "--prefix",
		"role USER ROLE [ID]", "twin ", "production ", "device ID", "all ",
		"role lkr-12 device lkr-12", "PUBACK 0x87", "65535"} {
		assert.Contains(t, out, want)
	}
	// the example users file in the help is one LoadUsersFile accepts
	var example []string
	on := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "Example users file"):
			on = true
		case on && strings.HasPrefix(l, "  "):
			example = append(example, strings.TrimSpace(l))
		case on && len(example) > 0:
			on = false
		}
	}
	require.NotEmpty(t, example)
	p := filepath.Join(t.TempDir(), "users")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(example, "\n")+"\n"), 0o600))
	f, err := transport.LoadUsersFile(p)
	require.NoError(t, err)
	assert.Len(t, f.Users, 5)
	assert.Len(t, f.Grants, 5)
}
