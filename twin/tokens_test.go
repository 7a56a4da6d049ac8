package twin

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/provenance"
)

func testSigningKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := provenance.GenerateKey(nil)
	require.NoError(t, err)
	return pub, priv
}

// The twin writes a verifiable token for each finished label (and none for
// the label in flight), serves the same token over the API, and writes the
// same bytes again when a restart re-applies the journal.
func TestTokensFilesAndAPI(t *testing.T) {
	pub, priv := testSigningKey(t)
	dir := t.TempDir()
	tokDir := filepath.Join(dir, "tokens")
	cfg := serveConfig(t, dir)
	cfg.SnapshotEvery = 0 // the restart re-applies the whole journal
	cfg.HTTP = "127.0.0.1:0"
	cfg.Tokens = TokensConfig{Key: priv, Dir: tokDir}
	s, err := NewServer(cfg)
	require.NoError(t, err)
	_, err = s.Replay(context.Background(), strings.NewReader(captureOf(t, serveFeed(t))))
	require.NoError(t, err)

	ents, err := os.ReadDir(tokDir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"L-1.token", "L-3.token"}, names, "finished labels only; no temporary files left")
	files := map[string]string{}
	for _, label := range []string{"L-1", "L-3"} {
		b, err := os.ReadFile(filepath.Join(tokDir, label+".token"))
		require.NoError(t, err)
		files[label] = string(b)
		tok, err := provenance.Verify(string(b), pub)
		require.NoError(t, err, label)
		assert.Equal(t, label, tok.Label)
		states := make([]string, len(tok.Transitions))
		for i, tr := range tok.Transitions {
			states[i] = tr.State
		}
		assert.Equal(t, []string{"issued", "picked", "packed", "in_transit", "ready_for_pickup", "picked_up"}, states)
		assert.Equal(t, "L1", tok.Transitions[5].Node)
		assert.Equal(t, "M1", tok.Transitions[0].Node)
		// the token's instants are the feed's real instants
		v, ok := s.Twin().Label(label)
		require.True(t, ok)
		assert.Equal(t, v.Chain[5].At, tok.Transitions[5].At.Format("2006-01-02T15:04:05.000Z07:00"))
	}

	code, body := httpGet(t, s.Addr(), "/v1/labels/L-1/token")
	require.Equal(t, 200, code, body)
	var tv TokenView
	require.NoError(t, json.Unmarshal([]byte(body), &tv))
	assert.Equal(t, strings.TrimSpace(files["L-1"]), tv.Token, "the API and the file hold the same token")
	assert.Equal(t, provenance.IDOf(pub).String(), tv.KeyID)
	assert.Equal(t, "picked_up", tv.State)
	code, body = httpGet(t, s.Addr(), "/v1/labels/L-2/token")
	assert.Equal(t, 409, code)
	assert.Contains(t, body, "not finished")
	code, _ = httpGet(t, s.Addr(), "/v1/labels/nope/token")
	assert.Equal(t, 404, code)
	require.NoError(t, s.Close())
	assert.Equal(t, uint64(2), s.tokens.Written())

	// restart on the same journal: every record re-applied, same files
	require.NoError(t, os.RemoveAll(tokDir))
	cfg.HTTP = ""
	s2, err := NewServer(cfg)
	require.NoError(t, err)
	st, err := s2.Replay(context.Background(), strings.NewReader(captureOf(t, serveFeed(t))))
	require.NoError(t, err)
	assert.Positive(t, st.Skipped, "resumed from the journal")
	require.NoError(t, s2.Close())
	for label, want := range files {
		b, err := os.ReadFile(filepath.Join(tokDir, label+".token"))
		require.NoError(t, err)
		assert.Equal(t, want, string(b), label)
	}
}

func TestTokensOff(t *testing.T) {
	dir := t.TempDir()
	cfg := serveConfig(t, dir)
	cfg.HTTP = "127.0.0.1:0"
	s, err := NewServer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	code, body := httpGet(t, s.Addr(), "/v1/labels/L-1/token")
	assert.Equal(t, 501, code)
	assert.Contains(t, body, "--tokens-key")

	cfg = serveConfig(t, t.TempDir())
	cfg.Tokens.Dir = filepath.Join(dir, "tokens")
	_, err = NewServer(cfg)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.ErrorContains(t, err, "signing key")
}

func TestTokenFileName(t *testing.T) {
	for in, want := range map[string]string{
		"L-000042":     "L-000042.token",
		"a/b":          "a%2Fb.token",
		"../etc":       "%2E.%2Fetc.token",
		"x y.z":        "x%20y.z.token",
		".hidden":      "%2Ehidden.token",
		"ÿ":            "%C3%BF.token",
		"Label_01.v2-": "Label_01.v2-.token",
	} {
		assert.Equal(t, want, TokenFileName(in), in)
		assert.NotContains(t, TokenFileName(in), "/")
	}
}
