// Package session issues refresh tokens and rotates them with reuse
// detection, following RFC 9700 §4.14 (OAuth 2.0 Security Best Current
// Practice).
//
// [RefreshTokens], made by [New] over a [Store] (a [MemoryStore], or
// pgsession's PostgreSQL store), does the work: [RefreshTokens.Issue] at
// login, [RefreshTokens.Rotate] at each refresh, [RefreshTokens.Revoke] at
// logout.
//
// A login starts a family. Each refresh presents the current token and gets
// its successor; the presented token is marked used in the same atomic step
// (compare-and-swap in the [Store]). Presenting a token that was already
// used means two parties hold it — the legitimate client and a thief — so
// the whole family is revoked and [ErrTokenReused] is returned: whoever
// holds the family must log in again.
//
// Tokens are 256 random bits (base64url, 43 characters); stores keep only
// their SHA-256.
//
// # Grace window
//
// A client whose refresh response was lost retries with the token it still
// has. With Config.GraceWindow set (10s is typical), such a retry within the
// window gets the same successor again — never a second one — because
// successors are derived from the presented token with an HMAC under
// Config.Secret, not stored. After the window, or once the successor has
// itself been used, a retry is reuse.
//
// # Lifetimes
//
// A family lives at most Config.MaxLifetime from login (absolute), and each
// token expires after Config.IdleTimeout unless rotated (idle). Revoke ends
// the family of a token (logout), RevokeFamily one family, and
// RevokeAllForSubject every family of a user (logout everywhere).
package session
