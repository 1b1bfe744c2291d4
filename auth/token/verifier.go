package token

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/auth"
)

// Defaults and limits of a [Verifier].
const (
	DefaultLeeway   = 30 * time.Second
	MaxLeeway       = 5 * time.Minute
	DefaultMaxBytes = 8 << 10
	// AccessTokenType is the typ header of an access token (RFC 9068).
	AccessTokenType = "at+jwt"
	maxHeaderBytes  = 1 << 10
)

var b64 = base64.RawURLEncoding.Strict()

// errTooLong and errAlphabet are built once: refusing an oversized or
// misspelt token costs nothing.
var (
	errTooLong  = fmt.Errorf("%w: longer than the verifier's MaxBytes", ErrMalformed)
	errAlphabet = fmt.Errorf("%w: a byte outside the base64url alphabet", ErrMalformed)
)

// VerifierConfig configures a [Verifier]. It fails closed: exp, iss and aud
// are checked unless a Skip field says otherwise.
type VerifierConfig struct {
	// Keys finds the key named by a token's kid; required. There is no
	// fallback of trying every key.
	Keys KeySource
	// Issuer the iss claim must equal; required unless SkipIssuer.
	Issuer string
	// Audience the aud claim must contain; required unless SkipAudience.
	Audience string
	// Algorithms allowed; EdDSA and ES256 when nil. A token's alg must also
	// be the algorithm of its key.
	Algorithms []Algorithm
	// Type the typ header must have, compared ignoring case and an
	// "application/" prefix (RFC 8725 §3.11); "at+jwt" when empty.
	Type string
	// SkipType, SkipIssuer, SkipAudience and SkipExpiry turn off a check.
	// Each is a deliberate weakening; ID tokens, for example, have no typ.
	SkipType, SkipIssuer, SkipAudience, SkipExpiry bool
	// Leeway for clock skew on exp, nbf and iat; 30s when zero, at most 5m.
	Leeway time.Duration
	// MaxBytes is the longest token accepted; 8 KiB when zero. Longer ones are
	// refused before any parsing.
	MaxBytes int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Verifier checks signed tokens. Most callers want [Authenticator] (a
// function, since it is generic over the claims type), which verifies the
// bearer token of each request for an auth.Middleware; [VerifyAs] decodes
// custom claims, [Verifier.Verify] the registered ones, and
// [Verifier.VerifyInto] fills a value the caller owns. It is safe for
// concurrent use.
type Verifier struct {
	cfg     VerifierConfig
	algs    []Algorithm
	scratch sync.Pool
}

// ErrInvalidConfig is wrapped by every error a constructor of this package
// returns for a bad config ([NewVerifier], [NewIssuer],
// [NewRemoteKeySet]).
var ErrInvalidConfig = errors.New("token: invalid config")

// NewVerifier returns a Verifier for cfg, or an error wrapping
// [ErrInvalidConfig].
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	switch {
	case cfg.Keys == nil:
		return nil, fmt.Errorf("%w: Keys is required", ErrInvalidConfig)
	case cfg.Issuer == "" && !cfg.SkipIssuer:
		return nil, fmt.Errorf("%w: Issuer is required (or set SkipIssuer)", ErrInvalidConfig)
	case cfg.Audience == "" && !cfg.SkipAudience:
		return nil, fmt.Errorf("%w: Audience is required (or set SkipAudience)", ErrInvalidConfig)
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return nil, fmt.Errorf("%w: Leeway must be within 0 and %v", ErrInvalidConfig, MaxLeeway)
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("%w: negative MaxBytes", ErrInvalidConfig)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Type == "" {
		cfg.Type = AccessTokenType
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	algs := cfg.Algorithms
	if algs == nil {
		algs = []Algorithm{EdDSA, ES256}
	}
	for _, a := range algs {
		switch a {
		case EdDSA, ES256, HS256, RS256:
		default:
			return nil, fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidConfig, a)
		}
	}
	v := &Verifier{cfg: cfg, algs: slices.Clone(algs)}
	v.scratch.New = func() any { b := make([]byte, 0, 2048); return &b }
	return v, nil
}

// Verify checks token and returns its registered claims.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c := new(Claims)
	if err := v.VerifyInto(ctx, token, c); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyAs checks token and decodes its claims into a new C, a struct that
// embeds [Claims].
func VerifyAs[C any, P interface {
	*C
	Carrier
}](ctx context.Context, v *Verifier, token string) (*C, error) {
	c := P(new(C))
	if err := v.VerifyInto(ctx, token, c); err != nil {
		return nil, err
	}
	return (*C)(c), nil
}

// header is what the verifier reads from a JOSE header.
type header struct {
	alg, kid, typ []byte
}

// VerifyInto checks token and decodes its claims into dst. The order of
// checks is fixed: size, shape, header, key, signature, then claims, so an
// expired token with a bad signature reports ErrSignature, and nothing
// in the claims is read before the signature holds.
func (v *Verifier) VerifyInto(ctx context.Context, token string, dst Carrier) error {
	if len(token) > v.cfg.MaxBytes {
		return errTooLong
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	if dot2 <= dot1 || strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return fmt.Errorf("%w: a compact JWS has exactly two dots", ErrMalformed)
	}
	if dot1 > maxHeaderBytes {
		return fmt.Errorf("%w: header too long", ErrMalformed)
	}
	// encoding/base64 skips CR and LF even in strict mode; without this a
	// token would have many spellings.
	if !isCompactAlphabet(token) {
		return errAlphabet
	}

	bufp := v.scratch.Get().(*[]byte)
	defer v.scratch.Put(bufp)
	// One buffer: the signing input, then the decoded header, signature and
	// payload, so a verification allocates no buffers of its own.
	need := len(token) + b64.DecodedLen(dot1) + b64.DecodedLen(len(token)-dot2-1) + b64.DecodedLen(dot2-dot1-1)
	if cap(*bufp) < need {
		*bufp = make([]byte, 0, need)
	}
	buf := (*bufp)[:need]
	copy(buf, token)
	input, sigEnc := buf[:dot2], buf[dot2+1:len(token)]
	rest := buf[len(token):]

	n, err := b64.Decode(rest, input[:dot1])
	if err != nil {
		return fmt.Errorf("%w: header encoding", ErrMalformed)
	}
	hdr, err := parseHeader(rest[:n])
	if err != nil {
		return err
	}
	rest = rest[n:]
	key, err := v.key(ctx, hdr)
	if err != nil {
		return err
	}

	n, err = b64.Decode(rest, sigEnc)
	if err != nil {
		return fmt.Errorf("%w: signature encoding", ErrMalformed)
	}
	if !key.verify(input, rest[:n]) {
		return ErrSignature
	}
	rest = rest[n:]

	n, err = b64.Decode(rest, input[dot1+1:])
	if err != nil {
		return fmt.Errorf("%w: payload encoding", ErrMalformed)
	}
	if err := decodeClaims(rest[:n], dst); err != nil {
		return err
	}
	return v.checkClaims(dst.Registered())
}

// isCompactAlphabet reports whether s holds only base64url characters
// (without padding) and dots.
func isCompactAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isBase64URL(c) && c != '.' {
			return false
		}
	}
	return true
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// decodeBase64URL decodes unpadded base64url and refuses every other byte,
// CR and LF included.
func decodeBase64URL(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !isBase64URL(s[i]) {
			return nil, errAlphabet
		}
	}
	return b64.DecodeString(s)
}

