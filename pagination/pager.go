package pagination

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sort is a named order clients may ask for by name: the only way request
// input reaches the ORDER BY clause.
type Sort struct {
	Name string // the value of the "sort" parameter; non-empty, unique
	Spec *Spec
}

// Hooks observe a [Pager]. A nil field costs nothing. Hooks run
// synchronously on the request path and must be fast and safe for
// concurrent use.
type Hooks struct {
	// OnCursorRejected is called with the [*CursorError] whenever a cursor
	// is refused, by ParseRequest or by Query, to count forgeries, expired
	// cursors and stale clients.
	OnCursorRejected func(err *CursorError)
}

// Config configures a [Pager]. Fields left zero take the documented default.
type Config struct {
	// Signer signs and verifies cursors; required. A
	// *crypto.MACKeyRing rotates keys; [NewSecretSigner] keeps one secret.
	Signer Signer
	Sorts  []Sort // the orders clients may choose; at least one

	DefaultSort  string // sort used when the request names none; default: Sorts[0]
	DefaultLimit int    // page size when the request gives none; default 20
	MaxLimit     int    // largest page size a request may ask for; default 100

	// TTL, when positive, makes cursors expire that long after they are
	// issued (rounded up to whole seconds). Zero: cursors never expire,
	// which is fine for keyset cursors (they stay correct as data changes)
	// but keeps cursors signed by a rotated-out key usable until the
	// Signer stops verifying them.
	TTL time.Duration

	// MaxCursorLen bounds the length of a cursor a request may carry, in
	// characters, so that an oversized one is refused before any work.
	// Default 1024, which fits 16 sort keys with strings of ~40 bytes.
	MaxCursorLen int

	Now   func() time.Time // clock for TTL; default time.Now
	Hooks Hooks            // optional

	// FilterParams names the query parameters the application reads into
	// Request.Filter. [Page.Link] carries them into its links next to the
	// cursor, sort and limit; every other parameter of the request is left
	// out of them. None by default. A name may not be "" or one of the
	// pager's own (cursor, after, before, limit, sort).
	FilterParams []string
}

// Pager issues and checks cursors and builds keyset queries. Most callers
// want [Pager.ParseRequest] on the request's query, then [Pager.Query] for
// the SQL, then [NewPage] on the rows read. It is safe for concurrent use.
type Pager struct {
	signer      Signer
	scratch     sync.Pool // of *scratch
	sorts       map[string]*sortOption
	defaultSort *sortOption
	cfg         Config
}

type sortOption struct {
	name string
	spec *Spec
	id   [32]byte // identifies name and order; the start of every binding
}

// Defaults for the zero fields of [Config].
const (
	DefaultLimit        = 20
	DefaultMaxLimit     = 100
	DefaultMaxCursorLen = 1024
)

// New returns a Pager for cfg. It fails, wrapping [ErrInvalidConfig], when
// Signer or Sorts are missing, the Signer cannot sign (it is asked once) or
// makes tags outside 16 to 255 bytes, a sort name is empty or repeated,
// DefaultSort names no sort, or a limit is negative or inconsistent.
func New(cfg Config) (*Pager, error) {
	if cfg.Signer == nil {
		return nil, fmt.Errorf("%w: Signer is required", ErrInvalidConfig)
	}
	if err := checkSigner(cfg.Signer); err != nil {
		return nil, err
	}
	if len(cfg.Sorts) == 0 {
		return nil, fmt.Errorf("%w: at least one Sort is required", ErrInvalidConfig)
	}
	if cfg.DefaultLimit < 0 || cfg.MaxLimit < 0 || cfg.TTL < 0 || cfg.MaxCursorLen < 0 {
		return nil, fmt.Errorf("%w: DefaultLimit, MaxLimit, TTL and MaxCursorLen must not be negative", ErrInvalidConfig)
	}
	cfg.DefaultLimit = cmp.Or(cfg.DefaultLimit, DefaultLimit)
	cfg.MaxLimit = cmp.Or(cfg.MaxLimit, DefaultMaxLimit)
	cfg.MaxCursorLen = cmp.Or(cfg.MaxCursorLen, DefaultMaxCursorLen)
	if cfg.DefaultLimit > cfg.MaxLimit {
		return nil, fmt.Errorf("%w: DefaultLimit %d exceeds MaxLimit %d", ErrInvalidConfig, cfg.DefaultLimit, cfg.MaxLimit)
	}
	if cfg.MaxCursorLen < minTextLen {
		return nil, fmt.Errorf("%w: MaxCursorLen %d is below the shortest cursor (%d)", ErrInvalidConfig, cfg.MaxCursorLen, minTextLen)
	}
	if err := checkFilterParams(cfg.FilterParams, ParamCursor, ParamAfter, ParamBefore, ParamLimit, ParamSort); err != nil {
		return nil, err
	}
	cfg.FilterParams = slices.Clone(cfg.FilterParams)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Pager{signer: cfg.Signer, sorts: make(map[string]*sortOption, len(cfg.Sorts)), cfg: cfg}
	for _, s := range cfg.Sorts {
		if s.Name == "" || s.Spec == nil {
			return nil, fmt.Errorf("%w: every Sort needs a Name and a Spec", ErrInvalidConfig)
		}
		if p.sorts[s.Name] != nil {
			return nil, fmt.Errorf("%w: sort %q declared twice", ErrInvalidConfig, s.Name)
		}
		p.sorts[s.Name] = &sortOption{name: s.Name, spec: s.Spec, id: sortID(s.Name, s.Spec)}
	}
	p.defaultSort = p.sorts[cfg.Sorts[0].Name]
	if cfg.DefaultSort != "" {
		if p.defaultSort = p.sorts[cfg.DefaultSort]; p.defaultSort == nil {
			return nil, fmt.Errorf("%w: DefaultSort %q is not among Sorts", ErrInvalidConfig, cfg.DefaultSort)
		}
	}
	return p, nil
}

