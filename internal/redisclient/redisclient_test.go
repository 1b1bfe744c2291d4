package redisclient_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/idempotency/redisidem"
	"github.com/bedrock-go/bedrock/internal/redisclient"
	"github.com/bedrock-go/bedrock/outbox/redisstream"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// backend builds one Redis-backed component of Bedrock on client.
type backend struct {
	name    string
	invalid error // the package's ErrInvalidConfig
	build   func(redis.UniversalClient) error
}

func backends() []backend {
	return []backend{
		{"rediscache", rediscache.ErrInvalidConfig, func(c redis.UniversalClient) error {
			_, err := rediscache.New(c, rediscache.Config{})
			return err
		}},
		{"redislimit", redislimit.ErrInvalidConfig, func(c redis.UniversalClient) error {
			_, err := redislimit.New(c, redislimit.Config{})
			return err
		}},
		{"redislimit without a budget of its own", redislimit.ErrInvalidConfig, func(c redis.UniversalClient) error {
			_, err := redislimit.New(c, redislimit.Config{Timeout: -1})
			return err
		}},
		{"redisidem", redisidem.ErrInvalidConfig, func(c redis.UniversalClient) error {
			_, err := redisidem.New(c, redisidem.Config{})
			return err
		}},
		{"redisstream publisher", redisstream.ErrInvalidConfig, func(c redis.UniversalClient) error {
			_, err := redisstream.New(c, redisstream.Config{})
			return err
		}},
		{"redisstream consumer", redisstream.ErrInvalidConfig, func(c redis.UniversalClient) error {
			_, err := redisstream.NewConsumer(c, redisstream.ConsumerConfig{Stream: "s", Group: "g", Name: "n"})
			return err
		}},
	}
}

// clients returns every go-redis client type, built with or without
// ContextTimeoutEnabled. None of them dials before its first command.
func clients(t *testing.T, enabled bool) map[string]redis.UniversalClient {
	t.Helper()
	all := map[string]redis.UniversalClient{
		"client":  redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: enabled}),
		"cluster": redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: enabled}),
		"ring":    redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: enabled}),
		"failover": redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: enabled,
		}),
	}
	for _, c := range all {
		t.Cleanup(func() { _ = c.Close() })
	}
	return all
}

// Every Redis-backed package holds the client to one rule, with one message:
// a client that ignores context deadlines is refused, whatever else the
// package's config says.
func TestEveryRedisBackendRefusesAClientWithoutContextTimeouts(t *testing.T) {
	for _, b := range backends() {
		for kind, client := range clients(t, false) {
			t.Run(b.name+"/"+kind, func(t *testing.T) {
				err := b.build(client)
				require.ErrorIs(t, err, b.invalid)
				assert.True(t, strings.HasSuffix(err.Error(), ": "+redisclient.Requirement), err.Error())
			})
		}
	}
}

func TestEveryRedisBackendAcceptsAClientWithContextTimeouts(t *testing.T) {
	for _, b := range backends() {
		for kind, client := range clients(t, true) {
			t.Run(b.name+"/"+kind, func(t *testing.T) {
				assert.NoError(t, b.build(client))
			})
		}
	}
}

func TestEveryRedisBackendRefusesANilClient(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			assert.ErrorIs(t, b.build(nil), b.invalid)
			assert.ErrorIs(t, b.build((*redis.Client)(nil)), b.invalid)
		})
	}
}

// wrapper stands for a caller's own UniversalClient, whose options Check
// cannot read: it is trusted.
type wrapper struct{ redis.UniversalClient }

func TestCheck(t *testing.T) {
	invalid := errors.New("pkg: invalid config")
	off := redis.NewClient(&redis.Options{})
	on := redis.NewClient(&redis.Options{ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = off.Close(); _ = on.Close() })
	cases := []struct {
		name   string
		client redis.UniversalClient
		ok     bool
	}{
		{"nil", nil, false},
		{"typed nil", (*redis.ClusterClient)(nil), false},
		{"without context timeouts", off, false},
		{"with context timeouts", on, true},
		{"another implementation", wrapper{off}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := redisclient.Check(tc.client, invalid)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, invalid)
			assert.True(t, strings.HasPrefix(err.Error(), "pkg: invalid config: "), err.Error())
		})
	}
}