// parseHeader reads alg, kid and typ from the decoded header b, which it
// may overwrite: string values are unescaped in place.
func parseHeader(b []byte) (header, error) {
	var h header
	err := eachMember(b, func(key, value []byte) error {
		switch string(key) {
		case "alg":
			return headerString(&h.alg, key, value, ErrAlgorithm)
		case "kid":
			return headerString(&h.kid, key, value, ErrUnknownKey)
		case "typ":
			return headerString(&h.typ, key, value, ErrType)
		case "jku", "x5u", "jwk", "x5c", "crit":
			return fmt.Errorf("%w: %s", ErrHeader, key)
		}
		return nil
	})
	if err != nil {
		return header{}, err
	}
	if h.alg == nil {
		return header{}, fmt.Errorf("%w: no alg", ErrAlgorithm)
	}
	return h, nil
}

// headerString decodes the string value of a header parameter into dst.
// A value of another JSON type is wrong; a string that is not valid
// Unicode is malformed.
func headerString(dst *[]byte, name, value []byte, wrongType error) error {
	if len(value) == 0 || value[0] != '"' {
		return fmt.Errorf("%w: %s is not a string", wrongType, name)
	}
	s, ok := unquoteInPlace(value)
	if !ok {
		return fmt.Errorf("%w: %s is not a valid string", ErrMalformed, name)
	}
	*dst = s
	return nil
}

