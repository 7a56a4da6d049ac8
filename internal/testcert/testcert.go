// Package testcert makes throwaway TLS certificates for tests: a
// certificate authority (ECDSA P-256, valid for an hour) and server
// certificates for 127.0.0.1 that it signs, as tls.Certificate values or
// PEM files.
//
// A sketch:
//
//	ca := testcert.NewCA(t, "lockstep-test-ca")
//	srv := &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t)}}
//	cli := &tls.Config{RootCAs: ca.Pool()}   // or ClientConfig{CAFile: ca.File}
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// CA is a throwaway certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	File string // the CA certificate as a PEM file (a client's CA file)
}

// NewCA makes a certificate authority named name, valid from an hour ago
// to an hour from now.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), name+".pem")
	require.NoError(t, os.WriteFile(file, pemOf("CERTIFICATE", der), 0o600))
	return &CA{Cert: cert, Key: key, File: file}
}

// Pool is a certificate pool that trusts the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// ServerCert issues a server certificate for 127.0.0.1 (an IP SAN only).
func (ca *CA) ServerCert(t testing.TB) tls.Certificate {
	t.Helper()
	der, key := ca.issue(t)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// ServerFiles issues a server certificate for 127.0.0.1 and writes it and
// its key (PKCS #8) as PEM files, returning their paths.
func (ca *CA) ServerFiles(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	der, key := ca.issue(t)
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pemOf("CERTIFICATE", der), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pemOf("PRIVATE KEY", kb), 0o600))
	return certFile, keyFile
}

func (ca *CA) issue(t testing.TB) ([]byte, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "lockstep test server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	require.NoError(t, err)
	return der, key
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
