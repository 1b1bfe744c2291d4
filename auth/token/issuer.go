package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// IssuerConfig configures an [Issuer].
type IssuerConfig struct {
	// Keys holds the primary key, which signs; required.
	Keys *KeyRing
	// Issuer is the iss claim; required.
	Issuer string
	// Audience is the aud claim of tokens that name none; required, since
	// verifiers require it.
	Audience []string
	// TTL is the lifetime of tokens that set no exp; 15m when zero.
	TTL time.Duration
	// Type is the typ header; "at+jwt" when empty.
	Type string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Issuer signs tokens with the primary key of its key ring; [Issuer.Issue]
// is its one method. It is safe for concurrent use; promoting another key
// of the ring takes effect on the next token.
type Issuer struct {
	cfg IssuerConfig
}

// NewIssuer returns an Issuer, or an error wrapping [ErrInvalidConfig].
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	switch {
	case cfg.Keys == nil || cfg.Keys.Primary() == nil:
		return nil, fmt.Errorf("%w: Keys must be a key ring with a primary key", ErrInvalidConfig)
	case cfg.Issuer == "":
		return nil, fmt.Errorf("%w: Issuer is required", ErrInvalidConfig)
	case len(cfg.Audience) == 0:
		return nil, fmt.Errorf("%w: Audience is required", ErrInvalidConfig)
	case cfg.TTL < 0:
		return nil, fmt.Errorf("%w: negative TTL %v", ErrInvalidConfig, cfg.TTL)
	}
	if cfg.TTL == 0 {
		cfg.TTL = 15 * time.Minute
	}
	if cfg.Type == "" {
		cfg.Type = AccessTokenType
	}
	for i := 0; i < len(cfg.Type); i++ {
		if c := cfg.Type[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil, fmt.Errorf("%w: Type has byte %#x", ErrInvalidConfig, c)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Audience = slices.Clone(cfg.Audience)
	return &Issuer{cfg: cfg}, nil
}

// Issue fills in the registered claims of c that are zero (iss, aud, iat,
// exp, jti) and returns the signed token. c is a *Claims or a struct that
// embeds Claims, with custom claims beside it.
func (i *Issuer) Issue(c Carrier) (string, error) {
	r := c.Registered()
	now := i.cfg.Now()
	if r.Issuer == "" {
		r.Issuer = i.cfg.Issuer
	}
	if len(r.Audience) == 0 {
		r.Audience = slices.Clone(Audience(i.cfg.Audience))
	}
	if r.IssuedAt == 0 {
		r.IssuedAt = At(now)
	}
	if r.ExpiresAt == 0 {
		r.ExpiresAt = At(now.Add(i.cfg.TTL))
	}
	if r.ID == "" {
		var id [16]byte
		rand.Read(id[:])
		r.ID = base64.RawURLEncoding.EncodeToString(id[:])
	}
	if err := checkDates(r); err != nil {
		return "", fmt.Errorf("token: cannot issue a token every verifier refuses: %w", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	return sign(i.cfg.Keys.Primary(), i.cfg.Type, payload)
}

// sign builds the compact JWS of payload under key.
func sign(key *Key, typ string, payload []byte) (string, error) {
	hdr := make([]byte, 0, 64+len(key.id)+len(typ))
	hdr = append(hdr, `{"alg":"`...)
	hdr = append(hdr, key.alg...)
	hdr = append(hdr, `","kid":"`...)
	hdr = append(hdr, key.id...) // key ids never need escaping (checkID)
	hdr = append(hdr, `","typ":"`...)
	hdr = append(hdr, typ...)
	hdr = append(hdr, `"}`...)

	enc := base64.RawURLEncoding
	out := make([]byte, 0, enc.EncodedLen(len(hdr))+enc.EncodedLen(len(payload))+2+enc.EncodedLen(132))
	out = enc.AppendEncode(out, hdr)
	out = append(out, '.')
	out = enc.AppendEncode(out, payload)
	sig, err := key.sign(out)
	if err != nil {
		return "", err
	}
	out = append(out, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}
