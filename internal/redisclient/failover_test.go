package redisclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/idempotency/redisidem"
	"github.com/bedrock-go/bedrock/internal/redisclient"
	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/redisstream"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// failoverTag is the hash tag of every key the probes touch, so that all of
// them live in the slot of the master the test kills.
const failoverTag = "failover"

// probe is one call of a Bedrock component on the killed master's slot.
type probe struct {
	name string
	call func(ctx context.Context) error
}

// probes builds each Redis-backed component on client, each touching a key
// tagged failoverTag.
func probes(t *testing.T, client redis.UniversalClient) []probe {
	t.Helper()
	limiter, err := redislimit.New(client, redislimit.Config{Prefix: "rl:", Timeout: -1, WhenUnavailable: redislimit.FailClosed})
	require.NoError(t, err)
	store, err := rediscache.New(client, rediscache.Config{Prefix: "c:"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	idem, err := redisidem.New(client, redisidem.Config{Prefix: "i:"})
	require.NoError(t, err)
	pub, err := redisstream.New(client, redisstream.Config{Prefix: "s:", MaxLen: 100})
	require.NoError(t, err)
	limits := []ratelimit.Limit{ratelimit.PerSecond(1_000_000)}
	return []probe{
		{"redislimit", func(ctx context.Context) error {
			_, err := limiter.Do(ctx, ratelimit.Request{Key: failoverTag, Limits: limits, Cost: 1})
			return err
		}},
		{"rediscache", func(ctx context.Context) error {
			_, err := store.Fetch(ctx, []string{failoverTag}, cache.FetchOptions{})
			return err
		}},
		{"redisidem", func(ctx context.Context) error {
			_, err := idem.Begin(ctx, failoverTag, idempotency.Fingerprint{}, time.Minute)
			return err
		}},
		{"redisstream", func(ctx context.Context) error {
			return pub.Publish(ctx, []outbox.Message{{ID: outbox.NewID(), Topic: failoverTag, Payload: []byte("x")}})
		}},
	}
}

// outcome is the result of one probe call.
type outcome struct {
	client, probe string
	start         time.Time
	err           error
}

// drive calls each probe in a loop, every 20 ms, each call with budget,
// and reports every outcome until stop is closed.
func drive(wg *sync.WaitGroup, stop <-chan struct{}, out chan<- outcome, client string, ps []probe, budget time.Duration) {
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				ctx, cancel := context.WithTimeout(context.Background(), budget)
				start := time.Now()
				err := p.call(ctx)
				cancel()
				select {
				case out <- outcome{client, p.name, start, err}:
				case <-stop:
					return
				}
				select {
				case <-tick.C:
				case <-stop:
					return
				}
			}
		}()
	}
}

// recoveryStreak is how many successes in a row count as recovered: one
// success could be luck, a streak shows the client serves the slot again.
const recoveryStreak = 10

