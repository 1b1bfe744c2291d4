package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/txn"

	"github.com/bedrock-go/bedrock/examples/service/internal/events"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// ErrOutOfStock matches an [OutOfStockError].
var ErrOutOfStock = errors.New("orders: out of stock")

// Order statuses.
const (
	StatusPlaced         = "placed"          // stock taken, payment not attempted yet
	StatusPaid           = "paid"            // charged
	StatusPendingPayment = "pending_payment" // accepted; the payment service was down
)

// Order is a placed order.
type Order struct {
	ID         int64       `json:"id"`
	UserID     string      `json:"-"`
	Status     string      `json:"status"`
	Items      []OrderItem `json:"items"`
	TotalCents int64       `json:"total_cents"`
	CreatedAt  time.Time   `json:"created_at"`
}

// OrderItem is one line of an order, with the product's name and price
// at the time of the order.
type OrderItem struct {
	ProductID      int64  `json:"product_id"`
	Name           string `json:"name"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	Quantity       int64  `json:"quantity"`
}

// Line is what a client orders.
type Line struct {
	ProductID int64
	Quantity  int64
}

// OutOfStockError names the product that lacks stock; it matches
// ErrOutOfStock.
type OutOfStockError struct {
	ProductID int64
	Available int64
}

func (e *OutOfStockError) Error() string {
	return fmt.Sprintf("store: product %d has only %d in stock", e.ProductID, e.Available)
}

// Is makes the error match ErrOutOfStock.
func (e *OutOfStockError) Is(target error) bool { return target == ErrOutOfStock }

// UnknownProductError names a product that does not exist; it matches
// store.ErrNotFound.
type UnknownProductError struct{ ProductID int64 }

func (e *UnknownProductError) Error() string {
	return fmt.Sprintf("store: product %d does not exist", e.ProductID)
}

// Is makes the error match store.ErrNotFound.
func (e *UnknownProductError) Is(target error) bool { return target == store.ErrNotFound }

// Sorts are the orders of the order listing.
func Sorts() []pagination.Sort {
	return []pagination.Sort{{Name: "newest", Spec: pagination.MustSpec(
		pagination.Column{Name: "created_at", Desc: true},
		pagination.Column{Name: "id", Desc: true, Unique: true})}}
}

// Keys returns the sort-key values of o.
func Keys(o Order) []any { return []any{o.CreatedAt, o.ID} }

// Store holds orders.
type Store struct {
	pool   *pgxpool.Pool
	tx     *txn.Runner
	events *outbox.Writer
}

// StoreConfig configures a Store.
type StoreConfig struct {
	// MaxAttempts bounds the attempts of an order's SERIALIZABLE
	// transaction, retried on serialization failures.
	MaxAttempts int
	// BeginTimeout, when positive, bounds each attempt's wait for a
	// connection and its BEGIN: past it, or when PostgreSQL refuses
	// connections, Place fails at once with txn.ErrUnavailable (503)
	// instead of spending its retries on an outage.
	BeginTimeout time.Duration
	// Events writes order.placed into the outbox table of every
	// destination (events.Flow.Writer); nil writes into the default table.
	Events *outbox.Writer
}

// NewStore returns the repository over pool, configured by cfg.
func NewStore(pool *pgxpool.Pool, cfg StoreConfig) (*Store, error) {
	m, err := txn.New(pool, txn.Config{Isolation: txn.Serializable, MaxAttempts: cfg.MaxAttempts, BeginTimeout: cfg.BeginTimeout})
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool, tx: m, events: cfg.Events}, nil
}

// Place checks and decrements the stock of every line and records the order,
// all in one SERIALIZABLE transaction, retried as a whole when PostgreSQL
// detects a conflict: two orders can never both take the last unit. A line
// without enough stock fails the whole order with an *OutOfStockError.
func (s *Store) Place(ctx context.Context, userID string, lines []Line) (Order, error) {
	uid, err := store.ParseUserID(userID)
	if err != nil {
		return Order{}, err
	}
	lines = mergeLines(lines)
	var out Order
	err = s.tx.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		o := Order{UserID: userID, Status: StatusPlaced}
		// Rows are locked in id order, the same in every transaction, so
		// that two orders of the same products cannot deadlock.
		for _, l := range lines {
			var name string
			var price, stock int64
			err := tx.QueryRow(ctx, `SELECT name, price_cents, stock FROM products WHERE id = $1 FOR UPDATE`, l.ProductID).
				Scan(&name, &price, &stock)
			if errors.Is(err, pgx.ErrNoRows) {
				return &UnknownProductError{ProductID: l.ProductID}
			}
			if err != nil {
				return err
			}
			if stock < l.Quantity {
				return &OutOfStockError{ProductID: l.ProductID, Available: stock}
			}
			if _, err := tx.Exec(ctx, `UPDATE products SET stock = stock - $2, version = version + 1, updated_at = now() WHERE id = $1`,
				l.ProductID, l.Quantity); err != nil {
				return err
			}
			o.Items = append(o.Items, OrderItem{ProductID: l.ProductID, Name: name, UnitPriceCents: price, Quantity: l.Quantity})
			o.TotalCents += price * l.Quantity
		}
		if err := tx.QueryRow(ctx, `INSERT INTO orders (user_id, status, total_cents) VALUES ($1, $2, $3) RETURNING id, created_at`,
			uid, o.Status, o.TotalCents).Scan(&o.ID, &o.CreatedAt); err != nil {
			return err
		}
		for _, it := range o.Items {
			if _, err := tx.Exec(ctx, `INSERT INTO order_items (order_id, product_id, name, unit_price_cents, quantity) VALUES ($1, $2, $3, $4, $5)`,
				o.ID, it.ProductID, it.Name, it.UnitPriceCents, it.Quantity); err != nil {
				return err
			}
		}
		// The event commits with the order or not at all.
		ev := events.OrderPlaced{OrderID: o.ID, UserID: userID, TotalCents: o.TotalCents}
		for _, it := range o.Items {
			ev.Items = append(ev.Items, events.OrderLine{ProductID: it.ProductID, Quantity: it.Quantity})
		}
		m, err := outbox.JSON(events.TopicOrderPlaced, strconv.FormatInt(o.ID, 10), ev)
		if err != nil {
			return err
		}
		enqueue := outbox.Enqueue
		if s.events != nil {
			enqueue = s.events.Enqueue
		}
		if err := enqueue(ctx, tx, m); err != nil {
			return err
		}
		out = o
		return nil
	})
	return out, err
}

// Get returns the order id of userID; someone else's order is store.ErrNotFound.
func (s *Store) Get(ctx context.Context, userID string, id int64) (Order, error) {
	uid, err := store.ParseUserID(userID)
	if err != nil {
		return Order{}, err
	}
	var o Order
	err = s.pool.QueryRow(ctx, `SELECT id, user_id::text, status, total_cents, created_at FROM orders WHERE id = $1 AND user_id = $2`, id, uid).
		Scan(&o.ID, &o.UserID, &o.Status, &o.TotalCents, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, store.ErrNotFound
	}
	if err != nil {
		return Order{}, err
	}
	orders := []Order{o}
	if err := s.loadItems(ctx, orders); err != nil {
		return Order{}, err
	}
	return orders[0], nil
}

// List runs the keyset query q, whose first argument is the user id from
// store.ParseUserID.
func (s *Store) List(ctx context.Context, q *pagination.Query) ([]Order, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, user_id::text, status, total_cents, created_at FROM orders
		WHERE user_id = $1 AND `+q.Tail(), q.Args...)
	if err != nil {
		return nil, err
	}
	orders, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Order, error) {
		var o Order
		err := r.Scan(&o.ID, &o.UserID, &o.Status, &o.TotalCents, &o.CreatedAt)
		return o, err
	})
	if err != nil {
		return nil, err
	}
	return orders, s.loadItems(ctx, orders)
}

