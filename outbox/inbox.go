package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InboxConfig configures an [Inbox]. The zero value uses DefaultInboxTable.
type InboxConfig struct {
	Table string // DefaultInboxTable when empty
}

// Inbox makes a consumer's side effects happen once per message id although
// brokers deliver at least once. Most callers want [Inbox.Handle], whose
// Handler the consumers of outbox/redisstream, outbox/natsjs and outbox/rabbitmq run;
// [Inbox.Process] is for a caller that owns the transaction. It is safe for
// concurrent use.
type Inbox struct {
	insert, cleanup string
}

// NewInbox returns an Inbox, or an error wrapping ErrInvalidConfig.
func NewInbox(cfg InboxConfig) (*Inbox, error) {
	table, err := tableName(cfg.Table, DefaultInboxTable)
	if err != nil {
		return nil, err
	}
	q := quote(table)
	return &Inbox{
		insert: `INSERT INTO ` + q + ` (message_id) VALUES ($1) ON CONFLICT DO NOTHING`,
		cleanup: `DELETE FROM ` + q + ` WHERE message_id IN (
  SELECT message_id FROM ` + q + ` WHERE processed_at < now() - $1 * interval '1 microsecond'
  LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	}, nil
}

// Process records messageID in the inbox and runs fn, both in tx, the
// transaction that holds the consumer's side effects. If the id was already
// recorded by a committed transaction, fn is not run and Process returns
// ErrDuplicate: acknowledge the message and move on. If a concurrent
// transaction is recording the same id, Process waits for it, so two
// redeliveries processed in parallel still run fn once.
//
// The caller commits tx, and acknowledges the message to the broker only
// after the commit. An error from fn is returned unchanged; the caller rolls
// back and the id is not recorded. tx is a pgx.Tx, never a pool: outside a
// transaction the id would be recorded even when fn failed, and the message
// would never be processed.
func (in *Inbox) Process(ctx context.Context, tx pgx.Tx, messageID string,
	fn func(ctx context.Context, tx pgx.Tx) error) error {
	if messageID == "" {
		return fmt.Errorf("%w: empty message id", ErrInvalidID)
	}
	if tx == nil {
		return fmt.Errorf("%w: nil transaction", ErrInvalidConfig)
	}
	tag, err := tx.Exec(ctx, in.insert, messageID)
	if err != nil {
		return fmt.Errorf("outbox: inbox: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrDuplicate
	}
	return fn(ctx, tx)
}

// Cleanup deletes inbox entries older than olderThan, at most batch rows per
// statement, and returns how many it deleted. Keep entries longer than the
// broker can redeliver a message.
func (in *Inbox) Cleanup(ctx context.Context, db Execer, olderThan time.Duration, batch int) (int64, error) {
	if batch <= 0 {
		return 0, fmt.Errorf("%w: batch %d must be positive", ErrInvalidConfig, batch)
	}
	var total int64
	for {
		tag, err := db.Exec(ctx, in.cleanup, olderThan.Microseconds(), batch)
		if err != nil {
			return total, fmt.Errorf("outbox: inbox cleanup: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
	}
}
