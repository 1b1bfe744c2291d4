// Package password hashes and verifies passwords with argon2id, stored as
// PHC strings, and verifies legacy bcrypt hashes so users can be migrated.
//
// The defaults follow OWASP's recommendation for argon2id: 19 MiB of memory,
// 2 passes, 1 lane, a 16-byte salt and a 32-byte key:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// Stored hashes are read as the PHC string format defines them: outputs of
// 12 to 64 bytes verify (shorter than the current 32 ask for a rehash); a
// string without v= means argon2 version 0x10, which is refused with
// [ErrUnsupportedHash]; salt and hash must be unpadded standard base64
// with no other byte (no line breaks).
//
// # Verifying and upgrading
//
// [Hasher.Verify] reports whether a password matches and whether the stored
// hash should be replaced (its parameters are weaker than the current ones,
// it is bcrypt, or it was peppered with a retired pepper). On a successful
// login with needsRehash set, hash the password again and store the result.
//
// # Safety
//
//   - Parameters read from a stored hash are bounded before any work is done,
//     so a planted hash asking for 4 GiB or a million passes is refused.
//   - Computations run under a semaphore (GOMAXPROCS slots by default) so
//     that a burst of logins cannot exhaust memory; waiting honours the
//     context.
//   - [Hasher.Hash] (signups, password changes, rehashes) may use only its
//     share of those slots (half by default, Config.MaxConcurrentHash), so
//     logins stay responsive while new passwords saturate hashing; with
//     Config.MaxHashWaiting a burst beyond the queue fails at once with
//     [ErrBusy]. Hash refuses an over-long password before it waits.
//   - [Hasher.VerifyDummy] does for every password the work [Hasher.Verify]
//     does against an argon2id hash and returns the same class of error, so
//     "unknown user" and "wrong password" cannot be told apart by timing or
//     by the answer. A refused password (over [MaxPasswordBytes] after NFKC
//     normalisation) costs a full computation in both, and never matches.
//   - bcrypt input longer than 72 bytes is an error, never truncated.
//   - Passwords are normalised to Unicode NFKC before hashing (NIST SP
//     800-63B §5.1.1.2), so the same password typed on two keyboards matches.
//
// # Signup and login under load
//
// Check a new password with [Policy.Check] (no hashing; the breach check is
// the caller's) and every other cheap rule of the form before calling Hash,
// and answer [ErrBusy] as temporary overload. Verification never waits
// behind more than MaxConcurrentHash new hashes.
//
// An optional pepper (an HMAC key with an id, kept outside the database) is
// applied before hashing; several peppers may be configured so that it can be
// rotated.
package password
