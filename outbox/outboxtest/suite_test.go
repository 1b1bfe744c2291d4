package outboxtest_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/outboxtest"
)

func TestMemoryPublisher_Conforms(t *testing.T) {
	outboxtest.Run(t, outboxtest.Harness{
		New: func(*testing.T) (outbox.Publisher, outboxtest.ReadFunc) {
			pub := &outbox.MemoryPublisher{}
			return pub, func(*testing.T) []outbox.Message { return pub.Messages() }
		},
		Pool: func(t *testing.T) *pgxpool.Pool { return testenv.Postgres(t) },
	})
}
