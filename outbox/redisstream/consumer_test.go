package redisstream_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/redisstream"
)

// A Redis restarted without its data (or a flushed one) loses the stream
// and its group while the consumer runs; the relay's next XADD makes a
// fresh stream without the group. The consumer must create its group again
// and read what arrives, not loop on NOGROUP forever.
func TestConsumer_CreatesItsGroupAgainWhenRedisLostIt(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := t.Context()
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix})
	require.NoError(t, err)
	stream := pub.StreamKey("orders")
	var mu sync.Mutex
	var groupErrs []error
	handled := make(chan string, 16)
	cons, err := redisstream.NewConsumer(client, redisstream.ConsumerConfig{
		Stream: stream, Group: "g", Block: 10 * time.Millisecond,
		Hooks: redisstream.ConsumerHooks{OnError: func(err error) { mu.Lock(); groupErrs = append(groupErrs, err); mu.Unlock() }},
	})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- cons.Run(runCtx, func(_ context.Context, m outbox.Message) error {
			handled <- string(m.Payload)
			return nil
		})
	}()
	defer func() { stop(); require.NoError(t, <-done) }()

	wait := func(want string) {
		t.Helper()
		select {
		case got := <-handled:
			require.Equal(t, want, got)
		case <-time.After(30 * time.Second):
			mu.Lock()
			defer mu.Unlock()
			var last error
			if len(groupErrs) > 0 {
				last = groupErrs[len(groupErrs)-1]
			}
			t.Fatalf("%q was not handled; %d consumer errors, the last: %v", want, len(groupErrs), last)
		}
	}
	require.NoError(t, pub.Publish(ctx, []outbox.Message{msg("orders", "k", "before")}))
	wait("before")

	// What a restart without persistence leaves: no stream, no group.
	require.NoError(t, client.Del(ctx, stream).Err())
	require.NoError(t, pub.Publish(ctx, []outbox.Message{msg("orders", "k", "after")}))
	wait("after")
}

// Consumers of one group need distinct names, or the pending entries of a
// dead instance cannot be told apart and claimed. Without a Name each
// consumer gets one unique to it.
func TestNewConsumer_NamesAreUniqueByDefault(t *testing.T) {
	client, prefix := testenv.Redis(t)
	cfg := redisstream.ConsumerConfig{Stream: prefix + "s", Group: "g"}
	a, err := redisstream.NewConsumer(client, cfg)
	require.NoError(t, err)
	b, err := redisstream.NewConsumer(client, cfg)
	require.NoError(t, err)
	assert.NotEmpty(t, a.Name())
	assert.NotEqual(t, a.Name(), b.Name())

	cfg.Name = "worker-1"
	c, err := redisstream.NewConsumer(client, cfg)
	require.NoError(t, err)
	assert.Equal(t, "worker-1", c.Name(), "a configured name is kept")
}

// runConsumer runs cons with h until the test ends.
func runConsumer(t *testing.T, cons *redisstream.Consumer, h outbox.Handler) {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx, h) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done) })
}

