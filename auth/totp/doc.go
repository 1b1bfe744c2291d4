// Package totp implements time-based one-time passwords (RFC 6238) and
// recovery codes, the second factors of issue 31. It is a library: it
// stores nothing and starts nothing.
//
// # Enrollment
//
// [Authenticator.NewKey] makes a [Key] with a random secret (160 bits for
// SHA-1, the hash size for SHA-256 and SHA-512). Show [Key.URI] to the user
// as a QR code or as text, keep the key pending, and mark it enrolled when
// [Authenticator.Verify] accepts a first code from the app.
//
// # The stateless step model
//
// Like the rest of Bedrock's auth packages, verification is a pure
// function of what the caller passes in. Per user the caller stores:
//
//   - the key's secret, encrypted (seal it with a crypto.KeyRing, binding
//     the user id as associated data; see the Example), and its
//     parameters in clear (algorithm, digits, period);
//   - the last used step, an int64 (0 before the first code);
//   - the hashes of the recovery codes.
//
// Verify accepts a code of the current step or one step either side
// (Config.Skew), refuses a code whose step is not later than the last used
// step ([ErrReplay]), and returns the matched step, which the caller stores
// before letting the user in. That makes every code single-use, even within
// its 30 seconds, and a code seen over a shoulder useless once typed.
//
// # Rate limiting
//
// A 6-digit code falls to about a million guesses, so failed attempts must
// be limited per user (not per address): every error wrapping
// auth.ErrInvalidCredential counts as a failure. The service records them
// with the ratelimit package, for instance five failures per user per
// 15 minutes, and refuses to call Verify when the budget is spent.
//
// # Recovery codes
//
// [RecoveryHasher.Generate] makes a set of ten 60-bit codes and their
// HMAC-SHA-256 hashes; [RecoveryHasher.Match] finds the one a user typed,
// and the caller deletes its hash so it cannot be used again. Regenerating
// replaces the whole set.
//
// # Interoperability
//
// Codes match RFC 6238 Appendix B for SHA-1, SHA-256 and SHA-512, and the
// conformance module checks codes and URIs against github.com/pquerna/otp.
// QR images are not made here: encode Key.URI with any QR encoder.
package totp
