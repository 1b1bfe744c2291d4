// Package token issues and verifies JSON Web Tokens (compact JWS) for access
// tokens, with key rotation and JSON Web Key Sets.
//
// # Issuing
//
// An [Issuer] signs with the primary key of a [KeyRing]: EdDSA (Ed25519) by
// default, ES256 and HS256 on request. Tokens carry the header typ "at+jwt"
// (RFC 9068) and the key's kid, and the registered claims iss, sub, aud,
// exp, iat and jti. Custom claims go in a struct that embeds [Claims].
//
// # Verifying
//
// A [Verifier] fails closed, following RFC 8725 and the lessons of past JWT
// vulnerabilities:
//
//   - tokens longer than 8 KiB are refused before parsing, and so is any
//     byte outside the base64url alphabet in any segment (line breaks and
//     padding included): one token has one spelling, but see ES256 below;
//   - the key is chosen by kid alone, and the algorithm is the key's: alg in
//     the header must match it and be on the allow-list (so "none" and
//     HS256-signed-with-a-public-key both fail);
//   - jku, x5u, jwk, x5c and crit headers are refused: keys never come from
//     the token;
//   - the signature is checked before any claim is read, so an expired
//     token with a bad signature reports ErrSignature;
//   - exp, iss and aud are required unless a Skip field says otherwise;
//     the clock leeway is 30s by default and at most 5m;
//   - exp, nbf and iat must be NumericDates from 0 to [MaxNumericDate]
//     (the end of year 9999); fractions are truncated, anything else is
//     [ErrDate], so no date can overflow a comparison with the clock;
//   - duplicate JSON members (also differing only in case, or hidden behind
//     escapes) are refused, so two parsers can never read different claims;
//   - header strings are decoded as RFC 8259 §7 says ("keys\/2024" is
//     "keys/2024", "k\u003c1" is "k<1"), without allocating; a string
//     anywhere in the header or the claims that is not valid Unicode
//     (invalid UTF-8, a lone surrogate) is malformed, rather than repaired
//     differently by different decoders.
//
// An ES256 signature (r, s) and (r, n−s) both verify: RFC 7518 does not ask
// for low S, Go's crypto/ecdsa (this package's issuer included) produces
// either, and refusing one would refuse half the tokens of such issuers.
// So an ES256 token has two spellings; identify tokens by their jti, never
// by their bytes. EdDSA signatures are canonical (S < L, RFC 8032).
//
// The package implements JWS itself rather than using a general JWT library:
// supporting only these algorithms and only the compact form removes the
// code paths that past attacks went through, and decoding into one pooled
// buffer makes HS256 verification several times faster and nearly
// allocation-free (see benchmarks/).
//
// # Key ids
//
// A key that can sign has an id of 1 to 128 bytes of printable ASCII
// (0x21 to 0x7E) other than '"' and '\', so the issuer writes it into the
// header without escapes and every JSON decoder reads back the same bytes.
// A verification-only key, whose id another issuer chose, may have any
// valid UTF-8 id of 1 to 128 bytes without control characters.
//
// # Rotation and JWKS
//
// Rotate in the words every Bedrock key ring uses: [KeyRing.Generate] (or
// [KeyRing.Add]) the next key, which [JWKSHandler] publishes at once;
// [KeyRing.Promote] it once verifiers have it; [KeyRing.Remove] the old key
// after the longest token lifetime. [KeyRing.Rotate] generates and
// promotes in one step, for a service that only verifies its own tokens.
// A ring has no Retire: every key but the primary already only verifies,
// and a key that must stop verifying is removed.
//
// A [RemoteKeySet] consumes another issuer's JWKS with caching, background
// refresh, and a rate-limited refetch when a token names an unknown kid.
// Its fetches run on their own context and deadline, never a caller's: a
// caller that gives up gets its own error while the fetch completes for
// the others, and a failed fetch is retried with backoff from about a
// second instead of blinding the set for the refresh interval.
//
// Reading a JWK Set follows RFC 7517 §5: a key that cannot be used (another
// type, curve or algorithm, RSA under 2048 bits, no kid, a symmetric key,
// published private material) is skipped and reported through
// [ParseJWKSFunc] or RemoteHooks.OnSkippedKey, and the others are kept.
// Keys of different algorithms may share a kid (RFC 7517 §4.5); the
// verifier picks the one of the token's alg. A set with keys of which none
// is usable is [ErrNoUsableKeys], and a RemoteKeySet keeps serving its last
// good set; an empty set is taken at its word.
package token
