package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/token"
)

// Errors about OIDC.
var (
	// ErrInvalidConfig is wrapped by every error a constructor of this
	// package returns for a bad config.
	ErrInvalidConfig = errors.New("oauth: invalid config")
	ErrDiscovery     = errors.New("oauth: invalid OpenID provider metadata")
	// ErrIDToken wraps the reason an ID token is refused (beside the
	// auth/token errors for signature, expiry, issuer and audience).
	ErrIDToken = fmt.Errorf("oauth: invalid ID token: %w", auth.ErrInvalidCredential)
)

// Metadata is the part of an OpenID Provider's discovery document this
// package uses.
type Metadata struct {
	Issuer                 string   `json:"issuer"`
	AuthorizationEndpoint  string   `json:"authorization_endpoint"`
	TokenEndpoint          string   `json:"token_endpoint"`
	UserinfoEndpoint       string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                string   `json:"jwks_uri"`
	IDTokenAlgs            []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethods   []string `json:"code_challenge_methods_supported,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported []string `json:"response_types_supported"`
}

// DiscoveryConfig configures [Discover].
type DiscoveryConfig struct {
	// Client fetches the documents; a client with a 10s timeout when nil.
	Client *http.Client
	// MaxBytes bounds the discovery document; 64 KiB when zero.
	MaxBytes int64
	// AllowHTTP permits an http:// issuer, for tests against a local
	// provider. Never in production.
	AllowHTTP bool
}

// Provider is an OpenID Provider: its metadata, fetched once by
// [Discover], and its keys, kept fresh by a [token.RemoteKeySet]. Most
// callers want [Provider.NewClient] for the login flow;
// [Provider.IDTokenVerifier] checks ID tokens that arrive by other means.
// Close stops the key refresh.
type Provider struct {
	Metadata Metadata
	keys     *token.RemoteKeySet
}

// Discover fetches issuer + "/.well-known/openid-configuration", checks it
// (the issuer in the document must be exactly the one asked for, OIDC
// Discovery §4.3, and the endpoints must be https) and returns the
// provider.
func Discover(ctx context.Context, issuer string, cfg DiscoveryConfig) (*Provider, error) {
	if cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("%w: negative MaxBytes", ErrInvalidConfig)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 64 << 10
	}
	if err := checkURL(issuer, cfg.AllowHTTP); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oauth: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("oauth: discovery: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("oauth: discovery: %w", err)
	}
	if int64(len(body)) > cfg.MaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrDiscovery, cfg.MaxBytes)
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("%w: issuer %q, want %q", ErrDiscovery, md.Issuer, issuer)
	}
	for _, u := range []string{md.AuthorizationEndpoint, md.TokenEndpoint, md.JWKSURI} {
		if err := checkURL(u, cfg.AllowHTTP); err != nil {
			return nil, err
		}
	}
	if len(md.CodeChallengeMethods) > 0 && !contains(md.CodeChallengeMethods, "S256") {
		return nil, fmt.Errorf("%w: the provider does not support PKCE S256", ErrDiscovery)
	}
	keys, err := token.NewRemoteKeySet(token.RemoteConfig{URL: md.JWKSURI, Client: cfg.Client})
	if err != nil {
		return nil, err
	}
	return &Provider{Metadata: md, keys: keys}, nil
}

func checkURL(u string, allowHTTP bool) error {
	switch {
	case strings.HasPrefix(u, "https://"):
		return nil
	case allowHTTP && strings.HasPrefix(u, "http://"):
		return nil
	}
	return fmt.Errorf("%w: %q is not an https URL", ErrDiscovery, u)
}

// Close stops the provider's key refresh.
func (p *Provider) Close() error { return p.keys.Close() }

// IDClaims are the claims of an ID token that login code needs.
type IDClaims struct {
	token.Claims
	Nonce         string `json:"nonce"`
	AuthorizedFor string `json:"azp,omitempty"`
	AuthTime      int64  `json:"auth_time,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
}

// IDTokenVerifier checks ID tokens of one provider for one client with its
// one method, [IDTokenVerifier.Verify]. It is safe for concurrent use.
type IDTokenVerifier struct {
	v        *token.Verifier
	clientID string
	maxAge   time.Duration
	now      func() time.Time
}

