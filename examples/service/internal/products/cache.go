package products

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/observe/cacheobserve"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// Caches are the catalogue's cache-asides: products by id and pages of the
// product list, each a local tier in front of Redis. They share one Redis
// store, and tags are the store's, so that one invalidation reaches both,
// in every instance:
//
//	product:<id>         the product's page, and every list page showing it
//	category:<id>        the pages of the products of the category
//	list:all             the pages of the unfiltered list
//	list:category:<id>   the pages of the category's list
//
// A write drops exactly what it made stale (see Changed): an edit that
// keeps a product's place in every list drops its page and the pages that
// show it; one that may move it (a new price, name or category), or a new
// product, also drops the lists it leaves and joins.
type Caches struct {
	Products *cache.Cache[int64, Product]
	// Lists holds the rows of list pages, under ListKey.
	Lists *cache.Cache[string, []Product]
}

// ProductTag is the tag of the entries that show the product id.
func ProductTag(id int64) string { return "product:" + strconv.FormatInt(id, 10) }

// CategoryTag is the tag of the product pages of the category id.
func CategoryTag(id int64) string { return "category:" + strconv.FormatInt(id, 10) }

// ListTag is the tag of the list pages filtered by category (0: the
// unfiltered list).
func ListTag(category int64) string {
	if category == 0 {
		return "list:all"
	}
	return "list:category:" + strconv.FormatInt(category, 10)
}

// NewCaches returns the catalogue's caches, with keys under prefix. A
// product that does not exist is never cached, since it may be created the
// next second. The returned function stops their background work.
func NewCaches(rdb redis.UniversalClient, st *Store, prefix string, mp metric.MeterProvider) (*Caches, func() error, error) {
	productHooks, err := cacheobserve.Hooks(mp, "products")
	if err != nil {
		return nil, nil, err
	}
	listHooks, err := cacheobserve.Hooks(mp, "product_lists")
	if err != nil {
		return nil, nil, err
	}
	rs, err := rediscache.New(rdb, rediscache.Config{Prefix: prefix + "cache:"})
	if err != nil {
		return nil, nil, err
	}
	products, err := cache.New[int64, Product](rs, cache.Config[int64, Product]{
		Hooks:       productHooks,
		Namespace:   "product",
		Version:     2, // 2: category_id
		TTL:         30 * time.Second,
		NegativeTTL: -1,
		Load: func(ctx context.Context, id int64) (Product, error) {
			p, err := st.Get(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return p, cache.ErrNotFound
			}
			return p, err
		},
		Tags: func(id int64, p Product) []string {
			if p.CategoryID == nil {
				return []string{ProductTag(id)}
			}
			return []string{ProductTag(id), CategoryTag(*p.CategoryID)}
		},
	})
	if err != nil {
		return nil, nil, errors.Join(err, rs.Close())
	}
	lists, err := cache.New[string, []Product](rs, cache.Config[string, []Product]{
		Hooks:       listHooks,
		Namespace:   "product-list",
		Version:     1,
		TTL:         30 * time.Second,
		NegativeTTL: -1,
		// A page holds up to 101 rows (the page and the row that tells
		// whether another follows): 1,000 pages are a few MiB at most.
		LocalSize: 1000,
	})
	if err != nil {
		return nil, nil, errors.Join(err, products.Close(), rs.Close())
	}
	c := &Caches{Products: products, Lists: lists}
	return c, func() error { return errors.Join(lists.Close(), products.Close(), rs.Close()) }, nil
}

// ListKey is the key of a list page in Caches.Lists: everything that
// decides its rows. cursor must have been verified (Pager.Query), so that
// no client can fill the cache with pages of forged positions.
func ListKey(sort string, backward bool, size int, category int64, cursor string) string {
	return fmt.Sprintf("%s|%t|%d|%d|%s", sort, backward, size, category, cursor)
}

// LoadList returns a loader of list pages that runs list and tags the
// page with its list and with every product it read (the row past the
// page included: its presence is the page's has_more). An empty page of a
// category is not cached: anyone may ask for any category id, and those
// answers would only fill the cache.
func LoadList(category int64, list func(ctx context.Context) ([]Product, error)) cache.Loader[string, []Product] {
	return func(ctx context.Context, _ string) ([]Product, error) {
		rows, err := list(ctx)
		if err != nil {
			return nil, err
		}
		entry := cache.EntryOf(ctx)
		if len(rows) == 0 && category != 0 {
			entry.NoCache()
			return rows, nil
		}
		entry.Tag(ListTag(category))
		for _, p := range rows {
			entry.Tag(ProductTag(p.ID))
		}
		return rows, nil
	}
}

// Changed drops the entries a write to products made stale, in every
// instance: before is the product as it was (nil for a creation), after as
// it is (nil for a deletion).
func (c *Caches) Changed(ctx context.Context, before, after *Product) error {
	return c.Products.InvalidateTags(ctx, ChangedTags(before, after)...)
}

// StockChanged drops the entries that show the products ids, after a
// change that moves none of them in any list (stock, units sold).
func (c *Caches) StockChanged(ctx context.Context, ids ...int64) error {
	tags := make([]string, len(ids))
	for i, id := range ids {
		tags[i] = ProductTag(id)
	}
	return c.Products.InvalidateTags(ctx, tags...)
}

// ChangedTags returns the tags a write to a product makes stale; see
// Changed. The product's own tag covers its page and every list page that
// read it. A list whose pages did not read it changes only if the product
// joins it or moves within it: a creation, a new category, a new name or
// price (the keys of the sorts; created_at never changes). A deletion
// leaves the other pages of a keyset list as they were.
func ChangedTags(before, after *Product) []string {
	var tags []string
	var lists []int64
	switch {
	case before == nil && after == nil:
		return nil
	case before == nil:
		lists = append(lists, 0, category(after))
	case after == nil:
		tags = append(tags, ProductTag(before.ID))
	default:
		tags = append(tags, ProductTag(before.ID))
		if category(before) != category(after) || before.Name != after.Name || before.PriceCents != after.PriceCents {
			lists = append(lists, 0, category(before), category(after))
		}
	}
	for _, l := range lists {
		if t := ListTag(l); !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

func category(p *Product) int64 {
	if p.CategoryID == nil {
		return 0
	}
	return *p.CategoryID
}
