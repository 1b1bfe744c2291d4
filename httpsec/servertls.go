package httpsec

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [ServerTLSConfig].
const (
	DefaultReloadInterval    = time.Minute
	DefaultTicketKeyRotation = 6 * time.Hour
)

// ticketKeysKept is how many ticket keys decrypt at once: a ticket stays
// usable for ticketKeysKept rotations (24 hours by default).
const ticketKeysKept = 4

// ServerTLSConfig configures [NewServerTLS].
type ServerTLSConfig struct {
	// CertFile holds the PEM certificate chain, leaf first. Required.
	CertFile string
	// KeyFile holds the PEM private key of the leaf. Required.
	KeyFile string
	// MinVersion is tls.VersionTLS12 (the default: Mozilla's
	// "intermediate" profile) or tls.VersionTLS13 (Mozilla's "modern"
	// profile). Anything else is an error: TLS 1.0 and 1.1 are
	// deprecated (RFC 8996).
	MinVersion uint16
	// ClientCAs, when set, turns on mutual TLS: a client must present a
	// certificate that chains to one of these CAs, unexpired, with the
	// client-authentication usage. See [ClientIdentity].
	ClientCAs *x509.CertPool
	// ClientCertOptional, with ClientCAs, lets clients without a
	// certificate connect (a certificate that is presented must still
	// verify), for a server that also authenticates some callers another
	// way. Setting it without ClientCAs is an error.
	ClientCertOptional bool
	// ReloadInterval is how often the certificate and key files are
	// re-read, at most: the check runs in the first handshake after the
	// interval, never in a goroutine of its own. Default
	// DefaultReloadInterval (1 minute); negative turns the check off,
	// leaving [ServerTLS.Reload] to the caller (on SIGHUP, say).
	ReloadInterval time.Duration
	// TicketKeyRotation is how often a new session-ticket key is made.
	// Four keys decrypt at once, so a ticket resumes a session for up to
	// four rotations (24 hours by default). Default
	// DefaultTicketKeyRotation (6 hours); negative disables session
	// tickets (every connection does a full handshake).
	TicketKeyRotation time.Duration
	// Now is the clock for reload checks, ticket keys, and the validity of
	// certificates, the server's own and its clients'. Default time.Now.
	Now func() time.Time
	// Hooks receives instrumentation callbacks: OnCertReload and
	// OnCertReloadError.
	Hooks Hooks
}

// ServerTLS is the TLS configuration of an HTTPS server: modern defaults,
// a certificate that is reloaded from its files when they change, and
// optional mutual TLS. Most callers want [ServerTLS.Config] for their
// http.Server's TLSConfig.
//
// The defaults follow Mozilla's Server Side TLS guidelines: TLS 1.2 and
// 1.3 ("intermediate"; MinVersion tls.VersionTLS13 gives "modern"), and
// for TLS 1.2 only ECDHE key exchange with AEAD ciphers (AES-GCM and
// ChaCha20-Poly1305), so no CBC, RSA key exchange, 3DES or RC4. The
// intermediate profile's DHE suites are absent because Go implements none.
// TLS 1.3 is preferred whenever the client offers it, and its suites are
// all AEAD. Key exchange offers X25519 first, after X25519MLKEM768, the
// post-quantum hybrid that contains it, then P-256 and P-384. Session
// tickets are encrypted with keys rotated every TicketKeyRotation, so a
// stolen ticket key exposes at most a day of resumed TLS 1.2 sessions
// (TLS 1.3 resumption in Go always adds a fresh key exchange).
//
// A certificate is replaced without a restart: existing connections keep
// the certificate they were made with, new handshakes get the new one. A
// new certificate that does not parse, does not match its key, or is
// outside its validity period is not used: the old one stays, and
// Hooks.OnCertReloadError hears why. Write the key before the
// certificate, or replace both by renaming, so that a check never sees a
// certificate with the other's key (it would report one error, keep the
// old pair, and take the new pair at the next check).
//
// A ServerTLS must be created with [NewServerTLS] and is safe for
// concurrent use. It starts no goroutine.
type ServerTLS struct {
	certFile, keyFile string
	now               func() time.Time
	interval          time.Duration
	hooks             Hooks
	base              *tls.Config

	cert      atomic.Pointer[tls.Certificate]
	nextCheck atomic.Int64 // unix nanoseconds

	mu   sync.Mutex // held while loading
	seen [sha256.Size]byte
}

