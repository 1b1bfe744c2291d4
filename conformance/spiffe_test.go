package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

// spiffeIDCases are SPIFFE IDs, valid and not, that httpsec.ClientIdentity
// reads from a client certificate and go-spiffe, the SPIFFE project's own
// Go library, reads with spiffeid.FromString and x509svid.IDFromCert.
var spiffeIDCases = []string{
	"spiffe://example.org",
	"spiffe://example.org/ns/prod/sa/api",
	"spiffe://a-b_c.d/A.b-c_D/x..y/..z",
	"spiffe://example.org/" + strings.Repeat("a", 2000),
	"spiffe://example.org/" + strings.Repeat("a", 2048),
	"spiffe://" + strings.Repeat("a", 250) + ".org/x",
	"spiffe://Example.org/x",
	"spiffe://example.org/",
	"spiffe://example.org//x",
	"spiffe://example.org/./x",
	"spiffe://example.org/../x",
	"spiffe://example.org/x/..",
	"spiffe://example.org:443/x",
	"spiffe://user@example.org/x",
	"spiffe://example.org/x?q=1",
	"spiffe://example.org/x#f",
	"spiffe://example.org/x%41",
	"spiffe://exa%41mple.org/x",
	"spiffe:///x",
	"spiffe://",
	"spiffe://example.org/x y",
	"spiffe://example.org/ü",
	"SPIFFE://example.org/x",
	"spiffe://127.0.0.1/x",
	"spiffe://[::1]/x",
}

// expectedSPIFFEDifferences lists the IDs on which httpsec deliberately
// disagrees with go-spiffe, each with its reason.
var expectedSPIFFEDifferences = map[string]string{
	"spiffe://example.org/" + strings.Repeat("a", 2048): "the SPIFFE ID specification (2.3) says IDs " +
		"longer than 2048 bytes should not be made and need not be supported; go-spiffe accepts them, httpsec " +
		"refuses them so that an identity a service logs and compares is bounded",
}

func TestSPIFFEIDs_AgreeWithGoSPIFFE(t *testing.T) {
	ca := newSVIDCA(t)
	for _, s := range spiffeIDCases {
		u, err := url.Parse(s)
		if err != nil {
			_, gerr := spiffeid.FromString(s)
			require.Error(t, gerr, "%q: url.Parse refuses it, go-spiffe accepts it", s)
			continue
		}
		leaf := ca.issue(t, []*url.URL{u})
		id, ourErr := httpsec.ClientIdentity(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}})
		theirs, theirErr := x509svid.IDFromCert(leaf)
		if reason, ok := expectedSPIFFEDifferences[s]; ok {
			// Still a difference, or the row is stale.
			require.NotEqual(t, theirErr == nil, ourErr == nil, "%.60q: no longer differs", s)
			t.Logf("%.60q: expected difference: %s", s, reason)
			continue
		}
		require.Equal(t, theirErr == nil, ourErr == nil, "%.80q: httpsec says %.200v, go-spiffe says %v", s, ourErr, theirErr)
		if ourErr == nil {
			require.Equal(t, theirs.String(), id.SPIFFEID, s)
			require.Equal(t, theirs.TrustDomain().Name(), id.TrustDomain, s)
		} else {
			require.True(t, errors.Is(ourErr, httpsec.ErrInvalidSPIFFEID), "%q: %v", s, ourErr)
		}
	}
}

// An X509-SVID has exactly one URI name (X509-SVID specification, 2).
func TestSPIFFEIDs_OneURINameAsGoSPIFFE(t *testing.T) {
	ca := newSVIDCA(t)
	a, _ := url.Parse("spiffe://example.org/a")
	b, _ := url.Parse("https://example.org/b")
	leaf := ca.issue(t, []*url.URL{a, b})
	_, ourErr := httpsec.ClientIdentity(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}})
	_, theirErr := x509svid.IDFromCert(leaf)
	require.Error(t, theirErr)
	require.ErrorIs(t, ourErr, httpsec.ErrInvalidSPIFFEID)
}

type svidCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newSVIDCA(t *testing.T) *svidCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &svidCA{cert: cert, key: key}
}

func (ca *svidCA) issue(t *testing.T, uris []*url.URL) *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), URIs: uris, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}
