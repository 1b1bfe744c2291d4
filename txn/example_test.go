package txn_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bedrock-go/bedrock/txn"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// examplePool stands for the application's pool: a real PostgreSQL
// (BEDROCK_POSTGRES_URL, or the local server) in a schema of its own, with
// the examples' tables. It uses pgx alone, as an application would.
func examplePool() (*pgxpool.Pool, func()) {
	url := os.Getenv("BEDROCK_POSTGRES_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		panic(err)
	}
	schema := fmt.Sprintf("txn_example_%d", time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		panic(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		panic(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		panic(err)
	}
	_, err = pool.Exec(ctx, `
		CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
		INSERT INTO accounts VALUES (1, 100), (2, 0);
		CREATE TABLE docs (id int PRIMARY KEY, title text NOT NULL, version bigint NOT NULL DEFAULT 1);
		INSERT INTO docs (id, title) VALUES (1, 'draft');
		CREATE TABLE jobs (id int PRIMARY KEY, done bool NOT NULL DEFAULT false);
		INSERT INTO jobs (id) VALUES (1), (2), (3);`)
	if err != nil {
		panic(err)
	}
	return pool, func() {
		pool.Close()
		if conn, err := pgx.Connect(ctx, url); err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = conn.Close(ctx)
		}
	}
}

func Example() {
	pool, cleanup := examplePool()
	defer cleanup()
	ctx := context.Background()

	// The whole function runs again if PostgreSQL reports a serialization
	// failure or a deadlock.
	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance - 30 WHERE id = 1"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance + 30 WHERE id = 2")
		return err
	}, txn.Serializable)
	if err != nil {
		fmt.Println(err)
		return
	}
	var a, b int
	_ = pool.QueryRow(ctx, "SELECT (SELECT balance FROM accounts WHERE id = 1), (SELECT balance FROM accounts WHERE id = 2)").Scan(&a, &b)
	fmt.Println(a, b)
	// Output: 70 30
}

// accountRepo is repository code: it takes no transaction parameter, yet
// joins the caller's transaction when there is one.
type accountRepo struct{ db *pgxpool.Pool }

func (r accountRepo) add(ctx context.Context, id, amount int) error {
	_, err := txn.QuerierFrom(ctx, r.db).Exec(ctx, "UPDATE accounts SET balance = balance + $2 WHERE id = $1", id, amount)
	return err
}

func ExampleQuerierFrom() {
	pool, cleanup := examplePool()
	defer cleanup()
	ctx := context.Background()
	repo := accountRepo{pool}

	err := txn.Do(ctx, pool, func(ctx context.Context, _ pgx.Tx) error {
		if err := repo.add(ctx, 1, -50); err != nil {
			return err
		}
		if err := repo.add(ctx, 2, 50); err != nil {
			return err
		}
		return errors.New("changed my mind")
	})
	fmt.Println(err)
	var balance int
	_ = pool.QueryRow(ctx, "SELECT balance FROM accounts WHERE id = 1").Scan(&balance)
	fmt.Println(balance)
	// Output:
	// changed my mind
	// 100
}

func ExampleDo_nested() {
	pool, cleanup := examplePool()
	defer cleanup()
	ctx := context.Background()

	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE accounts SET balance = 1 WHERE id = 1"); err != nil {
			return err
		}
		// A savepoint: its failure undoes only its own work.
		err := txn.Do(ctx, pool, func(ctx context.Context, sp pgx.Tx) error {
			_, err := sp.Exec(ctx, "INSERT INTO accounts VALUES (1, 0)")
			return err
		})
		fmt.Println("nested:", txn.SQLState(err))
		return nil
	})
	fmt.Println("outer:", err)
	var balance int
	_ = pool.QueryRow(ctx, "SELECT balance FROM accounts WHERE id = 1").Scan(&balance)
	fmt.Println(balance)
	// Output:
	// nested: 23505
	// outer: <nil>
	// 1
}

func ExampleAfterCommit() {
	pool, cleanup := examplePool()
	defer cleanup()
	for _, fail := range []bool{false, true} {
		_ = txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
			txn.AfterCommit(ctx, func(context.Context) { fmt.Println("invalidate cache for account 1") })
			if fail {
				return errors.New("rolled back")
			}
			return nil
		})
	}
	// Output: invalidate cache for account 1
}

