// Package conformance holds no code of its own: its tests run Bedrock's wire
// formats against independent implementations and against the specifications'
// own test vectors.
//
// It is a nested module, like benchmarks/, so that the libraries it compares
// against (go-jose, golang-jwt, jwx, rs/cors, httpsfv, go-spiffe) never enter Bedrock's
// go.mod. Each test file covers one area:
//
//   - jose_test.go: JWS tokens and JWK Sets both ways with go-jose v4,
//     golang-jwt v5 and jwx v3, escaped header strings, sets with unusable
//     keys, RFC 7638 and RFC 8037 thumbprints;
//   - password_test.go: PHC strings with x/crypto's argon2 and bcrypt and an
//     Argon2 written from RFC 9106 (argon2ref_test.go) and checked against
//     its vectors;
//   - crypto_test.go: ring, envelope and stream ciphertexts opened with the
//     standard library alone, following crypto/doc.go;
//   - pkce_test.go: RFC 7636 Appendix B and x/oauth2;
//   - cors_test.go, crossorigin_test.go: rs/cors's spec table and the
//     standard library's CrossOriginProtection tests, read from their
//     sources at run time (gosource_test.go) and judged by a model of the
//     browser (browser_test.go);
//   - ratelimit_test.go: RateLimit fields parsed as RFC 9651 structured
//     fields and checked against an exact GCRA;
//   - problem_test.go: every problem document Bedrock writes, against
//     RFC 9457 and RFC 9110;
//   - httpapi_test.go: httpapi's Deprecation field parsed as an RFC 9651
//     Date with httpsfv, its Sunset field with net/http.ParseTime, its
//     Link values against RFC 8288, and CachePolicy's Cache-Control as a
//     structured Dictionary (its problems are in problem_test.go's table);
//   - pagination_test.go: cursors signed by crypto's MACKeyRing through
//     pagination's Signer, which it satisfies without an import, across a
//     key rotation (Rotate, Promote, Retire, Remove);
//   - spiffe_test.go: the SPIFFE IDs httpsec.ClientIdentity reads from
//     client certificates, against go-spiffe's spiffeid and x509svid;
//   - outbound_test.go: httpsec.Outbound under resilience.Transport, the
//     composition httpsec's doc gives: refusals keep their type, are not
//     retried, and every redirect hop is checked.
//
// Where Bedrock is deliberately stricter than an anchor, the test says so in
// a table of expected differences, each with its reason.
package conformance