// SetPayment records the outcome of an order's payment.
func (s *Store) SetPayment(ctx context.Context, id int64, status, paymentID string) error {
	var pid *string
	if paymentID != "" {
		pid = &paymentID
	}
	_, err := s.pool.Exec(ctx, `UPDATE orders SET status = $2, payment_id = $3 WHERE id = $1`, id, status, pid)
	return err
}

func (s *Store) loadItems(ctx context.Context, orders []Order) error {
	if len(orders) == 0 {
		return nil
	}
	ids := make([]int64, len(orders))
	byID := make(map[int64]*Order, len(orders))
	for i := range orders {
		ids[i] = orders[i].ID
		byID[orders[i].ID] = &orders[i]
		orders[i].Items = []OrderItem{}
	}
	rows, err := s.pool.Query(ctx, `SELECT order_id, product_id, name, unit_price_cents, quantity FROM order_items
		WHERE order_id = ANY($1) ORDER BY order_id, product_id`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var it OrderItem
		if err := rows.Scan(&id, &it.ProductID, &it.Name, &it.UnitPriceCents, &it.Quantity); err != nil {
			return err
		}
		byID[id].Items = append(byID[id].Items, it)
	}
	return rows.Err()
}

// mergeLines adds up lines of the same product and sorts them by product id.
func mergeLines(lines []Line) []Line {
	sum := make(map[int64]int64, len(lines))
	for _, l := range lines {
		sum[l.ProductID] += l.Quantity
	}
	out := make([]Line, 0, len(sum))
	for id, q := range sum {
		out = append(out, Line{ProductID: id, Quantity: q})
	}
	slices.SortFunc(out, func(a, b Line) int {
		switch {
		case a.ProductID < b.ProductID:
			return -1
		case a.ProductID > b.ProductID:
			return 1
		}
		return 0
	})
	return out
}
