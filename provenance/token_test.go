package provenance

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// fixedKey is a deterministic key pair for tests.
func fixedKey(t *testing.T, b byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return priv.Public().(ed25519.PublicKey), priv
}

func at(hm string) time.Time {
	tm, err := time.Parse(time.RFC3339, "2026-12-01T"+hm+":00Z")
	if err != nil {
		panic(err)
	}
	return tm
}

func sample() Custody {
	return Custody{Label: "L-000042", Box: "BX-7", Transitions: []Transition{
		{State: "issued", Reason: "order", Node: "ms-1", At: at("09:00")},
		{State: "picked", Reason: "scan_pick", Node: "ms-1", At: at("09:05")},
		{State: "packed", Reason: "scan_pack", Node: "ms-1", At: at("09:09")},
		{State: "in_transit", Reason: "handoff", Node: "ms-1", At: at("09:30")},
		{State: "ready_for_pickup", Reason: "arrived", Node: "locker-3", At: at("09:52")},
		{State: "picked_up", Reason: "pickup", Node: "locker-3", At: at("17:41")},
	}}
}

func TestRoundTrip(t *testing.T) {
	pub, priv := fixedKey(t, 1)
	for _, c := range []Custody{sample(), {Label: "L-1", Transitions: sample().Transitions[:1]}} {
		tok, err := Sign(priv, c)
		require.NoError(t, err)
		assert.NotContains(t, tok, "=", "unpadded")
		assert.NotContains(t, tok, "+")
		assert.NotContains(t, tok, "/")
		got, err := Verify(tok, pub)
		require.NoError(t, err)
		want := c
		want.Transitions = append([]Transition(nil), c.Transitions...)
		want.Seal()
		assert.Equal(t, want, got.Custody)
		assert.Equal(t, IDOf(pub), got.KeyID)
		assert.Equal(t, Version, got.Version)
		again, err := Sign(priv, c)
		require.NoError(t, err)
		assert.Equal(t, tok, again, "canonical encoding and Ed25519 are deterministic")
	}
}

func TestSignDoesNotModifyInput(t *testing.T) {
	_, priv := fixedKey(t, 1)
	c := sample()
	_, err := Sign(priv, c)
	require.NoError(t, err)
	assert.Equal(t, [LinkLen]byte{}, c.Transitions[0].Link)
}

