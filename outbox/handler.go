package outbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Beginner starts transactions; *pgxpool.Pool and *pgx.Conn satisfy it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Handler processes one consumed message. A nil error lets the consumer
// helper acknowledge the message to the broker.
type Handler func(ctx context.Context, m Message) error

// Handle returns a Handler that runs fn and records m.ID in the inbox in one
// transaction of db, and commits it. A redelivered message is acknowledged
// without running fn again. The broker acknowledgement the consumer helpers
// send after the Handler returns therefore always follows the commit.
func (in *Inbox) Handle(db Beginner, fn func(ctx context.Context, tx pgx.Tx, m Message) error) Handler {
	return func(ctx context.Context, m Message) error {
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			return in.Process(ctx, tx, m.ID, func(ctx context.Context, tx pgx.Tx) error {
				return fn(ctx, tx, m)
			})
		})
		if err == nil || errors.Is(err, ErrDuplicate) {
			return nil
		}
		return fmt.Errorf("outbox: handle %s: %w", m.ID, err)
	}
}
