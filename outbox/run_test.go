package outbox_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run starts relay.Run and returns a function that stops it and returns
// Run's result.
func run(t *testing.T, relay *outbox.Relay) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func waitLen(t *testing.T, pub *outbox.MemoryPublisher, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, pub.WaitLen(ctx, n))
}

func TestRelay_WakeUps(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  outbox.RelayConfig
	}{
		// An hour of polling: only the notification can deliver in time.
		{"notify", outbox.RelayConfig{Mode: outbox.ModeNotify, PollInterval: time.Hour}},
		{"poll only", outbox.RelayConfig{Mode: outbox.ModePoll, PollInterval: 5 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := setup(t)
			pub := &outbox.MemoryPublisher{}
			stop := run(t, newRelay(t, pool, pub, tc.cfg))
			for i := range 3 {
				time.Sleep(2 * time.Millisecond)
				enqueue(t, pool, outbox.Message{Topic: "t", Key: "k"})
				waitLen(t, pub, i+1)
			}
			require.NoError(t, stop())
		})
	}
}

// TestRelay_DrainsAKeysQueueWithoutWaitingToPoll queues events behind one
// key before the relay starts, so that no notification announces them. Per
// key, a batch may claim only the head (the next waits for it to be
// published), so each batch is short of BatchSize; the relay must claim
// again at once after a batch that published something, not wait a poll
// interval per event of the queue.
func TestRelay_DrainsAKeysQueueWithoutWaitingToPoll(t *testing.T) {
	for _, mode := range []outbox.Mode{outbox.ModeNotify, outbox.ModePoll} {
		t.Run(map[outbox.Mode]string{outbox.ModeNotify: "notify", outbox.ModePoll: "poll"}[mode], func(t *testing.T) {
			pool := setup(t)
			const queued = 20
			for i := range queued {
				enqueue(t, pool, outbox.Message{Topic: "t", Key: "k", Payload: []byte(strconv.Itoa(i))},
					outbox.Message{Topic: "t", Key: "other", Payload: []byte(strconv.Itoa(i))})
			}
			pub := &outbox.MemoryPublisher{}
			// An hour between polls: the queue drains in time only if the
			// relay goes on claiming while its batches publish something.
			run(t, newRelay(t, pool, pub, outbox.RelayConfig{Mode: mode, PollInterval: time.Hour}))
			waitLen(t, pub, 2*queued)
			next := map[string]int{}
			for _, m := range pub.Messages() {
				assert.Equal(t, strconv.Itoa(next[m.Key]), string(m.Payload), "per-key order of %s", m.Key)
				next[m.Key]++
			}
		})
	}
}

func TestRelay_RunTwiceIsAnError(t *testing.T) {
	pool := setup(t)
	pub := &outbox.MemoryPublisher{}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{})
	enqueue(t, pool, outbox.Message{Topic: "t"})
	stop := run(t, relay)
	waitLen(t, pub, 1) // the first Run is running
	assert.ErrorIs(t, relay.Run(t.Context()), outbox.ErrRunning)
	require.NoError(t, stop())
}

func TestRelay_CleanupDeletesOldPublishedInBatches(t *testing.T) {
	pool := setup(t)
	pub := &outbox.MemoryPublisher{}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{Retention: time.Hour, CleanupBatch: 3})
	msgs := make([]outbox.Message, 10)
	for i := range msgs {
		msgs[i] = outbox.Message{Topic: "t"}
	}
	enqueue(t, pool, msgs...)
	assert.Equal(t, 10, drain(t, relay))
	assert.Equal(t, 10, countRows(t, pool, "state = 1 AND published_at IS NOT NULL"), "kept for the retention")

	n, err := relay.Cleanup(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n, "younger than the retention")

	_, err = pool.Exec(t.Context(), `UPDATE outbox_events SET published_at = now() - interval '2 hours'`)
	require.NoError(t, err)
	enqueue(t, pool, outbox.Message{Topic: "t"}) // pending: never cleaned
	n, err = relay.Cleanup(t.Context())
	require.NoError(t, err)
	assert.EqualValues(t, 10, n)
	assert.Equal(t, 1, countRows(t, pool, "state = 0"))
}

// blockingPublisher acknowledges only when released, or fails when its
// context ends.
type blockingPublisher struct {
	entered chan struct{}
	release chan struct{}
	calls   atomic.Int32
}

