package benchmarks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bedrock-go/bedrock/pagination"
)

// No library does keyset pagination the way Bedrock's pagination package
// does, so the anchor is the usual hand-made alternative for a tamper-proof
// cursor: an HS256 JWT (golang-jwt) carrying the boundary row's sort keys,
// an expiry and a hash of the query it belongs to. Each operation signs a
// cursor for three keys (timestamp, score, id) and verifies and decodes it
// again. Bedrock's side goes through its public API, so it also builds the
// page and the SQL predicate, which the JWT side does not.

var (
	paginationSecret = bytes.Repeat([]byte{7}, 32)
	paginationRow    = []any{time.Date(2026, 11, 25, 9, 30, 15, 123456000, time.UTC), int64(987654), int64(1 << 40)}
)

func BenchmarkPaginationCursor(b *testing.B) {
	b.Run("bedrock", func(b *testing.B) {
		signer, err := pagination.NewSecretSigner(paginationSecret)
		if err != nil {
			b.Fatal(err)
		}
		p, err := pagination.New(pagination.Config{Signer: signer, TTL: time.Hour, Sorts: []pagination.Sort{{Name: "top",
			Spec: pagination.MustSpec(
				pagination.Column{Name: "created_at", Desc: true},
				pagination.Column{Name: "score", Desc: true},
				pagination.Column{Name: "id", Unique: true, Desc: true},
			)}}})
		if err != nil {
			b.Fatal(err)
		}
		rows := [][]any{paginationRow, paginationRow}
		keys := func(r []any) []any { return r }
		var size int
		b.ReportAllocs()
		for b.Loop() {
			q, err := p.Query(pagination.Request{Limit: 1, Filter: "status=open"})
			if err != nil {
				b.Fatal(err)
			}
			page, err := pagination.NewPage(q, rows[:2:2], keys)
			if err != nil {
				b.Fatal(err)
			}
			size = len(page.NextCursor)
			q, err = p.Query(pagination.Request{Limit: 1, Filter: "status=open", Cursor: page.NextCursor})
			if err != nil || len(q.Args) != 3 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size), "cursor-bytes")
	})
	b.Run("golangjwt", func(b *testing.B) {
		type cursorClaims struct {
			jwt.RegisteredClaims
			Values []any  `json:"v"`
			Query  string `json:"q"`
		}
		parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		keyFunc := func(*jwt.Token) (any, error) { return paginationSecret, nil }
		var size int
		b.ReportAllocs()
		for b.Loop() {
			binding := sha256.Sum256([]byte("top\x00status=open"))
			claims := cursorClaims{
				RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))},
				Values:           []any{paginationRow[0].(time.Time).UnixMicro(), paginationRow[1], paginationRow[2]},
				Query:            hex.EncodeToString(binding[:8]),
			}
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(paginationSecret)
			if err != nil {
				b.Fatal(err)
			}
			size = len(s)
			var got cursorClaims
			if _, err := parser.ParseWithClaims(s, &got, keyFunc); err != nil || len(got.Values) != 3 ||
				got.Query != claims.Query {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size), "cursor-bytes")
	})
}
