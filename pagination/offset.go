package pagination

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
)

// OffsetConfig configures [Offset]. Fields left zero take the documented
// default.
type OffsetConfig struct {
	DefaultLimit int // page size when the request gives none; default 20
	MaxLimit     int // largest page size a request may ask for; default 100

	// MaxOffset is the largest offset a request may ask for; default 10,000.
	// PostgreSQL reads and discards every skipped row, so a deep offset
	// costs as much as reading all the rows before it: past the cap, a
	// listing needs keyset pagination ([Pager]).
	MaxOffset int

	// FilterParams names the query parameters of the listing's filters,
	// which [OffsetPage.Link] carries into its links next to limit and
	// offset; every other parameter of the request is left out of them.
	// None by default. A name may not be "", "limit" or "offset".
	FilterParams []string
}

// DefaultMaxOffset is the default of [OffsetConfig.MaxOffset].
const DefaultMaxOffset = 10_000

// maxOffsetCap keeps offset arithmetic far from overflow.
const maxOffsetCap = 1 << 40

// Offset builds LIMIT/OFFSET pages, for short lists (admin screens) where a
// page number matters more than stability under concurrent writes. Most
// callers want [Offset.ParseRequest] on the request's query, then
// [Offset.Query] for the clause, then [NewOffsetPage] on the rows read. It
// is immutable and safe for concurrent use.
type Offset struct {
	cfg OffsetConfig
}

// NewOffset returns an Offset for cfg, or an error wrapping
// [ErrInvalidConfig] for negative or inconsistent limits.
func NewOffset(cfg OffsetConfig) (*Offset, error) {
	if cfg.DefaultLimit < 0 || cfg.MaxLimit < 0 || cfg.MaxOffset < 0 {
		return nil, fmt.Errorf("%w: DefaultLimit, MaxLimit and MaxOffset must not be negative", ErrInvalidConfig)
	}
	cfg.DefaultLimit = cmp.Or(cfg.DefaultLimit, DefaultLimit)
	cfg.MaxLimit = cmp.Or(cfg.MaxLimit, DefaultMaxLimit)
	cfg.MaxOffset = cmp.Or(cfg.MaxOffset, DefaultMaxOffset)
	if cfg.DefaultLimit > cfg.MaxLimit {
		return nil, fmt.Errorf("%w: DefaultLimit %d exceeds MaxLimit %d", ErrInvalidConfig, cfg.DefaultLimit, cfg.MaxLimit)
	}
	if cfg.MaxOffset > maxOffsetCap || cfg.MaxLimit > maxOffsetCap {
		return nil, fmt.Errorf("%w: MaxOffset and MaxLimit must not exceed %d", ErrInvalidConfig, maxOffsetCap)
	}
	if err := checkFilterParams(cfg.FilterParams, ParamLimit, ParamOffset); err != nil {
		return nil, err
	}
	cfg.FilterParams = slices.Clone(cfg.FilterParams)
	return &Offset{cfg: cfg}, nil
}

// ParamOffset is the query parameter [Offset.ParseRequest] reads, with
// [ParamLimit], and [OffsetPage.Link] writes.
const ParamOffset = "offset"

// OffsetRequest is what a client asked for; zero fields take the defaults.
type OffsetRequest struct {
	Limit  int // page size; 0 for the default
	Offset int // rows to skip
}

// ParseRequest reads "limit" and "offset" from query parameters and checks
// them as [Offset.Query] does.
func (o *Offset) ParseRequest(q url.Values) (OffsetRequest, error) {
	var r OffsetRequest
	for _, p := range [...]struct {
		name string
		dst  *int
	}{{ParamLimit, &r.Limit}, {ParamOffset, &r.Offset}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return r, &RequestError{Param: p.name, Value: s, Reason: "must be an integer"}
		}
		*p.dst = n
	}
	if _, err := o.Query(r); err != nil {
		return OffsetRequest{}, err
	}
	return r, nil
}

// OffsetQuery is a checked offset page request.
type OffsetQuery struct {
	Size   int // rows on a page
	Offset int // rows skipped

	maxOffset    int
	filterParams []string
}

