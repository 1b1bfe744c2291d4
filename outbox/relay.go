package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrRunning is returned by [Relay.Run] when the relay is already running.
var ErrRunning = errors.New("outbox: relay already running")

// Mode selects how a relay learns about new events.
type Mode int

const (
	// ModeNotify listens on a PostgreSQL channel that Enqueue notifies at
	// commit, reacting within a millisecond, and polls as a fallback. It
	// holds one connection of the pool for LISTEN.
	ModeNotify Mode = iota
	// ModePoll only polls. Use it behind PgBouncer in transaction pooling
	// mode, where LISTEN does not work.
	ModePoll
)

// Hooks observe a relay; set them in [RelayConfig].Hooks. Every field may be
// nil; a nil hook costs nothing. Hooks run on the relay's goroutines and
// must not block.
type Hooks struct {
	// OnClaim is called with the size of every non-empty claimed batch.
	OnClaim func(n int)
	// OnPublish is called for each acknowledged message with its lag: the
	// database time between its commit-side creation and its claim.
	OnPublish func(m Message, lag time.Duration)
	// OnFailure is called when a message was not acknowledged and will be
	// retried after retryIn.
	OnFailure func(m Message, err error, retryIn time.Duration)
	// OnDeadLetter is called when a message used its last attempt.
	OnDeadLetter func(m Message, err error)
	// OnError is called for errors of the relay itself (database down,
	// listener lost), which it survives by retrying.
	OnError func(err error)
}

// RelayConfig configures a [Relay]. Every zero field has the documented
// default.
type RelayConfig struct {
	// Table is the outbox table; DefaultTable when empty.
	Table string
	// Mode is ModeNotify (the zero value) or ModePoll.
	Mode Mode
	// BatchSize bounds the events claimed and published per transaction;
	// 100 when zero. It also bounds the duplicates a crash can cause.
	BatchSize int
	// Concurrency is the number of claim loops in this process; 1 when zero.
	Concurrency int
	// PollInterval is the wait between polls when idle: the latency of
	// retries and NotBefore events, and of new events in ModePoll or when a
	// notification is lost; 500ms when zero.
	PollInterval time.Duration
	// MaxAttempts is the number of publish attempts before an event is
	// dead-lettered; 10 when zero.
	MaxAttempts int
	// RetryInitial and RetryMax shape the per-event exponential backoff
	// (with equal jitter) between attempts; 1s and 5m when zero.
	RetryInitial, RetryMax time.Duration
	// PublishTimeout bounds one Publish call; 30s when zero.
	PublishTimeout time.Duration
	// ShutdownTimeout is how long Run lets in-flight batches finish after
	// its context ends; 10s when zero. Past it, they are abandoned
	// unmarked and will be published again.
	ShutdownTimeout time.Duration
	// Retention is how long published events are kept. Zero deletes them in
	// the publishing transaction (least bloat). A positive value marks them
	// published and a cleanup loop deletes them once older, in batches of
	// CleanupBatch every CleanupInterval (1m and 1000 when zero).
	Retention       time.Duration
	CleanupInterval time.Duration
	CleanupBatch    int
	// Hooks observe the relay.
	Hooks Hooks
}

// Relay moves committed events from the outbox table to a Publisher. Several
// relays, in one process or many, can serve one table. Most callers want
// [Relay.Run]; [Relay.PublishBatch] publishes one batch by hand (tests,
// scripts), and [Relay.DeadLetters], [Relay.Requeue] and [Relay.Discard]
// are for operators. Its methods are safe for concurrent use.
type Relay struct {
	pool    *pgxpool.Pool
	pub     Publisher
	cfg     RelayConfig
	table   string
	retry   backoff.Exponential
	sql     relaySQL
	running atomic.Bool

	wakeMu sync.Mutex
	wakes  []chan struct{}
}

type relaySQL struct {
	claim, delete, mark, fail, cleanup, requeue, discard, dead, notify string
}

