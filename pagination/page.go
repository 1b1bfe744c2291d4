package pagination

import (
	"slices"
)

// Page is one page of a keyset listing, in the sort's order. Its JSON form
// is {"items": [...], "next_cursor": "...", "prev_cursor": "...",
// "has_next": true, "has_prev": false}.
//
// HasNext and HasPrev are exact on the side the page was read towards (one
// extra row was fetched). On the side it came from they are true, because
// the cursor's row lies there; that row may have been deleted since, in
// which case following the cursor yields an empty page whose own cursors
// still lead back (see [NewPage]).
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"` // "" when !HasNext
	PrevCursor string `json:"prev_cursor,omitempty"` // "" when !HasPrev
	HasNext    bool   `json:"has_next"`
	HasPrev    bool   `json:"has_prev"`

	q    *Query
	keys func(T) []any
}

// NewPage turns the rows read with q into a page. rows are as the database
// returned them: up to q.Limit rows, in q.OrderBy's order. keys returns an
// item's sort-key values, one per column of the sort, exactly as scanned
// from the row (int64, string, time.Time, [16]byte for UUIDs, nil or a nil
// pointer for NULL, ...), so that the next cursor starts exactly where the
// page ended.
//
// NewPage takes ownership of rows (it may reverse and shorten them). It
// fails with a [*ValueError] when keys returns values a cursor cannot carry.
//
// A page that comes back empty from a cursor, because the rows beyond it
// were deleted, still gets a cursor back towards where it came from, which
// includes the cursor's own row, so that nothing is skipped on the way back.
func NewPage[T any](q *Query, rows []T, keys func(T) []any) (Page[T], error) {
	extra := len(rows) > q.size
	if extra {
		rows = rows[:q.size]
	}
	if q.backward {
		slices.Reverse(rows)
	}
	p := Page[T]{Items: rows, q: q, keys: keys}
	if q.backward {
		p.HasPrev, p.HasNext = extra, q.hasCursor
	} else {
		p.HasNext, p.HasPrev = extra, q.hasCursor
	}
	if p.Items == nil {
		p.Items = []T{} // an empty page is [] in JSON, not null
	}
	var err error
	if p.HasNext {
		if p.NextCursor, err = p.edge(len(rows)-1, false); err != nil {
			return Page[T]{}, err
		}
	}
	if p.HasPrev {
		if p.PrevCursor, err = p.edge(0, true); err != nil {
			return Page[T]{}, err
		}
	}
	return p, nil
}

// edge is the cursor leading away from the page through item i, or through
// the request's boundary row (included) when the page is empty.
func (p *Page[T]) edge(i int, backward bool) (string, error) {
	if len(p.Items) == 0 {
		return p.q.encode(position{backward: backward, inclusive: true, values: p.q.boundary.values})
	}
	return p.q.encode(position{backward: backward, values: p.keys(p.Items[i])})
}

// Edge is an item with the cursor of its position, in the Relay connection
// shape.
type Edge[T any] struct {
	Node   T      `json:"node"`
	Cursor string `json:"cursor"`
}

// PageInfo is the Relay connection's pageInfo.
type PageInfo struct {
	HasNextPage     bool   `json:"hasNextPage"`
	HasPreviousPage bool   `json:"hasPreviousPage"`
	StartCursor     string `json:"startCursor,omitempty"`
	EndCursor       string `json:"endCursor,omitempty"`
}

// Connection is a page in the Relay cursor connection shape: pass an edge's
// cursor as "after" ([Forward]) or "before" ([Backward]).
type Connection[T any] struct {
	Edges    []Edge[T] `json:"edges"`
	PageInfo PageInfo  `json:"pageInfo"`
}

// Connection returns the page in the Relay connection shape. It signs one
// cursor per item, so it costs more than the page itself.
func (p Page[T]) Connection() (Connection[T], error) {
	if p.q == nil && len(p.Items) > 0 {
		return Connection[T]{}, &ValueError{Reason: "the page was not built by NewPage"}
	}
	c := Connection[T]{
		Edges:    make([]Edge[T], len(p.Items)),
		PageInfo: PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrev},
	}
	for i, item := range p.Items {
		cur, err := p.q.encode(position{values: p.keys(item)})
		if err != nil {
			return Connection[T]{}, err
		}
		c.Edges[i] = Edge[T]{Node: item, Cursor: cur}
	}
	if n := len(c.Edges); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = c.Edges[0].Cursor, c.Edges[n-1].Cursor
	}
	return c, nil
}