// raw decodes a token for tampering.
func raw(t *testing.T, tok string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	return b
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// resign re-encodes a custody as a forger with the signing key but no
// respect for the chain would: links as given, not sealed.
func resign(t *testing.T, priv ed25519.PrivateKey, c Custody) string {
	payload, err := encode(IDOf(priv.Public().(ed25519.PublicKey)), &c)
	require.NoError(t, err)
	return signEncoded(priv, payload)
}

func TestTamper(t *testing.T) {
	pub, priv := fixedKey(t, 1)
	good, err := Sign(priv, sample())
	require.NoError(t, err)
	sealed := sample()
	sealed.Seal()
	b := raw(t, good)
	// offsets into the payload
	labelAt := 1 + KeyIDLen + 1 // after version, key id, length byte
	boxAt := labelAt + len("L-000042") + 1
	firstState := boxAt + len("BX-7") + 1 + 1 // past the box, the count and the state's length

	cases := []struct {
		name   string
		token  func() string
		kind   ErrKind
		detail string
	}{
		{"label id edited", func() string {
			c := append([]byte(nil), b...)
			c[labelAt] = 'X'
			return enc(c)
		}, ErrChain, "transition 1 (issued"},
		{"box id edited", func() string {
			c := append([]byte(nil), b...)
			c[boxAt] = 'Z'
			return enc(c)
		}, ErrSignature, "altered after signing"},
		{"state edited", func() string {
			c := append([]byte(nil), b...)
			c[firstState] = 'X' // "issued" -> "Xssued"
			return enc(c)
		}, ErrChain, "transition 1 (Xssued"},
		{"signature edited", func() string {
			c := append([]byte(nil), b...)
			c[len(c)-1] ^= 1
			return enc(c)
		}, ErrSignature, `label "L-000042"`},
		{"a transition's time edited, links recomputed, old signature kept", func() string {
			c := sample()
			c.Transitions[5].At = at("12:00")
			c.Seal()
			p, err := encode(IDOf(pub), &c)
			require.NoError(t, err)
			return enc(append(p, b[len(b)-SignatureLen:]...))
		}, ErrSignature, "altered"},
		{"transition dropped, signed by the key holder", func() string {
			c := sealed
			c.Transitions = append(append([]Transition(nil), sealed.Transitions[:2]...), sealed.Transitions[3:]...)
			return resign(t, priv, c)
		}, ErrChain, "transition 3 (in_transit"},
		{"transitions reordered", func() string {
			c := sealed
			c.Transitions = append([]Transition(nil), sealed.Transitions...)
			c.Transitions[3], c.Transitions[4] = c.Transitions[4], c.Transitions[3]
			return resign(t, priv, c)
		}, ErrChain, "transition 4 (ready_for_pickup"},
		{"time edited in place", func() string {
			c := sealed
			c.Transitions = append([]Transition(nil), sealed.Transitions...)
			c.Transitions[5].At = at("10:00")
			return resign(t, priv, c)
		}, ErrChain, "transition 6 (picked_up at locker-3, 2026-12-01T10:00:00Z)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.token(), pub)
			var ve *VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.kind, ve.Kind, "%v", err)
			assert.Contains(t, err.Error(), tc.detail)
			assert.ErrorIs(t, err, &VerifyError{Kind: tc.kind})
		})
	}
}

func TestForeignKey(t *testing.T) {
	pub, _ := fixedKey(t, 1)
	otherPub, other := fixedKey(t, 2)
	tok, err := Sign(other, sample())
	require.NoError(t, err)
	_, err = Verify(tok, pub)
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, ErrForeignKey, ve.Kind)
	assert.Contains(t, err.Error(), IDOf(otherPub).String())
	assert.Contains(t, err.Error(), IDOf(pub).String())

	// a forger who writes the right key id still fails the signature
	b := raw(t, tok)
	id := IDOf(pub)
	copy(b[1:], id[:])
	_, err = Verify(enc(b), pub)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, ErrSignature, ve.Kind)
}

func TestTruncated(t *testing.T) {
	pub, priv := fixedKey(t, 1)
	tok, err := Sign(priv, sample())
	require.NoError(t, err)
	b := raw(t, tok)
	// every cut, in bytes and in characters, is truncated, never accepted
	for n := 0; n < len(b); n++ {
		_, err := Verify(enc(b[:n]), pub)
		var ve *VerifyError
		require.ErrorAs(t, err, &ve, "cut at byte %d", n)
		if n == 0 {
			assert.Equal(t, ErrMalformed, ve.Kind, "empty")
			continue
		}
		assert.Equal(t, ErrTruncated, ve.Kind, "cut at byte %d: %v", n, err)
	}
	for n := 1; n < len(tok); n++ {
		_, err := Verify(tok[:n], pub)
		assert.ErrorIs(t, err, &VerifyError{Kind: ErrTruncated}, "cut at character %d", n)
	}
	_, err = Verify(tok[:len(tok)-10], pub)
	assert.ErrorContains(t, err, "signature has")
	_, err = Verify(enc(b[:40]), pub)
	assert.ErrorContains(t, err, "ends inside transition")
}

func TestMalformed(t *testing.T) {
	pub, priv := fixedKey(t, 1)
	tok, err := Sign(priv, sample())
	require.NoError(t, err)
	b := raw(t, tok)
	for _, tc := range []struct {
		name, token string
		kind        ErrKind
	}{
		{"not base64url", tok[:10] + "+" + tok[11:], ErrMalformed},
		{"trailing bytes", enc(append(append([]byte(nil), b...), 0, 0)), ErrMalformed},
		{"other version", enc(append([]byte{2}, b[1:]...)), ErrVersion},
		{"padded is read", tok + strings.Repeat("=", (4-len(tok)%4)%4), 0},
		{"surrounding space is read", "\n " + tok + "\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.token, pub)
			if tc.kind == 0 {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, &VerifyError{Kind: tc.kind})
		})
	}
}

