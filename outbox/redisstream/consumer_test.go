package redisstream_test

import (
	"context"
	"sync"
	"testing"
	"time"

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
