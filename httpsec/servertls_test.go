package httpsec_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/internal/testenv/testclock"
)

// testCA issues certificates for the tests, made here with crypto/x509.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

type issued struct {
	certPEM, keyPEM []byte
	leaf            *x509.Certificate
}

func (ca *testCA) issue(t *testing.T, edit func(*x509.Certificate)) issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return issued{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		leaf:    leaf,
	}
}

func (i issued) tlsCert(t *testing.T) tls.Certificate {
	c, err := tls.X509KeyPair(i.certPEM, i.keyPEM)
	require.NoError(t, err)
	return c
}

func clientCert(t *testing.T, ca *testCA, edit func(*x509.Certificate)) tls.Certificate {
	return ca.issue(t, func(c *x509.Certificate) {
		c.Subject = pkix.Name{CommonName: "api", Organization: []string{"shop"}}
		c.DNSNames, c.IPAddresses = nil, nil
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		if edit != nil {
			edit(c)
		}
	}).tlsCert(t)
}

// certFiles are the server's certificate and key on disk.
type certFiles struct{ cert, key string }

func newCertFiles(t *testing.T, i issued) certFiles {
	dir := t.TempDir()
	f := certFiles{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key")}
	f.write(t, i)
	return f
}

// write replaces both files by renaming, as a certificate manager does.
func (f certFiles) write(t *testing.T, i issued) {
	t.Helper()
	f.writeRaw(t, i.certPEM, i.keyPEM)
}

func (f certFiles) writeRaw(t *testing.T, certPEM, keyPEM []byte) {
	t.Helper()
	for path, data := range map[string][]byte{f.key: keyPEM, f.cert: certPEM} {
		tmp := path + ".new"
		require.NoError(t, os.WriteFile(tmp, data, 0o600))
		require.NoError(t, os.Rename(tmp, path))
	}
}

// tlsServer serves HTTPS on loopback with cfg and answers with the
// client's identity, if any.
type tlsServer struct {
	addr string
	hits atomic.Int32
}

func serveTLS(t *testing.T, cfg *tls.Config) *tlsServer {
	t.Helper()
	s := &tlsServer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = ln.Addr().String()
	srv := &http.Server{
		TLSConfig: cfg,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.hits.Add(1)
			id, err := httpsec.ClientIdentity(r.TLS)
			if err != nil {
				_, _ = io.WriteString(w, "anonymous")
				return
			}
			_, _ = io.WriteString(w, id.Subject.CommonName+" "+id.SPIFFEID)
		}),
		ErrorLog: nil,
	}
	srv.ErrorLog = discardLog()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return s
}

func clientConfig(ca *testCA, edit func(*tls.Config)) *tls.Config {
	c := &tls.Config{RootCAs: ca.pool, ServerName: "localhost"}
	if edit != nil {
		edit(c)
	}
	return c
}

// handshake connects to addr, completes the handshake and returns the
// connection's state.
func handshake(t *testing.T, addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

func servedSerial(t *testing.T, addr string, ca *testCA) *big.Int {
	t.Helper()
	cs, err := handshake(t, addr, clientConfig(ca, nil))
	require.NoError(t, err)
	return cs.PeerCertificates[0].SerialNumber
}

func get(t *testing.T, client *http.Client, addr string) (string, error) {
	t.Helper()
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestServerTLS_ReloadSwapsTheServedCertificateWithoutDroppingConnections(t *testing.T) {
	ca := newTestCA(t, "ca")
	a, b := ca.issue(t, nil), ca.issue(t, nil)
	files := newCertFiles(t, a)
	var reloaded []*x509.Certificate
	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{
		CertFile: files.cert, KeyFile: files.key, ReloadInterval: -1,
		Hooks: httpsec.Hooks{OnCertReload: func(leaf *x509.Certificate) { reloaded = append(reloaded, leaf) }},
	})
	require.NoError(t, err)
	srv := serveTLS(t, st.Config())
	require.Equal(t, a.leaf.SerialNumber, servedSerial(t, srv.addr, ca))

	// A connection made before the reload.
	tr := &http.Transport{TLSClientConfig: clientConfig(ca, nil)}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	_, err = get(t, client, srv.addr)
	require.NoError(t, err)

	files.write(t, b)
	require.NoError(t, st.Reload())
	require.Len(t, reloaded, 1)
	assert.Equal(t, b.leaf.SerialNumber, reloaded[0].SerialNumber)
	assert.Equal(t, b.leaf.SerialNumber, st.Certificate().SerialNumber)
	assert.Equal(t, b.leaf.SerialNumber, servedSerial(t, srv.addr, ca), "a new handshake gets the new certificate")

	var reused bool
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	}), http.MethodGet, "https://"+srv.addr+"/", nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.True(t, reused, "the earlier connection still serves")
	assert.Equal(t, a.leaf.SerialNumber, resp.TLS.PeerCertificates[0].SerialNumber)

	require.NoError(t, st.Reload(), "unchanged files")
	assert.Len(t, reloaded, 1, "an unchanged certificate is not a reload")
}

