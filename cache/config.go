package cache

import (
	"cmp"
	"context"
	"math"
	"strconv"
	"strings"
	"time"
)

// Loader loads the value of a missing key from the source of truth. It
// returns ErrNotFound (or an error wrapping it) when the key has no value,
// which the cache stores as a negative entry; any other error is returned to
// the callers and never cached.
//
// The load runs detached from the caller: ctx carries the first caller's
// values but is cancelled only when every caller waiting for the load has
// gone, when Config.LoadTimeout passes, or when the cache is closed. ctx also
// carries the entry's [EntryControl] ([EntryOf]): the loader may set the
// value's TTL, forbid caching it, or tag it.
type Loader[K comparable, V any] func(ctx context.Context, key K) (V, error)

// BatchLoader loads many missing keys in one call. Keys absent from the
// returned map have no value and are cached as not found. Its ctx carries
// the EntryControl of the batch ([EntryOf]) and of each key ([EntryFor]).
type BatchLoader[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Config tunes a Cache. The zero value of each field selects the documented
// default; New rejects values that make no sense with a *ConfigError.
type Config[K comparable, V any] struct {
	// Namespace prefixes every store key, so that caches of different types
	// can share a store. Required with a store; it must not contain '{' or
	// '}', which Redis Cluster reads as a hash tag.
	Namespace string
	// Version is the schema version of V, part of every store key. Bump it
	// when V or its encoding changes: processes of the new deploy then never
	// decode the bytes of the old one, and the two deploys can run side by
	// side. Must not be negative; 0 by default.
	Version int

	// TTL is how long a loaded value is fresh. Default: 1 minute.
	TTL time.Duration
	// Stale is how long after TTL a value may still be served while one
	// background refresh runs (stale-while-revalidate). While refreshes fail
	// the stale value keeps being served, and refreshes back off, until Stale
	// runs out. Default: 0, no stale serving.
	Stale time.Duration
	// NegativeTTL is how long a "not found" answer (ErrNotFound from the
	// loader) is cached. Default: 10 seconds, at most TTL. Negative: "not
	// found" is never cached.
	NegativeTTL time.Duration
	// Jitter spreads each TTL uniformly over ±Jitter of its length, so that
	// keys loaded together do not expire together. Default: 0.1. Negative:
	// none. Must be below 1.
	Jitter float64
	// EarlyRefreshBeta is the β of probabilistic early refresh (XFetch): a
	// read refreshes a fresh value early with a probability that rises as its
	// expiry nears, sooner for values that were slow to load, so that a hot
	// key is refreshed by one background load before it expires instead of
	// missing for every caller at once. Default: 1. Negative: off.
	EarlyRefreshBeta float64

	// LocalSize bounds the number of entries of the in-process tier.
	// Default: 10000. Negative: no local tier, every read goes to the store
	// (requires a store).
	LocalSize int
	// ClockResolution is the resolution of the clock the local tier reads
	// on every hit: a goroutine reads the time once per resolution, because
	// reading the precise time is most of a hit's cost. Deadlines may be
	// passed late by up to about this much. Default: 1ms. Negative: read
	// the precise time on every hit, with no goroutine.
	ClockResolution time.Duration
	// LocalTTL caps how long a value stays fresh in the in-process tier
	// when a store is configured, bounding the staleness of a process that
	// misses an invalidation. Default: TTL.
	LocalTTL time.Duration

	// Codec encodes values for the store. Default: JSON[V].
	Codec Codec[V]
	// KeyString turns a key into the string used in the store. Default: the
	// decimal or string form of keys whose underlying type is an integer or
	// a string; other key types must set it when a store is used.
	KeyString func(K) string
	// ParseKey is KeyString's inverse, needed to apply invalidations that
	// other processes broadcast. Default: as KeyString; required with a
	// broadcasting store for other key types.
	ParseKey func(string) (K, error)

	// Load is the loader used when Get is called with a nil loader.
	Load Loader[K, V]
	// Tags returns the tags of a loaded or Set value (not of a "not
	// found"), on top of those the loader adds with EntryControl.Tag; see
	// Cache.InvalidateTags. Default: none. With a store, it requires one
	// that implements TagStore and Broadcaster.
	Tags func(key K, v V) []string

	// StoreTimeout is the time budget of each store call. A store that fails
	// or exceeds it is bypassed: the call goes on with the local tier and
	// the loader, and returns no error for it. Default: 100ms.
	StoreTimeout time.Duration
	// StoreCooldown is how long the store is bypassed after it failed, so
	// that an outage costs one timeout per cooldown rather than one per
	// call. Default: 1 second. Negative: never bypassed.
	StoreCooldown time.Duration
	// LeaseWait bounds how long a process waits for another process that
	// holds a key's lease to store the value. Past it the process loads the
	// value itself without storing it. Default: 5 seconds.
	LeaseWait time.Duration
	// LoadTimeout bounds every load, including background refreshes, which
	// no caller waits for. Default: 30 seconds.
	LoadTimeout time.Duration

	// Hooks observe the cache; nil hooks cost nothing.
	Hooks Hooks
}

const (
	defaultTTL           = time.Minute
	defaultNegativeTTL   = 10 * time.Second
	defaultJitter        = 0.1
	defaultBeta          = 1.0
	defaultLocalSize     = 10_000
	defaultStoreTimeout  = 100 * time.Millisecond
	defaultStoreCooldown = time.Second
	defaultLeaseWait     = 5 * time.Second
	defaultLoadTimeout   = 30 * time.Second
)

// settings is a Config with its defaults applied.
type settings[K comparable, V any] struct {
	prefix        string // Namespace:vVersion:
	ttl           time.Duration
	stale         time.Duration
	negativeTTL   time.Duration // 0: no negative caching
	jitter        float64
	beta          float64 // 0: no early refresh
	localSize     int
	noLocal       bool
	localTTL      time.Duration
	clockRes      time.Duration // 0: precise clock
	codec         Codec[V]
	keyString     func(K) string
	parseKey      func(string) (K, error)
	load          Loader[K, V]
	tags          func(K, V) []string
	storeTimeout  time.Duration
	storeCooldown time.Duration // 0: never bypassed
	leaseWait     time.Duration
	loadTimeout   time.Duration
	hooks         Hooks
}

func (cfg Config[K, V]) settings(store Store) (settings[K, V], error) {
	s := settings[K, V]{
		ttl: cfg.TTL, stale: cfg.Stale, negativeTTL: cfg.NegativeTTL, jitter: cfg.Jitter,
		beta: cfg.EarlyRefreshBeta, clockRes: cfg.ClockResolution, localSize: cfg.LocalSize, localTTL: cfg.LocalTTL,
		codec: cfg.Codec, keyString: cfg.KeyString, parseKey: cfg.ParseKey, load: cfg.Load, tags: cfg.Tags,
		storeTimeout: cfg.StoreTimeout, storeCooldown: cfg.StoreCooldown,
		leaseWait: cfg.LeaseWait, loadTimeout: cfg.LoadTimeout, hooks: cfg.Hooks,
	}
	bad := func(field, reason string) (settings[K, V], error) {
		return settings[K, V]{}, &ConfigError{Field: field, Reason: reason}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"TTL", s.ttl}, {"Stale", s.stale}, {"LocalTTL", s.localTTL},
		{"StoreTimeout", s.storeTimeout}, {"LeaseWait", s.leaseWait}, {"LoadTimeout", s.loadTimeout},
	} {
		if d.v < 0 {
			return bad(d.name, "must not be negative")
		}
	}
	if cfg.LocalSize < 0 {
		if store == nil {
			return bad("LocalSize", "negative (no local tier) requires a store")
		}
		s.noLocal = true
	}
	if cfg.Version < 0 {
		return bad("Version", "must not be negative")
	}
	if math.IsNaN(s.jitter) || s.jitter >= 1 {
		return bad("Jitter", "must be below 1")
	}
	if math.IsNaN(s.beta) || math.IsInf(s.beta, 0) {
		return bad("EarlyRefreshBeta", "must be a finite number")
	}
	if strings.ContainsAny(cfg.Namespace, "{}") {
		return bad("Namespace", "must not contain '{' or '}'")
	}
	switch {
	case s.clockRes < 0:
		s.clockRes = 0
	case s.clockRes == 0:
		s.clockRes = time.Millisecond
	}
	s.ttl = cmp.Or(s.ttl, defaultTTL)
	switch {
	case s.negativeTTL < 0:
		s.negativeTTL = 0
	case s.negativeTTL == 0:
		s.negativeTTL = min(defaultNegativeTTL, s.ttl)
	}
	switch {
	case s.jitter < 0:
		s.jitter = 0
	case s.jitter == 0:
		s.jitter = defaultJitter
	}
	switch {
	case s.beta < 0:
		s.beta = 0
	case s.beta == 0:
		s.beta = defaultBeta
	}
	if s.localSize <= 0 {
		s.localSize = defaultLocalSize
	}
	s.localTTL = min(cmp.Or(s.localTTL, s.ttl), s.ttl)
	if s.codec == nil {
		s.codec = JSON[V]{}
	}
	defKey, defParse := defaultKeyFuncs[K]()
	if s.keyString == nil {
		s.keyString = defKey
	}
	if s.parseKey == nil {
		s.parseKey = defParse
	}
	s.storeTimeout = cmp.Or(s.storeTimeout, defaultStoreTimeout)
	switch {
	case s.storeCooldown < 0:
		s.storeCooldown = 0
	case s.storeCooldown == 0:
		s.storeCooldown = defaultStoreCooldown
	}
	s.leaseWait = cmp.Or(s.leaseWait, defaultLeaseWait)
	s.loadTimeout = cmp.Or(s.loadTimeout, defaultLoadTimeout)
	if store != nil {
		if cfg.Namespace == "" {
			return bad("Namespace", "required with a store")
		}
		if s.keyString == nil {
			return bad("KeyString", "required with a store for this key type")
		}
		if _, ok := store.(Broadcaster); ok && s.parseKey == nil {
			return bad("ParseKey", "required with a broadcasting store for this key type")
		}
		if cfg.Tags != nil && tagStoreOf(store) == nil {
			return bad("Tags", "requires a store that implements TagStore and Broadcaster")
		}
	}
	s.prefix = cfg.Namespace + ":v" + strconv.Itoa(cfg.Version) + ":"
	return s, nil
}
