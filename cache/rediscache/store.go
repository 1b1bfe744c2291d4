package rediscache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/internal/redisclient"
)

// Config tunes a Store. The zero value of each field selects the documented
// default.
type Config struct {
	// Prefix starts every Redis key and the default channel. Default:
	// "cache:". It must not contain '{' or '}': the store wraps each cache
	// key in a hash tag so that a key and its lease share a Redis Cluster
	// slot.
	Prefix string
	// Channel is the pub/sub channel of invalidations. Every process that
	// shares the cache must use the same one. Default: Prefix + "invalidate".
	Channel string
	// LeaseTTL is how long a load lease lasts. A process that dies while
	// loading blocks the key's other loaders for at most this long; a
	// loader slower than this loses its lease and its value is not stored.
	// Default: 5 seconds.
	LeaseTTL time.Duration
	// HealthCheck is how long the invalidation subscription may stay silent
	// before it is pinged; a ping unanswered for as long again counts as a
	// dropped connection. Default: 5 seconds.
	HealthCheck time.Duration
	// Tracking also drops local copies of values changed by any Redis
	// client (another service, a script, redis-cli), not only by Bedrock
	// stores: the store keeps one connection per Redis server
	// (per master on a cluster) with CLIENT TRACKING in broadcast mode on
	// its Prefix, and hands every change Redis reports there to its
	// caches. It costs the server a message per change under the Prefix
	// per tracking store, and each process one extra store read after
	// each of its own writes and loads; see "Tracking" in the package doc. It needs
	// Redis 6 or later and a *redis.Client or *redis.ClusterClient.
	// Default: off, the channel only.
	Tracking bool
	// TagTTL is how long the store remembers a tag's invalidation (see
	// cache.TagStore). An entry must not outlive it, or it would come back
	// once its tag is forgotten: Write caps every value's TTL at TagTTL.
	// Default: 30 days.
	TagTTL time.Duration
	// Hooks observe the store; nil hooks cost nothing.
	Hooks Hooks
}

// Hooks observe a [Store]. Each hook is optional; hooks run on the store's
// listener goroutines (with Config.Tracking, several at once) and must not
// block.
type Hooks struct {
	// OnSubscriptionError is called when the invalidation subscription
	// or a tracking connection (Config.Tracking) fails, or a message
	// cannot be decoded; the local tiers are flushed in every case.
	OnSubscriptionError func(error)
}

// ErrInvalidConfig is wrapped by the errors New returns for a bad Config.
var ErrInvalidConfig = errors.New("rediscache: invalid config")

// Store is a [cache.Store] and [cache.Broadcaster] on Redis: values with
// their TTL, load leases and invalidations, each a single round trip (Lua
// scripts where a step must be atomic, timed by Redis's clock). It works on a
// single server and on Redis Cluster. It is safe for concurrent use.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	channel string
	leaseMs string
	health  time.Duration
	hooks   Hooks
	id      string // this store's id: its caches got its broadcasts directly
	tracks  bool   // Config.Tracking
	tagMs   int64  // TagTTL in ms: the longest a tag number and a value live

	mu      sync.Mutex
	subs    map[int]func(cache.Invalidation)
	nextSub int
	stop    context.CancelFunc // of the listener; nil when not listening
	done    chan struct{}
	ps      *redis.PubSub // the listener's current subscription
	tracked chan struct{} // closed when the tracking listeners have stopped
	closed  bool
}

var (
	_ cache.Store       = (*Store)(nil)
	_ cache.Broadcaster = (*Store)(nil)
	_ cache.TagStore    = (*Store)(nil)
)

