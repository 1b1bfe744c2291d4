package redisstream

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/internal/redisclient"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/redis/go-redis/v9"
)

// ErrGroupLost is reported through ConsumerHooks.OnError when Redis no
// longer has the consumer group (a restart without persistence, a flush,
// a deleted stream); the consumer creates it again and goes on.
var ErrGroupLost = errors.New("redisstream: consumer group lost")

// ErrMalformedEntry reports a stream entry that is not an outbox message.
var ErrMalformedEntry = errors.New("redisstream: malformed entry")

// ConsumerConfig configures a [Consumer]. Stream and Group are required;
// the other zero fields have the documented defaults.
type ConsumerConfig struct {
	Stream string // stream key, e.g. Publisher.StreamKey(topic)
	// Group is the consumer group, created (with the stream) at start and
	// again whenever Redis has lost it (a restart without persistence, a
	// flush): the group is then created from the start of the stream, so
	// that nothing published since is skipped.
	Group string
	// Name is this consumer's name within the group. Empty means a name
	// unique to this consumer (host, process id and a random part): every
	// instance of a service must consume under its own name, or the
	// entries pending with a dead instance cannot be told apart from a live
	// one's. Set it only to a name that is stable and unique per instance
	// (a pod name), so that a restarted instance re-handles its own pending
	// entries at once instead of after MinIdle.
	Name string
	// StartID is where a newly created group starts: "0" (the default)
	// for the whole stream, "$" for new entries only.
	StartID string
	// Count bounds the entries read per call; 100 when zero. A larger
	// batch means fewer round trips to Redis and more keys to spread over
	// the workers.
	Count int64
	// Workers is the number of entries handled at once: the entries of a
	// batch are spread over the workers by key, so that the entries of one
	// key are handled one after another, in stream order, by one worker,
	// while different keys proceed in parallel (entries without a key are
	// spread by id). 8 when zero; 1 handles one entry at a time. Handlers
	// that run a database transaction each (an Inbox) need this to keep up
	// with a relay: one at a time, each entry waits for the round trips of
	// the one before.
	Workers int
	// Block is how long a read waits for new entries; 1s when zero.
	Block time.Duration
	// MinIdle is how long an entry stays pending with a consumer before
	// another may claim it (XAUTOCLAIM): the recovery time after a consumer
	// crash. 30s when zero.
	MinIdle time.Duration
	// Hooks observe the consumer; nil hooks cost nothing.
	Hooks ConsumerHooks
}

// ConsumerHooks observe a [Consumer]. Each hook is optional and runs on the
// consumer's goroutines, several at once when Workers is above 1; it must
// be safe for concurrent use and must not block.
type ConsumerHooks struct {
	// OnError receives handler errors, malformed entries (which are
	// acknowledged so that they cannot block the group) and Redis errors.
	OnError func(err error)
}

// Consumer reads a stream through a consumer group and acknowledges each
// entry (XACK) only after its handler returned nil, that is after the
// handler's transaction committed. Entries left pending by a crashed
// consumer are claimed after MinIdle. Delivery is at least once; pair the
// handler with an [outbox.Inbox]. With several consumers in a group, entries
// of one key may be processed concurrently: use one consumer per stream
// when per-key order matters.
type Consumer struct {
	client redis.UniversalClient
	cfg    ConsumerConfig
}

// NewConsumer returns a Consumer, or an error wrapping ErrInvalidConfig. A
// go-redis client must set ContextTimeoutEnabled, as for [New].
func NewConsumer(client redis.UniversalClient, cfg ConsumerConfig) (*Consumer, error) {
	if err := redisclient.Check(client, ErrInvalidConfig); err != nil {
		return nil, err
	}
	switch {
	case cfg.Stream == "" || cfg.Group == "":
		return nil, fmt.Errorf("%w: Stream and Group are required", ErrInvalidConfig)
	case cfg.Count < 0 || cfg.Block < 0 || cfg.MinIdle < 0 || cfg.Workers < 0:
		return nil, fmt.Errorf("%w: negative Count, Block, MinIdle or Workers", ErrInvalidConfig)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 8
	}
	if cfg.StartID == "" {
		cfg.StartID = "0"
	}
	if cfg.Name == "" {
		cfg.Name = uniqueName()
	}
	if cfg.Count == 0 {
		cfg.Count = 100
	}
	if cfg.Block == 0 {
		cfg.Block = time.Second
	}
	if cfg.MinIdle == 0 {
		cfg.MinIdle = 30 * time.Second
	}
	return &Consumer{client: client, cfg: cfg}, nil
}

