package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keygen writes a 0600 private key and a public key, never overwrites,
// and prints no key material.
func TestKeygen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, out, errOut := lockstep(t, "keygen", "--out", dir)
	require.Equal(t, exitOK, code, errOut)
	st, err := os.Stat(filepath.Join(dir, "provenance.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	key, err := os.ReadFile(filepath.Join(dir, "provenance.key"))
	require.NoError(t, err)
	body := strings.Join(strings.Split(strings.TrimSpace(string(key)), "\n")[1:2], "")
	assert.NotContains(t, out+errOut, body, "the key is never printed")
	assert.Contains(t, out, "key id")
	code, _, errOut = lockstep(t, "keygen", "--out", dir)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "not overwriting")
	code, _, _ = lockstep(t, "keygen")
	assert.Equal(t, exitUsage, code)
}

// A twin replay of hwsim's quickstart capture writes tokens that
// lockstep verify accepts (exit 0, the custody printed); tampered,
// truncated and foreign-key tokens exit 1 with the reason; usage errors 2.
func TestTwinTokensVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped in -short mode")
	}
	dir := t.TempDir()
	keys, other := filepath.Join(dir, "keys"), filepath.Join(dir, "other")
	for _, d := range []string{keys, other} {
		code, _, errOut := lockstep(t, "keygen", "--out", d)
		require.Equal(t, exitOK, code, errOut)
	}
	pub, otherPub := filepath.Join(keys, "provenance.pub"), filepath.Join(other, "provenance.pub")
	capture := filepath.Join(dir, "feed.ndjson")
	code, _, errOut := lockstep(t, "hwsim", "../../scenarios/quickstart.yaml", "--broker", "embedded", "--speed", "max",
		"--capture", capture, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	tokens := filepath.Join(dir, "tokens")
	code, _, errOut = lockstep(t, "twin", "--network", "../../scenarios/quickstart.yaml", "--replay", capture,
		"--tokens", tokens, "--tokens-key", filepath.Join(keys, "provenance.key"), "--log-level", "error")
	require.Equal(t, exitOK, code, errOut)
	files, err := filepath.Glob(filepath.Join(tokens, "*.token"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	finals := map[string]int{}
	for _, f := range files {
		code, out, errOut := lockstep(t, "verify", "@"+f, "--pubkey", pub)
		require.Equal(t, exitOK, code, "%s: %s", f, errOut)
		assert.Contains(t, out, "intact")
		label := strings.TrimSuffix(filepath.Base(f), ".token")
		assert.Contains(t, out, "label "+label+":")
		for _, s := range []string{"picked_up", "returned", "cancelled"} {
			if strings.Contains(out, "custody:") && strings.Contains(out[strings.Index(out, "custody:"):], " "+s+" at ") {
				finals[s]++
			}
		}
	}
	assert.Positive(t, finals["picked_up"], "picked-up labels have tokens: %v", finals)
	t.Logf("%d tokens verified; final states %v", len(files), finals)

	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	tok := strings.TrimSpace(string(b))
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	flip := func(i int) string {
		c := append([]byte(nil), raw...)
		c[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(c)
	}
	for _, tc := range []struct {
		name, token, pubkey string
		code                int
		want                string
	}{
		{"intact inline", tok, pub, exitOK, "intact"},
		{"signature", flip(len(raw) - 1), pub, exitFail, "tampered (signature)"},
		{"a transition's instant", flip(len(raw) - 64 - 17), pub, exitFail, "tampered (hash chain)"},
		{"truncated", tok[:len(tok)/2], pub, exitFail, "truncated"},
		{"foreign key", tok, otherPub, exitFail, "foreign key"},
		{"not a token", "%%%", pub, exitFail, "malformed"},
		{"no pubkey", tok, "", exitUsage, "--pubkey"},
		{"unreadable pubkey", tok, filepath.Join(dir, "nope.pub"), exitUsage, "nope.pub"},
		{"missing token file", "@" + filepath.Join(dir, "nope.token"), pub, exitUsage, "nope.token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"verify", tc.token}
			if tc.pubkey != "" {
				args = append(args, "--pubkey", tc.pubkey)
			}
			code, out, errOut := lockstep(t, args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, out+errOut, tc.want)
		})
	}
}
