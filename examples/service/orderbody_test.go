package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileOrderBodyCostsLittleToAnswerAndToStore composes validate's
// strict decoding, idempotency's stored answers and Redis as the service
// wires them: an order body of 100 unknown members with 10 KB names once
// gave a 1 MB 400 that idempotency kept for 24 hours per key. The problem
// now echoes bounded excerpts only, and what Redis keeps for the key is as
// small as the answer.
func TestHostileOrderBodyCostsLittleToAnswerAndToStore(t *testing.T) {
	s := startService(t)
	s.signup("mallory@shop.test", "Mallory")
	mallory := s.login("mallory@shop.test")

	var body strings.Builder
	body.WriteString(`{"items":[{"product_id":1,"quantity":1}]`)
	for i := range 100 {
		fmt.Fprintf(&body, `,"%s%03d":1`, strings.Repeat("n", 10<<10), i)
	}
	body.WriteString("}")
	require.Greater(t, body.Len(), 1000<<10, "a megabyte of member names")

	before := s.redisBytes(t)
	r := s.do("POST", "/v1/orders", body.String(), append(bearer(mallory.Access), "Idempotency-Key", "hostile-1")...)
	require.Equal(t, http.StatusBadRequest, r.StatusCode, "%.300s", r.body)
	assert.Less(t, len(r.body), 4<<10, "the problem echoes excerpts, not the names")
	assert.Equal(t, true, r.json(t)["truncated"], "and says that it left violations out")
	stored := s.redisBytes(t) - before
	t.Logf("answer %d bytes; Redis grew by %d bytes for the key", len(r.body), stored)
	assert.Less(t, stored, int64(16<<10), "what the key keeps for 24 hours is as small as the answer")

	again := s.do("POST", "/v1/orders", body.String(), append(bearer(mallory.Access), "Idempotency-Key", "hostile-1")...)
	assert.Equal(t, http.StatusBadRequest, again.StatusCode)
	assert.Equal(t, string(r.body), string(again.body), "the stored answer is replayed as it was")
}

// redisBytes sums the memory Redis reports for every key under the
// service's prefix.
func (s *service) redisBytes(t *testing.T) int64 {
	t.Helper()
	ctx := context.Background()
	var total int64
	iter := s.rdb.Scan(ctx, 0, s.prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := s.rdb.MemoryUsage(ctx, iter.Val()).Result()
		require.NoError(t, err)
		total += n
	}
	require.NoError(t, iter.Err())
	return total
}
