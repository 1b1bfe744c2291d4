package httpsec_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/bedrock-go/bedrock/httpsec"
)

// An HTTPS server whose certificate a certificate manager renews on disk.
func ExampleNewServerTLS() {
	dir, _ := os.MkdirTemp("", "tls")
	defer os.RemoveAll(dir)
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	roots := x509.NewCertPool()
	writeSelfSigned(certFile, keyFile, "first", roots)

	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{
		CertFile: certFile,
		KeyFile:  keyFile,
		Hooks: httpsec.Hooks{
			OnCertReload:      func(leaf *x509.Certificate) { fmt.Println("now serving", leaf.Subject.CommonName) },
			OnCertReloadError: func(err error) { fmt.Println("kept the old certificate:", err) },
		},
	})
	if err != nil {
		panic(err)
	}
	srv := &http.Server{TLSConfig: st.Config(), Handler: http.NotFoundHandler()}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer srv.Close()

	served := func() {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost"})
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		cs := conn.ConnectionState()
		fmt.Println(tls.VersionName(cs.Version), cs.PeerCertificates[0].Subject.CommonName)
	}
	served()
	writeSelfSigned(certFile, keyFile, "second", roots)
	_ = st.Reload() // or wait for the first handshake after ReloadInterval
	served()
	// Output:
	// TLS 1.3 first
	// now serving second
	// TLS 1.3 second
}

// writeSelfSigned writes a certificate for localhost named cn and adds it
// to roots.
func writeSelfSigned(certFile, keyFile, cn string, roots *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	roots.AddCert(cert)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

// With ClientCAs set, a handler learns who called from the verified
// client certificate.
func ExampleClientIdentity() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := httpsec.ClientIdentity(r.TLS)
		if err != nil {
			http.Error(w, "client certificate required", http.StatusUnauthorized)
			return
		}
		if id.SPIFFEID != "spiffe://shop.example/ns/prod/sa/billing" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprintln(w, "hello,", id.Subject.CommonName)
	})
	// A request that did not come over mutual TLS has no identity.
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
	fmt.Println(w.Code)
	// Output: 401
}
