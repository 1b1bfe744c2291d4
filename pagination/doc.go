// Package pagination pages through SQL result sets: keyset (seek)
// pagination for PostgreSQL with signed, opaque cursors, and bounded
// LIMIT/OFFSET pages for small lists, with RFC 8288 Link headers and the
// Relay connection shape.
//
// # Keyset pages
//
// A [Spec] is a total order: sort columns, each ascending or descending with
// NULLs first or last, ending with a unique tie-breaker (NewSpec refuses a
// spec without one). A [Pager] knows the specs clients may choose by name,
// so request input never reaches SQL except as parameters. For each request
// [Pager.Query] builds a predicate, an ORDER BY and a LIMIT to append to the
// application's SELECT, with the boundary row's values as parameters:
//
//	q, err := pager.Query(req, tenantID)                // $1 is tenantID
//	rows, err := pool.Query(ctx, `SELECT id, created_at, title FROM posts
//		WHERE tenant_id = $1 AND `+q.Tail(), q.Args...)
//	// scan into items
//	page, err := pagination.NewPage(q, items, func(p Post) []any {
//		return []any{p.CreatedAt, p.ID}
//	})
//
// When the columns all sort the same way and none is nullable the predicate
// is a row comparison, (created_at, id) < ($2, $3), which an index on the
// same columns answers as one range scan whatever the depth. Mixed
// directions and nullable columns get the equivalent expanded form, led by a
// redundant bound on the first column (score >= $2 AND ...) so that the scan
// still starts at the boundary; [Column.Nullable] describes the one case
// where it cannot. A page
// before a cursor is read in reverse order (LIMIT n+1 again) and put back in
// order by [NewPage], which also decides HasNext and HasPrev from the extra
// row and signs the cursors of both edges.
//
// # Cursors
//
// A cursor is base64url text carrying the boundary row's sort-key values
// exactly (timestamps to the microsecond, as PostgreSQL stores them; int64;
// strings; UUIDs; NULL), a direction and an optional expiry, signed by the
// [Signer] of [Config]. The signature also covers the sort and the
// request's Filter, so a cursor is refused by any other query. Every
// refusal is a [*CursorError] matching [ErrInvalidCursor], with a reason
// such as [ErrCursorExpired]; [Pager.ParseRequest] already refuses a cursor
// that can never verify, and [Pager.Query] checks the rest.
//
// A Signer is anything with SignTo and Verify. [NewSecretSigner] signs with
// one secret (HMAC-SHA256, a 16-byte tag); a cursor for three keys with an
// expiry is then 64 characters. For key rotation, hand the pager the MAC
// key ring of package github.com/bedrock-go/bedrock/crypto, which satisfies
// Signer without either package importing the other; its tags name their
// key (a cursor grows to about 92 characters), so cursors signed before a
// rotation keep working until their key is retired or removed, and a
// refusal then also matches crypto's reason (crypto.ErrKeyRetired,
// crypto.ErrUnknownKey):
//
//	ring, err := crypto.ParseMACKeyRing(secretFromVault, crypto.MACKeyRingConfig{})
//	pager, err := pagination.New(pagination.Config{Signer: ring, Sorts: sorts})
//	// later, everywhere: ring.Rotate(); once old cursors no longer matter: ring.Remove(old)
//
// Decoded values become query parameters as int64, string, time.Time (UTC),
// [16]byte (UUID), bool, float64 or []byte; pgx, and pgx's database/sql
// driver, convert them to the column's type, which PostgreSQL infers from
// the comparison.
//
// Values must come from rows read back from the database: a time with
// nanoseconds, which PostgreSQL cannot have stored, is refused rather than
// rounded, because rounding moves the boundary past rows sharing the
// microsecond.
//
// # Offset pages
//
// [Offset] serves "limit" and "offset" for short admin lists, refusing
// offsets beyond a cap (10,000 by default) since PostgreSQL reads every
// skipped row. A total count is optional ([OffsetPage.SetTotal]).
//
// # HTTP
//
// [Pager.ParseRequest] and [Offset.ParseRequest] read the query parameters,
// [Page.Link] and [OffsetPage.Link] write Link headers, and [WriteError]
// answers a refused request with a problem+json 400.
//
// A link carries only the pager's own parameters (cursor, sort and limit as
// checked, or limit and offset) and the filter parameters declared in
// [Config.FilterParams] or [OffsetConfig.FilterParams]; nothing else of the
// request's query, so a client cannot make the header repeat a query of any
// size. A Link value longer than [MaxLinkBytes] (4 KiB) is not written.
// [WriteError]'s problems have types of their own ([ProblemInvalidCursor],
// [ProblemInvalidPageRequest]) and details that echo nothing the client sent.
package pagination
