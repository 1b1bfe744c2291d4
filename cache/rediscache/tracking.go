package rediscache

// Tracking: Redis server-assisted client-side caching (CLIENT TRACKING in
// broadcast mode) as a second source of invalidations, which sees writes
// made by any Redis client, not only by Bedrock stores.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/redis/go-redis/v9/push"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/internal/redisclient"
)

// trackingChannel is where Redis delivers invalidations in the RESP2 form
// (to a connection named as a REDIRECT target). The tracking connection
// subscribes to it so that it has a subscription to confirm and read;
// its invalidations arrive as RESP3 pushes instead.
const trackingChannel = "__redis__:invalidate"

// trackingSupported reports whether the store can run tracking listeners
// on client: it must know the nodes' addresses and options.
func trackingSupported(client redis.UniversalClient) bool {
	switch client.(type) {
	case *redis.Client, *redis.ClusterClient:
		return true
	}
	return false
}

// trackedPrefix is the prefix the server watches: every value and lease key
// starts with it, and a store whose Prefix extends this one ("cache:" and
// "cache:x:") stays out of it.
func (s *Store) trackedPrefix() string { return s.prefix + "{" }

// parseValueKey returns the cache key whose value is stored at redisKey,
// and false for any other Redis key (a lease, a key of another store, a
// key no store would write).
func parseValueKey(prefix, redisKey string) (string, bool) {
	rest, ok := strings.CutPrefix(redisKey, prefix+"{")
	if !ok {
		return "", false
	}
	tag, ok := strings.CutSuffix(rest, "}")
	if !ok || strings.ContainsAny(tag, "{}") {
		return "", false
	}
	key, ok := unescapeTag(tag)
	// Only the one spelling the store writes names a value: "%61" is not
	// "a", whatever it decodes to.
	if !ok || redisclient.HashTag(key) != tag {
		return "", false
	}
	return key, true
}

