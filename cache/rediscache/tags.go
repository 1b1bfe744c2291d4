package rediscache

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/cache"
)

// Tags live in one hash slot, {tags}, so that one script reads or bumps any
// number of them on Redis Cluster: Prefix{tags}:seq is the sequence number,
// Prefix{tags}:t:<tag> the number of a tag's last invalidation.
const (
	tagSlot       = "{tags}"
	defaultTagTTL = 30 * 24 * time.Hour
)

func (s *Store) seqKey() string           { return s.prefix + tagSlot + ":seq" }
func (s *Store) tagKey(tag string) string { return s.prefix + tagSlot + ":t:" + tag }

// invalidateTagsScript bumps the sequence number, records it for each tag
// and publishes the invalidation, in one atomic step.
//
// The number is at least Redis's clock in microseconds, not only the last
// number plus one: if the counter is lost (a flush, or a failover that loses
// the last writes) it still grows past every number the processes heard,
// which they compare their entries against (after a failover, unless the
// new master's clock is behind the old one's by more than the failover
// took). Numbers stay below 2^53, exact
// in Lua's doubles, until the year 2255.
//
// KEYS[1] sequence key, KEYS[2..] tag keys (all in the {tags} slot).
// ARGV[1] tag key TTL (ms), ARGV[2] channel, ARGV[3] message without its
// final field, the sequence number as a uvarint.
// Reply: the new sequence number.
var invalidateTagsScript = redis.NewScript(`
local now = redis.call('TIME')
local seq = math.max((tonumber(redis.call('GET', KEYS[1])) or 0) + 1,
  tonumber(now[1]) * 1000000 + tonumber(now[2]))
local s = string.format('%.0f', seq)
redis.call('SET', KEYS[1], s)
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], s, 'PX', ARGV[1])
end
local out, n = {}, seq
while n >= 128 do
  out[#out + 1] = string.char(n % 128 + 128)
  n = math.floor(n / 128)
end
out[#out + 1] = string.char(n)
redis.call('PUBLISH', ARGV[2], ARGV[3] .. table.concat(out))
return seq
`)

// InvalidateTags implements [cache.TagStore]: one script on the {tags}
// slot. A tag's number is kept for twice TagTTL, so that a value written
// after the invalidation by a load that raced it (values live at most
// TagTTL) expires before its tag is forgotten.
func (s *Store) InvalidateTags(ctx context.Context, tags []string) (uint64, error) {
	if len(tags) == 0 {
		_, current, err := s.TagSeqs(ctx, nil)
		return current, err
	}
	keys := make([]string, 0, len(tags)+1)
	keys = append(keys, s.seqKey())
	for _, t := range tags {
		keys = append(keys, s.tagKey(t))
	}
	m := message{sender: s.id, tags: tags, seq: 0}
	msg := appendMessage(nil, m)
	msg = msg[:len(msg)-1] // the script appends the number
	n, err := invalidateTagsScript.Run(ctx, s.client, keys, 2*s.tagMs, s.channel, msg).Int64()
	if err == nil && n <= 0 {
		err = fmt.Errorf("unexpected sequence number %d", n)
	}
	if err != nil {
		// The script may have run with its reply lost: then the other
		// processes heard of it, and this store's caches, which skip
		// its echo, would not. Flushing them is the safe side.
		s.dispatch(cache.Invalidation{All: true})
		return 0, fmt.Errorf("rediscache: invalidate tags: %w", err)
	}
	seq := uint64(n)
	s.dispatch(cache.Invalidation{Tags: tags, Seq: seq})
	return seq, nil
}

// TagSeqs implements [cache.TagStore]: one MGET on the {tags} slot.
func (s *Store) TagSeqs(ctx context.Context, tags []string) ([]uint64, uint64, error) {
	keys := make([]string, 0, len(tags)+1)
	keys = append(keys, s.seqKey())
	for _, t := range tags {
		keys = append(keys, s.tagKey(t))
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("rediscache: read tags: %w", err)
	}
	if len(vals) != len(keys) {
		return nil, 0, fmt.Errorf("rediscache: read tags: %d replies for %d keys", len(vals), len(keys))
	}
	nums := make([]uint64, len(vals))
	for i, v := range vals {
		if v == nil {
			continue
		}
		str, ok := v.(string)
		n, perr := strconv.ParseUint(str, 10, 64)
		if !ok || perr != nil {
			return nil, 0, fmt.Errorf("rediscache: read tags: bad number %v", v)
		}
		nums[i] = n
	}
	return nums[1:], nums[0], nil
}
