package rediscache_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/cachetest"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// probe is a cache of one process whose reads report the tier that served
// them, so that a test can tell whether a key is still in the local tier.
type probe struct {
	c     *cache.Cache[string, string]
	local atomic.Bool
	loads atomic.Int64
}

func newProbe(t *testing.T, s cache.Store) *probe {
	t.Helper()
	p := &probe{}
	p.c = newCache(t, s, cache.Config[string, string]{
		TTL: time.Hour,
		Hooks: cache.Hooks{OnHit: func(tier cache.Tier) {
			p.local.Store(tier == cache.TierLocal)
		}},
	})
	return p
}

// get reads key, loading "v" if it is nowhere, and reports whether the
// local tier served it.
func (p *probe) get(t *testing.T, key string) bool {
	t.Helper()
	p.local.Store(false)
	v, err := p.c.Get(t.Context(), key, func(context.Context, string) (string, error) {
		p.loads.Add(1)
		return "v", nil
	})
	require.NoError(t, err)
	require.Equal(t, "v", v)
	return p.local.Load()
}

// warm reads each key until the local tier serves it.
func (p *probe) warm(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		eventually(t, func() bool { return p.get(t, k) }, "key %q never reached the local tier", k)
	}
}

// eventually polls cond until it holds, failing the test after a generous
// deadline: the events awaited come from a real server on a busy machine.
func eventually(t *testing.T, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			require.Fail(t, "condition not met within 15s", msgAndArgs...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drain empties errs of the reports so far.
func drain(errs chan error) {
	for len(errs) > 0 {
		<-errs
	}
}

// redisKey is the Redis key of a probe's value (Namespace "t", Version 0).
func redisKey(prefix, key string) string { return prefix + "{t:v0:" + key + "}" }

// trackingReady returns once the store's tracking listener and channel
// listener both deliver: an external write of a sentinel key reaches a
// subscriber of the store, and so does a Delete made by another store.
func trackingReady(t *testing.T, s *rediscache.Store, other cache.Store, base redis.UniversalClient, prefix string) {
	t.Helper()
	seen := make(chan string, 64)
	unsubscribe := s.Subscribe(func(inv cache.Invalidation) {
		for _, k := range inv.Keys {
			select {
			case seen <- k:
			default:
			}
		}
	})
	defer unsubscribe()
	got := map[string]bool{}
	eventually(t, func() bool {
		require.NoError(t, base.Set(t.Context(), redisKey(prefix, "sentinel"), "x", time.Minute).Err())
		if other != nil {
			require.NoError(t, other.Delete(t.Context(), []string{"t:v0:announced"}))
		}
		timeout := time.After(50 * time.Millisecond)
		for {
			select {
			case k := <-seen:
				got[k] = true
				if got["t:v0:sentinel"] && (other == nil || got["t:v0:announced"]) {
					return true
				}
			case <-timeout:
				return false
			}
		}
	}, "tracking never started")
}

func trackingStore(t *testing.T, client redis.UniversalClient, prefix string, hooks rediscache.Hooks) *rediscache.Store {
	t.Helper()
	s, err := rediscache.New(client, rediscache.Config{Prefix: prefix, Tracking: true, Hooks: hooks})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestTracking_ExternalChangesLeaveTheLocalTier(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(ctx context.Context, rdb *redis.Client, key string) error
	}{
		{"SET of the same bytes", func(ctx context.Context, rdb *redis.Client, key string) error {
			raw, err := rdb.Get(ctx, key).Result()
			if err != nil {
				return err
			}
			return rdb.Set(ctx, key, raw, redis.KeepTTL).Err()
		}},
		{"DEL", func(ctx context.Context, rdb *redis.Client, key string) error { return rdb.Del(ctx, key).Err() }},
		{"UNLINK", func(ctx context.Context, rdb *redis.Client, key string) error { return rdb.Unlink(ctx, key).Err() }},
		{"EXPIRE", func(ctx context.Context, rdb *redis.Client, key string) error {
			return rdb.Expire(ctx, key, 30*time.Minute).Err()
		}},
		{"a script", func(ctx context.Context, rdb *redis.Client, key string) error {
			return rdb.Eval(ctx, "return redis.call('PEXPIRE', KEYS[1], 1800000)", []string{key}).Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			s := trackingStore(t, c.client(t, ""), c.prefix, rediscache.Hooks{})
			p := newProbe(t, s)
			trackingReady(t, s, c.store(t, c.client(t, ""), rediscache.Config{}), c.base, c.prefix)
			p.warm(t, "k", "control")

			// A plain client, not through any cache: another service,
			// a script, redis-cli.
			other := c.client(t, "")
			require.NoError(t, tc.change(t.Context(), other, redisKey(c.prefix, "k")))

			eventually(t, func() bool { return !p.get(t, "k") }, "the change never reached the local tier")
			assert.True(t, p.get(t, "control"), "an unchanged key keeps its local copy")
		})
	}
}

func TestTracking_IgnoresLeasesAndOtherStoresKeys(t *testing.T) {
	c := newCluster(t)
	s := trackingStore(t, c.client(t, ""), c.prefix, rediscache.Hooks{})
	p := newProbe(t, s)
	trackingReady(t, s, nil, c.base, c.prefix)
	p.warm(t, "k")
	ctx := t.Context()
	for _, key := range []string{
		redisKey(c.prefix, "k") + ":lease",
		c.prefix + "x:{t:v0:k}",   // a store whose prefix extends ours
		c.prefix + "{t:v0:%6B}",   // not the spelling the store writes
		c.prefix + "{t:v0:k}tail", // not a value key
	} {
		require.NoError(t, c.base.Set(ctx, key, "x", time.Minute).Err())
	}
	// Invalidations of one server arrive in order: once the sentinel's
	// has been handled, any the keys above caused has been too.
	trackingReady(t, s, nil, c.base, c.prefix)
	assert.True(t, p.get(t, "k"), "no key above names k's value")
}

// privateRedis starts a redis-server of the test's own on a Unix socket, for
// what cannot be done to the shared one (FLUSHALL, FLUSHDB).
func privateRedis(t *testing.T) *redis.Options {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("redis-server is not installed and CI is set: %v", err)
		}
		t.Skipf("redis-server is not installed (%v)", err)
	}
	dir, err := os.MkdirTemp("", "track") // short: a socket path is limited to about 100 bytes
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "r.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--dir", dir, "--save", "", "--appendonly", "no")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	opts := func() *redis.Options {
		return &redis.Options{Network: "unix", Addr: sock, ContextTimeoutEnabled: true}
	}
	probe := redis.NewClient(opts())
	defer probe.Close()
	eventually(t, func() bool { return probe.Ping(t.Context()).Err() == nil }, "the private redis-server never answered")
	return opts()
}

