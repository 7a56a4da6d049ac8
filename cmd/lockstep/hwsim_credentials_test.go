package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/twin/transport"
)

// TestHwsimCredentials: hwsim takes its broker credentials from a variable
// (or a file); on a broker with roles it needs the role all, since it
// publishes for every device and for production.
func TestHwsimCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0",
		Users:  map[string]string{"hwsim": "hwsim-pass-1", "prod": "prod-pass-22"},
		Grants: map[string][]transport.Grant{"hwsim": {{Role: transport.RoleAll}}, "prod": {{Role: transport.RoleProduction}}}})
	require.NoError(t, err)
	defer b.Close()
	for _, tc := range []struct {
		creds string
		code  int
		want  string
	}{
		{"hwsim:hwsim-pass-1", exitOK, "published "},
		{"prod:prod-pass-22", exitFail, "not authorized"},
		{"hwsim:wrong-pass", exitFail, "refused connection"},
	} {
		t.Setenv(transport.DefaultCredentialsEnv, tc.creds)
		code, out, errOut := lockstep(t, "hwsim", "../../scenarios/quickstart.yaml", "--broker", b.URL(), "--speed", "max", "--quiet",
			"--client-id", "hwsim-1", "--credentials-env", transport.DefaultCredentialsEnv)
		assert.Equal(t, tc.code, code, "%s: %s", tc.creds, errOut)
		assert.Contains(t, out+errOut, tc.want, tc.creds)
		_, pass, _ := strings.Cut(tc.creds, ":")
		assert.NotContains(t, out+errOut, pass)
	}
	for _, args := range [][]string{
		{"--broker", "embedded", "--credentials-env", transport.DefaultCredentialsEnv},
		{"--broker", b.URL(), "--credentials-env", "LOCKSTEP_TEST_UNSET_CREDENTIALS"},
		{"--broker", b.URL(), "--client-id", "hwsim 1"},
	} {
		code, _, errOut := lockstep(t, append([]string{"hwsim", "../../scenarios/quickstart.yaml"}, args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}