// New returns a Store on client. A go-redis client must set
// ContextTimeoutEnabled, or the cache's time budget
// (cache.Config.StoreTimeout) could not interrupt a slow Redis: New refuses
// it with an error wrapping [ErrInvalidConfig], as every Redis-backed
// package of Bedrock does. New does not contact Redis: a store whose server
// is down is a working store whose calls fail, which the cache absorbs.
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if err := redisclient.Check(client, ErrInvalidConfig); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "cache:"
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("%w: Prefix must not contain '{' or '}'", ErrInvalidConfig)
	}
	if cfg.Channel == "" {
		cfg.Channel = cfg.Prefix + "invalidate"
	}
	if cfg.LeaseTTL < 0 {
		return nil, fmt.Errorf("%w: negative LeaseTTL %v", ErrInvalidConfig, cfg.LeaseTTL)
	}
	if cfg.HealthCheck < 0 {
		return nil, fmt.Errorf("%w: negative HealthCheck %v", ErrInvalidConfig, cfg.HealthCheck)
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	if cfg.LeaseTTL < time.Millisecond {
		return nil, fmt.Errorf("%w: LeaseTTL below 1ms", ErrInvalidConfig)
	}
	if cfg.HealthCheck == 0 {
		cfg.HealthCheck = 5 * time.Second
	}
	if cfg.Tracking && !trackingSupported(client) {
		return nil, fmt.Errorf("%w: Tracking needs a *redis.Client or *redis.ClusterClient, not %T", ErrInvalidConfig, client)
	}
	if cfg.TagTTL < 0 {
		return nil, fmt.Errorf("%w: negative TagTTL %v", ErrInvalidConfig, cfg.TagTTL)
	}
	if cfg.TagTTL == 0 {
		cfg.TagTTL = defaultTagTTL
	}
	if cfg.TagTTL < time.Second {
		return nil, fmt.Errorf("%w: TagTTL below 1s", ErrInvalidConfig)
	}
	return &Store{
		client:  client,
		prefix:  cfg.Prefix,
		channel: cfg.Channel,
		leaseMs: strconv.FormatInt(cfg.LeaseTTL.Milliseconds(), 10),
		health:  cfg.HealthCheck,
		hooks:   cfg.Hooks,
		id:      token(),
		tracks:  cfg.Tracking,
		tagMs:   cfg.TagTTL.Milliseconds(),
		subs:    make(map[int]func(cache.Invalidation)),
	}, nil
}

// valueKey wraps key in a hash tag, escaped so that the tag is the whole
// key; the lease key adds a suffix outside it, so both land in the same
// slot whatever the key holds.
func (s *Store) valueKey(key string) string {
	return s.prefix + "{" + redisclient.HashTag(key) + "}"
}

func leaseKey(valueKey string) string { return valueKey + ":lease" }

// token returns a random lease token. It needs uniqueness, not secrecy.
func token() string {
	var b [32]byte
	out := strconv.AppendUint(b[:0], rand.Uint64(), 36)
	out = append(out, '.')
	out = strconv.AppendUint(out, rand.Uint64(), 36)
	return string(out)
}

// Fetch implements [cache.Store].
func (s *Store) Fetch(ctx context.Context, keys []string, opts cache.FetchOptions) ([]cache.Item, error) {
	mode := "0"
	switch opts.Lease {
	case cache.LeaseIfMissing:
		mode = "1"
	case cache.LeaseIfStale:
		mode = "2"
	}
	stale := strconv.FormatInt(opts.Stale.Milliseconds(), 10)
	tokens := make([]string, len(keys))
	calls := make([]call, len(keys))
	for i, k := range keys {
		vk := s.valueKey(k)
		if mode != "0" {
			tokens[i] = token()
		}
		calls[i] = call{keys: []string{vk, leaseKey(vk)}, args: []any{mode, tokens[i], s.leaseMs, stale}}
	}
	replies, err := s.run(ctx, fetchScript, calls)
	if err != nil {
		return nil, fmt.Errorf("rediscache: fetch: %w", err)
	}
	items := make([]cache.Item, len(keys))
	for i, r := range replies {
		it, err := parseFetch(r)
		if err != nil {
			return nil, fmt.Errorf("rediscache: fetch %q: %w", keys[i], err)
		}
		if it.Lease == cache.LeaseGranted {
			it.Token = tokens[i]
		}
		items[i] = it
	}
	return items, nil
}