func (p *blockingPublisher) Publish(ctx context.Context, msgs []outbox.Message) error {
	if p.calls.Add(1) == 1 {
		close(p.entered)
	}
	select {
	case <-p.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestRelay_ShutdownFinishesInFlightBatch(t *testing.T) {
	pool := setup(t)
	pub := &blockingPublisher{entered: make(chan struct{}), release: make(chan struct{})}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{})
	enqueue(t, pool, outbox.Message{Topic: "t"})
	stop := run(t, relay)
	<-pub.entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case <-stopped:
		t.Fatal("Run returned while a publish was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(pub.release)
	require.NoError(t, <-stopped)
	assert.Zero(t, countRows(t, pool, "true"), "the acknowledged batch was recorded")
}

func TestRelay_ShutdownDeadlineLeavesBatchPending(t *testing.T) {
	pool := setup(t)
	pub := &blockingPublisher{entered: make(chan struct{}), release: make(chan struct{})}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{ShutdownTimeout: 20 * time.Millisecond})
	enqueue(t, pool, outbox.Message{Topic: "t"})
	stop := run(t, relay)
	<-pub.entered
	require.NoError(t, stop())
	assert.Equal(t, 1, countRows(t, pool, "state = 0 AND attempts = 0"),
		"not acknowledged: still pending, and shutdown is not an attempt")
}

func TestRelay_BrokerDownThenBack(t *testing.T) {
	pool := setup(t)
	var down atomic.Bool
	down.Store(true)
	pub := &outbox.MemoryPublisher{Fail: func(outbox.Message) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	}}
	var failed atomic.Int32
	relay := newRelay(t, pool, pub, outbox.RelayConfig{
		PollInterval: 2 * time.Millisecond, RetryInitial: time.Millisecond, RetryMax: 2 * time.Millisecond,
		MaxAttempts: 1 << 20,
		Hooks:       outbox.Hooks{OnFailure: func(outbox.Message, error, time.Duration) { failed.Add(1) }},
	})
	enqueue(t, pool, outbox.Message{Topic: "t", Key: "a"}, outbox.Message{Topic: "t", Key: "a"})
	stop := run(t, relay)
	require.Eventually(t, func() bool { return failed.Load() >= 3 }, 10*time.Second, time.Millisecond)
	assert.Zero(t, pub.Len())
	down.Store(false)
	waitLen(t, pub, 2)
	require.NoError(t, stop())
}

func TestRelay_Hooks(t *testing.T) {
	pool := setup(t)
	var mu sync.Mutex
	var claimed []int
	var lags []time.Duration
	var failures, dead []string
	pub := &outbox.MemoryPublisher{Fail: func(m outbox.Message) error {
		if m.Topic == "bad" {
			return errors.New("rejected")
		}
		return nil
	}}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{
		MaxAttempts: 2, RetryInitial: time.Microsecond, RetryMax: time.Microsecond,
		Hooks: outbox.Hooks{
			OnClaim: func(n int) { mu.Lock(); claimed = append(claimed, n); mu.Unlock() },
			OnPublish: func(_ outbox.Message, lag time.Duration) {
				mu.Lock()
				lags = append(lags, lag)
				mu.Unlock()
			},
			OnFailure: func(m outbox.Message, err error, retryIn time.Duration) {
				failures = append(failures, err.Error())
				assert.Positive(t, retryIn)
			},
			OnDeadLetter: func(m outbox.Message, err error) { dead = append(dead, m.Topic) },
		},
	})
	enqueue(t, pool, outbox.Message{Topic: "good"}, outbox.Message{Topic: "bad"})
	_, err := relay.PublishBatch(t.Context())
	require.NoError(t, err)
	time.Sleep(time.Millisecond)
	_, err = relay.PublishBatch(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []int{2, 1}, claimed)
	require.Len(t, lags, 1)
	assert.GreaterOrEqual(t, lags[0], time.Duration(0))
	assert.Equal(t, []string{"rejected"}, failures)
	assert.Equal(t, []string{"bad"}, dead)
}

func TestWriter_InjectsHeaders(t *testing.T) {
	pool := setup(t)
	w, err := outbox.NewWriter(outbox.WriterConfig{Inject: func(ctx context.Context, h map[string]string) {
		h["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		h["tenant"] = "from-context"
	}})
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		return w.Enqueue(t.Context(), tx, outbox.Message{Topic: "t", Headers: map[string]string{"tenant": "explicit"}})
	}))
	pub := &outbox.MemoryPublisher{}
	drain(t, newRelay(t, pool, pub, outbox.RelayConfig{}))
	require.Equal(t, 1, pub.Len())
	h := pub.Messages()[0].Headers
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", h["traceparent"])
	assert.Equal(t, "explicit", h["tenant"], "explicit headers win")
}

func TestMessage_NotBeforeDelaysPublication(t *testing.T) {
	pool := setup(t)
	enqueue(t, pool, outbox.Message{Topic: "later", NotBefore: time.Now().Add(time.Hour)},
		outbox.Message{Topic: "now"})
	pub := &outbox.MemoryPublisher{}
	drain(t, newRelay(t, pool, pub, outbox.RelayConfig{}))
	require.Equal(t, 1, pub.Len())
	assert.Equal(t, "now", pub.Messages()[0].Topic)
}

// With PostgreSQL unreachable the relay reports errors through Hooks.OnError,
// keeps retrying, publishes nothing, and still stops promptly.
func TestRelay_DatabaseDown(t *testing.T) {
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=1")
	require.NoError(t, err)
	defer pool.Close()
	var errs atomic.Int32
	pub := &outbox.MemoryPublisher{}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{
		PollInterval: 5 * time.Millisecond,
		Hooks:        outbox.Hooks{OnError: func(error) { errs.Add(1) }},
	})
	stop := run(t, relay)
	require.Eventually(t, func() bool { return errs.Load() >= 3 }, 10*time.Second, time.Millisecond)
	require.NoError(t, stop())
	assert.Zero(t, pub.Len())
}