// unescapeTag undoes redisclient.HashTag's percent-escaping.
func unescapeTag(tag string) (string, bool) {
	if tag == "%" {
		return "", true
	}
	if !strings.Contains(tag, "%") {
		return tag, true
	}
	var b strings.Builder
	b.Grow(len(tag))
	for i := 0; i < len(tag); i++ {
		if tag[i] != '%' {
			b.WriteByte(tag[i])
			continue
		}
		if i+2 >= len(tag) {
			return "", false
		}
		switch tag[i+1 : i+3] {
		case "25":
			b.WriteByte('%')
		case "7B":
			b.WriteByte('{')
		case "7D":
			b.WriteByte('}')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// invalidation turns the payload of a RESP3 "invalidate" push into the
// Invalidation for the store's subscribers: nil (FLUSHALL, FLUSHDB) drops
// everything; keys that are not values of this store are left out, and
// ok is false when none is left.
func (s *Store) invalidation(payload any) (inv cache.Invalidation, ok bool) {
	switch p := payload.(type) {
	case nil:
		return cache.Invalidation{All: true}, true
	case []any:
		var keys []string
		for _, k := range p {
			name, isString := k.(string)
			if !isString {
				continue
			}
			if key, ok := parseValueKey(s.prefix, name); ok {
				keys = append(keys, key)
			}
		}
		return cache.Invalidation{Keys: keys}, len(keys) > 0
	case []string: // the RESP2 form, a message on trackingChannel
		var keys []string
		for _, name := range p {
			if key, ok := parseValueKey(s.prefix, name); ok {
				keys = append(keys, key)
			}
		}
		return cache.Invalidation{Keys: keys}, len(keys) > 0
	}
	// A payload of an unknown shape: some change was announced, which one
	// cannot be told.
	return cache.Invalidation{All: true}, true
}

// pushHandler hands the "invalidate" pushes of one tracking connection to
// the store's subscribers. go-redis calls it on the goroutine reading the
// connection, the node's listener.
type pushHandler struct{ s *Store }

func (h pushHandler) HandlePushNotification(_ context.Context, _ push.NotificationHandlerContext, n []any) error {
	if len(n) < 2 {
		return nil
	}
	if inv, ok := h.s.invalidation(n[1]); ok {
		h.s.dispatch(inv)
	}
	return nil
}

// trackingOptions derives the options of a tracking client from those of
// the client (or cluster node) it watches: same address, credentials, TLS
// and dialer; RESP3, one connection, no client-side cache or maintenance
// notifications of go-redis's own; and tracking enabled on every
// connection it opens, after the caller's OnConnect.
func (s *Store) trackingOptions(base *redis.Options) *redis.Options {
	o := *base
	o.Protocol = 3
	o.PoolSize = 1
	o.MinIdleConns = 0
	o.MaxIdleConns = 0
	o.PushNotificationProcessor = nil
	o.ClientSideCacheConfig = nil
	o.ClientSideCache = nil
	o.Limiter = nil
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	prefix, onConnect := s.trackedPrefix(), base.OnConnect
	o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		if onConnect != nil {
			if err := onConnect(ctx, cn); err != nil {
				return err
			}
		}
		// go-redis falls back to RESP2 when HELLO 3 fails, and a RESP2
		// connection tracking without REDIRECT is sent nothing: insist.
		if err := cn.Do(ctx, "HELLO", "3").Err(); err != nil {
			return fmt.Errorf("tracking needs RESP3: %w", err)
		}
		return cn.Do(ctx, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", prefix).Err()
	}
	return &o
}

// track runs the tracking listeners until ctx ends: one for a single
// server, one per master on a cluster.
func (s *Store) track(ctx context.Context, done chan struct{}) {
	defer close(done)
	switch c := s.client.(type) {
	case *redis.Client:
		s.trackNode(ctx, c.Options(), func(bool) {})
	case *redis.ClusterClient:
		t := &clusterTracking{s: s, nodes: map[string]trackedNode{}, down: map[string]bool{}, changed: make(chan struct{}, 1)}
		t.run(ctx, c)
	}
}

// clusterTracking keeps one tracking listener per master of a cluster,
// reconciled with the cluster's masters every HealthCheck, at once when a
// listener loses its connection, and every
// redisclient.ClusterStateReloadInterval while one is down.
type clusterTracking struct {
	s       *Store
	nodes   map[string]trackedNode // by address; owned by run
	changed chan struct{}          // a listener lost its connection

	mu   sync.Mutex
	down map[string]bool // addresses whose listener is disconnected
}

type trackedNode struct {
	stop context.CancelFunc
	done chan struct{}
}

func (t *clusterTracking) run(ctx context.Context, c *redis.ClusterClient) {
	defer func() {
		for _, n := range t.nodes {
			n.stop()
			<-n.done
		}
	}()
	for ctx.Err() == nil {
		masters, err := clusterMasters(ctx, c, t.s.health)
		switch {
		case err == nil:
			t.reconcile(ctx, masters)
		case ctx.Err() == nil:
			t.s.subscriptionError(fmt.Errorf("rediscache: tracking: list the cluster's masters: %w", err))
		}
		t.mu.Lock()
		wait := t.s.health
		if len(t.down) > 0 || err != nil {
			wait = min(wait, redisclient.ClusterStateReloadInterval)
		}
		t.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// reconcile stops the listeners of former masters and starts one for each
// new master.
func (t *clusterTracking) reconcile(ctx context.Context, masters map[string]*redis.Options) {
	for addr, n := range t.nodes {
		if _, ok := masters[addr]; !ok {
			n.stop()
			<-n.done
			delete(t.nodes, addr)
			t.report(addr)(true)
		}
	}
	for addr, opt := range masters {
		if _, ok := t.nodes[addr]; ok {
			continue
		}
		nctx, stop := context.WithCancel(ctx)
		n := trackedNode{stop: stop, done: make(chan struct{})}
		t.nodes[addr] = n
		go func() {
			defer close(n.done)
			t.s.trackNode(nctx, opt, t.report(addr))
		}()
	}
}

// report returns the function the listener of addr calls when it loses
// its connection (up false) and when it has subscribed (up true).
func (t *clusterTracking) report(addr string) func(up bool) {
	return func(up bool) {
		t.mu.Lock()
		if up {
			delete(t.down, addr)
		} else {
			t.down[addr] = true
		}
		t.mu.Unlock()
		if !up {
			select {
			case t.changed <- struct{}{}:
			default:
			}
		}
	}
}

// clusterMasters asks the cluster for its current masters (a fresh
// CLUSTER SLOTS) and returns their client options by address.
func clusterMasters(ctx context.Context, c *redis.ClusterClient, timeout time.Duration) (map[string]*redis.Options, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	masters := map[string]*redis.Options{}
	err := c.ForEachMaster(ctx, func(_ context.Context, n *redis.Client) error {
		o := n.Options()
		mu.Lock()
		masters[o.Addr] = o
		mu.Unlock()
		return nil
	})
	if err == nil && len(masters) == 0 {
		err = errors.New("no master")
	}
	return masters, err
}

// trackNode keeps one tracking connection to the node of base until ctx
// ends, flushing the local tiers whenever it may have missed a change, as
// listen does for the channel. It reports each loss of the connection
// (up false) and each confirmed subscription (up true).
func (s *Store) trackNode(ctx context.Context, base *redis.Options, report func(up bool)) {
	client := redis.NewClient(s.trackingOptions(base))
	defer client.Close()
	if err := client.RegisterPushNotificationHandler("invalidate", pushHandler{s}, true); err != nil {
		s.subscriptionError(fmt.Errorf("rediscache: tracking: %w", err))
		return
	}
	for attempt := 0; ctx.Err() == nil; attempt++ {
		ps := client.Subscribe(ctx)
		// Close unblocks a read in progress when ctx ends.
		unblock := context.AfterFunc(ctx, func() { _ = ps.Close() })
		subCtx, cancel := context.WithTimeout(ctx, s.health)
		err := ps.Subscribe(subCtx, trackingChannel)
		cancel()
		healthy := false
		if err == nil {
			healthy, err = s.receiveTracking(ctx, ps, report)
		}
		unblock()
		_ = ps.Close()
		if ctx.Err() != nil {
			return
		}
		report(false)
		s.dispatch(cache.Invalidation{All: true})
		s.subscriptionError(fmt.Errorf("rediscache: tracking connection to %s lost: %w", base.Addr, err))
		if healthy {
			attempt = 0
		}
		t := time.NewTimer(resubscribe.Delay(attempt, nil))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// receiveTracking reads ps until it fails, and reports whether tracking was
// established. The "invalidate" pushes reach pushHandler while
// ReceiveTimeout waits: go-redis reads them before the reply it waits for.
func (s *Store) receiveTracking(ctx context.Context, ps *redis.PubSub, report func(bool)) (subscribed bool, err error) {
	for {
		msg, err := s.next(ctx, ps)
		if err != nil {
			return subscribed, err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// Tracking started with this connection (OnConnect):
				// changes made before it were not seen.
				subscribed = true
				report(true)
				s.dispatch(cache.Invalidation{All: true})
			}
		case *redis.Message:
			if m.Channel == trackingChannel {
				if inv, ok := s.invalidation(m.PayloadSlice); ok {
					s.dispatch(inv)
				}
			}
		}
	}
}