func ExampleVersioned() {
	pool, cleanup := examplePool()
	defer cleanup()
	ctx := context.Background()
	docs, err := txn.NewVersioned(txn.VersionedTable{Table: "docs"})
	if err != nil {
		panic(err)
	}

	// GET: serve the version (as an ETag, with httpapi.ETagFromVersion).
	version, _ := docs.Version(ctx, pool, 1)
	fmt.Println("version:", version)

	// PUT with If-Match naming that version: the first writer wins, the
	// second gets ErrConflict, which a service answers with 412.
	for _, writer := range []string{"alice", "bob"} {
		next, err := docs.Update(ctx, pool, 1, version, txn.Set("title", "by "+writer))
		switch {
		case errors.Is(err, txn.ErrConflict):
			fmt.Println(writer, "412 Precondition Failed")
		case err != nil:
			fmt.Println(writer, err)
		default:
			fmt.Println(writer, "200 OK, version", next)
		}
	}
	_, err = docs.Update(ctx, pool, 2, 1, txn.Set("title", "x"))
	fmt.Println(errors.Is(err, txn.ErrNotFound))
	// Output:
	// version: 1
	// alice 200 OK, version 2
	// bob 412 Precondition Failed
	// true
}

func ExampleQueryLocked() {
	pool, cleanup := examplePool()
	defer cleanup()
	ctx := context.Background()

	// A worker claims up to two jobs no other worker holds.
	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := txn.QueryLocked(ctx, tx, txn.Lock{Wait: txn.SkipLocked},
			"SELECT id FROM jobs WHERE NOT done ORDER BY id LIMIT 2")
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		fmt.Println("claimed", ids)
		_, err = tx.Exec(ctx, "UPDATE jobs SET done = true WHERE id = ANY($1)", ids)
		return err
	})
	fmt.Println(err)
	// Output:
	// claimed [1 2]
	// <nil>
}

func ExampleLockSession() {
	pool, cleanup := examplePool()
	defer cleanup()
	ctx := context.Background()

	lock, err := txn.LockSession(ctx, pool, txn.Key("nightly-report"))
	if err != nil {
		panic(err)
	}
	_, err = txn.TrySessionLock(ctx, pool, txn.Key("nightly-report"))
	fmt.Println(errors.Is(err, txn.ErrLocked))
	fmt.Println(lock.Unlock(ctx))
	// Output:
	// true
	// <nil>
}

func ExampleKey() {
	// The same name gives the same key in every process.
	fmt.Println(txn.Key("a"))
	// Output: -5808556873153909620
}

func ExampleRunner() {
	pool, cleanup := examplePool()
	defer cleanup()
	ctx := context.Background()

	m, err := txn.New(pool, txn.Config{
		Isolation:   txn.Serializable,
		MaxAttempts: 5,
		LockTimeout: 2 * time.Second,
		Hooks: txn.Hooks{
			OnAttempt: func(_ context.Context, a txn.Attempt) {
				fmt.Printf("%s: attempt %d, err=%v\n", a.Label, a.Number, a.Err)
			},
			OnRetry: func(_ context.Context, r txn.Retry) {
				fmt.Printf("%s: retrying after %v\n", r.Label, r.Err)
			},
		},
	})
	if err != nil {
		panic(err)
	}
	err = m.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// Repository code would call m.Querier(ctx) instead of taking tx.
		_, err := m.Querier(ctx).Exec(ctx, "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
		return err
	}, txn.Label("bonus"))
	fmt.Println(err)
	// Output:
	// bonus: attempt 1, err=<nil>
	// <nil>
}

// A database that is down surfaces at once as ErrUnavailable, which a
// service answers with 503 and Retry-After; here port 1, where nothing
// listens, stands for it.
func ExampleErrUnavailable() {
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	r, err := txn.New(pool, txn.Config{BeginTimeout: 2 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = r.Do(context.Background(), func(ctx context.Context, tx pgx.Tx) error { return nil })
	switch {
	case errors.Is(err, txn.ErrUnavailable):
		fmt.Println("503 Service Unavailable, Retry-After: 1")
	case errors.Is(err, txn.ErrRetriesExhausted):
		fmt.Println("503, contention")
	case err != nil:
		fmt.Println("500")
	}
	// Output: 503 Service Unavailable, Retry-After: 1
}