// checkFilterParams refuses a filter parameter that is empty or would be
// overwritten by one of the pager's own.
func checkFilterParams(names []string, own ...string) error {
	for _, n := range names {
		if n == "" || slices.Contains(own, n) {
			return fmt.Errorf("%w: FilterParams may not hold %q, which is empty or the pager's own", ErrInvalidConfig, n)
		}
	}
	return nil
}

// checkSigner signs and verifies once, so that a Signer that cannot sign
// (a key ring without a primary key) fails at start rather than on the
// first page with a next cursor.
func checkSigner(s Signer) error {
	msg := []byte("bedrock/pagination signer check")
	tag, err := s.SignTo(nil, msg)
	if err != nil {
		return fmt.Errorf("%w: Signer cannot sign: %w", ErrInvalidConfig, err)
	}
	if len(tag) < minTagLen || len(tag) > maxTagLen {
		return fmt.Errorf("%w: Signer makes tags of %d bytes, want %d to %d", ErrInvalidConfig, len(tag), minTagLen, maxTagLen)
	}
	if err := s.Verify(msg, tag); err != nil {
		return fmt.Errorf("%w: Signer does not verify its own tag: %w", ErrInvalidConfig, err)
	}
	return nil
}

// Direction says which side of its cursor a page lies on.
type Direction uint8

// Directions of a [Request].
const (
	// DirectionAuto follows the cursor: the next-page cursor of a [Page]
	// goes forward, its previous-page cursor backward. Without a cursor it
	// is the first page.
	DirectionAuto Direction = iota
	// Forward asks for the rows after the cursor (Relay's "after"); without
	// a cursor, the first page.
	Forward
	// Backward asks for the rows before the cursor (Relay's "before");
	// without a cursor, the last page.
	Backward
)

// Request is what a client asked for. Every field is optional.
type Request struct {
	Sort      string // a declared Sort name; "" for Config.DefaultSort
	Cursor    string // "" for the first (or, Backward, the last) page
	Direction Direction
	Limit     int // page size; 0 for Config.DefaultLimit

	// Filter describes the query's filters in a canonical form chosen by
	// the application, for example url.Values{"status": {s}}.Encode().
	// Cursors are bound to it: a cursor issued under one filter is refused
	// under another, rather than paging from a position in a different
	// result set. When one Pager (or one key ring) serves several listings
	// with the same sort, include the listing's name too.
	Filter string
}

// Query parameter names read by [Pager.ParseRequest] and written by
// [Page.Link].
const (
	ParamCursor = "cursor"
	ParamAfter  = "after"
	ParamBefore = "before"
	ParamLimit  = "limit"
	ParamSort   = "sort"
)

// ParseRequest reads "sort", "limit" and one of "cursor", "after" or
// "before" from query parameters; "before" present but empty asks for the
// last page. It checks the sort name and limit (a [*RequestError]
// otherwise) and refuses a cursor that can never verify, whatever the
// query (a [*CursorError] with [ErrCursorMalformed]: not base64url, too
// short or too long, an unknown format). What needs the query, the
// signature and the sort and filter it is bound to, [Pager.Query] checks.
// Filter is left for the caller to set.
func (p *Pager) ParseRequest(q url.Values) (Request, error) {
	var r Request
	r.Sort = q.Get(ParamSort)
	if r.Sort != "" && p.sorts[r.Sort] == nil {
		return r, &RequestError{Param: ParamSort, Value: r.Sort, Reason: "must be one of " + p.sortNames()}
	}
	if s := q.Get(ParamLimit); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > p.cfg.MaxLimit {
			return r, &RequestError{Param: ParamLimit, Value: s,
				Reason: "must be an integer from 1 to " + strconv.Itoa(p.cfg.MaxLimit)}
		}
		r.Limit = n
	}
	given := 0
	for _, name := range [...]string{ParamCursor, ParamAfter, ParamBefore} {
		if !q.Has(name) {
			continue
		}
		given++
		if given > 1 {
			return r, &RequestError{Param: name, Value: q.Get(name), Reason: "must be the only one of cursor, after and before"}
		}
		r.Cursor = q.Get(name)
		switch name {
		case ParamAfter:
			r.Direction = Forward
		case ParamBefore:
			r.Direction = Backward
		}
	}
	if r.Cursor != "" {
		if cerr := p.checkCursorText(r.Cursor); cerr != nil {
			p.rejected(cerr)
			return r, cerr
		}
	}
	return r, nil
}

func (p *Pager) sortNames() string {
	names := make([]string, 0, len(p.cfg.Sorts))
	for _, s := range p.cfg.Sorts {
		names = append(names, strconv.Quote(s.Name))
	}
	return strings.Join(names, ", ")
}

// binding is what a cursor is bound to: the sort (its name and order,
// hashed once in New) and the filter.
func (s *sortOption) binding(filter string) [32]byte {
	var buf [256]byte
	if len(filter) <= len(buf)-len(s.id) { // the common case, without allocating
		return sha256.Sum256(append(append(buf[:0], s.id[:]...), filter...))
	}
	h := sha256.New()
	h.Write(s.id[:])
	h.Write([]byte(filter))
	return [32]byte(h.Sum(nil))
}

func sortID(name string, spec *Spec) [32]byte {
	b := append([]byte("bedrock/pagination sort v1\x00"), binary.AppendUvarint(nil, uint64(len(name)))...)
	b = append(append(b, name...), spec.fingerprint[:]...)
	return sha256.Sum256(b)
}