// TestFailover_RecommendedClientRecovers kills a master of a private
// cluster under steady traffic from every Redis-backed component, waits for
// its replica to take over, and measures how long the components keep
// failing after that: with the recommended ClusterStateReloadInterval they
// recover within a second or so; with go-redis's default (60 s) they are
// still failing well after.
func TestFailover_RecommendedClientRecovers(t *testing.T) {
	testStart := time.Now()
	cluster := testenv.StartRedisCluster(t, testenv.PrivateRedisClusterConfig{})
	t.Logf("private cluster started in %v", time.Since(testStart).Round(time.Millisecond))
	ctx := t.Context()
	dead, err := cluster.MasterOf(ctx, failoverTag)
	require.NoError(t, err)

	recommendedOpts := cluster.Options()
	require.Equal(t, redisclient.ClusterStateReloadInterval, recommendedOpts.ClusterStateReloadInterval)
	defaultOpts := cluster.Options()
	defaultOpts.ClusterStateReloadInterval = 0 // go-redis's default: 60 s
	clients := map[string]*redis.ClusterClient{
		"recommended": redis.NewClusterClient(recommendedOpts),
		"default":     redis.NewClusterClient(defaultOpts),
	}
	all := map[string][]probe{}
	for name, c := range clients {
		t.Cleanup(func() { _ = c.Close() })
		all[name] = probes(t, c)
		for _, p := range all[name] {
			require.NoError(t, p.call(ctx), "%s %s before the failover", name, p.name)
		}
	}
	// The default client's slot map is at most this old when it is
	// checked; past 60 s go-redis would reload it anyway.
	defaultLoaded := time.Now()

	out := make(chan outcome)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// A budget like a request's: long enough for a busy machine, short
	// enough that a call stuck on the dead node does not hide a recovery.
	const budget = 300 * time.Millisecond
	for name, c := range all {
		drive(&wg, stop, out, name, c, budget)
	}
	defer wg.Wait()
	defer close(stop)

	killed := time.Now()
	cluster.Kill(dead)
	promotedCh := make(chan time.Time, 1)
	go func() {
		waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		promoted, err := cluster.WaitForFailover(waitCtx, dead, failoverTag)
		assert.NoError(t, err, "the replica of %s must take over", dead)
		t.Logf("%s killed; %s serves its slots %v later", dead, promoted, time.Since(killed).Round(time.Millisecond))
		promotedCh <- time.Now()
	}()

	states := map[string]*probeState{}
	for name, ps := range all {
		for _, p := range ps {
			states[name+"/"+p.name] = &probeState{}
		}
	}
	var promotedAt time.Time
	deadline := time.After(time.Minute)
	for !settled(states, all, promotedAt) {
		select {
		case o := <-out:
			states[o.client+"/"+o.probe].record(o)
		case promotedAt = <-promotedCh:
		case <-deadline:
			for k, s := range states {
				t.Logf("%s: %d failures, recovered at %v, last error %v", k, s.failures, s.recovered, s.lastErr)
			}
			t.Fatal("the probes did not settle within a minute of the kill")
		}
	}

	for _, p := range all["recommended"] {
		s := states["recommended/"+p.name]
		assert.Positive(t, s.failures, "%s must have failed while the master was down", p.name)
		after := max(0, s.recovered.Sub(promotedAt))
		t.Logf("recommended %s: recovered %v after the promotion (%v after the kill)",
			p.name, after.Round(time.Millisecond), s.recovered.Sub(killed).Round(time.Millisecond))
		assert.LessOrEqual(t, after, redisclient.ClusterStateReloadInterval+time.Second,
			"%s must recover within a reload interval and a second of the promotion", p.name)
	}
	if since := time.Since(defaultLoaded); since < 50*time.Second {
		for _, p := range all["default"] {
			s := states["default/"+p.name]
			assert.True(t, s.recovered.IsZero(),
				"with go-redis's default reload interval %s should still fail (recovered %v after the promotion)",
				p.name, s.recovered.Sub(promotedAt))
			t.Logf("default %s: still failing %v after the promotion: %v",
				p.name, s.lastFailure.Sub(promotedAt).Round(time.Millisecond), s.lastErr)
		}
	} else {
		t.Logf("the default client's slot map is %v old: go-redis may have reloaded it; not checked", since)
	}
	t.Logf("test ran %v", time.Since(testStart).Round(time.Millisecond))
}

// probeState follows one probe's outcomes from the kill on.
type probeState struct {
	failures    int       // calls that failed
	lastFailure time.Time // start of the last call that failed
	lastErr     error
	streak      int       // successes in a row
	streakFrom  time.Time // start of the first call of the streak
	recovered   time.Time // streakFrom once a streak after failures is long enough
}

func (s *probeState) record(o outcome) {
	if o.err != nil {
		s.failures++
		s.lastFailure, s.lastErr = o.start, o.err
		s.streak = 0
		return
	}
	if s.streak == 0 {
		s.streakFrom = o.start
	}
	s.streak++
	if s.streak == recoveryStreak && s.recovered.IsZero() && s.failures > 0 {
		s.recovered = s.streakFrom
	}
}

// settled reports whether the cluster has recovered, every probe of the
// recommended client has recovered, and every probe of the default client
// has failed again a full reload interval after the last of those: by then
// a client that reloads its slot map as recommended has had its chance.
func settled(states map[string]*probeState, all map[string][]probe, promotedAt time.Time) bool {
	if promotedAt.IsZero() {
		return false
	}
	var last time.Time
	for _, p := range all["recommended"] {
		s := states["recommended/"+p.name]
		if s.recovered.IsZero() {
			return false
		}
		if s.recovered.After(last) {
			last = s.recovered
		}
	}
	for _, p := range all["default"] {
		s := states["default/"+p.name]
		if s.recovered.IsZero() && !s.lastFailure.After(last.Add(redisclient.ClusterStateReloadInterval)) {
			return false
		}
	}
	return true
}
