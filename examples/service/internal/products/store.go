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
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	PriceCents  int64     `json:"price_cents"`
	Stock       int64     `json:"stock"`
	UnitsSold   int64     `json:"units_sold"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
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

const productColumns = `id, name, description, price_cents, stock, units_sold, version, created_at, updated_at`

// Create inserts p and fills in its generated fields.
func (s *Store) Create(ctx context.Context, p *Product) error {
	row := txn.QuerierFrom(ctx, s.pool).QueryRow(ctx,
		`INSERT INTO products (name, description, price_cents, stock) VALUES ($1, $2, $3, $4) RETURNING `+productColumns,
		p.Name, p.Description, p.PriceCents, p.Stock)
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

// List runs the keyset query q.
func (s *Store) List(ctx context.Context, q *pagination.Query) ([]Product, error) {
	rows, err := txn.QuerierFrom(ctx, s.pool).Query(ctx,
		`SELECT `+productColumns+` FROM products WHERE `+q.Tail(), q.Args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Product, error) { return scanProduct(r) })
}

// Update replaces the editable fields of the product with id if its version
// is still version (txn.AnyVersion skips the check), and returns the result.
// Errors wrap txn.ErrConflict or txn.store.ErrNotFound.
func (s *Store) Update(ctx context.Context, id, version int64, name, description string, price, stock int64) (Product, error) {
	var out Product
	err := txn.Do(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := s.versioned.Update(ctx, tx, id, version,
			txn.Set("name", name), txn.Set("description", description),
			txn.Set("price_cents", price), txn.Set("stock", stock), txn.Set("updated_at", time.Now())); err != nil {
			return err
		}
		var err error
		out, err = scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, id))
		return err
	})
	return out, err
}

// Delete removes the product with id if its version is still version
// (txn.AnyVersion skips the check).
func (s *Store) Delete(ctx context.Context, id, version int64) error {
	return s.versioned.Delete(ctx, txn.QuerierFrom(ctx, s.pool), id, version)
}

func scanProduct(row pgx.Row) (Product, error) {
	var p Product
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.PriceCents, &p.Stock, &p.UnitsSold, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}
