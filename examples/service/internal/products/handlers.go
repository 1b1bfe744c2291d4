package products

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/txn"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

type productRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceCents  int64  `json:"price_cents"`
	Stock       *int64 `json:"stock"`
	CategoryID  *int64 `json:"category_id"`
}

func (p *productRequest) Validate(v *validate.Validator) {
	v.String("name", p.Name).Required().NotBlank().Runes(1, 200).NoControl()
	web.NoNUL(v.String("description", p.Description).MaxRunes(5000))
	validate.Number(v, "price_cents", p.PriceCents).Between(0, 100_000_000)
	validate.NumberPtr(v, "stock", p.Stock).Present().Between(0, 1_000_000)
	validate.NumberPtr(v, "category_id", p.CategoryID).Between(1, maxCategory)
}

// maxCategory is the largest category id: JSON numbers above 2^53 lose
// precision in most clients.
const maxCategory = 1 << 53

// product is the product the request describes, with id.
func (p *productRequest) product(id int64) Product {
	return Product{ID: id, Name: p.Name, Description: p.Description, PriceCents: p.PriceCents, Stock: *p.Stock, CategoryID: p.CategoryID}
}

// categoryParam is the query parameter that filters a list by category.
const categoryParam = "category"

// listCategory reads the category filter of a list request: 0 when absent.
func listCategory(q url.Values) (int64, error) {
	vs, ok := q[categoryParam]
	if !ok {
		return 0, nil
	}
	if len(vs) != 1 {
		return 0, &pagination.RequestError{Param: categoryParam, Value: strings.Join(vs, ","), Reason: "must be given once"}
	}
	c, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || c < 1 || c > maxCategory {
		return 0, &pagination.RequestError{Param: categoryParam, Value: vs[0], Reason: "must be a category id from 1 to 2^53"}
	}
	return c, nil
}

func (s *handlers) listProducts(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	req, err := s.Pager.ParseRequest(query)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	category, err := listCategory(query)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	// Cursors are bound to the listing and its filter: a cursor of one
	// category's list is refused by another's.
	req.Filter = "products"
	var args []any
	if category != 0 {
		req.Filter = "products?" + url.Values{categoryParam: {strconv.FormatInt(category, 10)}}.Encode()
		args = append(args, category)
	}
	q, err := s.Pager.Query(req, args...)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	sort := req.Sort
	if sort == "" {
		sort = "newest"
	}
	// The cursor verified, the page is served from the cache: its key is
	// what decides the rows.
	key := ListKey(sort, q.Backward(), q.PageSize(), category, req.Cursor)
	rows, err := s.Caches.Lists.Get(r.Context(), key, LoadList(category, func(ctx context.Context) ([]Product, error) {
		return s.Store.List(ctx, q, category)
	}))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	page, err := pagination.NewPage(q, rows, Keys(sort))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.CachePolicy.Apply(w.Header(), r)
	web.Page(w, r, page)
}

func (s *handlers) getProduct(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(w, r)
	if !ok {
		return
	}
	p, err := s.Caches.Products.Get(r.Context(), id, nil)
	if errors.Is(err, cache.ErrNotFound) {
		err = store.ErrNotFound
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	// Preconditions first: a malformed one is answered (400) before the
	// policy makes the answer public, so that a shared cache never stores
	// one client's error for everyone. updated_at changes with every write
	// that bumps the version (the units_sold consumer's included), so
	// Last-Modified holds with the ETag; If-None-Match, when sent, decides.
	v := httpapi.Validators{ETag: httpapi.ETagFromVersion(p.Version), LastModified: p.UpdatedAt}
	res, err := httpapi.EvaluatePreconditions(r, v)
	switch {
	case err != nil:
		s.Fail(w, r, err)
	case res == httpapi.PreconditionFailed: // If-Match or If-Unmodified-Since on a read
		s.Fail(w, r, httpapi.ErrPreconditionFailed)
	default:
		// The policy before the 304, which carries the Cache-Control and
		// Vary a 200 would.
		s.CachePolicy.Apply(w.Header(), r)
		w.Header().Set("ETag", v.ETag)
		w.Header().Set("Last-Modified", p.UpdatedAt.UTC().Format(http.TimeFormat))
		if res == httpapi.NotModified {
			httpapi.WriteNotModified(w)
			return
		}
		web.JSON(w, http.StatusOK, p)
	}
}

func (s *handlers) createProduct(w http.ResponseWriter, r *http.Request) {
	var req productRequest
	if err := s.Checker.DecodeJSON(r, &req); err != nil {
		s.Fail(w, r, err)
		return
	}
	p := req.product(0)
	if err := s.Store.Create(r.Context(), &p); err != nil {
		s.Fail(w, r, err)
		return
	}
	s.changed(r, nil, &p)
	w.Header().Set("Location", "/v1/products/"+strconv.FormatInt(p.ID, 10))
	w.Header().Set("ETag", httpapi.ETagFromVersion(p.Version))
	web.JSON(w, http.StatusCreated, p)
}

func (s *handlers) updateProduct(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(w, r)
	if !ok {
		return
	}
	// The precondition is checked before the body is read: a client that
	// forgot If-Match learns it without sending the body twice.
	version, anyVersion, err := httpapi.VersionFromIfMatch(ifMatch(r))
	if anyVersion {
		version = txn.AnyVersion
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var req productRequest
	if err := s.Checker.DecodeJSON(r, &req); err != nil {
		s.Fail(w, r, err)
		return
	}
	before, p, err := s.Store.Update(r.Context(), req.product(id), version)
	if err != nil {
		// A conflict means the cached copy may be stale too.
		s.shown(r, id)
		s.Fail(w, r, err)
		return
	}
	s.changed(r, &before, &p)
	w.Header().Set("ETag", httpapi.ETagFromVersion(p.Version))
	web.JSON(w, http.StatusOK, p)
}

func (s *handlers) deleteProduct(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(w, r)
	if !ok {
		return
	}
	// If-Match is optional on delete: without it the product goes whatever
	// its version; with it a stale client gets 412.
	version := txn.AnyVersion
	if h := ifMatch(r); h != "" {
		v, anyVersion, err := httpapi.VersionFromIfMatch(h)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		if !anyVersion {
			version = v
		}
	}
	before, err := s.Store.Delete(r.Context(), id, version)
	if err != nil {
		s.shown(r, id)
		s.Fail(w, r, err)
		return
	}
	s.changed(r, &before, nil)
	w.WriteHeader(http.StatusNoContent)
}

// ifMatch returns the If-Match field of r, its lines joined into one
// list, as VersionFromIfMatch reads it (Header.Get returns the first line
// only).
func ifMatch(r *http.Request) string {
	return strings.Join(r.Header.Values("If-Match"), ", ")
}

// changed drops what a write made stale from the caches of every instance
// (Caches.Changed), on a context that outlives a client that hung up. A
// failure is logged: the entries then expire with their TTL.
func (s *handlers) changed(r *http.Request, before, after *Product) {
	if err := s.Caches.Changed(context.WithoutCancel(r.Context()), before, after); err != nil {
		s.Log.WarnContext(r.Context(), "product cache invalidation failed", slog.Any("tags", ChangedTags(before, after)), slog.Any("error", err))
	}
}

// shown drops the entries that show the product id, after a write that
// failed: a conflict or a lost row means the cached copy may be stale.
func (s *handlers) shown(r *http.Request, id int64) {
	if err := s.Caches.StockChanged(context.WithoutCancel(r.Context()), id); err != nil {
		s.Log.WarnContext(r.Context(), "product cache invalidation failed", slog.Int64("id", id), slog.Any("error", err))
	}
}
