package httpsec_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

func verified(c *x509.Certificate) *tls.ConnectionState {
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}, VerifiedChains: [][]*x509.Certificate{{c}}}
}

func TestClientIdentity_ReadsTheVerifiedLeaf(t *testing.T) {
	ca := newTestCA(t, "clients")
	leaf := ca.issue(t, func(c *x509.Certificate) {
		c.Subject = pkix.Name{CommonName: "billing", Organization: []string{"shop"}}
		c.DNSNames = []string{"billing.internal"}
		c.EmailAddresses = []string{"ops@shop.example"}
		c.IPAddresses = []net.IP{net.IPv4(10, 0, 0, 7)}
		u, _ := url.Parse("spiffe://shop.example/ns/prod/sa/billing")
		c.URIs = []*url.URL{u}
	}).leaf
	id, err := httpsec.ClientIdentity(verified(leaf))
	require.NoError(t, err)
	assert.Equal(t, "billing", id.Subject.CommonName)
	assert.Equal(t, []string{"shop"}, id.Subject.Organization)
	assert.Equal(t, []string{"billing.internal"}, id.DNSNames)
	assert.Equal(t, []string{"ops@shop.example"}, id.EmailAddresses)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("10.0.0.7")}, id.IPAddresses)
	assert.Equal(t, "spiffe://shop.example/ns/prod/sa/billing", id.SPIFFEID)
	assert.Equal(t, "shop.example", id.TrustDomain)
	assert.Same(t, leaf, id.Certificate)
}

func TestClientIdentity_WithoutAVerifiedCertificate(t *testing.T) {
	ca := newTestCA(t, "clients")
	leaf := ca.issue(t, nil).leaf
	for name, cs := range map[string]*tls.ConnectionState{
		"plain HTTP":                 nil,
		"no certificate":             {},
		"presented but not verified": {PeerCertificates: []*x509.Certificate{leaf}},
	} {
		_, err := httpsec.ClientIdentity(cs)
		assert.ErrorIs(t, err, httpsec.ErrNoClientCertificate, name)
	}
}

func TestClientIdentity_RefusesInvalidSPIFFEIDs(t *testing.T) {
	ca := newTestCA(t, "clients")
	for _, uris := range [][]string{
		{"spiffe://Shop.example/api"},
		{"spiffe://shop.example/api/"},
		{"spiffe://shop.example//api"},
		{"spiffe://shop.example/./api"},
		{"spiffe://shop.example/a/../b"},
		{"spiffe://shop.example:8443/api"},
		{"spiffe://user@shop.example/api"},
		{"spiffe://shop.example/api?x=1"},
		{"spiffe://shop.example/api#x"},
		{"spiffe://shop.example/a%41"},
		{"spiffe:///api"},
		{"spiffe://shop.example/api", "https://shop.example/api"},
	} {
		leaf := ca.issue(t, func(c *x509.Certificate) {
			c.URIs = nil
			for _, s := range uris {
				u, err := url.Parse(s)
				require.NoError(t, err)
				c.URIs = append(c.URIs, u)
			}
		}).leaf
		_, err := httpsec.ClientIdentity(verified(leaf))
		require.ErrorIs(t, err, httpsec.ErrInvalidSPIFFEID, "%v", uris)
		var se *httpsec.SPIFFEIDError
		require.ErrorAs(t, err, &se)
		assert.NotEmpty(t, se.Reason)
	}
	leaf := ca.issue(t, func(c *x509.Certificate) {
		u, _ := url.Parse("https://shop.example/not-spiffe")
		c.URIs = []*url.URL{u, u}
	}).leaf
	id, err := httpsec.ClientIdentity(verified(leaf))
	require.NoError(t, err, "URI names that are not SPIFFE IDs are only names")
	assert.Empty(t, id.SPIFFEID)
	assert.Len(t, id.URIs, 2)
}
