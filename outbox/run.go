package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Run relays events until ctx ends, then waits for in-flight batches to
// finish (at most ShutdownTimeout) and returns nil. It returns ErrRunning if
// the relay is already running. Database and broker failures are retried,
// reported to Hooks.OnError, and never end Run.
func (r *Relay) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer r.running.Store(false)

	// In-flight work outlives ctx by at most ShutdownTimeout, so that an
	// acknowledged batch still gets marked.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopWatch := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(r.cfg.ShutdownTimeout, cancelWork)
		context.AfterFunc(work, func() { t.Stop() })
	})
	defer stopWatch()

	var wg sync.WaitGroup
	wakes := make([]chan struct{}, r.cfg.Concurrency)
	for i := range wakes {
		wakes[i] = make(chan struct{}, 1)
	}
	r.wakeMu.Lock()
	r.wakes = wakes
	r.wakeMu.Unlock()
	if r.cfg.Mode == ModeNotify {
		wg.Go(func() { r.listen(ctx) })
	}
	if r.cfg.Retention > 0 {
		wg.Go(func() { r.cleanupLoop(ctx) })
	}
	for _, wake := range wakes {
		wg.Go(func() { r.loop(ctx, work, wake) })
	}
	wg.Wait()
	return nil
}

// PublishBatch claims and publishes one batch now, outside Run, and returns
// the number of events it claimed. It is useful in tests and in cron-style
// deployments.
func (r *Relay) PublishBatch(ctx context.Context) (int, error) {
	return r.publishBatch(ctx)
}

func (r *Relay) loop(ctx, work context.Context, wake <-chan struct{}) {
	errBackoff := backoff.Exponential{Initial: 50 * time.Millisecond, Max: r.cfg.PollInterval * 4}
	failures := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		n, err := r.publishBatch(work)
		wait := r.cfg.PollInterval
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return // the shutdown deadline cut the batch short
			}
			r.onError(err)
			wait = errBackoff.Delay(failures, nil)
			failures++
		case n > 0:
			// Claim again at once: there is probably more. Not only when
			// the batch was full: a batch claims one event per key (the
			// next waits for it to be published), so a key's queue comes
			// out one event per batch, and waiting a poll interval between
			// them would make the queue drain at one event per interval.
			failures = 0
			continue
		default:
			failures = 0
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
	}
}

func (r *Relay) wakeAll() {
	r.wakeMu.Lock()
	defer r.wakeMu.Unlock()
	for _, w := range r.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

func (r *Relay) onError(err error) {
	if h := r.cfg.Hooks.OnError; h != nil {
		h(err)
	}
}

// listen holds a dedicated connection on LISTEN and wakes the loops on every
// notification. When the connection is lost it reconnects with backoff; the
// loops keep polling meanwhile, and are woken after each reconnect to catch
// up with notifications sent while nobody listened.
func (r *Relay) listen(ctx context.Context) {
	bo := backoff.Exponential{Initial: 50 * time.Millisecond, Max: 5 * time.Second}
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := r.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		r.onError(fmt.Errorf("outbox: listen: %w", err))
		t := time.NewTimer(bo.Delay(attempt, nil))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (r *Relay) listenOnce(ctx context.Context) error {
	pc, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool: it is closed rather than returned
	// with a LISTEN still active.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+quote(channel(r.table))); err != nil {
		return err
	}
	r.wakeAll()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		r.wakeAll()
	}
}

func (r *Relay) cleanupLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.CleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.Cleanup(ctx); err != nil && ctx.Err() == nil {
				r.onError(err)
			}
		}
	}
}

// Cleanup deletes published events older than Retention, in batches of
// CleanupBatch rows so that no statement holds many locks or produces a
// burst of dead tuples, and returns how many it deleted. Run calls it every
// CleanupInterval when Retention is positive.
func (r *Relay) Cleanup(ctx context.Context) (int64, error) {
	var total int64
	for {
		tag, err := r.pool.Exec(ctx, r.sql.cleanup, r.cfg.Retention.Microseconds(), r.cfg.CleanupBatch)
		if err != nil {
			return total, fmt.Errorf("outbox: cleanup: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(r.cfg.CleanupBatch) {
			return total, nil
		}
	}
}

// DeadLetter is an event that used all its attempts.
type DeadLetter struct {
	Message
	Attempts  int
	LastError string
}

// DeadLetters returns up to limit dead-lettered events, oldest first. A
// dead-lettered event keeps its key parked: later events with the same key
// wait until it is requeued or discarded.
func (r *Relay) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	rows, err := r.pool.Query(ctx, r.sql.dead, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var seq int64
		var headers []byte
		if err := rows.Scan(&seq, &d.ID, &d.Topic, &d.Key, &d.Payload, &headers, &d.CreatedAt,
			&d.Attempts, &d.LastError); err != nil {
			return nil, fmt.Errorf("outbox: dead letters: %w", err)
		}
		if len(headers) > 0 {
			if err := json.Unmarshal(headers, &d.Headers); err != nil {
				return nil, fmt.Errorf("outbox: dead letters: headers of %s: %w", d.ID, err)
			}
		}
		d.Attempt = d.Attempts
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: dead letters: %w", err)
	}
	return out, nil
}

// Requeue makes dead-lettered events pending again with a fresh attempt
// budget, unparking their keys, and returns how many it requeued. Ids that
// are not dead-lettered are ignored.
func (r *Relay) Requeue(ctx context.Context, ids ...string) (int64, error) {
	return r.operate(ctx, r.sql.requeue, ids)
}

// Discard deletes dead-lettered events, unparking their keys, and returns
// how many it deleted. Ids that are not dead-lettered are ignored.
func (r *Relay) Discard(ctx context.Context, ids ...string) (int64, error) {
	return r.operate(ctx, r.sql.discard, ids)
}

func (r *Relay) operate(ctx context.Context, sql string, ids []string) (int64, error) {
	for _, id := range ids {
		if _, err := ParseID(id); err != nil {
			return 0, err
		}
	}
	tag, err := r.pool.Exec(ctx, sql, ids)
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	if tag.RowsAffected() > 0 {
		_, _ = r.pool.Exec(ctx, r.sql.notify)
	}
	return tag.RowsAffected(), nil
}
