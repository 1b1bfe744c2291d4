package store_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/pagination"

	"github.com/bedrock-go/bedrock/examples/service/internal/apikeys"
	"github.com/bedrock-go/bedrock/examples/service/internal/orders"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
	"github.com/bedrock-go/bedrock/examples/service/internal/users"
)

// recorder is a pgx tracer that keeps the statements run, with their
// arguments, so that a test can EXPLAIN exactly what the code sent.
type recorder struct {
	mu    sync.Mutex
	stmts []statement
}

type statement struct {
	sql  string
	args []any
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = append(r.stmts, statement{d.SQL, d.Args})
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the statements recorded since the last call.
func (r *recorder) take() []statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

// TestLookupsUseIndexes runs each lookup by user or key id as the service
// does, then EXPLAINs the statement it sent, with its arguments, with
// sequential scans disabled: the plan must find the rows through an index
// condition on the compared column. A comparison such as id::text = $1
// cannot use the primary key or the foreign-key index, whatever the planner
// is told.
func TestLookupsUseIndexes(t *testing.T) {
	ctx := context.Background()
	base, _ := servicetest.Database(t)
	require.NoError(t, store.Migrate(ctx, base))
	rec := &recorder{}
	cfg := base.Config().Copy()
	// One connection, so that every statement of a call is recorded in
	// order and none runs elsewhere.
	cfg.MaxConns = 1
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	accounts := users.NewStore(pool)
	u := users.User{Email: "ix@shop.test", Name: "Ix", PasswordHash: "h", Role: "customer"}
	require.NoError(t, accounts.Create(ctx, &u))
	_, err = base.Exec(ctx, `INSERT INTO orders (user_id, status, total_cents) VALUES ($1::uuid, 'placed', 100)`, u.ID)
	require.NoError(t, err)
	var orderID int64
	require.NoError(t, base.QueryRow(ctx, `SELECT id FROM orders`).Scan(&orderID))
	orderStore, err := orders.NewStore(pool, orders.StoreConfig{MaxAttempts: 1})
	require.NoError(t, err)
	keys := apikeys.NewStore(pool)
	signer, err := pagination.NewSecretSigner([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	pager, err := pagination.New(pagination.Config{Signer: signer, Sorts: orders.Sorts()})
	require.NoError(t, err)

	explain, err := base.Acquire(ctx)
	require.NoError(t, err)
	defer explain.Release()
	_, err = explain.Exec(ctx, `SET enable_seqscan = off`)
	require.NoError(t, err)

	for _, tt := range []struct {
		name string
		run  func() error
		cond string // what an Index Cond line of the plan must start with
	}{
		{"Users.ByID", func() error { _, err := accounts.ByID(ctx, u.ID); return err }, "(id = "},
		{"Users.SetPasswordHash", func() error { return accounts.SetPasswordHash(ctx, u.ID, "h2") }, "(id = "},
		{"Users.ChangeRole", func() error { _, err := accounts.ChangeRole(ctx, u.ID, "customer", "customer"); return err }, "(id = "},
		{"Orders.Get", func() error { _, err := orderStore.Get(ctx, u.ID, orderID); return err }, "(id = "},
		{"Orders.List", func() error {
			req, err := pager.ParseRequest(url.Values{})
			if err != nil {
				return err
			}
			uid, err := store.ParseUserID(u.ID)
			if err != nil {
				return err
			}
			q, err := pager.Query(req, uid)
			if err != nil {
				return err
			}
			_, err = orderStore.List(ctx, q)
			return err
		}, "(user_id = "},
		{"APIKeys.List", func() error { _, err := keys.List(ctx, u.ID); return err }, "(owner = "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec.take()
			require.NoError(t, tt.run())
			stmts := rec.take()
			require.NotEmpty(t, stmts)
			found := false
			for _, st := range stmts {
				rows, err := explain.Query(ctx, "EXPLAIN "+st.sql, st.args...)
				require.NoError(t, err)
				plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
				require.NoError(t, err)
				text := strings.Join(plan, "\n")
				assert.NotContains(t, text, "Seq Scan", "%s\n%s", st.sql, text)
				for _, line := range plan {
					if c, ok := strings.CutPrefix(strings.TrimSpace(line), "Index Cond: "); ok && strings.HasPrefix(c, tt.cond) {
						found = true
					}
				}
				if !found {
					t.Logf("%s\n%s", st.sql, text)
				}
			}
			assert.True(t, found, "no statement found its rows with an index condition %s...", tt.cond)
		})
	}
}

// TestMalformedIDsFindNothing checks that an id that cannot be a uuid is
// "not found", never a database error (which the API would answer with
// 500).
func TestMalformedIDsFindNothing(t *testing.T) {
	ctx := context.Background()
	pool, _ := servicetest.Database(t)
	require.NoError(t, store.Migrate(ctx, pool))
	accounts := users.NewStore(pool)
	orderStore, err := orders.NewStore(pool, orders.StoreConfig{MaxAttempts: 1})
	require.NoError(t, err)
	keys := apikeys.NewStore(pool)
	for _, id := range []string{"", "abc", "00000000-0000-0000-0000-00000000000g", "00000000x0000-0000-0000-000000000000",
		"00000000000000000000000000000000", "00000000-0000-0000-0000-000000000000\x00", "\xff"} {
		_, err := accounts.ByID(ctx, id)
		assert.ErrorIs(t, err, store.ErrNotFound, "%q", id)
		assert.ErrorIs(t, accounts.SetPasswordHash(ctx, id, "h"), store.ErrNotFound, "%q", id)
		changed, err := accounts.ChangeRole(ctx, id, "customer", "admin")
		assert.NoError(t, err, "%q", id)
		assert.False(t, changed)
		_, err = orderStore.Get(ctx, id, 1)
		assert.ErrorIs(t, err, store.ErrNotFound, "%q", id)
		list, err := keys.List(ctx, id)
		assert.NoError(t, err, "%q", id)
		assert.Empty(t, list)
		_, err = store.ParseUserID(id)
		assert.ErrorIs(t, err, store.ErrNotFound, "%q", id)
		_, err = keys.Get(ctx, id)
		assert.ErrorIs(t, err, apikey.ErrNotFound, "%q", id)
	}
}
