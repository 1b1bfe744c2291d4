package products

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/txn"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// Product is an item for sale. Version changes with every write, stock
// decrements included, so that its ETag always describes the representation.
type Product struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceCents  int64  `json:"price_cents"`
	Stock       int64  `json:"stock"`
	// CategoryID is the product's category, nil for none.
	CategoryID *int64    `json:"category_id"`
	UnitsSold  int64     `json:"units_sold"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Sorts are the orders clients may list products in.
func Sorts() []pagination.Sort {
	return []pagination.Sort{
		{Name: "newest", Spec: pagination.MustSpec(
			pagination.Column{Name: "created_at", Desc: true},
			pagination.Column{Name: "id", Desc: true, Unique: true})},
		{Name: "price", Spec: pagination.MustSpec(
			pagination.Column{Name: "price_cents"},
			pagination.Column{Name: "id", Unique: true})},
		{Name: "name", Spec: pagination.MustSpec(
			pagination.Column{Name: "name"},
			pagination.Column{Name: "id", Unique: true})},
	}
}

// Keys returns the sort-key values of p for the sort named sort, for
// the cursors of a page.
func Keys(sort string) func(Product) []any {
	switch sort {
	case "price":
		return func(p Product) []any { return []any{p.PriceCents, p.ID} }
	case "name":
		return func(p Product) []any { return []any{p.Name, p.ID} }
	default:
		return func(p Product) []any { return []any{p.CreatedAt, p.ID} }
	}
}

// Store holds products.
type Store struct {
	pool      *pgxpool.Pool
	versioned *txn.Versioned
}

// NewStore returns the repository over pool.
func NewStore(pool *pgxpool.Pool) (*Store, error) {
	v, err := txn.NewVersioned(txn.VersionedTable{Table: "products"})
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool, versioned: v}, nil
}

const productColumns = `id, name, description, price_cents, stock, category_id, units_sold, version, created_at, updated_at`

// Create inserts p and fills in its generated fields.
func (s *Store) Create(ctx context.Context, p *Product) error {
	row := txn.QuerierFrom(ctx, s.pool).QueryRow(ctx,
		`INSERT INTO products (name, description, price_cents, stock, category_id) VALUES ($1, $2, $3, $4, $5) RETURNING `+productColumns,
		p.Name, p.Description, p.PriceCents, p.Stock, p.CategoryID)
	created, err := scanProduct(row)
	if err != nil {
		return err
	}
	*p = created
	return nil
}

// Get returns the product with id.
func (s *Store) Get(ctx context.Context, id int64) (Product, error) {
	p, err := scanProduct(txn.QuerierFrom(ctx, s.pool).QueryRow(ctx,
		`SELECT `+productColumns+` FROM products WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, store.ErrNotFound
	}
	return p, err
}

// List runs the keyset query q. With a category, q must have been built
// with the category id as its first argument (Pager.Query(req, category)),
// and only that category's products are listed.
func (s *Store) List(ctx context.Context, q *pagination.Query, category int64) ([]Product, error) {
	where := ``
	if category != 0 {
		where = `category_id = $1 AND `
	}
	rows, err := txn.QuerierFrom(ctx, s.pool).Query(ctx,
		`SELECT `+productColumns+` FROM products WHERE `+where+q.Tail(), q.Args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Product, error) { return scanProduct(r) })
}

// Update replaces the editable fields of the product p.ID with p's if its
// version is still version (txn.AnyVersion skips the check), and returns
// the product as it was before and as it is now. Errors wrap
// txn.ErrConflict or store.ErrNotFound.
func (s *Store) Update(ctx context.Context, p Product, version int64) (before, after Product, err error) {
	err = txn.Do(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		// The row as it was, locked, so that the caller learns which
		// lists the product leaves (its old category, its old sort keys).
		var err error
		before, err = scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1 FOR UPDATE`, p.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := s.versioned.Update(ctx, tx, p.ID, version,
			txn.Set("name", p.Name), txn.Set("description", p.Description),
			txn.Set("price_cents", p.PriceCents), txn.Set("stock", p.Stock),
			txn.Set("category_id", p.CategoryID), txn.Set("updated_at", time.Now())); err != nil {
			return err
		}
		after, err = scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, p.ID))
		return err
	})
	return before, after, err
}

// Delete removes the product with id if its version is still version
// (txn.AnyVersion skips the check), and returns it as it was.
func (s *Store) Delete(ctx context.Context, id, version int64) (Product, error) {
	var before Product
	err := txn.Do(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		before, err = scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.versioned.Delete(ctx, tx, id, version)
	})
	return before, err
}

func scanProduct(row pgx.Row) (Product, error) {
	var p Product
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.PriceCents, &p.Stock, &p.CategoryID, &p.UnitsSold, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}