// NewRelay returns a relay publishing the events of cfg.Table to pub. It
// returns an error wrapping ErrInvalidConfig for a bad configuration.
func NewRelay(pool *pgxpool.Pool, pub Publisher, cfg RelayConfig) (*Relay, error) {
	if pool == nil || pub == nil {
		return nil, fmt.Errorf("%w: nil pool or publisher", ErrInvalidConfig)
	}
	table, err := tableName(cfg.Table, DefaultTable)
	if err != nil {
		return nil, err
	}
	if cfg.Mode != ModeNotify && cfg.Mode != ModePoll {
		return nil, fmt.Errorf("%w: unknown mode %d", ErrInvalidConfig, cfg.Mode)
	}
	for _, v := range []struct {
		name string
		neg  bool
	}{
		{"BatchSize", cfg.BatchSize < 0}, {"Concurrency", cfg.Concurrency < 0},
		{"PollInterval", cfg.PollInterval < 0}, {"MaxAttempts", cfg.MaxAttempts < 0},
		{"RetryInitial", cfg.RetryInitial < 0}, {"RetryMax", cfg.RetryMax < 0},
		{"PublishTimeout", cfg.PublishTimeout < 0}, {"ShutdownTimeout", cfg.ShutdownTimeout < 0},
		{"Retention", cfg.Retention < 0}, {"CleanupInterval", cfg.CleanupInterval < 0},
		{"CleanupBatch", cfg.CleanupBatch < 0},
	} {
		if v.neg {
			return nil, fmt.Errorf("%w: %s is negative", ErrInvalidConfig, v.name)
		}
	}
	setDefault(&cfg.BatchSize, 100)
	setDefault(&cfg.Concurrency, 1)
	setDefault(&cfg.PollInterval, 500*time.Millisecond)
	setDefault(&cfg.MaxAttempts, 10)
	setDefault(&cfg.RetryInitial, time.Second)
	setDefault(&cfg.RetryMax, 5*time.Minute)
	setDefault(&cfg.PublishTimeout, 30*time.Second)
	setDefault(&cfg.ShutdownTimeout, 10*time.Second)
	setDefault(&cfg.CleanupInterval, time.Minute)
	setDefault(&cfg.CleanupBatch, 1000)
	if cfg.RetryMax < cfg.RetryInitial {
		return nil, fmt.Errorf("%w: RetryMax %v below RetryInitial %v", ErrInvalidConfig, cfg.RetryMax, cfg.RetryInitial)
	}
	return &Relay{
		pool: pool, pub: pub, cfg: cfg, table: table,
		retry: backoff.Exponential{Initial: cfg.RetryInitial, Max: cfg.RetryMax, Jitter: backoff.EqualJitter},
		sql:   buildSQL(table),
	}, nil
}

func setDefault[T int | time.Duration](p *T, def T) {
	if *p == 0 {
		*p = def
	}
}

