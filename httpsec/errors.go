package httpsec

import (
	"errors"
	"strconv"
	"strings"
)

// Construction errors. Every error returned by a New function is a
// [*ConfigError] that matches [ErrInvalidConfig] with [errors.Is], and also
// matches the more specific sentinel below when one applies.
var (
	// ErrInvalidConfig matches every configuration error.
	ErrInvalidConfig = errors.New("httpsec: invalid config")
	// ErrInvalidOrigin reports an origin or origin pattern that is not of
	// the form scheme://host[:port] or scheme://*.domain[:port].
	ErrInvalidOrigin = errors.New("httpsec: invalid origin")
	// ErrNullOrigin reports a "null" entry in an origin allow-list. Sandboxed
	// iframes, file: pages and redirects all share that origin, so listing
	// it allows anyone. ("*" without credentials does let it through.)
	ErrNullOrigin = errors.New("httpsec: the null origin cannot be allowed")
	// ErrAnyOriginWithCredentials reports "*" combined with
	// AllowCredentials: it would let every site read responses made with
	// the user's cookies.
	ErrAnyOriginWithCredentials = errors.New("httpsec: any origin (*) cannot be combined with credentials")
	// ErrInvalidHost reports a malformed entry of a host allow-list.
	ErrInvalidHost = errors.New("httpsec: invalid host")
	// ErrInvalidCSP reports a malformed Content-Security-Policy directive or
	// source.
	ErrInvalidCSP = errors.New("httpsec: invalid content security policy")
)

// Request rejections. They are passed to [Hooks].OnReject and carried in the
// problem+json detail sent to the client.
var (
	// ErrOriginNotAllowed rejects a CORS preflight from an origin that is
	// not in the allow list.
	ErrOriginNotAllowed = errors.New("httpsec: origin not allowed")
	// ErrMethodNotAllowed rejects a CORS preflight asking for a method that
	// is not in the allow list.
	ErrMethodNotAllowed = errors.New("httpsec: method not allowed by CORS policy")
	// ErrHeaderNotAllowed rejects a CORS preflight asking for a header that
	// is not in the allow list, or asking for too many.
	ErrHeaderNotAllowed = errors.New("httpsec: request header not allowed by CORS policy")
	// ErrBodyTooLarge rejects a request body over the configured limit.
	// Reads past the limit return an error matching both ErrBodyTooLarge
	// and *http.MaxBytesError.
	ErrBodyTooLarge = errors.New("httpsec: request body too large")
	// ErrCrossOriginRequest rejects a state-changing request that a browser
	// sent from another origin.
	ErrCrossOriginRequest = errors.New("httpsec: cross-origin request rejected")
	// ErrHostNotAllowed rejects a request whose Host header is not in the
	// allow list.
	ErrHostNotAllowed = errors.New("httpsec: host not allowed")
)

// Outbound refusals. Every refusal of an [Outbound] is an [*OutboundError]
// that matches [ErrOutboundRefused] with [errors.Is], and also the sentinel
// below that says why.
var (
	// ErrOutboundRefused matches every refusal of an [Outbound].
	ErrOutboundRefused = errors.New("httpsec: outbound request refused")
	// ErrSchemeNotAllowed refuses a URL whose scheme is not http or https.
	ErrSchemeNotAllowed = errors.New("httpsec: scheme not allowed")
	// ErrDestinationNotAllowed refuses a URL whose host is not in
	// OutboundConfig.AllowedHosts.
	ErrDestinationNotAllowed = errors.New("httpsec: destination host not allowed")
	// ErrPortNotAllowed refuses a port outside OutboundConfig.AllowedPorts,
	// or a URL port that is not a number from 1 to 65535.
	ErrPortNotAllowed = errors.New("httpsec: port not allowed")
	// ErrAddressNotAllowed refuses an IP address that is not [Public] and
	// not in OutboundConfig.AllowedCIDRs, whether written in the URL or
	// resolved from its name.
	ErrAddressNotAllowed = errors.New("httpsec: address not allowed")
	// ErrNumericHost refuses a host that URL parsers and the C resolver read
	// as an IPv4 address but that is not one in dotted-decimal form
	// (2130706433, 0177.0.0.1, 0x7f.1, 127.1): resolvers disagree on what
	// it means, so it has no safe meaning.
	ErrNumericHost = errors.New("httpsec: host is a non-canonical IPv4 address")
	// ErrTooManyRedirects ends a chain of redirects longer than
	// OutboundConfig.MaxRedirects.
	ErrTooManyRedirects = errors.New("httpsec: too many redirects")
	// ErrResponseTooLarge refuses a response body over
	// OutboundConfig.MaxResponseBytes: returned by RoundTrip when
	// Content-Length announces it, by the body's Read when it grows past
	// the limit.
	ErrResponseTooLarge = errors.New("httpsec: response body too large")
)

