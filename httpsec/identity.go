package httpsec

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/netip"
	"net/url"
	"strings"
)

// Identity is who a verified client certificate says its holder is, for a
// service's authentication to map to a principal. Build it with
// [ClientIdentity].
type Identity struct {
	// Subject is the certificate's subject; Subject.CommonName is often the
	// client's name outside SPIFFE.
	Subject pkix.Name
	// DNSNames, EmailAddresses, IPAddresses and URIs are the certificate's
	// subject alternative names.
	DNSNames       []string
	EmailAddresses []string
	IPAddresses    []netip.Addr
	URIs           []*url.URL
	// SPIFFEID is the certificate's SPIFFE ID ("spiffe://example.org/ns/
	// payments/sa/api"), empty when it has none; TrustDomain is its
	// authority ("example.org").
	SPIFFEID    string
	TrustDomain string
	// Certificate is the verified leaf.
	Certificate *x509.Certificate
}

// ClientIdentity returns the identity in the client certificate of a
// connection, as the server verified it: the leaf of cs.VerifiedChains,
// so a certificate that was presented but not verified is never an
// identity. For an HTTP request, pass r.TLS.
//
// It fails with [ErrNoClientCertificate] when the connection has no
// verified client certificate (plain HTTP, a client without one under
// ClientCertOptional), and with an error matching [ErrInvalidSPIFFEID]
// when the certificate claims a SPIFFE ID that the SPIFFE specification
// refuses: malformed, or beside other URI names (an X509-SVID has exactly
// one).
func ClientIdentity(cs *tls.ConnectionState) (Identity, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Identity{}, ErrNoClientCertificate
	}
	c := cs.VerifiedChains[0][0]
	id := Identity{
		Subject:        c.Subject,
		DNSNames:       c.DNSNames,
		EmailAddresses: c.EmailAddresses,
		URIs:           c.URIs,
		Certificate:    c,
	}
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			id.IPAddresses = append(id.IPAddresses, a.Unmap())
		}
	}
	for _, u := range c.URIs {
		if !strings.EqualFold(u.Scheme, "spiffe") {
			continue
		}
		if len(c.URIs) != 1 {
			return Identity{}, &SPIFFEIDError{ID: u.String(), Reason: "an X509-SVID has exactly one URI name"}
		}
		td, err := parseSPIFFEID(u.String())
		if err != nil {
			return Identity{}, err
		}
		id.SPIFFEID, id.TrustDomain = u.String(), td
	}
	return id, nil
}

// maxSPIFFEIDLen is the SPIFFE ID specification's limit on the whole ID.
const maxSPIFFEIDLen = 2048

// parseSPIFFEID checks s against the SPIFFE ID specification (section 2):
// "spiffe://", a trust domain of lowercase letters, digits, '.', '-' and
// '_', and an optional path of non-empty segments of letters, digits,
// '.', '-' and '_' that are not "." or "..", with no trailing slash, no
// query, fragment, port, user information or percent-encoding. It
// returns the trust domain.
func parseSPIFFEID(s string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &SPIFFEIDError{ID: s, Reason: reason}
	}
	if len(s) > maxSPIFFEIDLen {
		return bad("longer than 2048 bytes")
	}
	rest, ok := strings.CutPrefix(s, "spiffe://")
	if !ok {
		return bad(`does not start with "spiffe://"`)
	}
	td, path, _ := strings.Cut(rest, "/")
	if td == "" {
		return bad("no trust domain")
	}
	for i := 0; i < len(td); i++ {
		c := td[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return bad("the trust domain has a character other than a-z, 0-9, '.', '-' and '_'")
		}
	}
	if len(rest) == len(td) {
		return td, nil
	}
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "":
			return bad("an empty path segment or a trailing slash")
		case ".", "..":
			return bad(`a "." or ".." path segment`)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				return bad("the path has a character other than letters, digits, '.', '-' and '_'")
			}
		}
	}
	return td, nil
}