func (v *Verifier) key(ctx context.Context, h header) (*Key, error) {
	alg := Algorithm("")
	for _, a := range v.algs {
		if string(h.alg) == string(a) {
			alg = a
			break
		}
	}
	if alg == "" {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, h.alg)
	}
	if !v.cfg.SkipType && !typeMatches(h.typ, v.cfg.Type) {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrType, h.typ, v.cfg.Type)
	}
	if len(h.kid) == 0 {
		return nil, fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	var key *Key
	var err error
	if ks, ok := v.cfg.Keys.(algKeySource); ok {
		key, err = ks.keyFor(ctx, string(h.kid), alg)
	} else {
		key, err = v.cfg.Keys.Key(ctx, string(h.kid))
	}
	if err != nil {
		return nil, err
	}
	if key.alg != alg {
		return nil, fmt.Errorf("%w: key %s is %s, token says %s", ErrAlgorithm, key.id, key.alg, alg)
	}
	return key, nil
}

// algKeySource is a key source that can tell apart keys sharing a kid by
// their algorithm (RFC 7517 §4.5), as [RemoteKeySet] does.
type algKeySource interface {
	keyFor(ctx context.Context, id string, alg Algorithm) (*Key, error)
}

func typeMatches(got []byte, want string) bool {
	g := string(got)
	if len(g) > len("application/") && strings.EqualFold(g[:len("application/")], "application/") {
		g = g[len("application/"):]
	}
	return strings.EqualFold(g, want)
}

func (v *Verifier) checkClaims(c *Claims) error {
	if err := checkDates(c); err != nil {
		return err
	}
	now := v.cfg.Now()
	leeway := v.cfg.Leeway
	if !v.cfg.SkipExpiry {
		if c.ExpiresAt == 0 {
			return fmt.Errorf("%w: exp", ErrMissingClaim)
		}
		if !now.Before(c.ExpiresAt.Time().Add(leeway)) {
			return ErrExpired
		}
	}
	if c.NotBefore != 0 && now.Add(leeway).Before(c.NotBefore.Time()) {
		return ErrNotYetValid
	}
	if c.IssuedAt != 0 && now.Add(leeway).Before(c.IssuedAt.Time()) {
		return fmt.Errorf("%w: issued in the future", ErrNotYetValid)
	}
	if !v.cfg.SkipIssuer {
		if c.Issuer == "" {
			return fmt.Errorf("%w: iss", ErrMissingClaim)
		}
		if c.Issuer != v.cfg.Issuer {
			return ErrIssuer
		}
	}
	if !v.cfg.SkipAudience {
		if len(c.Audience) == 0 {
			return fmt.Errorf("%w: aud", ErrMissingClaim)
		}
		if !c.Audience.Contains(v.cfg.Audience) {
			return ErrAudience
		}
	}
	return nil
}

// AuthenticatorConfig configures [Authenticator].
type AuthenticatorConfig[C any] struct {
	// Principal maps verified claims to a principal; nil uses the subject
	// and, when C has them, nothing else.
	Principal func(c *C) auth.Principal
	// Skip returns true for bearer tokens this authenticator should leave
	// to another (an API key prefix, say); nil skips none.
	Skip func(token string) bool
}

// Authenticator returns an [auth.Authenticator] that verifies the bearer
// token of a request with v and decodes its claims into C, a struct that
// embeds Claims.
func Authenticator[C any, P interface {
	*C
	Carrier
}](v *Verifier, cfg AuthenticatorConfig[C]) auth.Authenticator {
	return auth.AuthenticatorFunc(func(ctx context.Context, r *http.Request) (auth.Principal, error) {
		tok, ok := auth.BearerToken(r)
		if !ok || (cfg.Skip != nil && cfg.Skip(tok)) {
			return auth.Principal{}, auth.ErrNoCredential
		}
		c, err := VerifyAs[C, P](ctx, v, tok)
		if err != nil {
			return auth.Principal{}, err
		}
		if cfg.Principal != nil {
			return cfg.Principal(c), nil
		}
		reg := P(c).Registered()
		return auth.Principal{Subject: reg.Subject, Method: auth.MethodToken, CredentialID: reg.ID,
			AuthenticatedAt: reg.IssuedAt.Time()}, nil
	})
}
