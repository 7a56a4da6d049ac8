package provenance

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Key file names WriteKeyPair writes in its directory.
const (
	PrivateKeyFile = "provenance.key"
	PublicKeyFile  = "provenance.pub"
)

// GenerateKey returns a new key pair from rnd (nil: crypto/rand).
func GenerateKey(rnd io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("provenance: generate key: %w", err)
	}
	return pub, priv, nil
}

// WriteKeyPair generates a key pair and writes it to dir (created 0700 if
// missing) as PrivateKeyFile (PEM PKCS #8, mode 0600) and PublicKeyFile (PEM
// PKIX, mode 0644). It never overwrites a file: an existing key is an error.
// It returns the paths and the key id.
func WriteKeyPair(dir string) (privPath, pubPath string, id KeyID, err error) {
	pub, priv, err := GenerateKey(nil)
	if err != nil {
		return "", "", id, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", id, fmt.Errorf("provenance: encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", id, fmt.Errorf("provenance: encode public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", id, fmt.Errorf("provenance: key directory: %w", err)
	}
	privPath, pubPath = filepath.Join(dir, PrivateKeyFile), filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", id, fmt.Errorf("provenance: %s exists: not overwriting a key (remove it or choose another --out)", p)
		}
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", id, err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		_ = os.Remove(privPath)
		return "", "", id, err
	}
	return privPath, pubPath, IDOf(pub), nil
}

// writeNew creates path (it must not exist) with mode, writes b and syncs.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	if err := f.Chmod(mode); err != nil { // whatever the umask
		f.Close()
		return fmt.Errorf("provenance: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("provenance: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("provenance: sync %s: %w", path, err)
	}
	return f.Close()
}

// LoadPrivateKey reads a private key file: PEM "PRIVATE KEY" (PKCS #8,
// Ed25519), or raw bytes: the 32-byte seed or the 64-byte private key.
// Errors name the file, never its content.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provenance: private key: %w", err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("provenance: %s: PEM block %q, want \"PRIVATE KEY\" (PKCS #8)", path, blk.Type)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("provenance: %s: not a PKCS #8 private key", path)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("provenance: %s: a %T, want an Ed25519 key", path, k)
		}
		return priv, nil
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if string(priv[ed25519.SeedSize:]) != string(b[ed25519.SeedSize:]) {
			return nil, fmt.Errorf("provenance: %s: the 64-byte key's public half does not match its seed", path)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("provenance: %s: neither PEM nor a raw Ed25519 private key (%d bytes; want 32 or 64)", path, len(b))
}

// LoadPublicKey reads a public key file: PEM "PUBLIC KEY" (PKIX, Ed25519),
// or the raw 32 bytes.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provenance: public key: %w", err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("provenance: %s: PEM block %q, want \"PUBLIC KEY\"", path, blk.Type)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("provenance: %s: not a PKIX public key: %w", path, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("provenance: %s: a %T, want an Ed25519 key", path, k)
		}
		return pub, nil
	}
	if len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	return nil, fmt.Errorf("provenance: %s: neither PEM nor a raw Ed25519 public key (%d bytes; want 32)", path, len(b))
}