func TestServerTLS_ChecksTheFilesInTheFirstHandshakeAfterTheInterval(t *testing.T) {
	ca := newTestCA(t, "ca")
	a, b := ca.issue(t, nil), ca.issue(t, nil)
	files := newCertFiles(t, a)
	clock := testclock.New(time.Now())
	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, Now: clock.Now})
	require.NoError(t, err)
	srv := serveTLS(t, st.Config())

	files.write(t, b)
	clock.Advance(httpsec.DefaultReloadInterval - time.Second)
	assert.Equal(t, a.leaf.SerialNumber, servedSerial(t, srv.addr, ca), "not due yet")
	clock.Advance(time.Second)
	assert.Equal(t, b.leaf.SerialNumber, servedSerial(t, srv.addr, ca))
}

func TestServerTLS_AnUnusableNewCertificateKeepsTheOld(t *testing.T) {
	ca := newTestCA(t, "ca")
	a := ca.issue(t, nil)
	other := ca.issue(t, nil)
	expired := ca.issue(t, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	})
	future := ca.issue(t, func(c *x509.Certificate) { c.NotBefore = time.Now().Add(24 * time.Hour) })
	cases := map[string]struct {
		cert, key []byte
		want      error
	}{
		"not PEM":            {[]byte("garbage"), a.keyPEM, httpsec.ErrInvalidCertificate},
		"truncated":          {a.certPEM[:len(a.certPEM)/2], a.keyPEM, httpsec.ErrInvalidCertificate},
		"another's key":      {other.certPEM, a.keyPEM, httpsec.ErrInvalidCertificate},
		"expired":            {expired.certPEM, expired.keyPEM, httpsec.ErrCertificateExpired},
		"not yet valid":      {future.certPEM, future.keyPEM, httpsec.ErrCertificateExpired},
		"empty key":          {other.certPEM, nil, httpsec.ErrInvalidCertificate},
		"certificate as key": {other.certPEM, other.certPEM, httpsec.ErrInvalidCertificate},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			files := newCertFiles(t, a)
			clock := testclock.New(time.Now())
			var reloadErrs []error
			st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{
				CertFile: files.cert, KeyFile: files.key, Now: clock.Now,
				Hooks: httpsec.Hooks{OnCertReloadError: func(err error) { reloadErrs = append(reloadErrs, err) }},
			})
			require.NoError(t, err)
			srv := serveTLS(t, st.Config())

			files.writeRaw(t, tc.cert, tc.key)
			err = st.Reload()
			require.ErrorIs(t, err, httpsec.ErrInvalidCertificate)
			require.ErrorIs(t, err, tc.want)
			var ce *httpsec.CertificateError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, files.cert, ce.CertFile)
			assert.Equal(t, a.leaf.SerialNumber, servedSerial(t, srv.addr, ca))

			// The periodic check sees the same broken files: no new report.
			clock.Advance(2 * httpsec.DefaultReloadInterval)
			assert.Equal(t, a.leaf.SerialNumber, servedSerial(t, srv.addr, ca))
			assert.Len(t, reloadErrs, 1)

			// Repaired files are taken at the next check.
			files.write(t, other)
			clock.Advance(2 * httpsec.DefaultReloadInterval)
			assert.Equal(t, other.leaf.SerialNumber, servedSerial(t, srv.addr, ca))
		})
	}
}

