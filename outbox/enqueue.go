package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// WriterConfig configures a [Writer]. The zero value writes to [DefaultTable]
// and adds no headers.
type WriterConfig struct {
	// Table is the outbox table; DefaultTable when empty.
	Table string
	// Inject, when set, adds headers taken from ctx to every message, for
	// example the W3C "traceparent" of the current span. Headers already
	// present in a message win.
	Inject func(ctx context.Context, headers map[string]string)
}

// Writer enqueues events into one outbox table. It is safe for concurrent
// use; the zero Writer is not valid, use [NewWriter].
type Writer struct {
	table, insertSQL, notifySQL string
	class                       int32
	inject                      func(context.Context, map[string]string)
}

// NewWriter returns a Writer, or an error wrapping [ErrInvalidConfig].
func NewWriter(cfg WriterConfig) (*Writer, error) {
	table, err := tableName(cfg.Table, DefaultTable)
	if err != nil {
		return nil, err
	}
	q := quote(table)
	return &Writer{
		table: table,
		class: lockClass(table),
		// unnest with several arrays yields rows in array order, so seq
		// follows the order of the Enqueue arguments.
		insertSQL: `INSERT INTO ` + q + ` (id, topic, key, payload, headers, available_at)
SELECT u.id, u.topic, u.key, u.payload, u.headers, COALESCE(u.nb, now())
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::jsonb[], $6::timestamptz[])
  AS u(id, topic, key, payload, headers, nb)`,
		notifySQL: `SELECT pg_notify('` + channel(table) + `', '')`,
		inject:    cfg.Inject,
	}, nil
}

// defaultWriter is immutable after construction, so sharing it is safe.
var defaultWriter, _ = NewWriter(WriterConfig{})

// Enqueue inserts msgs into [DefaultTable] inside tx, the caller's
// transaction: they become visible to the relay if and only if tx commits.
// See [Writer.Enqueue].
//
// tx is a pgx.Tx, never a pool or a connection: an event written outside
// the business transaction could be published for a change that rolled
// back, or lost for one that committed, which is what an outbox exists to
// prevent. Passing a *pgxpool.Pool does not compile.
func Enqueue(ctx context.Context, tx pgx.Tx, msgs ...Message) error {
	return defaultWriter.Enqueue(ctx, tx, msgs...)
}

// Enqueue inserts msgs inside tx, the caller's transaction, in one round
// trip; like the package-level [Enqueue] it takes a pgx.Tx, so an event can
// never be written outside a transaction. Messages without an ID
// get a UUIDv7; ids are written back into msgs so the caller can log them.
//
// For every distinct non-empty key it takes a transaction-scoped advisory
// lock before the rows draw their sequence numbers, so that two transactions
// writing the same key are serialised and the sequence order of a key's
// events is its commit order. The locks are taken in sorted key order; a
// transaction that calls Enqueue several times with different keys can
// deadlock with another doing the same in the opposite order, like any two
// row locks, and PostgreSQL then aborts one of them.
//
// Invalid messages return a *MessageError (wrapping ErrInvalidMessage)
// before anything is sent.
func (w *Writer) Enqueue(ctx context.Context, tx pgx.Tx, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	n := len(msgs)
	ids, topics, keys := make([]string, n), make([]string, n), make([]string, n)
	payloads, headers := make([][]byte, n), make([][]byte, n)
	notBefore := make([]*time.Time, n)
	for i := range msgs {
		m := &msgs[i]
		if err := m.validate(i); err != nil {
			return err
		}
		if m.ID == "" {
			m.ID = NewID()
		}
		ids[i], topics[i], keys[i] = m.ID, m.Topic, m.Key
		payloads[i] = m.Payload
		if payloads[i] == nil {
			payloads[i] = []byte{}
		}
		h, err := w.headers(ctx, m.Headers)
		if err != nil {
			return &MessageError{Index: i, Field: "Headers", Reason: err.Error()}
		}
		headers[i] = h
		if !m.NotBefore.IsZero() {
			t := m.NotBefore
			notBefore[i] = &t
		}
	}
	if tx == nil {
		return fmt.Errorf("%w: nil transaction", ErrInvalidConfig)
	}
	b := &pgx.Batch{}
	if lockKeys := distinctKeys(keys); len(lockKeys) > 0 {
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM unnest($2::text[]) AS k ORDER BY k`,
			w.class, lockKeys)
	}
	b.Queue(w.insertSQL, ids, topics, keys, payloads, headers, notBefore)
	b.Queue(w.notifySQL)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}

func (w *Writer) headers(ctx context.Context, h map[string]string) ([]byte, error) {
	if w.inject != nil {
		all := make(map[string]string, len(h)+1)
		w.inject(ctx, all)
		for k, v := range h {
			all[k] = v
		}
		h = all
	}
	if len(h) == 0 {
		return nil, nil
	}
	return json.Marshal(h)
}

func distinctKeys(keys []string) []string {
	var out []string
	for _, k := range keys {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