// TLS errors.
var (
	// ErrInvalidCertificate matches every [*CertificateError]: certificate
	// or key files a [ServerTLS] cannot serve.
	ErrInvalidCertificate = errors.New("httpsec: invalid certificate")
	// ErrCertificateExpired reports a certificate outside its validity
	// period (expired, or not yet valid).
	ErrCertificateExpired = errors.New("httpsec: certificate expired or not yet valid")
	// ErrNoClientCertificate is returned by [ClientIdentity] for a
	// connection without a verified client certificate.
	ErrNoClientCertificate = errors.New("httpsec: no verified client certificate")
	// ErrInvalidSPIFFEID matches every [*SPIFFEIDError].
	ErrInvalidSPIFFEID = errors.New("httpsec: invalid SPIFFE ID")
)

// CertificateError reports certificate and key files that could not be
// used: unreadable, unparsable, not matching each other, or outside their
// validity period. It matches [ErrInvalidCertificate], and Err (an
// fs.ErrNotExist, [ErrCertificateExpired], ...) with [errors.Is].
type CertificateError struct {
	CertFile, KeyFile string
	Err               error
}

// Error names the files and the cause.
func (e *CertificateError) Error() string {
	return "httpsec: certificate " + quote(e.CertFile) + " with key " + quote(e.KeyFile) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *CertificateError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidCertificate.
func (e *CertificateError) Is(target error) bool { return target == ErrInvalidCertificate }

// SPIFFEIDError reports a URI name that claims to be a SPIFFE ID and is
// not a valid one. It matches [ErrInvalidSPIFFEID].
type SPIFFEIDError struct {
	ID     string // the URI as found in the certificate
	Reason string
}

// Error names the ID and what is wrong with it.
func (e *SPIFFEIDError) Error() string {
	return "httpsec: invalid SPIFFE ID " + quote(e.ID) + ": " + e.Reason
}

// Is reports whether target is ErrInvalidSPIFFEID.
func (e *SPIFFEIDError) Is(target error) bool { return target == ErrInvalidSPIFFEID }

// ConfigError describes one invalid configuration value.
type ConfigError struct {
	Field string // the configuration field, e.g. "CORSConfig.AllowedOrigins"
	Value string // the offending value
	Err   error  // the specific sentinel, e.g. ErrInvalidOrigin
	// Reason explains what is wrong; empty when Err says it all.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("httpsec: ")
	b.WriteString(e.Field)
	if e.Value != "" {
		b.WriteString(" ")
		b.WriteString(quote(e.Value))
	}
	b.WriteString(": ")
	if e.Reason != "" {
		b.WriteString(e.Reason)
	} else {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "httpsec: "))
	}
	return b.String()
}

// Unwrap returns the specific sentinel.
func (e *ConfigError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidConfig, which every ConfigError
// matches.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

func configErr(field, value string, err error, reason string) *ConfigError {
	return &ConfigError{Field: field, Value: value, Err: err, Reason: reason}
}

// quote is strconv.Quote limited to a readable length: configuration values
// come from files and environments and may be long.
func quote(s string) string {
	const max = 120
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