// Name returns the consumer's name within its group.
func (c *Consumer) Name() string { return c.cfg.Name }

// uniqueName returns a consumer name no other process or consumer uses.
func uniqueName() string {
	host, _ := os.Hostname()
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%s-%d-%x", cmp.Or(host, "consumer"), os.Getpid(), r)
}

// Run consumes until ctx ends and returns nil then. It first re-handles this
// consumer's own pending entries (from before a restart), then alternates
// claiming stale entries of other consumers and reading new ones. When
// Redis answers NOGROUP (it lost the stream and its group), Run reports it
// through OnError, creates the group again from the stream's start and
// goes on.
func (c *Consumer) Run(ctx context.Context, h outbox.Handler) error {
	if err := c.createGroup(ctx, c.cfg.StartID); err != nil {
		return err
	}
	own := "0" // this consumer's pending entries, then new ones
	claimFrom := "0-0"
	for ctx.Err() == nil {
		claimed, next, err := c.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: c.cfg.Stream, Group: c.cfg.Group, Consumer: c.cfg.Name,
			MinIdle: c.cfg.MinIdle, Start: claimFrom, Count: c.cfg.Count,
		}).Result()
		if isNoGroup(err) {
			own, claimFrom = "0", "0-0"
			c.recreateGroup(ctx, err)
			continue
		}
		if err != nil {
			c.fail(ctx, fmt.Errorf("redisstream: autoclaim: %w", err))
			continue
		}
		claimFrom = next
		c.handle(ctx, h, claimed)

		block := c.cfg.Block
		if own == "0" {
			block = -1 // no BLOCK: return the pending list at once
		}
		streams, err := c.client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: c.cfg.Group, Consumer: c.cfg.Name, Streams: []string{c.cfg.Stream, own},
			Count: c.cfg.Count, Block: block,
		}).Result()
		if isNoGroup(err) {
			own, claimFrom = "0", "0-0"
			c.recreateGroup(ctx, err)
			continue
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			c.fail(ctx, fmt.Errorf("redisstream: read: %w", err))
			continue
		}
		var entries []redis.XMessage
		for _, s := range streams {
			entries = append(entries, s.Messages...)
		}
		if own != ">" {
			// Walk the pending list, then switch to new entries.
			if len(entries) == 0 {
				own = ">"
			} else {
				own = entries[len(entries)-1].ID
			}
		}
		c.handle(ctx, h, entries)
	}
	return nil
}

// createGroup creates the group (and the stream) unless it exists.
func (c *Consumer) createGroup(ctx context.Context, start string) error {
	err := c.client.XGroupCreateMkStream(ctx, c.cfg.Stream, c.cfg.Group, start).Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("redisstream: create group: %w", err)
	}
	return nil
}

// recreateGroup reports that Redis lost the group (cause is its NOGROUP
// error) and creates it again from the stream's start: whatever the relay
// appended since the loss is new to this group.
func (c *Consumer) recreateGroup(ctx context.Context, cause error) {
	c.report(fmt.Errorf("%w: %s on %s: creating it again from the stream's start", ErrGroupLost, c.cfg.Group, c.cfg.Stream))
	if err := c.createGroup(ctx, "0"); err != nil {
		c.fail(ctx, fmt.Errorf("%w (after %v)", err, cause))
	}
}

// isNoGroup reports Redis's answer for a group (or stream) that does not
// exist.
func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