func TestServerTLS_AMissingFileIsReportedOnceAndKeepsTheOld(t *testing.T) {
	ca := newTestCA(t, "ca")
	a := ca.issue(t, nil)
	files := newCertFiles(t, a)
	clock := testclock.New(time.Now())
	var reloadErrs []error
	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{
		CertFile: files.cert, KeyFile: files.key, Now: clock.Now,
		Hooks: httpsec.Hooks{OnCertReloadError: func(err error) { reloadErrs = append(reloadErrs, err) }},
	})
	require.NoError(t, err)
	srv := serveTLS(t, st.Config())
	require.NoError(t, os.Remove(files.key))
	for range 3 {
		clock.Advance(httpsec.DefaultReloadInterval)
		assert.Equal(t, a.leaf.SerialNumber, servedSerial(t, srv.addr, ca))
	}
	require.Len(t, reloadErrs, 1)
	assert.ErrorIs(t, reloadErrs[0], fs.ErrNotExist)
	assert.ErrorIs(t, reloadErrs[0], httpsec.ErrInvalidCertificate)
}

func TestServerTLS_ConcurrentHandshakesDuringReloads(t *testing.T) {
	ca := newTestCA(t, "ca")
	certs := []issued{ca.issue(t, nil), ca.issue(t, nil)}
	files := newCertFiles(t, certs[0])
	clock := testclock.New(time.Now())
	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, Now: clock.Now})
	require.NoError(t, err)
	srv := serveTLS(t, st.Config())
	valid := map[string]bool{certs[0].leaf.SerialNumber.String(): true, certs[1].leaf.SerialNumber.String(): true}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				cs, err := handshake(t, srv.addr, clientConfig(ca, nil))
				if assert.NoError(t, err) {
					assert.True(t, valid[cs.PeerCertificates[0].SerialNumber.String()])
				}
			}
		})
		if i%2 == 0 {
			files.write(t, certs[(i/2)%2])
			clock.Advance(httpsec.DefaultReloadInterval)
			_ = st.Reload()
		}
	}
	wg.Wait()
}

func TestServerTLS_RefusesOldProtocolsAndCBC(t *testing.T) {
	ca := newTestCA(t, "ca")
	files := newCertFiles(t, ca.issue(t, nil))
	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key})
	require.NoError(t, err)
	srv := serveTLS(t, st.Config())

	cs, err := handshake(t, srv.addr, clientConfig(ca, func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} }))
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS13), cs.Version, "TLS 1.3 is preferred")
	assert.Equal(t, "h2", cs.NegotiatedProtocol)

	cs, err = handshake(t, srv.addr, clientConfig(ca, func(c *tls.Config) {
		c.CurvePreferences = []tls.CurveID{tls.CurveP256, tls.X25519, tls.CurveP384}
	}))
	require.NoError(t, err)
	assert.Equal(t, tls.X25519, cs.CurveID, "X25519 first among classical groups")

	cs, err = handshake(t, srv.addr, clientConfig(ca, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }))
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS12), cs.Version)
	assert.Contains(t, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, cs.CipherSuite)

	refused := map[string]func(*tls.Config){
		"TLS 1.1": func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 },
		"TLS 1.0": func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10 },
		"CBC suites only": func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}
		},
		"RSA key exchange": func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384}
		},
	}
	for name, edit := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := handshake(t, srv.addr, clientConfig(ca, edit))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "remote error: tls:", "the server refused with an alert")
		})
	}

	modern, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, MinVersion: tls.VersionTLS13})
	require.NoError(t, err)
	msrv := serveTLS(t, modern.Config())
	_, err = handshake(t, msrv.addr, clientConfig(ca, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }))
	require.Error(t, err, "the modern profile refuses TLS 1.2")
	_, err = handshake(t, msrv.addr, clientConfig(ca, nil))
	require.NoError(t, err)
}