// IDTokenConfig configures [Provider.IDTokenVerifier].
type IDTokenConfig struct {
	ClientID string // required: the aud the token must contain
	// MaxAge refuses tokens issued (iat) longer ago than this; 10m when
	// zero. An ID token is meant to be used at once.
	MaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// IDTokenVerifier returns a verifier for ID tokens issued to
// cfg.ClientID, or an error wrapping [ErrInvalidConfig] for a bad cfg.
func (p *Provider) IDTokenVerifier(cfg IDTokenConfig) (*IDTokenVerifier, error) {
	return newIDTokenVerifier(p.keys, p.Metadata.Issuer, p.Metadata.IDTokenAlgs, cfg)
}

func newIDTokenVerifier(keys token.KeySource, issuer string, algs []string, cfg IDTokenConfig) (*IDTokenVerifier, error) {
	switch {
	case cfg.ClientID == "":
		return nil, fmt.Errorf("%w: ClientID is required", ErrInvalidConfig)
	case cfg.MaxAge < 0:
		return nil, fmt.Errorf("%w: negative MaxAge %v", ErrInvalidConfig, cfg.MaxAge)
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var allowed []token.Algorithm
	for _, a := range []token.Algorithm{token.EdDSA, token.ES256, token.RS256} {
		if len(algs) == 0 || contains(algs, string(a)) {
			allowed = append(allowed, a)
		}
	}
	if len(allowed) == 0 {
		return nil, fmt.Errorf("%w: no supported ID token algorithm in %v", ErrDiscovery, algs)
	}
	v, err := token.NewVerifier(token.VerifierConfig{
		Keys: keys, Issuer: issuer, Audience: cfg.ClientID, Algorithms: allowed,
		SkipType: true, // ID tokens carry typ "JWT" or none (OIDC Core §2)
		Now:      cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	return &IDTokenVerifier{v: v, clientID: cfg.ClientID, maxAge: cfg.MaxAge, now: cfg.Now}, nil
}

// Verify checks raw by OIDC Core §3.1.3.7: signature, iss, aud contains the
// client, azp (required when there are several audiences, and then equal to
// the client), exp, iat present and recent, and nonce equal to the one sent.
func (iv *IDTokenVerifier) Verify(ctx context.Context, raw, nonce string) (*IDClaims, error) {
	c, err := token.VerifyAs[IDClaims](ctx, iv.v, raw)
	if err != nil {
		return nil, err
	}
	if len(c.Audience) > 1 && c.AuthorizedFor == "" {
		return nil, fmt.Errorf("%w: several audiences and no azp", ErrIDToken)
	}
	if c.AuthorizedFor != "" && c.AuthorizedFor != iv.clientID {
		return nil, fmt.Errorf("%w: azp is another client", ErrIDToken)
	}
	if c.IssuedAt == 0 {
		return nil, fmt.Errorf("%w: no iat", ErrIDToken)
	}
	if iv.now().Sub(c.IssuedAt.Time()) > iv.maxAge {
		return nil, fmt.Errorf("%w: issued too long ago", ErrIDToken)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, ErrNonce)
	}
	return c, nil
}

// ClientConfig configures a [Client].
type ClientConfig struct {
	ClientID     string
	ClientSecret string // empty for a public client
	RedirectURL  string
	Scopes       []string // "openid" is added when missing
	// HTTPClient is used for the code exchange; http.DefaultClient when nil.
	HTTPClient *http.Client
}

// Client runs the authorization-code flow with PKCE against a provider:
// [Client.AuthCodeURL] starts a login, [Client.Exchange] finishes it at the
// callback. It is safe for concurrent use.
type Client struct {
	oauth  oauth2.Config
	ids    *IDTokenVerifier
	client *http.Client
}

// NewClient returns a client of p, or an error wrapping [ErrInvalidConfig]
// for a bad cfg.
func (p *Provider) NewClient(cfg ClientConfig) (*Client, error) {
	ids, err := p.IDTokenVerifier(IDTokenConfig{ClientID: cfg.ClientID})
	if err != nil {
		return nil, err
	}
	scopes := cfg.Scopes
	if !contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	return &Client{
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, Scopes: scopes,
			Endpoint: oauth2.Endpoint{AuthURL: p.Metadata.AuthorizationEndpoint, TokenURL: p.Metadata.TokenEndpoint}},
		ids:    ids,
		client: cfg.HTTPClient,
	}, nil
}

// AuthCodeURL returns the provider URL to send the user to for f.
func (c *Client) AuthCodeURL(f Flow) (string, error) {
	challenge, err := Challenge(f.Verifier)
	if err != nil {
		return "", err
	}
	return c.oauth.AuthCodeURL(f.State,
		oauth2.SetAuthURLParam("nonce", f.Nonce),
		oauth2.SetAuthURLParam("code_challenge", challenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256")), nil
}

// Exchange trades an authorization code for tokens, sending f's PKCE
// verifier, and verifies the ID token against f's nonce.
func (c *Client) Exchange(ctx context.Context, code string, f Flow) (*oauth2.Token, *IDClaims, error) {
	if c.client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	}
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, nil, fmt.Errorf("oauth: code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, fmt.Errorf("%w: the token response has no id_token", ErrIDToken)
	}
	claims, err := c.ids.Verify(ctx, raw, f.Nonce)
	if err != nil {
		return nil, nil, err
	}
	return tok, claims, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
