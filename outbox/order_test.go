package outbox_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRelay_OutOfOrderCommitsAreNotSkipped has 100 writers hold their
// transactions open for random times, so ids and sequence numbers commit out
// of order while several relay loops run, and checks that nothing is skipped
// and that the writers of one shared key are published in commit order.
func TestRelay_OutOfOrderCommitsAreNotSkipped(t *testing.T) {
	pool := setup(t)
	ctx := t.Context()
	pub := &outbox.MemoryPublisher{}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{Concurrency: 3, PollInterval: 10 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()

	const writers = 100
	var mu sync.Mutex
	var hotOrder []string // payloads of key "hot" in commit order
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			key := ""
			switch w % 3 {
			case 1:
				key = "hot"
			case 2:
				key = fmt.Sprintf("k%d", w%7)
			}
			payload := fmt.Sprintf("w%d", w)
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if err := outbox.Enqueue(ctx, tx, outbox.Message{Topic: "t", Key: key, Payload: []byte(payload)}); err != nil {
					return err
				}
				// Enqueue holds the key's lock until commit, so the order
				// in which writers of "hot" get here is their commit order.
				if key == "hot" {
					mu.Lock()
					hotOrder = append(hotOrder, payload)
					mu.Unlock()
				}
				time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, pub.WaitLen(wctx, writers), "0 skipped")
	stop()
	require.NoError(t, <-done)

	var hotPublished []string
	for _, m := range pub.Messages() {
		if m.Key == "hot" {
			hotPublished = append(hotPublished, string(m.Payload))
		}
	}
	assert.Equal(t, hotOrder, hotPublished, "one key is published in commit order")
	assert.Equal(t, writers, pub.Len())
	assert.Zero(t, pub.Duplicates())
}