func TestServerTLS_MutualTLS(t *testing.T) {
	ca, rogue := newTestCA(t, "clients"), newTestCA(t, "rogue")
	serverCA := newTestCA(t, "servers")
	files := newCertFiles(t, serverCA.issue(t, nil))
	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, ClientCAs: ca.pool})
	require.NoError(t, err)
	srv := serveTLS(t, st.Config())
	spiffe := func(c *x509.Certificate) {
		u, _ := url.Parse("spiffe://shop.example/ns/prod/sa/api")
		c.URIs = []*url.URL{u}
	}
	client := func(certs ...tls.Certificate) *http.Client {
		// Present the certificate whatever the server's list of CAs says
		// (Go's client would otherwise send none that does not match).
		return &http.Client{Transport: &http.Transport{TLSClientConfig: clientConfig(serverCA, func(c *tls.Config) {
			c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if len(certs) == 0 {
					return &tls.Certificate{}, nil
				}
				return &certs[0], nil
			}
		})}}
	}

	body, err := get(t, client(clientCert(t, ca, spiffe)), srv.addr)
	require.NoError(t, err)
	assert.Equal(t, "api spiffe://shop.example/ns/prod/sa/api", body)

	refused := map[string]struct {
		client *http.Client
		alert  string // the server's reason, as the client hears it
	}{
		"no certificate": {client(), "certificate required"},
		"expired": {client(clientCert(t, ca, func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)
		})), "expired certificate"},
		"signed by another CA": {client(clientCert(t, rogue, spiffe)), "unknown certificate authority"},
		"self-signed":          {client(selfSigned(t)), "unknown certificate authority"},
		"server usage only": {client(clientCert(t, ca, func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		})), "bad certificate"},
		"signed by the server's CA": {client(clientCert(t, serverCA, nil)), "unknown certificate authority"},
	}
	hits := srv.hits.Load()
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := get(t, tc.client, srv.addr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "remote error: tls: "+tc.alert)
		})
	}
	assert.Equal(t, hits, srv.hits.Load(), "no refused client reached the handler")

	optional, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, ClientCAs: ca.pool, ClientCertOptional: true})
	require.NoError(t, err)
	osrv := serveTLS(t, optional.Config())
	body, err = get(t, client(), osrv.addr)
	require.NoError(t, err)
	assert.Equal(t, "anonymous", body)
	_, err = get(t, client(clientCert(t, rogue, nil)), osrv.addr)
	require.Error(t, err, "a certificate that is presented must verify")
}

func selfSigned(t *testing.T) tls.Certificate {
	ca := newTestCA(t, "self")
	return tls.Certificate{Certificate: [][]byte{ca.cert.Raw}, PrivateKey: ca.key}
}

func TestServerTLS_SessionTicketKeysRotate(t *testing.T) {
	ca := newTestCA(t, "ca")
	files := newCertFiles(t, ca.issue(t, nil))
	clock := testclock.New(time.Now())
	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, Now: clock.Now, ReloadInterval: -1})
	require.NoError(t, err)
	srv := serveTLS(t, st.Config())

	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			cache := tls.NewLRUClientSessionCache(8)
			resumed := func() bool {
				tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: clientConfig(ca, func(c *tls.Config) {
					c.ClientSessionCache, c.Time, c.MaxVersion = cache, clock.Now, version
				})}
				resp, err := (&http.Client{Transport: tr}).Get("https://" + srv.addr + "/")
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body) // reads the TLS 1.3 ticket too
				_ = resp.Body.Close()
				return resp.TLS.DidResume
			}
			require.False(t, resumed())
			require.True(t, resumed(), "a ticket resumes")
			clock.Advance(httpsec.DefaultTicketKeyRotation + time.Minute)
			require.True(t, resumed(), "a rotated-out key still opens its tickets")
			clock.Advance(4 * httpsec.DefaultTicketKeyRotation)
			require.False(t, resumed(), "a ticket of a key past its lifetime is refused")
			require.True(t, resumed())
		})
	}

	off, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, TicketKeyRotation: -1})
	require.NoError(t, err)
	assert.True(t, off.Config().SessionTicketsDisabled)
}

func TestNewServerTLS_RefusesBadConfig(t *testing.T) {
	ca := newTestCA(t, "ca")
	files := newCertFiles(t, ca.issue(t, nil))
	missing := filepath.Join(t.TempDir(), "missing.crt")
	cases := map[string]struct {
		cfg  httpsec.ServerTLSConfig
		also error
	}{
		"no cert file":                {httpsec.ServerTLSConfig{KeyFile: files.key}, nil},
		"no key file":                 {httpsec.ServerTLSConfig{CertFile: files.cert}, nil},
		"TLS 1.1":                     {httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, MinVersion: tls.VersionTLS11}, nil},
		"optional without CAs":        {httpsec.ServerTLSConfig{CertFile: files.cert, KeyFile: files.key, ClientCertOptional: true}, nil},
		"missing certificate":         {httpsec.ServerTLSConfig{CertFile: missing, KeyFile: files.key}, fs.ErrNotExist},
		"key and certificate swapped": {httpsec.ServerTLSConfig{CertFile: files.key, KeyFile: files.cert}, httpsec.ErrInvalidCertificate},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := httpsec.NewServerTLS(tc.cfg)
			require.ErrorIs(t, err, httpsec.ErrInvalidConfig)
			if tc.also != nil {
				assert.ErrorIs(t, err, tc.also)
			}
		})
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