// A consumer handles different keys at once and each key in stream order
// (issue 23, item 5): the first handler waits until another runs beside
// it, which one entry at a time never allows, and every key's payloads
// arrive in the order published.
func TestConsumer_HandlesKeysConcurrentlyInPerKeyOrder(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := t.Context()
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix})
	require.NoError(t, err)
	const keys, perKey = 20, 25
	var msgs []outbox.Message
	for i := range perKey {
		for k := range keys {
			msgs = append(msgs, msg("orders", fmt.Sprintf("k%d", k), strconv.Itoa(i)))
		}
	}
	require.NoError(t, pub.Publish(ctx, msgs))
	cons, err := redisstream.NewConsumer(client, redisstream.ConsumerConfig{Stream: pub.StreamKey("orders"), Group: "g"})
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[string][]int{}
	total := 0
	all := make(chan struct{})
	var inFlight atomic.Int32
	together := make(chan struct{})
	var once sync.Once
	first := atomic.Bool{}
	runConsumer(t, cons, func(ctx context.Context, m outbox.Message) error {
		if inFlight.Add(1) >= 2 {
			once.Do(func() { close(together) })
		}
		defer inFlight.Add(-1)
		if first.CompareAndSwap(false, true) {
			select {
			case <-together:
			case <-time.After(10 * time.Second):
				t.Error("no second handler ran beside the first")
			}
		}
		n, err := strconv.Atoi(string(m.Payload))
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		seen[m.Key] = append(seen[m.Key], n)
		if total++; total == keys*perKey {
			close(all)
		}
		return nil
	})
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		t.Fatal("not every entry was handled")
	}
	mu.Lock()
	defer mu.Unlock()
	for k, got := range seen {
		assert.IsIncreasing(t, got, "stream order within key %s", k)
		assert.Len(t, got, perKey)
	}
}

// When an entry fails, the later entries of its key in the same batch are
// not handled before it: they stay pending and come back, in order, with
// it after MinIdle. Other keys go on.
func TestConsumer_AFailedEntryHoldsBackItsKeyOnly(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := t.Context()
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix})
	require.NoError(t, err)
	require.NoError(t, pub.Publish(ctx, []outbox.Message{
		msg("o", "a", "a1"), msg("o", "b", "b1"), msg("o", "a", "a2"), msg("o", "b", "b2"), msg("o", "a", "a3"),
	}))
	cons, err := redisstream.NewConsumer(client, redisstream.ConsumerConfig{
		Stream: pub.StreamKey("o"), Group: "g", MinIdle: 50 * time.Millisecond, Block: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	var mu sync.Mutex
	var order []string
	failed := false
	done := make(chan struct{})
	runConsumer(t, cons, func(_ context.Context, m outbox.Message) error {
		mu.Lock()
		defer mu.Unlock()
		p := string(m.Payload)
		if p == "a1" && !failed {
			failed = true
			return errors.New("transient")
		}
		order = append(order, p)
		if len(order) == 5 {
			close(done)
		}
		return nil
	})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the failed entry never came back")
	}
	mu.Lock()
	defer mu.Unlock()
	var a, b []string
	for _, p := range order {
		if p[0] == 'a' {
			a = append(a, p)
		} else {
			b = append(b, p)
		}
	}
	assert.Equal(t, []string{"a1", "a2", "a3"}, a, "a's order holds across the failure")
	assert.Equal(t, []string{"b1", "b2"}, b)
}

// Lag reports the entries not yet delivered and those delivered but not
// acknowledged, the number to watch when consumers fall behind.
func TestConsumer_Lag(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := t.Context()
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix})
	require.NoError(t, err)
	stream := pub.StreamKey("o")
	cons, err := redisstream.NewConsumer(client, redisstream.ConsumerConfig{Stream: stream, Group: "g", Count: 10})
	require.NoError(t, err)
	_, err = cons.Lag(ctx)
	assert.Error(t, err, "no stream or group yet")

	var msgs []outbox.Message
	for i := range 30 {
		msgs = append(msgs, msg("o", "", strconv.Itoa(i)))
	}
	require.NoError(t, pub.Publish(ctx, msgs))
	require.NoError(t, client.XGroupCreate(ctx, stream, "g", "0").Err())
	lag, err := cons.Lag(ctx)
	require.NoError(t, err)
	assert.Equal(t, redisstream.Lag{Lag: 30, Pending: 0}, lag)

	// Deliver one batch of 10 without acknowledging it.
	require.NoError(t, client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: "g", Consumer: "x", Streams: []string{stream, ">"}, Count: 10, Block: -1,
	}).Err())
	lag, err = cons.Lag(ctx)
	require.NoError(t, err)
	assert.Equal(t, redisstream.Lag{Lag: 20, Pending: 10}, lag)
}
