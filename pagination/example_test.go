package pagination_test

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/pagination"
)

type post struct {
	ID        int64
	CreatedAt time.Time
	Title     string
}

// postsTable stands in for the database in the examples: it answers the
// keyset query the way PostgreSQL would for ORDER BY created_at DESC, id
// DESC, from the boundary values in the query's arguments.
func postsTable(q *pagination.Query) []post {
	var all []post
	for i := int64(1); i <= 5; i++ {
		all = append(all, post{ID: i, CreatedAt: time.Date(2026, 1, 1, 0, 0, int(i/2), 0, time.UTC), Title: fmt.Sprint("post ", i)})
	}
	newer := func(a, b post) bool { // a sorts before b
		return a.CreatedAt.After(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID
	}
	var ordered []post
	for _, p := range all {
		i := 0
		for i < len(ordered) && newer(ordered[i], p) {
			i++
		}
		ordered = append(ordered[:i], append([]post{p}, ordered[i:]...)...)
	}
	var out []post
	for _, p := range ordered {
		if len(q.Args) == 2 {
			b := post{CreatedAt: q.Args[0].(time.Time), ID: q.Args[1].(int64)}
			if q.Backward() && !newer(p, b) || !q.Backward() && !newer(b, p) {
				continue
			}
		}
		out = append(out, p)
	}
	if q.Backward() {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out[:min(len(out), q.Limit)]
}

func Example() {
	signer, err := pagination.NewSecretSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	pager, err := pagination.New(pagination.Config{
		Signer: signer,
		Sorts: []pagination.Sort{{Name: "newest", Spec: pagination.MustSpec(
			pagination.Column{Name: "created_at", Desc: true},
			pagination.Column{Name: "id", Unique: true, Desc: true},
		)}},
	})
	if err != nil {
		panic(err)
	}

	// GET /posts?limit=2, then follow the next cursor.
	req, err := pager.ParseRequest(url.Values{"limit": {"2"}})
	if err != nil {
		panic(err)
	}
	for range 3 {
		q, err := pager.Query(req)
		if err != nil {
			panic(err)
		}
		// With a database: pool.Query(ctx, "SELECT id, created_at, title FROM posts WHERE "+q.Tail(), q.Args...)
		fmt.Println("WHERE " + q.Tail())
		page, err := pagination.NewPage(q, postsTable(q), func(p post) []any { return []any{p.CreatedAt, p.ID} })
		if err != nil {
			panic(err)
		}
		for _, p := range page.Items {
			fmt.Println("  ", p.Title)
		}
		if !page.HasNext {
			break
		}
		req.Cursor = page.NextCursor
	}
	// Output:
	// WHERE TRUE ORDER BY "created_at" DESC, "id" DESC LIMIT 3
	//    post 5
	//    post 4
	// WHERE ("created_at", "id") < ($1, $2) ORDER BY "created_at" DESC, "id" DESC LIMIT 3
	//    post 3
	//    post 2
	// WHERE ("created_at", "id") < ($1, $2) ORDER BY "created_at" DESC, "id" DESC LIMIT 3
	//    post 1
}

func ExampleNewSpec() {
	// Highest score first, unscored posts last, ties broken by id.
	spec, err := pagination.NewSpec(
		pagination.Column{Name: "score", Desc: true, Nullable: true, Nulls: pagination.NullsLast},
		pagination.Column{Name: "id", Unique: true},
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(spec.OrderBy())

	_, err = pagination.NewSpec(pagination.Column{Name: "created_at"})
	fmt.Println(err)
	// Output:
	// "score" DESC NULLS LAST, "id"
	// pagination: invalid config: the last column "created_at" must be Unique: a tie-breaker is needed for a total order
}

func ExamplePager_Query_filters() {
	signer, _ := pagination.NewSecretSigner([]byte("0123456789abcdef0123456789abcdef"))
	pager, _ := pagination.New(pagination.Config{
		Signer: signer,
		Sorts:  []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}},
	})
	// The caller's own parameters come first; the cursor's follow them.
	// Binding the filter to cursors makes a cursor from another filter fail.
	filter := url.Values{"status": {"open"}}.Encode()
	q, _ := pager.Query(pagination.Request{Limit: 10, Filter: filter}, "open")
	page, _ := pagination.NewPage(q, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, func(id int64) []any { return []any{id} })

	q, _ = pager.Query(pagination.Request{Limit: 10, Filter: filter, Cursor: page.NextCursor}, "open")
	fmt.Println("SELECT id FROM tickets WHERE status = $1 AND " + q.Tail())
	fmt.Println(q.Args)

	_, err := pager.Query(pagination.Request{Filter: "status=closed", Cursor: page.NextCursor}, "closed")
	fmt.Println(err)
	// Output:
	// SELECT id FROM tickets WHERE status = $1 AND "id" > $2 ORDER BY "id" LIMIT 11
	// [open 10]
	// pagination: cursor belongs to another query: issued for a different sort or filter
}

func ExamplePage_Link() {
	signer, _ := pagination.NewSecretSigner([]byte("0123456789abcdef0123456789abcdef"))
	pager, _ := pagination.New(pagination.Config{
		Signer: signer,
		Sorts:  []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}},
		// The listing reads "status" into Request.Filter: links carry it.
		FilterParams: []string{"status"},
	})
	// GET /tickets?status=open&limit=2&utm_source=mail
	r, _ := url.Parse("/tickets?status=open&limit=2&utm_source=mail")
	req, _ := pager.ParseRequest(r.Query())
	req.Filter = url.Values{"status": r.Query()["status"]}.Encode()
	q, _ := pager.Query(req)
	page, _ := pagination.NewPage(q, []int64{1, 2, 3}, func(id int64) []any { return []any{id} })

	// Only the pager's parameters and the declared filter reach the links.
	link := strings.ReplaceAll(page.Link(&url.URL{Path: r.Path, RawQuery: r.RawQuery}), page.NextCursor, "…")
	fmt.Println(strings.ReplaceAll(link, ", ", ",\n"))
	// Output:
	// </tickets?cursor=…&limit=2&sort=id&status=open>; rel="next",
	// </tickets?before=&limit=2&sort=id&status=open>; rel="last"
}

