package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCert is a certificate and its key.
type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newCert makes a certificate for 127.0.0.1 with serial, signed by parent
// (self-signed when parent is nil); ca makes it a CA, client a client
// certificate.
func newCert(t *testing.T, serial int64, parent *testCert, ca, client bool) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "shop test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, BasicConstraintsValid: true,
	}
	if ca {
		tmpl.IsCA, tmpl.KeyUsage, tmpl.ExtKeyUsage = true, x509.KeyUsageCertSign, nil
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCert{cert: c, key: key}
}

func (c *testCert) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
}

func (c *testCert) keyPEM(t *testing.T) []byte {
	der, err := x509.MarshalECPrivateKey(c.key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// write puts c on disk as a certificate manager renewing it does: the key
// first, then the certificate, each replaced by a rename.
func (c *testCert) write(t *testing.T, certFile, keyFile string) {
	t.Helper()
	for _, f := range []struct {
		path string
		data []byte
	}{{keyFile, c.keyPEM(t)}, {certFile, c.certPEM()}} {
		tmp := f.path + ".tmp"
		require.NoError(t, os.WriteFile(tmp, f.data, 0o600))
		require.NoError(t, os.Rename(tmp, f.path))
	}
}

func (c *testCert) tlsCertificate(t *testing.T) tls.Certificate {
	pair, err := tls.X509KeyPair(c.certPEM(), c.keyPEM(t))
	require.NoError(t, err)
	return pair
}

// served returns the serial of the certificate the server presents on a
// new connection.
func served(t *testing.T, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots})
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestRunServesHTTPSAndReloadsItsCertificate serves the API over TLS,
// renews the certificate on disk and sees the new one served without a
// restart, while a connection made before the renewal keeps working.
func TestRunServesHTTPSAndReloadsItsCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first, second := newCert(t, 1001, nil, false, false), newCert(t, 1002, nil, false, false)
	first.write(t, certFile, keyFile)
	roots := x509.NewCertPool()
	roots.AddCert(first.cert)
	roots.AddCert(second.cert)

	env := runEnv(t)
	env["TLS_CERT_FILE"], env["TLS_KEY_FILE"] = certFile, keyFile
	// Every handshake looks at the files; a real deployment keeps the
	// default minute.
	env["TLS_RELOAD_INTERVAL"] = "1ns"
	var logs logBuffer
	base, stop := startRun(t, env, logs.logger())
	defer stop()
	addr := strings.TrimPrefix(base, "http://")
	base = "https://" + addr

	kept := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer kept.CloseIdleConnections()
	get := func(c *http.Client) *http.Response {
		t.Helper()
		resp, err := c.Get(base + "/livez")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		return resp
	}
	assert.EqualValues(t, 1001, get(kept).TLS.PeerCertificates[0].SerialNumber.Int64())
	_, err := http.Get(base + "/livez")
	require.Error(t, err, "a client that does not trust the certificate is refused")
	plain, err := http.Get("http://" + addr + "/livez")
	require.NoError(t, err)
	plain.Body.Close()
	assert.Equal(t, http.StatusBadRequest, plain.StatusCode, "plain HTTP never reaches the API")

	second.write(t, certFile, keyFile)
	// The new certificate is served from the first handshake that sees
	// both files renewed; poll handshakes until then, within a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for served(t, addr, roots) != 1002 {
		require.True(t, time.Now().Before(deadline), "the renewed certificate was never served")
		time.Sleep(time.Millisecond)
	}
	assert.Contains(t, logs.String(), "TLS certificate reloaded")
	assert.Contains(t, logs.String(), "serial=1002")
	reused := get(kept)
	assert.EqualValues(t, 1001, reused.TLS.PeerCertificates[0].SerialNumber.Int64(), "the connection made before the renewal is still open")
}

// TestRunRequiresClientCertificates checks mutual TLS: with
// TLS_CLIENT_CA_FILE a client without a certificate signed by that CA
// cannot connect.
func TestRunRequiresClientCertificates(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "ca.crt")
	server := newCert(t, 2001, nil, false, false)
	server.write(t, certFile, keyFile)
	ca := newCert(t, 3001, nil, true, false)
	require.NoError(t, os.WriteFile(caFile, ca.certPEM(), 0o600))
	client := newCert(t, 3002, ca, false, true)
	stranger := newCert(t, 4001, nil, false, true)
	roots := x509.NewCertPool()
	roots.AddCert(server.cert)

	env := runEnv(t)
	env["TLS_CERT_FILE"], env["TLS_KEY_FILE"], env["TLS_CLIENT_CA_FILE"] = certFile, keyFile, caFile
	base, stop := startRun(t, env, nil)
	defer stop()
	base = "https://" + strings.TrimPrefix(base, "http://")

	for _, tt := range []struct {
		name  string
		certs []tls.Certificate
		ok    bool
	}{
		{"no certificate", nil, false},
		{"a certificate of another CA", []tls.Certificate{stranger.tlsCertificate(t)}, false},
		{"a certificate of the CA", []tls.Certificate{client.tlsCertificate(t)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: tt.certs}}}
			defer c.CloseIdleConnections()
			resp, err := c.Get(base + "/livez")
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		})
	}
}

// TestRunRefusesBadTLSConfiguration checks that a half or broken TLS
// configuration stops the start with a message naming the variable.
func TestRunRefusesBadTLSConfiguration(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("not a certificate"), 0o600))
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"certificate without key", map[string]string{"TLS_CERT_FILE": junk}, "TLS_CERT_FILE and TLS_KEY_FILE go together"},
		{"client CA without TLS", map[string]string{"TLS_CLIENT_CA_FILE": junk}, "TLS_CLIENT_CA_FILE needs TLS_CERT_FILE"},
		{"unreadable pair", map[string]string{"TLS_CERT_FILE": junk, "TLS_KEY_FILE": junk}, "TLS_CERT_FILE, TLS_KEY_FILE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := runEnv(t)
			for k, v := range tt.env {
				env[k] = v
			}
			err := run(context.Background(), envMap(env), (&logBuffer{}).logger(), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