func buildSQL(table string) relaySQL {
	q := quote(table)
	return relaySQL{
		// An event is claimable when it is due and no earlier event of its
		// key is still open (pending, retrying or dead). Because Enqueue
		// serialises writers per key, seq order is commit order within a
		// key, so at most one event per key is ever in flight across all
		// relays: the head holds the row lock and blocks its successors
		// through this NOT EXISTS until its publishing transaction commits.
		// Pending rows are found by state, never by a moving id cursor, so a
		// transaction that commits after a later id is still seen.
		claim: `SELECT o.seq, o.id::text, o.topic, o.key, o.payload, o.headers, o.created_at, o.attempts,
       (extract(epoch FROM clock_timestamp() - o.created_at) * 1e6)::bigint
FROM ` + q + ` o
WHERE o.state = 0 AND o.available_at <= now()
  AND (o.key = '' OR NOT EXISTS (
        SELECT 1 FROM ` + q + ` p
        WHERE p.key = o.key AND p.key <> '' AND p.state <> 1 AND p.seq < o.seq))
ORDER BY o.seq
LIMIT $1
FOR UPDATE OF o SKIP LOCKED`,
		delete: `DELETE FROM ` + q + ` WHERE seq = ANY($1::bigint[])`,
		mark:   `UPDATE ` + q + ` SET state = 1, published_at = now() WHERE seq = ANY($1::bigint[])`,
		fail: `UPDATE ` + q + ` t SET attempts = t.attempts + 1, last_error = u.err,
       available_at = now() + u.delay_us * interval '1 microsecond',
       state = CASE WHEN u.dead THEN 2 ELSE 0 END
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bool[]) AS u(seq, err, delay_us, dead)
WHERE t.seq = u.seq`,
		cleanup: `DELETE FROM ` + q + ` WHERE seq IN (
  SELECT seq FROM ` + q + ` WHERE state = 1 AND published_at < now() - $1 * interval '1 microsecond'
  ORDER BY published_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		requeue: `UPDATE ` + q + ` SET state = 0, attempts = 0, available_at = now(), last_error = NULL
WHERE id = ANY($1::uuid[]) AND state = 2`,
		discard: `DELETE FROM ` + q + ` WHERE id = ANY($1::uuid[]) AND state = 2`,
		dead: `SELECT seq, id::text, topic, key, payload, headers, created_at, attempts, COALESCE(last_error, '')
FROM ` + q + ` WHERE state = 2 ORDER BY seq LIMIT $1`,
		notify: `SELECT pg_notify('` + channel(table) + `', '')`,
	}
}

// claimed is one event of a batch.
type claimed struct {
	seq int64
	msg Message
	lag time.Duration
}

// publishBatch claims, publishes and settles one batch in one transaction.
// It returns the number of events claimed. The row locks of the batch are
// held until the outcome is committed, so a crash anywhere leaves the
// events pending: they are published again, never lost.
//
// The transaction is driven by hand so that BEGIN travels with the claim
// and COMMIT with the settlement: two round trips per batch instead of
// four, which is most of the commit-to-publish latency.
func (r *Relay) publishBatch(ctx context.Context) (int, error) {
	pc, err := r.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: acquire: %w", err)
	}
	// pgxpool destroys a connection released inside a transaction, so an
	// error path that could not roll back cannot leak locks into the pool.
	defer pc.Release()
	conn := pc.Conn()
	committed := false
	defer func() {
		if !committed {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, _ = conn.Exec(rctx, "ROLLBACK")
			cancel()
		}
	}()
	batch, err := r.claim(ctx, conn)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	if h := r.cfg.Hooks.OnClaim; h != nil {
		h(len(batch))
	}
	msgs := make([]Message, len(batch))
	for i := range batch {
		msgs[i] = batch[i].msg
	}
	pctx, cancel := context.WithTimeout(ctx, r.cfg.PublishTimeout)
	perr := r.pub.Publish(pctx, msgs)
	cancel()
	if perr != nil && ctx.Err() != nil {
		// Shutdown deadline: nothing is marked, nothing counts as an attempt.
		return len(batch), ctx.Err()
	}
	if err := r.settle(ctx, conn, batch, perr); err != nil {
		return len(batch), err
	}
	committed = true
	r.report(batch, perr)
	return len(batch), nil
}

func (r *Relay) claim(ctx context.Context, conn *pgx.Conn) ([]claimed, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(r.sql.claim, r.cfg.BatchSize)
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("outbox: begin: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	defer rows.Close()
	batch := make([]claimed, 0, r.cfg.BatchSize)
	for rows.Next() {
		var c claimed
		var headers []byte
		var lagUS int64
		if err := rows.Scan(&c.seq, &c.msg.ID, &c.msg.Topic, &c.msg.Key, &c.msg.Payload, &headers,
			&c.msg.CreatedAt, &c.msg.Attempt, &lagUS); err != nil {
			return nil, fmt.Errorf("outbox: claim: %w", err)
		}
		if len(headers) > 0 {
			if err := json.Unmarshal(headers, &c.msg.Headers); err != nil {
				return nil, fmt.Errorf("outbox: claim: headers of %s: %w", c.msg.ID, err)
			}
		}
		c.lag = time.Duration(lagUS) * time.Microsecond
		batch = append(batch, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	return batch, nil
}

// settle records the outcome of a publish and commits, in one round trip.
func (r *Relay) settle(ctx context.Context, conn *pgx.Conn, batch []claimed, perr error) error {
	var done, failed, delays []int64
	var errs []string
	var dead []bool
	for i, c := range batch {
		err := errorFor(perr, i, len(batch))
		if err == nil {
			done = append(done, c.seq)
			continue
		}
		attempt := c.msg.Attempt + 1
		failed = append(failed, c.seq)
		errs = append(errs, err.Error())
		delays = append(delays, r.retry.Delay(c.msg.Attempt, nil).Microseconds())
		dead = append(dead, attempt >= r.cfg.MaxAttempts)
	}
	b := &pgx.Batch{}
	if len(done) > 0 {
		if r.cfg.Retention == 0 {
			b.Queue(r.sql.delete, done)
		} else {
			b.Queue(r.sql.mark, done)
		}
	}
	if len(failed) > 0 {
		b.Queue(r.sql.fail, failed, errs, delays, dead)
	}
	commit := b.Queue("COMMIT")
	var tag pgconn.CommandTag
	commit.Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("outbox: settle batch: %w", err)
	}
	// COMMIT of a failed transaction answers ROLLBACK without an error.
	if tag.String() != "COMMIT" {
		return fmt.Errorf("outbox: settle batch: transaction ended with %q", tag.String())
	}
	return nil
}

func (r *Relay) report(batch []claimed, perr error) {
	h := r.cfg.Hooks
	if h.OnPublish == nil && h.OnFailure == nil && h.OnDeadLetter == nil {
		return
	}
	for i, c := range batch {
		err := errorFor(perr, i, len(batch))
		switch {
		case err == nil:
			if h.OnPublish != nil {
				h.OnPublish(c.msg, c.lag)
			}
		case c.msg.Attempt+1 >= r.cfg.MaxAttempts:
			if h.OnDeadLetter != nil {
				h.OnDeadLetter(c.msg, err)
			}
		default:
			if h.OnFailure != nil {
				// The jitter of the stored delay is not kept; report the ceiling.
				h.OnFailure(c.msg, err, r.retry.Ceiling(c.msg.Attempt))
			}
		}
	}
}