// Query checks req against the limits. Errors are [*RequestError]s.
func (o *Offset) Query(req OffsetRequest) (OffsetQuery, error) {
	size := req.Limit
	if size == 0 {
		size = o.cfg.DefaultLimit
	}
	if size < 1 || size > o.cfg.MaxLimit {
		return OffsetQuery{}, &RequestError{Param: ParamLimit, Value: strconv.Itoa(req.Limit),
			Reason: "must be from 1 to " + strconv.Itoa(o.cfg.MaxLimit)}
	}
	if req.Offset < 0 || req.Offset > o.cfg.MaxOffset {
		return OffsetQuery{}, &RequestError{Param: ParamOffset, Value: strconv.Itoa(req.Offset),
			Reason: "must be from 0 to " + strconv.Itoa(o.cfg.MaxOffset) + "; deeper pages need cursor pagination"}
	}
	return OffsetQuery{Size: size, Offset: req.Offset, maxOffset: o.cfg.MaxOffset, filterParams: o.cfg.FilterParams}, nil
}

// Clause returns "LIMIT n OFFSET m", fetching one row beyond the page so
// that [NewOffsetPage] knows whether a next page exists without a count.
// The numbers are checked integers, so they are written literally.
func (q OffsetQuery) Clause() string {
	return "LIMIT " + strconv.Itoa(q.Size+1) + " OFFSET " + strconv.Itoa(q.Offset)
}

// OffsetPage is one page of an offset listing.
type OffsetPage[T any] struct {
	Items   []T  `json:"items"`
	Limit   int  `json:"limit"`
	Offset  int  `json:"offset"`
	HasNext bool `json:"has_next"`
	HasPrev bool `json:"has_prev"`
	// Total is the number of rows in the whole listing when the
	// application counted them (see SetTotal), nil otherwise: a count
	// costs a scan of every matching row, so it is opt-in.
	Total *int64 `json:"total,omitempty"`

	maxOffset    int
	filterParams []string
}

// NewOffsetPage turns the rows read with q.Clause() into a page. It takes
// ownership of rows.
func NewOffsetPage[T any](q OffsetQuery, rows []T) OffsetPage[T] {
	p := OffsetPage[T]{Items: rows, Limit: q.Size, Offset: q.Offset, HasPrev: q.Offset > 0,
		maxOffset: q.maxOffset, filterParams: q.filterParams}
	if len(rows) > q.Size {
		p.Items, p.HasNext = rows[:q.Size], true
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

// SetTotal records the total number of rows, for example from
// "count(*) OVER ()" in the same statement or a separate count query.
func (p *OffsetPage[T]) SetTotal(n int64) { p.Total = &n }

// Link returns an RFC 8288 Link header value: rel="first" and "prev" when
// HasPrev, "next" when HasNext, and "last" when the total is known and the
// last page's offset is within MaxOffset (a link the server would refuse is
// left out). Pages stay aligned with the current offset. Each target is
// base with a query of limit, offset and the filter parameters of base that
// OffsetConfig.FilterParams declares, nothing else; Link returns "" rather
// than a value over [MaxLinkBytes].
func (p OffsetPage[T]) Link(base *url.URL) string {
	var links []link
	at := func(rel string, off int) link { return link{rel, ParamOffset, strconv.Itoa(off), true} }
	if p.HasPrev {
		links = append(links, at("first", 0), at("prev", max(0, p.Offset-p.Limit)))
	}
	if p.HasNext {
		links = append(links, at("next", p.Offset+p.Limit))
	}
	if p.Total != nil && p.Limit > 0 && *p.Total > int64(p.Offset+p.Limit) {
		off := int64(p.Offset)
		last := off + (*p.Total-1-off)/int64(p.Limit)*int64(p.Limit)
		if last <= int64(p.maxOffset) {
			links = append(links, at("last", int(last)))
		}
	}
	if len(links) == 0 || base == nil {
		return ""
	}
	keep := carried(base, p.filterParams)
	keep.Set(ParamLimit, strconv.Itoa(p.Limit))
	return writeLinks(base, links, keep)
}
