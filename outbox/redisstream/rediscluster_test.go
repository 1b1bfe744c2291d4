package redisstream_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/outboxtest"
	"github.com/bedrock-go/bedrock/outbox/redisstream"
)

// readStream returns the messages of topic's stream, in stream order.
func readStream(t *testing.T, client redis.UniversalClient, pub *redisstream.Publisher, topic string) []outbox.Message {
	t.Helper()
	entries, err := client.XRange(t.Context(), pub.StreamKey(topic), "-", "+").Result()
	require.NoError(t, err)
	msgs := make([]outbox.Message, len(entries))
	for i, e := range entries {
		msgs[i], err = redisstream.Decode(e.Values)
		require.NoError(t, err)
	}
	return msgs
}

// TestPublisher_ConformsOnRedisCluster runs the publisher suite, relay
// included, on a Redis Cluster: a stream and its de-duplication markers
// share a hash tag, so each append is one script without a CROSSSLOT error.
func TestPublisher_ConformsOnRedisCluster(t *testing.T) {
	outboxtest.Run(t, outboxtest.Harness{
		New: func(t *testing.T) (outbox.Publisher, outboxtest.ReadFunc) {
			client, prefix := testenv.RedisCluster(t)
			pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix, Stream: "all"})
			require.NoError(t, err)
			return pub, func(t *testing.T) []outbox.Message { return readStream(t, client, pub, "") }
		},
		Pool: func(t *testing.T) *pgxpool.Pool { return testenv.Postgres(t) },
	})
}

// With a stream per topic, one batch spans streams on several masters: the
// pipeline reaches each, every stream gets its own messages in order, and a
// republished batch appends nothing.
func TestPublisher_StreamPerTopicSpansTheCluster(t *testing.T) {
	client, prefix := testenv.RedisCluster(t)
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix})
	require.NoError(t, err)
	topics := []string{"orders", "users", "payments", "stock", "mail", "audit"}
	masters := map[string]bool{}
	for _, topic := range topics {
		addr, err := masterOf(t, client, pub.StreamKey(topic))
		require.NoError(t, err)
		masters[addr] = true
	}
	require.Greater(t, len(masters), 1, "the topics must hash to more than one master")

	var batch []outbox.Message
	for i := range 3 {
		for _, topic := range topics {
			batch = append(batch, msg(topic, "k", topic+string(rune('0'+i))))
		}
	}
	require.NoError(t, pub.Publish(t.Context(), batch))
	require.NoError(t, pub.Publish(t.Context(), batch), "a republished batch is de-duplicated per id")
	for _, topic := range topics {
		var want []outbox.Message
		for _, m := range batch {
			if m.Topic == topic {
				want = append(want, m)
			}
		}
		got := readStream(t, client, pub, topic)
		require.Len(t, got, len(want), topic)
		for i := range want {
			assert.Equal(t, want[i].ID, got[i].ID, "%s entry %d", topic, i)
			assert.Equal(t, want[i].Payload, got[i].Payload, "%s entry %d", topic, i)
		}
	}
}

// masterOf returns the address of the master that serves key.
func masterOf(t *testing.T, client *redis.ClusterClient, key string) (string, error) {
	slot, err := client.ClusterKeySlot(t.Context(), key).Result()
	if err != nil {
		return "", err
	}
	//lint:ignore SA1019 CLUSTER SLOTS is what go-redis reads for its slot map, so the test sees what the client sees.
	ranges, err := client.ClusterSlots(t.Context()).Result()
	if err != nil {
		return "", err
	}
	for _, r := range ranges {
		if int(slot) >= r.Start && int(slot) <= r.End && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("no master serves slot %d", slot)
}

// A topic is the caller's string: braces in it must not move the stream and
// its de-duplication markers to different slots (a CROSSSLOT error), nor
// make two topics share a stream.
func TestPublisher_TopicsWithBracesOnRedisCluster(t *testing.T) {
	client, prefix := testenv.RedisCluster(t)
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix})
	require.NoError(t, err)
	topics := []string{"}orders", "{}", "a}b", "a", "{a}", "%7B", "{"}
	keys := map[string]string{}
	for _, topic := range topics {
		key := pub.StreamKey(topic)
		if other, ok := keys[key]; ok {
			t.Fatalf("topics %q and %q share the stream %q", other, topic, key)
		}
		keys[key] = topic
		m := msg(topic, "k", "p-"+topic)
		require.NoError(t, pub.Publish(t.Context(), []outbox.Message{m}), "topic %q", topic)
		require.NoError(t, pub.Publish(t.Context(), []outbox.Message{m}), "topic %q republished", topic)
		got := readStream(t, client, pub, topic)
		require.Len(t, got, 1, "topic %q", topic)
		assert.Equal(t, m.ID, got[0].ID)
	}
}