// handle hands entries to the handler, spread over the workers by key, and
// acknowledges those handled (or malformed) in one XACK.
func (c *Consumer) handle(ctx context.Context, h outbox.Handler, entries []redis.XMessage) {
	if len(entries) == 0 || ctx.Err() != nil {
		return
	}
	workers := min(c.cfg.Workers, len(entries))
	parts := make([][]int, workers)
	for i, e := range entries {
		w := 0
		if workers > 1 {
			key, _ := e.Values[FieldKey].(string)
			if key == "" {
				key = e.ID
			}
			w = int(fnv32(key) % uint32(workers))
		}
		parts[w] = append(parts[w], i)
	}
	ok := make([]bool, len(entries))
	var wg sync.WaitGroup
	for _, part := range parts {
		if len(part) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var failedKeys map[string]bool
			for _, i := range part {
				if ctx.Err() != nil {
					return
				}
				e := entries[i]
				m, err := Decode(e.Values)
				if err != nil {
					c.report(fmt.Errorf("%w (entry %s)", err, e.ID))
					ok[i] = true // acknowledged so that it cannot block the group
					continue
				}
				if m.Key != "" && failedKeys[m.Key] {
					continue // keeps its key's order: pending behind the failed one
				}
				if err := h(ctx, m); err != nil {
					c.report(fmt.Errorf("redisstream: handle %s: %w", e.ID, err))
					if m.Key != "" {
						if failedKeys == nil {
							failedKeys = map[string]bool{}
						}
						failedKeys[m.Key] = true
					}
					continue // stays pending; retried by claim after MinIdle
				}
				ok[i] = true
			}
		}()
	}
	wg.Wait()
	ids := make([]string, 0, len(entries))
	for i, e := range entries {
		if ok[i] {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	// Acknowledged even when ctx ended meanwhile: the handlers committed.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.client.XAck(actx, c.cfg.Stream, c.cfg.Group, ids...).Err(); err != nil {
		c.report(fmt.Errorf("redisstream: xack %d entries from %s: %w", len(ids), ids[0], err))
	}
}

// fnv32 is 32-bit FNV-1a, to spread keys over workers.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Lag is how far a consumer group is behind its stream.
type Lag struct {
	// Lag is the number of entries not yet delivered to the group, as
	// Redis counts them (XINFO GROUPS, Redis 7 or later); -1 when Redis
	// cannot tell (an older server, or after entries were deleted).
	Lag int64
	// Pending is the number of entries delivered but not yet acknowledged.
	Pending int64
}

// Lag reports the group's backlog: entries not yet delivered, and entries
// delivered but not acknowledged. Their sum is the work still to do; a sum
// that grows under steady load means the consumers do not keep up. It is
// one XINFO GROUPS round trip: read it from a metric callback (an
// observable gauge) rather than per entry.
func (c *Consumer) Lag(ctx context.Context) (Lag, error) {
	groups, err := c.client.XInfoGroups(ctx, c.cfg.Stream).Result()
	if err != nil {
		return Lag{}, fmt.Errorf("redisstream: lag: %w", err)
	}
	for _, g := range groups {
		if g.Name == c.cfg.Group {
			return Lag{Lag: g.Lag, Pending: g.Pending}, nil
		}
	}
	return Lag{}, fmt.Errorf("%w: %s on %s", ErrGroupLost, c.cfg.Group, c.cfg.Stream)
}

func (c *Consumer) report(err error) {
	if h := c.cfg.Hooks.OnError; h != nil {
		h(err)
	}
}

// fail reports err and pauses briefly so that a down server is not spun on.
func (c *Consumer) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	c.report(err)
	t := time.NewTimer(100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Decode turns the fields of a stream entry written by [Publisher] into a
// message. Entries from other writers return an error wrapping
// ErrMalformedEntry.
func Decode(values map[string]any) (outbox.Message, error) {
	str := func(name string) (string, bool) {
		v, ok := values[name].(string)
		return v, ok
	}
	var m outbox.Message
	var ok bool
	if m.ID, ok = str(FieldID); !ok || m.ID == "" {
		return m, fmt.Errorf("%w: missing %q", ErrMalformedEntry, FieldID)
	}
	if m.Topic, ok = str(FieldTopic); !ok {
		return m, fmt.Errorf("%w: missing %q", ErrMalformedEntry, FieldTopic)
	}
	m.Key, _ = str(FieldKey)
	payload, _ := str(FieldPayload)
	m.Payload = []byte(payload)
	if h, ok := str(FieldHeaders); ok && h != "" {
		if err := json.Unmarshal([]byte(h), &m.Headers); err != nil {
			return m, fmt.Errorf("%w: headers: %w", ErrMalformedEntry, err)
		}
	}
	return m, nil
}
