package outbox_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
)

// Instances that start together on an empty database all run Migrate at
// once: every one must succeed (CREATE ... IF NOT EXISTS alone races on
// the catalog: "duplicate key value violates unique constraint
// pg_type_typname_nsp_index", "relation already exists").
func TestMigrate_ManyProcessesAtOnce(t *testing.T) {
	pool := testenv.Postgres(t)
	const n = 16
	conns := testenv.Conns(t, pool, n)
	for round := range 3 {
		cfg := outbox.MigrateConfig{Table: "events_" + string(rune('a'+round)), InboxTable: "inbox_" + string(rune('a'+round))}
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = outbox.Migrate(context.Background(), c, cfg)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "round %d, process %d", round, i)
		}
		var tables int
		require.NoError(t, pool.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ($1, $2)",
			cfg.Table, cfg.InboxTable).Scan(&tables))
		assert.Equal(t, 2, tables)
	}
}