func ExampleOffset() {
	offsets, _ := pagination.NewOffset(pagination.OffsetConfig{}) // limit 20, offset at most 10,000
	req, err := offsets.ParseRequest(url.Values{"offset": {"40"}, "limit": {"20"}})
	if err != nil {
		panic(err)
	}
	q, _ := offsets.Query(req)
	fmt.Println("SELECT id, count(*) OVER () FROM users ORDER BY id " + q.Clause())

	page := pagination.NewOffsetPage(q, make([]int, 21)) // 21 rows came back: there is a next page
	page.SetTotal(95)
	base, _ := url.Parse("/admin/users?offset=40&limit=20")
	fmt.Println(strings.ReplaceAll(page.Link(base), ", ", ",\n"))

	_, err = offsets.ParseRequest(url.Values{"offset": {"50000"}})
	fmt.Println(err)
	// Output:
	// SELECT id, count(*) OVER () FROM users ORDER BY id LIMIT 21 OFFSET 40
	// </admin/users?limit=20&offset=0>; rel="first",
	// </admin/users?limit=20&offset=20>; rel="prev",
	// </admin/users?limit=20&offset=60>; rel="next",
	// </admin/users?limit=20&offset=80>; rel="last"
	// pagination: invalid offset "50000": must be from 0 to 10000; deeper pages need cursor pagination
}

// A SecretSigner keeps one secret: cursors signed under another are
// refused. Services that rotate keys give the pager a crypto.MACKeyRing.
func ExampleNewSecretSigner() {
	sorts := []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}}
	ids := func(id int64) []any { return []any{id} }

	before, _ := pagination.NewSecretSigner([]byte("old-secret-old-secret-old-secret"))
	pager, _ := pagination.New(pagination.Config{Signer: before, Sorts: sorts})
	q, _ := pager.Query(pagination.Request{Limit: 1})
	page, _ := pagination.NewPage(q, []int64{1, 2}, ids)

	after, _ := pagination.NewSecretSigner([]byte("new-secret-new-secret-new-secret"))
	pager, _ = pagination.New(pagination.Config{Signer: after, Sorts: sorts})
	_, err := pager.Query(pagination.Request{Cursor: page.NextCursor})
	fmt.Println(err)
	// Output: pagination: cursor signature mismatch
}

func ExamplePage_Connection() {
	signer, _ := pagination.NewSecretSigner([]byte("0123456789abcdef0123456789abcdef"))
	pager, _ := pagination.New(pagination.Config{
		Signer: signer,
		Sorts:  []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}},
	})
	// GraphQL: posts(first: 2, after: ...) reads Request{Limit: 2, Cursor: after, Direction: Forward}.
	q, _ := pager.Query(pagination.Request{Limit: 2, Direction: pagination.Forward})
	page, _ := pagination.NewPage(q, []int64{10, 11, 12}, func(id int64) []any { return []any{id} })
	conn, err := page.Connection()
	if err != nil {
		panic(err)
	}
	for _, e := range conn.Edges {
		fmt.Println(e.Node, len(e.Cursor) > 0)
	}
	fmt.Println(conn.PageInfo.HasNextPage, conn.PageInfo.HasPreviousPage, conn.PageInfo.EndCursor == conn.Edges[1].Cursor)

	// The next page starts after the last edge.
	q, _ = pager.Query(pagination.Request{Limit: 2, Cursor: conn.PageInfo.EndCursor, Direction: pagination.Forward})
	fmt.Println(q.Where, q.Args)
	// Output:
	// 10 true
	// 11 true
	// true false true
	// "id" > $1 [11]
}
