package outbox

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// WriterConfig configures a [Writer]. The zero value writes to [DefaultTable]
// and adds no headers.
type WriterConfig struct {
	// Table is the outbox table; DefaultTable when empty.
	Table string
	// Tables, when set, replaces Table: every message is written into each
	// of these outbox tables, in the same transaction, with the same ID.
	// Give each destination (broker) its own table, drained by its own
	// [Relay] with its own Publisher: each destination then progresses on
	// its own, and a broker that is down delays only the events of its own
	// table, while one relay fanning out to two brokers acknowledges only
	// what both have and stalls both. Create each table with [Migrate].
	// Setting both Table and Tables, or naming a table twice, is an error.
	Tables []string
	// Inject, when set, adds headers taken from ctx to every message, for
	// example the W3C "traceparent" of the current span. Headers already
	// present in a message win.
	Inject func(ctx context.Context, headers map[string]string)
}

// Writer enqueues events into one outbox table, or into one table per
// destination ([WriterConfig].Tables). It is safe for concurrent use; the
// zero Writer is not valid, use [NewWriter].
type Writer struct {
	tables []writerTable // in lock class order, so every Writer locks alike
	inject func(context.Context, map[string]string)
}

// writerTable is the SQL of one table a Writer writes into.
type writerTable struct {
	insertSQL, notifySQL string
	class                int32
}

// NewWriter returns a Writer, or an error wrapping [ErrInvalidConfig].
func NewWriter(cfg WriterConfig) (*Writer, error) {
	names := cfg.Tables
	if len(names) == 0 {
		names = []string{cfg.Table}
	} else if cfg.Table != "" {
		return nil, fmt.Errorf("%w: both Table and Tables are set", ErrInvalidConfig)
	}
	w := &Writer{inject: cfg.Inject}
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		table, err := tableName(name, DefaultTable)
		if err != nil {
			return nil, err
		}
		if seen[table] {
			return nil, fmt.Errorf("%w: Tables names %q twice", ErrInvalidConfig, table)
		}
		seen[table] = true
		q := quote(table)
		w.tables = append(w.tables, writerTable{
			class: lockClass(table),
			// unnest with several arrays yields rows in array order, so
			// seq follows the order of the Enqueue arguments.
			insertSQL: `INSERT INTO ` + q + ` (id, topic, key, payload, headers, available_at)
SELECT u.id, u.topic, u.key, u.payload, u.headers, COALESCE(u.nb, now())
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::jsonb[], $6::timestamptz[])
  AS u(id, topic, key, payload, headers, nb)`,
			notifySQL: `SELECT pg_notify('` + channel(table) + `', '')`,
		})
	}
	slices.SortFunc(w.tables, func(a, b writerTable) int {
		if c := cmp.Compare(a.class, b.class); c != 0 {
			return c
		}
		return strings.Compare(a.insertSQL, b.insertSQL)
	})
	return w, nil
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
	lockKeys := distinctKeys(keys)
	for _, t := range w.tables {
		if len(lockKeys) > 0 {
			b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM unnest($2::text[]) AS k ORDER BY k`,
				t.class, lockKeys)
		}
		b.Queue(t.insertSQL, ids, topics, keys, payloads, headers, notBefore)
		b.Queue(t.notifySQL)
	}
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
