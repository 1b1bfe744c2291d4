// Package auth holds what every authentication method in Bedrock shares: the
// [Principal] a request acts as, the context helpers that carry it, and the
// errors callers branch on.
//
// The methods themselves live in sub-packages, which a service picks from:
//
//   - auth/password: argon2id password hashing (PHC strings), bcrypt
//     verification for migration, rehash checks, a password policy;
//   - auth/apikey: API keys with a readable prefix, a public id, a checksum
//     and a hashed secret;
//   - auth/token: JWT issue and verify with key rotation and JWKS.
//
// # Principal in the context
//
// Middleware that authenticates a request stores the result with
// [WithPrincipal]; handlers read it with [PrincipalFrom]:
//
//	p, ok := auth.PrincipalFrom(r.Context())
//	if !ok {
//		// unauthenticated
//	}
package auth