func TestTracking_FlushFlushesTheLocalTier(t *testing.T) {
	for _, flush := range []string{"FLUSHDB", "FLUSHALL"} {
		t.Run(flush, func(t *testing.T) {
			opts := privateRedis(t)
			client := redis.NewClient(opts)
			t.Cleanup(func() { _ = client.Close() })
			s := trackingStore(t, client, "p:", rediscache.Hooks{})
			p := newProbe(t, s)
			trackingReady(t, s, nil, client, "p:")
			p.warm(t, "k")
			other := redis.NewClient(opts)
			t.Cleanup(func() { _ = other.Close() })
			require.NoError(t, other.Do(t.Context(), flush).Err())
			eventually(t, func() bool { return !p.get(t, "k") }, "the flush never reached the local tier")
		})
	}
}

// trackingConns returns the ids of the tracking connections of clients
// named name (CLIENT LIST flag 't').
func trackingConns(t *testing.T, rdb redis.UniversalClient, name string) []int64 {
	t.Helper()
	list, err := rdb.ClientList(t.Context()).Result()
	require.NoError(t, err)
	var ids []int64
	for line := range strings.Lines(list) {
		var id int64
		fields := map[string]string{}
		for f := range strings.FieldsSeq(line) {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		if fields["name"] == name && strings.Contains(fields["flags"], "t") {
			_, err := fmt.Sscan(fields["id"], &id)
			require.NoError(t, err)
			ids = append(ids, id)
		}
	}
	return ids
}

func TestTracking_LostConnectionFlushesAndTrackingResumes(t *testing.T) {
	c := newCluster(t)
	opts := testenv.RedisOptions(t)
	opts.ClientName = testenv.UniqueName(t, "track")
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	errs := make(chan error, 16)
	s := trackingStore(t, client, c.prefix, rediscache.Hooks{OnSubscriptionError: func(err error) {
		select {
		case errs <- err:
		default:
		}
	}})
	p := newProbe(t, s)
	trackingReady(t, s, nil, c.base, c.prefix)
	p.warm(t, "k", "control")

	ids := trackingConns(t, c.base, opts.ClientName)
	require.Len(t, ids, 1, "one tracking connection")
	drain(errs) // a slow first connection may have been reported already
	require.NoError(t, c.base.ClientKillByFilter(t.Context(), "ID", fmt.Sprint(ids[0])).Err())

	select {
	case err := <-errs:
		assert.ErrorContains(t, err, "tracking connection")
	case <-time.After(15 * time.Second):
		t.Fatal("the lost tracking connection was not reported")
	}
	// Changes made while it was down are unknown: everything went.
	assert.False(t, p.get(t, "control"), "the local tier was flushed")

	// Tracking resumes on a new connection: a later external change
	// invalidates again.
	trackingReady(t, s, nil, c.base, c.prefix)
	p.warm(t, "k", "control")
	require.NoError(t, c.base.Del(t.Context(), redisKey(c.prefix, "k")).Err())
	eventually(t, func() bool { return !p.get(t, "k") }, "tracking did not resume")
	assert.True(t, p.get(t, "control"))
	after := trackingConns(t, c.base, opts.ClientName)
	require.Len(t, after, 1)
	assert.NotEqual(t, ids[0], after[0])
}

func TestTracking_CloseStopsEverything(t *testing.T) {
	c := newCluster(t)
	opts := testenv.RedisOptions(t)
	opts.ClientName = testenv.UniqueName(t, "track")
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	s, err := rediscache.New(client, rediscache.Config{Prefix: c.prefix, Tracking: true})
	require.NoError(t, err)
	var calls atomic.Int64
	s.Subscribe(func(cache.Invalidation) { calls.Add(1) })
	trackingReady(t, s, nil, c.base, c.prefix)
	require.Len(t, trackingConns(t, c.base, opts.ClientName), 1)

	require.NoError(t, s.Close()) // returns once every listener has stopped
	before := calls.Load()
	eventually(t, func() bool { return len(trackingConns(t, c.base, opts.ClientName)) == 0 },
		"the tracking connection outlived Close")
	// A store still tracking sees a later change; the closed one does not.
	witness := trackingStore(t, c.client(t, ""), c.prefix, rediscache.Hooks{})
	trackingReady(t, witness, nil, c.base, c.prefix)
	assert.Equal(t, before, calls.Load(), "nothing is delivered after Close")
	require.NoError(t, s.Close(), "Close is idempotent")
}

func TestTracking_OnRedisCluster(t *testing.T) {
	base, prefix := testenv.RedisCluster(t)
	opts := testenv.RedisClusterOptions(t)
	opts.ClientName = testenv.UniqueName(t, "track")
	client := redis.NewClusterClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	errs := make(chan error, 16)
	s := trackingStore(t, client, prefix, rediscache.Hooks{OnSubscriptionError: func(err error) {
		select {
		case errs <- err:
		default:
		}
	}})
	p := newProbe(t, s)
	ctx := t.Context()

	// Keys on every master.
	masters := map[string]string{} // master address -> a key it holds
	for i := 0; len(masters) < 3 && i < 1000; i++ {
		k := fmt.Sprint("k", i)
		slot, err := base.ClusterKeySlot(ctx, redisKey(prefix, k)).Result()
		require.NoError(t, err)
		addr := masterOfSlot(t, base, slot)
		if _, ok := masters[addr]; !ok {
			masters[addr] = k
		}
	}
	require.Len(t, masters, 3, "the test cluster has three masters")
	keys := slices.Collect(func(yield func(string) bool) {
		for _, k := range masters {
			if !yield(k) {
				return
			}
		}
	})
	// Tracking is up on every master once a change of each key arrives.
	for _, k := range keys {
		eventually(t, func() bool { return trackedOn(t, p, base, prefix, k) }, "tracking never started on the master of %q", k)
	}

	p.warm(t, append(keys, "control")...)
	for _, k := range keys {
		require.NoError(t, base.Del(ctx, redisKey(prefix, k)).Err())
		eventually(t, func() bool { return !p.get(t, k) }, "the DEL of %q never reached the local tier", k)
	}

	// A lost tracking connection on one master flushes and resumes.
	p.warm(t, append(keys, "control")...)
	addr := slices.Sorted(func(yield func(string) bool) {
		for a := range masters {
			if !yield(a) {
				return
			}
		}
	})[0]
	node := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = node.Close() })
	ids := trackingConns(t, node, opts.ClientName)
	require.Len(t, ids, 1, "one tracking connection per master")
	drain(errs)
	require.NoError(t, node.ClientKillByFilter(ctx, "ID", fmt.Sprint(ids[0])).Err())
	select {
	case err := <-errs:
		assert.ErrorContains(t, err, addr)
	case <-time.After(15 * time.Second):
		t.Fatal("the lost tracking connection was not reported")
	}
	assert.False(t, p.get(t, "control"), "the local tier was flushed")
	eventually(t, func() bool { return trackedOn(t, p, base, prefix, masters[addr]) }, "tracking did not resume on %s", addr)
}