func parseFetch(r any) (cache.Item, error) {
	a, ok := r.([]any)
	if !ok || len(a) != 3 {
		return cache.Item{}, fmt.Errorf("unexpected reply %v", r)
	}
	state, ok1 := a[0].(int64)
	ttl, ok2 := a[2].(int64)
	if !ok1 || !ok2 || state < 0 || state > 2 {
		return cache.Item{}, fmt.Errorf("unexpected reply %v", r)
	}
	it := cache.Item{Lease: cache.LeaseState(state)}
	if v, ok := a[1].(string); ok {
		it.Value = []byte(v)
		if ttl > 0 {
			it.TTL = time.Duration(ttl) * time.Millisecond
		}
	}
	return it, nil
}

// Write implements [cache.Store]. Unconditional writes are broadcast as
// invalidations once stored. TTLs are capped at Config.TagTTL.
func (s *Store) Write(ctx context.Context, items []cache.Write) ([]bool, error) {
	calls := make([]call, len(items))
	var announce []string
	for i, w := range items {
		if w.TTL <= 0 && w.Value != nil {
			return nil, fmt.Errorf("rediscache: write %q: TTL %v is not positive", w.Key, w.TTL)
		}
		if w.Value == nil && w.Token == "" {
			return nil, fmt.Errorf("rediscache: write %q: no value and no token", w.Key)
		}
		vk := s.valueKey(w.Key)
		ms := min(max(w.TTL.Milliseconds(), 1), s.tagMs)
		release := "0"
		if w.Value == nil {
			release = "1"
		}
		calls[i] = call{keys: []string{vk, leaseKey(vk)}, args: []any{w.Token, w.Value, ms, release}}
		if w.Token == "" {
			announce = append(announce, w.Key)
		}
	}
	replies, err := s.run(ctx, writeScript, calls)
	if err != nil {
		return nil, fmt.Errorf("rediscache: write: %w", err)
	}
	ok := make([]bool, len(items))
	for i, r := range replies {
		n, isInt := r.(int64)
		if !isInt {
			return nil, fmt.Errorf("rediscache: write %q: unexpected reply %v", items[i].Key, r)
		}
		ok[i] = n == 1
	}
	if len(announce) > 0 {
		if err := s.announce(ctx, announce); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

// Delete implements [cache.Store]: it unlinks each value with its lease, then
// announces the keys, so that a process that drops its copy on the
// announcement cannot read the old value back.
func (s *Store) Delete(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			vk := s.valueKey(k)
			p.Unlink(ctx, vk, leaseKey(vk))
		}
		return nil
	})
	if err == nil {
		for _, c := range cmds {
			if err = c.Err(); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("rediscache: delete: %w", err)
	}
	return s.announce(ctx, keys)
}

// announce tells every cache about changed keys: the caches subscribed to
// this store at once, before the call returns, and the other processes
// through the channel. The listener skips the echo of this store's own
// messages, which its caches have already applied, so two caches sharing
// one store see each other's changes at once, and the cache that made the
// change is not told again after it stored its new value locally.
func (s *Store) announce(ctx context.Context, keys []string) error {
	s.dispatch(cache.Invalidation{Keys: keys})
	msg := appendMessage(nil, message{sender: s.id, keys: keys})
	if err := s.client.Publish(ctx, s.channel, msg).Err(); err != nil {
		return fmt.Errorf("rediscache: publish invalidation: %w", err)
	}
	return nil
}

type call struct {
	keys []string
	args []any
}

// run runs script once per call: directly for one call, else in one
// pipeline (one round trip per server). EVALSHA is tried first; if Redis
// lost the script (restart, SCRIPT FLUSH) it is loaded and the calls rerun.
func (s *Store) run(ctx context.Context, script *redis.Script, calls []call) ([]any, error) {
	if len(calls) == 1 {
		v, err := script.Run(ctx, s.client, calls[0].keys, calls[0].args...).Result()
		if err != nil {
			return nil, err
		}
		return []any{v}, nil
	}
	out, err := s.pipeline(ctx, script, calls)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := script.Load(ctx, s.client).Err(); err != nil {
			return nil, err
		}
		out, err = s.pipeline(ctx, script, calls)
	}
	return out, err
}

func (s *Store) pipeline(ctx context.Context, script *redis.Script, calls []call) ([]any, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.Cmd, len(calls))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	out := make([]any, len(calls))
	for i, c := range cmds {
		v, cerr := c.Result()
		if cerr != nil {
			return nil, cerr
		}
		out[i] = v
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
