package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/redisclient"
)

// The keys of a test spread over every master (their hash tags differ), and
// cleanup finds them on each: SCAN on a cluster client would see one node.
func TestRedisCluster_PrefixKeysAreDeletedOnEveryMaster(t *testing.T) {
	var prefix string
	t.Run("inner", func(t *testing.T) {
		var client *redis.ClusterClient
		client, prefix = RedisCluster(t)
		assert.True(t, strings.HasSuffix(prefix, ":"))
		assert.NotContains(t, prefix, "{", "the prefix must leave the hash tag to the key")
		assert.NotContains(t, prefix, "}")
		ctx := context.Background()
		for i := range 600 { // more than one pipelined batch on some master
			require.NoError(t, client.Set(ctx, fmt.Sprintf("%s{k%d}", prefix, i), i, time.Minute).Err())
		}
		var masters atomic.Int64 // ForEachMaster calls concurrently
		require.NoError(t, client.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			keys, err := node.Keys(ctx, escapeGlob(prefix)+"*").Result()
			if len(keys) > 0 {
				masters.Add(1)
			}
			return err
		}))
		assert.EqualValues(t, 3, masters.Load(), "the keys must land on every master")
	})
	other, _ := RedisCluster(t)
	var left atomic.Int64
	require.NoError(t, other.ForEachMaster(context.Background(), func(ctx context.Context, node *redis.Client) error {
		keys, err := node.Keys(ctx, escapeGlob(prefix)+"*").Result()
		left.Add(int64(len(keys)))
		return err
	}))
	assert.Zero(t, left.Load(), "keys under %s must be deleted after the test", prefix)
}

func TestRedisCluster_ClientHonoursTheRulesOfRedisBackedPackages(t *testing.T) {
	client, _ := RedisCluster(t)
	assert.NoError(t, redisclient.Check(client, errors.New("invalid config")))
	assert.Equal(t, redisclient.ClusterStateReloadInterval, client.Options().ClusterStateReloadInterval)
	assert.Equal(t, redisclient.ClusterStateReloadInterval, RedisClusterOptions(t).ClusterStateReloadInterval)
}

func TestRedisClusterAddrs(t *testing.T) {
	cases := map[string][]string{
		"": {"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002",
			"127.0.0.1:7003", "127.0.0.1:7004", "127.0.0.1:7005"},
		"10.0.0.1:6379":                   {"10.0.0.1:6379"},
		" a:1 , b:2,,c:3 ":                {"a:1", "b:2", "c:3"},
		"redis-0.redis:6379,redis-1:6379": {"redis-0.redis:6379", "redis-1:6379"},
	}
	for env, want := range cases {
		t.Run(env, func(t *testing.T) {
			t.Setenv(RedisClusterAddrsEnv, env)
			assert.Equal(t, want, RedisClusterAddrs())
		})
	}
}

func TestRedisCluster_UnreachableOrUnhealthyFailsInCIAndSkipsElsewhere(t *testing.T) {
	single := strings.TrimPrefix(RedisURL(), "redis://")
	single = strings.TrimSuffix(single, "/0")
	cases := []struct {
		name, addrs, ci string
		fatal, skip     string
	}{
		{"nothing listens, CI", ClosedAddr(t), "true", "unreachable and CI is set", ""},
		{"nothing listens, elsewhere", ClosedAddr(t), "", "", "bash .ci/run redis-cluster"},
		{"a server that is not a cluster, CI", single, "true", "unreachable and CI is set", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(RedisClusterAddrsEnv, tc.addrs)
			r := &recorder{}
			c, p := RedisCluster(r)
			assert.Nil(t, c)
			assert.Empty(t, p)
			if tc.fatal != "" {
				assert.Contains(t, r.fatal, tc.fatal)
				assert.Empty(t, r.skip)
			} else {
				assert.Empty(t, r.fatal)
				assert.Contains(t, r.skip, tc.skip)
				assert.Contains(t, r.skip, RedisClusterAddrsEnv)
			}
		})
	}
}

func TestStartRedisCluster_WithoutRedisFailsInCIAndSkipsElsewhere(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{}
			assert.Nil(t, StartRedisCluster(r, PrivateRedisClusterConfig{}))
			if ci != "" {
				assert.Contains(t, r.fatal, "redis-server is not installed")
				assert.Empty(t, r.skip)
			} else {
				assert.Empty(t, r.fatal)
				assert.Contains(t, r.skip, "apt-get install redis-server")
			}
		})
	}
}
