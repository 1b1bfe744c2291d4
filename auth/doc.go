// Package auth holds what every authentication method in Bedrock shares: the
// [Principal] a request acts as, the context helpers that carry it, the
// [Middleware] that authenticates requests, and the errors callers branch
// on.
//
// The methods themselves live in sub-packages, which a service picks from:
//
//   - auth/password: argon2id password hashing (PHC strings), bcrypt
//     verification for migration, rehash checks, a password policy;
//   - auth/apikey: API keys with a readable prefix, a public id, a checksum
//     and a hashed secret;
//   - auth/token: JWT issue and verify with key rotation and JWKS;
//   - auth/session: refresh tokens rotated with reuse detection;
//   - auth/authz: roles, rules and the per-route [authz.Requirement];
//   - auth/oauth: logging in with an OpenID provider.
//
// # Middleware
//
// A [Middleware] tries its [Authenticator]s (token.Authenticator,
// (*apikey.Keys).Authenticator, or your own) on every request and puts the
// principal in the request's context. Put it around the whole mux, and
// guard the routes that need a principal with [RequireAuthenticated] or an
// authz.Requirement; every 401 behind one Middleware names its realm:
//
//	authn, err := auth.NewMiddleware(auth.MiddlewareConfig{
//		Authenticators: []auth.Authenticator{keys.Authenticator(), tokens},
//		Realm:          "shop",
//	})
//	if err != nil {
//		return err
//	}
//	mux.Handle("GET /v1/me", auth.RequireAuthenticated(me))
//	handler := authn.Handler(mux)
//
// # Principal in the context
//
// Handlers read the principal with [PrincipalFrom]; tests and other
// middleware store one with [WithPrincipal]:
//
//	p, ok := auth.PrincipalFrom(r.Context())
//	if !ok {
//		// unauthenticated
//	}
package auth