// aeadSuites are the TLS 1.2 suites allowed: ECDHE with an AEAD, the
// intermediate profile minus DHE. TLS 1.3 suites are not configurable and
// all AEAD.
var aeadSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// NewServerTLS validates cfg and loads the certificate. A configuration
// error, a certificate that cannot be read or used included, is a
// [*ConfigError] matching [ErrInvalidConfig]; for the files it wraps a
// [*CertificateError], so errors.Is also finds fs.ErrNotExist.
func NewServerTLS(cfg ServerTLSConfig) (*ServerTLS, error) {
	if cfg.CertFile == "" {
		return nil, configErr("ServerTLSConfig.CertFile", "", ErrInvalidConfig, "required")
	}
	if cfg.KeyFile == "" {
		return nil, configErr("ServerTLSConfig.KeyFile", "", ErrInvalidConfig, "required")
	}
	minVersion := cfg.MinVersion
	switch minVersion {
	case 0:
		minVersion = tls.VersionTLS12
	case tls.VersionTLS12, tls.VersionTLS13:
	default:
		return nil, configErr("ServerTLSConfig.MinVersion", tls.VersionName(minVersion), ErrInvalidConfig, "want tls.VersionTLS12 or tls.VersionTLS13")
	}
	if cfg.ClientCertOptional && cfg.ClientCAs == nil {
		return nil, configErr("ServerTLSConfig.ClientCertOptional", "true", ErrInvalidConfig, "needs ClientCAs")
	}
	s := &ServerTLS{certFile: cfg.CertFile, keyFile: cfg.KeyFile, now: cfg.Now, interval: cfg.ReloadInterval, hooks: cfg.Hooks}
	if s.now == nil {
		s.now = time.Now
	}
	if s.interval == 0 {
		s.interval = DefaultReloadInterval
	}
	if err := s.load(true, false); err != nil {
		return nil, &ConfigError{Field: "ServerTLSConfig.CertFile", Value: cfg.CertFile, Err: err}
	}
	s.nextCheck.Store(s.now().Add(s.interval).UnixNano())
	s.base = &tls.Config{
		MinVersion:       minVersion,
		CipherSuites:     aeadSuites,
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384},
		GetCertificate:   s.getCertificate,
		NextProtos:       []string{"h2", "http/1.1"},
		Time:             s.now,
	}
	if cfg.ClientCAs != nil {
		s.base.ClientCAs = cfg.ClientCAs
		s.base.ClientAuth = tls.RequireAndVerifyClientCert
		if cfg.ClientCertOptional {
			s.base.ClientAuth = tls.VerifyClientCertIfGiven
		}
	}
	rotation := cfg.TicketKeyRotation
	if rotation == 0 {
		rotation = DefaultTicketKeyRotation
	}
	if rotation < 0 {
		s.base.SessionTicketsDisabled = true
	} else {
		t := &ticketKeys{rotation: rotation, now: s.now}
		s.base.WrapSession, s.base.UnwrapSession = t.wrap, t.unwrap
	}
	return s, nil
}

// Config returns a new *tls.Config for an http.Server (or tls.Listen)
// that serves the current certificate. The caller may change the copy;
// the reload, the ticket keys and the client verification live in its
// callbacks and survive the Clone http.Server makes.
func (s *ServerTLS) Config() *tls.Config { return s.base.Clone() }

// Certificate returns the leaf certificate being served.
func (s *ServerTLS) Certificate() *x509.Certificate { return s.cert.Load().Leaf }

// Reload re-reads the certificate and key files now and serves them if
// they are usable. It returns nil when it did, or when the files hold the
// certificate already served; otherwise a [*CertificateError], also given
// to Hooks.OnCertReloadError, and the old certificate stays.
func (s *ServerTLS) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(true, true)
}

func (s *ServerTLS) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if s.interval > 0 && s.now().UnixNano() >= s.nextCheck.Load() {
		s.check()
	}
	return s.cert.Load(), nil
}

// check is the periodic reload. One handshake does it; the others that
// arrive meanwhile serve the current certificate rather than wait.
func (s *ServerTLS) check() {
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	if s.now().UnixNano() < s.nextCheck.Load() {
		return // another handshake just did it
	}
	_ = s.load(false, true)
	s.nextCheck.Store(s.now().Add(s.interval).UnixNano())
}

// load reads both files and serves their certificate if usable. Unless
// forced, files identical to those of the last attempt (successful or
// not) are not parsed again, so that a broken file is reported once.
// s.mu is held, except in NewServerTLS.
func (s *ServerTLS) load(force, report bool) error {
	certPEM, certErr := os.ReadFile(s.certFile)
	keyPEM, keyErr := os.ReadFile(s.keyFile)
	var err error
	var cert *tls.Certificate
	if err = errors.Join(certErr, keyErr); err != nil {
		// The same missing file at every check is one event.
		certPEM, keyPEM = []byte(err.Error()), nil
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	if !force && sum == s.seen {
		return nil
	}
	s.seen = sum
	if err == nil {
		cert, err = s.parse(certPEM, keyPEM)
	}
	if err != nil {
		err = &CertificateError{CertFile: s.certFile, KeyFile: s.keyFile, Err: err}
		if report && s.hooks.OnCertReloadError != nil {
			s.hooks.OnCertReloadError(err)
		}
		return err
	}
	if old := s.cert.Load(); old != nil && bytes.Equal(old.Leaf.Raw, cert.Leaf.Raw) {
		return nil
	}
	s.cert.Store(cert)
	if report && s.hooks.OnCertReload != nil {
		s.hooks.OnCertReload(cert.Leaf)
	}
	return nil
}

func (s *ServerTLS) parse(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if cert.Leaf == nil { // filled by X509KeyPair since Go 1.23, unless x509keypairleaf=0
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, err
		}
	}
	now := s.now()
	if now.Before(cert.Leaf.NotBefore) || now.After(cert.Leaf.NotAfter) {
		return nil, fmt.Errorf("%w: valid from %s to %s", ErrCertificateExpired,
			cert.Leaf.NotBefore.UTC().Format(time.RFC3339), cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &cert, nil
}