// masterOfSlot returns the address of the master serving slot.
func masterOfSlot(t *testing.T, c *redis.ClusterClient, slot int64) string {
	t.Helper()
	//lint:ignore SA1019 CLUSTER SLOTS is what go-redis reads for its slot map, so the test sees what the client sees.
	slots, err := c.ClusterSlots(t.Context()).Result()
	require.NoError(t, err)
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) {
			return s.Nodes[0].Addr
		}
	}
	t.Fatalf("no master serves slot %d", slot)
	return ""
}

func TestNew_TrackingNeedsAClientItCanFollow(t *testing.T) {
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = ring.Close() })
	_, err := rediscache.New(ring, rediscache.Config{Tracking: true})
	assert.True(t, errors.Is(err, rediscache.ErrInvalidConfig), "got %v", err)
	_, err = rediscache.New(ring, rediscache.Config{})
	assert.NoError(t, err, "without tracking any client will do")
}

// TestStore_ConformsWithTracking runs the cache suite with tracking on:
// the echoes of the store's own writes must never break its semantics.
func TestStore_ConformsWithTracking(t *testing.T) {
	c := newCluster(t)
	prefixes := map[cache.Store]string{}
	n := 0
	newStore := func(t *testing.T, prefix string) cache.Store {
		s := trackingStore(t, c.client(t, ""), prefix, rediscache.Hooks{})
		prefixes[s] = prefix
		return s
	}
	cachetest.Run(t, cachetest.Harness{
		NewStore: func(t *testing.T) cache.Store {
			n++
			return newStore(t, fmt.Sprintf("%ss%d:", c.prefix, n))
		},
		Connect: func(t *testing.T, s cache.Store) cache.Store { return newStore(t, prefixes[s]) },
	})
}