func TestFromLabel(t *testing.T) {
	l := &model.Label{Chain: []model.Entry{
		{State: model.Issued, At: 1000, Node: 0, Reason: model.ReasonOrder},
		{State: model.Cancelled, At: 5000, Node: model.NoNode, Reason: model.ReasonOutOfStock},
	}}
	names := func(i model.NodeIndex) string {
		if i == model.NoNode {
			return "hub"
		}
		return "ms-" + string(rune('a'+i))
	}
	c := FromLabel(l, "L-9", names, func(i model.Instant) model.Instant { return i + 3600_000 })
	require.Len(t, c.Transitions, 2)
	assert.Equal(t, Transition{State: "issued", Reason: "order", Node: "ms-a", At: time.UnixMilli(3601_000).UTC(), Link: c.Transitions[0].Link}, c.Transitions[0])
	assert.Equal(t, "cancelled", c.Transitions[1].State)
	assert.Equal(t, "out_of_stock", c.Transitions[1].Reason)
	assert.Equal(t, "hub", c.Transitions[1].Node)
	assert.NotEqual(t, c.Transitions[0].Link, c.Transitions[1].Link)
}

func TestKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	privPath, pubPath, id, err := WriteKeyPair(dir)
	require.NoError(t, err)
	st, err := os.Stat(privPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	priv, err := LoadPrivateKey(privPath)
	require.NoError(t, err)
	pub, err := LoadPublicKey(pubPath)
	require.NoError(t, err)
	assert.Equal(t, id, IDOf(pub))
	assert.Equal(t, priv.Public(), pub)
	_, _, _, err = WriteKeyPair(dir)
	assert.ErrorContains(t, err, "not overwriting")

	// raw forms
	rawDir := t.TempDir()
	p32, p64, pubRaw := filepath.Join(rawDir, "seed"), filepath.Join(rawDir, "full"), filepath.Join(rawDir, "pub")
	require.NoError(t, os.WriteFile(p32, priv.Seed(), 0o600))
	require.NoError(t, os.WriteFile(p64, priv, 0o600))
	require.NoError(t, os.WriteFile(pubRaw, pub, 0o644))
	for _, p := range []string{p32, p64} {
		k, err := LoadPrivateKey(p)
		require.NoError(t, err)
		assert.Equal(t, priv, k)
	}
	k, err := LoadPublicKey(pubRaw)
	require.NoError(t, err)
	assert.Equal(t, pub, k)

	// wrong files: the public key as private, junk, a broken 64-byte key
	_, err = LoadPrivateKey(pubPath)
	assert.ErrorContains(t, err, `want "PRIVATE KEY"`)
	_, err = LoadPublicKey(privPath)
	assert.ErrorContains(t, err, `want "PUBLIC KEY"`)
	bad := append(append([]byte(nil), priv.Seed()...), make([]byte, 32)...)
	require.NoError(t, os.WriteFile(p64, bad, 0o600))
	_, err = LoadPrivateKey(p64)
	assert.ErrorContains(t, err, "does not match")
	require.NoError(t, os.WriteFile(p32, []byte("junk"), 0o600))
	_, err = LoadPrivateKey(p32)
	assert.ErrorContains(t, err, "4 bytes")
	assert.NotContains(t, err.Error(), "junk", "errors never hold key material")
}

func TestVerifyErrorIsKindOnly(t *testing.T) {
	err := error(&VerifyError{Kind: ErrChain, Detail: "x"})
	assert.True(t, errors.Is(err, &VerifyError{Kind: ErrChain}))
	assert.False(t, errors.Is(err, &VerifyError{Kind: ErrSignature}))
}
