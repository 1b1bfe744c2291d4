package pagination

import (
	"slices"
	"strconv"
)

// Query is the SQL for one keyset page: a predicate, an order and a limit to
// append to the application's own SELECT, and the arguments for all of it.
//
//	q, err := pager.Query(req, tenantID)
//	rows, err := pool.Query(ctx,
//		`SELECT id, created_at, title FROM posts WHERE tenant_id = $1 AND `+q.Tail(),
//		q.Args...)
//
// A Query is built for one request and is not reused.
type Query struct {
	// Where is the keyset predicate, parenthesised, with parameters
	// numbered after the caller's own; "TRUE" when there is no cursor.
	Where string
	// OrderBy is the ORDER BY list, without the keywords. For a backward
	// page it is the reverse of the sort; [NewPage] restores the order.
	OrderBy string
	// Limit is the number of rows to fetch: one more than the page size,
	// to learn whether a further page exists without counting.
	Limit int
	// Args are the caller's arguments followed by the cursor's values.
	Args []any

	pager     *Pager
	sort      *sortOption
	binding   [32]byte
	size      int
	backward  bool
	hasCursor bool
	boundary  position
}

// Tail returns Where, ORDER BY and LIMIT as one clause, to follow "WHERE"
// or "AND" in the caller's statement.
func (q *Query) Tail() string {
	return q.Where + " ORDER BY " + q.OrderBy + " LIMIT " + strconv.Itoa(q.Limit)
}

// PageSize returns the number of rows a page holds.
func (q *Query) PageSize() int { return q.size }

// Backward reports whether the query reads the page before its cursor, in
// reversed order.
func (q *Query) Backward() bool { return q.backward }

// Query verifies the request's cursor and builds the SQL for the page.
// args are the caller's own query arguments ($1 ... $len(args)); the
// cursor's parameters are numbered after them. Errors: a [*RequestError]
// for an undeclared sort or a bad limit, a [*CursorError] (matching
// [ErrInvalidCursor]) for a cursor that is malformed, forged, expired,
// signed by an unknown key, or issued for another sort or filter.
func (p *Pager) Query(req Request, args ...any) (*Query, error) {
	sort := p.defaultSort
	if req.Sort != "" {
		if sort = p.sorts[req.Sort]; sort == nil {
			return nil, &RequestError{Param: ParamSort, Value: req.Sort, Reason: "must be one of " + p.sortNames()}
		}
	}
	size := req.Limit
	if size == 0 {
		size = p.cfg.DefaultLimit
	}
	if size < 1 || size > p.cfg.MaxLimit {
		return nil, &RequestError{Param: ParamLimit, Value: strconv.Itoa(req.Limit),
			Reason: "must be from 1 to " + strconv.Itoa(p.cfg.MaxLimit)}
	}
	if req.Direction > Backward {
		return nil, &RequestError{Param: "direction", Value: strconv.Itoa(int(req.Direction)), Reason: "must be a known direction"}
	}
	q := &Query{pager: p, sort: sort, size: size, Limit: size + 1,
		binding: sort.binding(req.Filter), backward: req.Direction == Backward}
	if req.Cursor == "" {
		q.Where, q.Args = "TRUE", args
		q.OrderBy = q.orderBy()
		return q, nil
	}
	pos, cerr := p.decode(q, req.Cursor)
	if cerr != nil {
		p.rejected(cerr)
		return nil, cerr
	}
	// A cursor names a row; an explicit direction (Relay's after and
	// before) chooses the side of it, and the row itself stays excluded.
	if req.Direction == DirectionAuto {
		q.backward = pos.backward
	}
	pos.backward = q.backward
	q.hasCursor, q.boundary = true, pos
	// Clipped, so that appending the cursor's values never writes into
	// spare capacity of the caller's slice.
	q.Where, q.Args = sort.spec.predicate(pos.values, q.backward, pos.inclusive, slices.Clip(args))
	q.OrderBy = q.orderBy()
	return q, nil
}

func (q *Query) orderBy() string {
	if q.backward {
		return q.sort.spec.reverseBy
	}
	return q.sort.spec.orderBy
}

func (p *Pager) rejected(cerr *CursorError) {
	if h := p.cfg.Hooks.OnCursorRejected; h != nil {
		h(cerr)
	}
}

func (p *Pager) decode(q *Query, s string) (position, *CursorError) {
	pos, cerr := p.decodeCursor(&q.binding, s, p.cfg.Now().Unix(), len(q.sort.spec.cols))
	if cerr != nil {
		return pos, cerr
	}
	for i, v := range pos.values {
		if v == nil && !q.sort.spec.cols[i].nullable {
			return pos, cursorErr(ErrCursorMalformed, "NULL for a column that is not nullable")
		}
	}
	return pos, nil
}

// encode signs a cursor for pos under the query's sort and filter.
func (q *Query) encode(pos position) (string, error) {
	spec := q.sort.spec
	if len(pos.values) != len(spec.cols) {
		return "", &ValueError{Reason: strconv.Itoa(len(pos.values)) + " values for " +
			strconv.Itoa(len(spec.cols)) + " sort columns"}
	}
	for i, v := range pos.values {
		if v == nil && !spec.cols[i].nullable {
			return "", &ValueError{Column: spec.cols[i].name, Reason: "NULL in a column not declared Nullable"}
		}
	}
	var expiry int64
	if ttl := q.pager.cfg.TTL; ttl > 0 {
		now := q.pager.cfg.Now()
		expiry = now.Add(ttl).Unix()
		if now.Add(ttl).Nanosecond() != 0 {
			expiry++
		}
	}
	return q.pager.encodeCursor(&q.binding, pos, expiry, func(i int) string { return spec.cols[i].name })
}