// trackedOn reports whether a change of key reaches p's local tier within
// 100 ms: whether the master holding key is tracked.
func trackedOn(t *testing.T, p *probe, writer redis.UniversalClient, prefix, key string) bool {
	t.Helper()
	p.warm(t, key)
	if err := writer.Expire(t.Context(), redisKey(prefix, key), time.Hour).Err(); err != nil {
		return false // the cluster may be failing over
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		if !p.get(t, key) {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// TestTracking_FollowsAFailover kills the master holding a key on a private
// cluster: the lost tracking connection flushes the local tier, and once
// the replica has taken over, changes on the new master reach the local
// tier again.
func TestTracking_FollowsAFailover(t *testing.T) {
	cluster := testenv.StartRedisCluster(t, testenv.PrivateRedisClusterConfig{})
	ctx := t.Context()
	writer := redis.NewClusterClient(cluster.Options())
	t.Cleanup(func() { _ = writer.Close() })
	client := redis.NewClusterClient(cluster.Options())
	t.Cleanup(func() { _ = client.Close() })
	errs := make(chan error, 64)
	s := trackingStore(t, client, "p:", rediscache.Hooks{OnSubscriptionError: func(err error) {
		select {
		case errs <- err:
		default:
		}
	}})
	p := newProbe(t, s)
	eventually(t, func() bool { return trackedOn(t, p, writer, "p:", "k") }, "tracking never started")

	dead, err := cluster.MasterOf(ctx, redisKey("p:", "k"))
	require.NoError(t, err)
	p.warm(t, "control")
	drain(errs)
	cluster.Kill(dead)
	select {
	case err := <-errs:
		assert.ErrorContains(t, err, dead)
	case <-time.After(30 * time.Second):
		t.Fatal("the lost tracking connection was not reported")
	}
	assert.False(t, p.get(t, "control"), "the local tier was flushed")

	promoted, err := cluster.WaitForFailover(ctx, dead, redisKey("p:", "k"))
	require.NoError(t, err)
	recovered := time.Now()
	eventually(t, func() bool { return trackedOn(t, p, writer, "p:", "k") },
		"changes on the new master %s never reached the local tier", promoted)
	t.Logf("tracking followed the failover to %s %v after the cluster recovered", promoted, time.Since(recovered).Round(time.Millisecond))
}

// TestTracking_SilentOrRefusedConnectionIsDetected freezes the tracking connection
// (a network partition: nothing fails, nothing arrives): the health-check
// ping goes unanswered, the local tier is flushed, and tracking resumes on
// a new connection. Server down and back (refused, then accepted) too.
func TestTracking_SilentOrRefusedConnectionIsDetected(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(p *testenv.Proxy)
		heal func(t *testing.T, p *testenv.Proxy)
	}{
		// Once the loss is seen, Cut lets the pool's frozen connections
		// fail at once instead of at their timeouts.
		{"frozen", func(p *testenv.Proxy) { p.Freeze() }, func(_ *testing.T, p *testenv.Proxy) { p.Cut() }},
		{"down and back", func(p *testenv.Proxy) { _ = p.Refuse(true); p.Cut() }, func(t *testing.T, p *testenv.Proxy) {
			require.NoError(t, p.Refuse(false))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			proxy := testenv.NewProxy(t, testenv.RedisOptions(t).Addr)
			errs := make(chan error, 64)
			s, err := rediscache.New(c.client(t, proxy.Addr()), rediscache.Config{
				Prefix: c.prefix, Tracking: true, HealthCheck: 100 * time.Millisecond,
				Hooks: rediscache.Hooks{OnSubscriptionError: func(err error) {
					select {
					case errs <- err:
					default:
					}
				}},
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			p := newProbe(t, s)
			trackingReady(t, s, nil, c.base, c.prefix)
			p.warm(t, "control")
			drain(errs) // a slow first connection may have been reported already

			tc.cut(proxy)
			deadline := time.After(15 * time.Second)
			for lost := false; !lost; {
				select {
				case err := <-errs:
					lost = strings.Contains(err.Error(), "tracking connection")
				case <-deadline:
					t.Fatal("the lost tracking connection was not reported")
				}
			}
			assert.False(t, p.get(t, "control"), "the local tier was flushed")

			tc.heal(t, proxy)
			trackingReady(t, s, nil, c.base, c.prefix)
			p.warm(t, "k")
			// A SET, not a DEL: the cache may still be bypassing the
			// store it saw fail, so k may be local only, and deleting
			// an absent key changes nothing.
			require.NoError(t, c.base.Set(t.Context(), redisKey(c.prefix, "k"), "x", time.Minute).Err())
			eventually(t, func() bool { return !p.get(t, "k") }, "tracking did not resume")
		})
	}
}

// TestTracking_RefusedByTheServerIsReported runs against miniredis, which
// has no CLIENT TRACKING: each attempt is reported and flushes the local
// tier (before it is reported), since nothing else bounds its staleness.
func TestTracking_RefusedByTheServerIsReported(t *testing.T) {
	m := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	var flushes atomic.Int64
	type report struct {
		err     error
		flushes int64
	}
	reports := make(chan report, 64)
	s := trackingStore(t, client, "p:", rediscache.Hooks{OnSubscriptionError: func(err error) {
		if strings.Contains(err.Error(), "tracking connection") {
			select {
			case reports <- report{err, flushes.Load()}:
			default:
			}
		}
	}})
	s.Subscribe(func(inv cache.Invalidation) {
		if inv.All {
			flushes.Add(1)
		}
	})
	for attempt := int64(1); attempt <= 3; attempt++ {
		select {
		case r := <-reports:
			assert.ErrorContains(t, r.err, "TRACKING")
			// The channel's listener may have flushed once too.
			assert.GreaterOrEqual(t, r.flushes, attempt, "attempt %d flushed", attempt)
		case <-time.After(15 * time.Second):
			t.Fatalf("attempt %d was not reported", attempt)
		}
	}
}

// TestTracking_CloseLeavesNoListener checks, once Close has returned, that
// no goroutine runs the store's listeners, on one server and on a cluster.
func TestTracking_CloseLeavesNoListener(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (redis.UniversalClient, string)
	}{
		{"server", func(t *testing.T) (redis.UniversalClient, string) {
			c := newCluster(t)
			return c.client(t, ""), c.prefix
		}},
		{"cluster", func(t *testing.T) (redis.UniversalClient, string) {
			client, prefix := testenv.RedisCluster(t)
			return client, prefix
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, prefix := tc.open(t)
			s, err := rediscache.New(client, rediscache.Config{Prefix: prefix, Tracking: true})
			require.NoError(t, err)
			s.Subscribe(func(cache.Invalidation) {})
			trackingReady(t, s, nil, client, prefix)
			require.NotEmpty(t, listenerStacks(), "the listeners run")
			require.NoError(t, s.Close())
			// A listener signals its end just before it returns: allow it
			// those last instructions, as goleak does.
			eventually(t, func() bool { return len(listenerStacks()) == 0 }, "a listener outlived Close")
		})
	}
}

// listenerStacks returns the stacks of the goroutines running a store's
// listeners.
func listenerStacks() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "rediscache.(*Store).listen") || strings.Contains(g, "rediscache.(*Store).track") ||
			strings.Contains(g, "rediscache.(*clusterTracking)") {
			found = append(found, g)
		}
	}
	return found
}
