// Package oauth holds the client side of OAuth 2.0 and OpenID Connect login:
// PKCE (RFC 7636, S256 only), state and nonce, an encrypted cookie that
// carries them across the redirect, OIDC discovery, and ID-token
// verification by the rules of OIDC Core §3.1.3.7 on top of auth/token.
//
// The code exchange itself uses golang.org/x/oauth2, which handles the token
// endpoint's authentication styles and error bodies; this package adds what
// it leaves to the caller: PKCE checks, state, nonce, and verifying the ID
// token.
//
// # A login, in order
//
//  1. [NewFlow] makes a state, a nonce and a PKCE verifier; [FlowCookie.Set]
//     stores them, encrypted and bound to a short lifetime, in a cookie.
//  2. [Client.AuthCodeURL] sends the user to the provider with the state,
//     the nonce and the S256 challenge.
//  3. On the callback, [FlowCookie.Read] gets the flow back; [CheckState]
//     compares the returned state in constant time.
//  4. [Client.Exchange] trades the code (with the PKCE verifier) for tokens
//     and verifies the ID token, including its nonce.
package oauth
