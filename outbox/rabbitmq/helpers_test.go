package rabbitmq_test

import (
	"context"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func enqueue(ctx context.Context, pool *pgxpool.Pool, msgs ...outbox.Message) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return outbox.Enqueue(ctx, tx, msgs...) })
}
