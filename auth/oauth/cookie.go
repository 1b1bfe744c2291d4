package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Flow is what a login must remember between the redirect to the provider
// and the callback.
type Flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	// ReturnTo is where to send the user afterwards; validate it against
	// your own origins before redirecting.
	ReturnTo string `json:"r,omitempty"`
	Expires  int64  `json:"e"`
}

// NewFlow returns a flow with a fresh state, nonce and PKCE verifier.
func NewFlow(returnTo string) Flow {
	return Flow{State: NewState(), Nonce: NewNonce(), Verifier: NewVerifier(), ReturnTo: returnTo}
}

// ErrFlowCookie means the flow cookie is missing, tampered with, or expired.
var ErrFlowCookie = errors.New("oauth: missing, invalid or expired login cookie")

// FlowCookie stores a [Flow] in a cookie, encrypted and authenticated with
// AES-256-GCM (the verifier is a secret, so signing alone is not enough),
// and valid for TTL. A login calls [FlowCookie.Set] before redirecting to
// the provider, and [FlowCookie.Read] then [FlowCookie.Clear] at the
// callback. It is safe for concurrent use.
type FlowCookie struct {
	aead cipher.AEAD
	name string
	ttl  time.Duration
	now  func() time.Time
}

// FlowCookieConfig configures a [FlowCookie].
type FlowCookieConfig struct {
	// Secret of at least 32 bytes; the cookie key is derived from it.
	Secret []byte
	// Name of the cookie; "__Host-login" when empty (the __Host- prefix
	// makes browsers require Secure, Path=/ and no Domain).
	Name string
	// TTL of a login; 10m when zero.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewFlowCookie returns a cookie helper, or an error wrapping
// [ErrInvalidConfig].
func NewFlowCookie(cfg FlowCookieConfig) (*FlowCookie, error) {
	switch {
	case len(cfg.Secret) < 32:
		return nil, fmt.Errorf("%w: Secret of %d bytes, want at least 32", ErrInvalidConfig, len(cfg.Secret))
	case cfg.TTL < 0:
		return nil, fmt.Errorf("%w: negative TTL %v", ErrInvalidConfig, cfg.TTL)
	}
	key, err := hkdf.Key(sha256.New, cfg.Secret, nil, "bedrock oauth flow cookie", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "__Host-login"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &FlowCookie{aead: aead, name: cfg.Name, ttl: cfg.TTL, now: cfg.Now}, nil
}

// Set writes f into the response as a Secure, HttpOnly, SameSite=Lax cookie
// (Lax, so it is sent on the provider's top-level redirect back).
func (c *FlowCookie) Set(w http.ResponseWriter, f Flow) error {
	f.Expires = c.now().Add(c.ttl).Unix()
	plain, err := json.Marshal(f)
	if err != nil {
		return err
	}
	sealed := c.aead.Seal(nil, nil, plain, []byte(c.name))
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: "/", MaxAge: int(c.ttl / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return nil
}

// Read returns the flow in the request's cookie, or an error wrapping
// ErrFlowCookie.
func (c *FlowCookie) Read(r *http.Request) (Flow, error) {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return Flow{}, ErrFlowCookie
	}
	if len(ck.Value) > 4096 {
		return Flow{}, fmt.Errorf("%w: too long", ErrFlowCookie)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return Flow{}, fmt.Errorf("%w: encoding", ErrFlowCookie)
	}
	plain, err := c.aead.Open(nil, nil, sealed, []byte(c.name))
	if err != nil {
		return Flow{}, fmt.Errorf("%w: authentication failed", ErrFlowCookie)
	}
	var f Flow
	if err := json.Unmarshal(plain, &f); err != nil {
		return Flow{}, fmt.Errorf("%w: contents", ErrFlowCookie)
	}
	if c.now().Unix() >= f.Expires {
		return Flow{}, fmt.Errorf("%w: expired", ErrFlowCookie)
	}
	return f, nil
}

// Clear deletes the cookie; call it once the callback has used the flow, so
// it cannot be replayed.
func (c *FlowCookie) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
