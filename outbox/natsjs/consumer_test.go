package natsjs_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/natsjs"
)

// The consumer handles different keys at once and each key in stream order
// (issue 23, item 5): the first handler waits until another runs beside
// it, which one message at a time never allows.
func TestConsumer_HandlesKeysConcurrentlyInPerKeyOrder(t *testing.T) {
	js, stream, prefix := natsJetStream(t)
	ctx := t.Context()
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: prefix})
	require.NoError(t, err)
	const keys, perKey = 20, 10
	var msgs []outbox.Message
	for i := range perKey {
		for k := range keys {
			msgs = append(msgs, outbox.Message{ID: outbox.NewID(), Topic: "orders", Key: fmt.Sprintf("k%d", k), Payload: []byte(strconv.Itoa(i))})
		}
	}
	require.NoError(t, pub.Publish(ctx, msgs))
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	c, err := natsjs.NewConsumer(cons, natsjs.ConsumerConfig{MaxWait: 50 * time.Millisecond})
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[string][]int{}
	total := 0
	all := make(chan struct{})
	var inFlight atomic.Int32
	together := make(chan struct{})
	var once sync.Once
	var first atomic.Bool
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(runCtx, func(_ context.Context, m outbox.Message) error {
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
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			seen[m.Key] = append(seen[m.Key], n)
			if total++; total == keys*perKey {
				close(all)
			}
			return nil
		})
	}()
	defer func() { stop(); require.NoError(t, <-done) }()
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		t.Fatal("not every message was handled")
	}
	mu.Lock()
	defer mu.Unlock()
	for k, got := range seen {
		assert.IsIncreasing(t, got, "stream order within key %s", k)
	}
}
