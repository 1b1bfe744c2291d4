package pagination_test

import (
	"net/url"
	"testing"

	"github.com/bedrock-go/bedrock/pagination"
)

// BenchmarkQuery verifies a cursor and builds the SQL, for the row-value
// form (all columns descending, none nullable) and the expanded form (mixed
// directions, a nullable column).
func BenchmarkQuery(b *testing.B) {
	rowValue := pagination.MustSpec(pagination.Column{Name: "created_at", Desc: true},
		pagination.Column{Name: "score", Desc: true}, pagination.Column{Name: "id", Unique: true, Desc: true})
	for _, tc := range []struct {
		name string
		spec *pagination.Spec
	}{{"row-value", rowValue}, {"expanded", threeKeys}} {
		b.Run(tc.name, func(b *testing.B) {
			p := newPager(b, pagination.Config{Sorts: []pagination.Sort{{Name: "s", Spec: tc.spec}}})
			score := int64(7)
			cur := nextCursor(b, p, pagination.Request{Filter: "status=open"}, item{CreatedAt: when, Score: &score, ID: 99})
			req := pagination.Request{Cursor: cur, Filter: "status=open"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Query(req, "open"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewPage turns 21 rows into a 20-row page with both cursors.
func BenchmarkNewPage(b *testing.B) {
	p := newPager(b, pagination.Config{})
	score := int64(7)
	cur := nextCursor(b, p, pagination.Request{}, item{CreatedAt: when, Score: &score, ID: 99})
	q, err := p.Query(pagination.Request{Cursor: cur})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]item, q.Limit)
	for i := range rows {
		rows[i] = item{CreatedAt: when, Score: &score, ID: int64(1000 - i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pagination.NewPage(q, rows, itemKeys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPage_Link(b *testing.B) {
	p := newPager(b, pagination.Config{})
	score := int64(7)
	cur := nextCursor(b, p, pagination.Request{}, item{CreatedAt: when, Score: &score, ID: 99})
	q, _ := p.Query(pagination.Request{Cursor: cur, Limit: 1})
	page, err := pagination.NewPage(q, []item{{CreatedAt: when, ID: 5}, {CreatedAt: when, ID: 4}}, itemKeys)
	if err != nil {
		b.Fatal(err)
	}
	base, _ := url.Parse("https://api.example/v1/posts?limit=1&status=open")
	b.ReportAllocs()
	for b.Loop() {
		_ = page.Link(base)
	}
}
