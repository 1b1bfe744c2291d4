package pgxobserve_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrock-go/bedrock/observe/pgxobserve"
)

func ExampleFingerprint() {
	fmt.Println(pgxobserve.Fingerprint(`
		SELECT id, email FROM users -- active users only
		WHERE status = 'active' AND id IN (10, 11, 12) AND tenant = $1`))
	fmt.Println(pgxobserve.Fingerprint("INSERT INTO tags (name) VALUES ('a'), ('b'), ('c')"))
	// Output:
	// SELECT id, email FROM users WHERE status = ? AND id IN (...) AND tenant = $1
	// INSERT INTO tags (name) VALUES (...)
}

// The tracer is set on the pool's connection config; it explains slow
// statements on the pool itself, which exists only once the tracer does.
func ExampleNew() {
	ctx := context.Background()
	var pool *pgxpool.Pool
	tracer, err := pgxobserve.New(pgxobserve.Config{
		SlowThreshold: 200 * time.Millisecond,
		Explain:       pgxobserve.ExplainConfig{DB: func() pgxobserve.Querier { return pool }},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer tracer.Close()
	cfg, err := pgxpool.ParseConfig("postgres://app@db.internal/app")
	if err != nil {
		log.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
}

func ExampleNew_invalidConfig() {
	_, err := pgxobserve.New(pgxobserve.Config{
		Explain: pgxobserve.ExplainConfig{DB: func() pgxobserve.Querier { return nil }},
	})
	fmt.Println(errors.Is(err, pgxobserve.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// pgxobserve: invalid config: Explain.DB is set without a SlowThreshold: no query would be explained
}
