package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
)

// TestRunOnRedisCluster runs the service on the Redis Cluster, named both
// ways the configuration allows, through everything it keeps in Redis:
// login limits, the product cache, idempotent orders and their replay, and
// the order.placed events on Redis Streams that bring units_sold up.
func TestRunOnRedisCluster(t *testing.T) {
	addrs := servicetest.RedisClusterAddrs()
	urls := make([]string, len(addrs))
	for i, a := range addrs {
		urls[i] = "redis://" + a
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
	}{
		{"REDIS_CLUSTER_ADDRS", map[string]string{"REDIS_CLUSTER_ADDRS": strings.Join(addrs, ",")}},
		{"a list in REDIS_URL", map[string]string{"REDIS_URL": strings.Join(urls[:2], ",")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cluster, prefix := servicetest.RedisCluster(t)
			env := runEnv(t)
			delete(env, "REDIS_URL")
			env["REDIS_PREFIX"] = prefix
			for k, v := range tt.env {
				env[k] = v
			}
			base, stop := startRun(t, env, nil)
			defer stop()

			status, _ := call(t, "GET", base+"/readyz", "", "")
			require.Equal(t, http.StatusOK, status)
			status, m := call(t, "POST", base+"/v1/auth/signup", "", `{"email":"root@shop.test","password":"correct horse battery","name":"Root"}`)
			require.Equal(t, http.StatusCreated, status, "%v", m)
			require.NoError(t, command(context.Background(), []string{"grant-role", "root@shop.test", "admin"}, envMap(env), io.Discard))
			status, m = call(t, "POST", base+"/v1/auth/login", "", `{"email":"root@shop.test","password":"correct horse battery"}`)
			require.Equal(t, http.StatusOK, status, "%v", m)
			tok := m["access_token"].(string)
			status, p := call(t, "POST", base+"/v1/products", tok, `{"name":"cup","price_cents":100,"stock":5}`)
			require.Equal(t, http.StatusCreated, status, "%v", p)
			product := fmt.Sprint(base, "/v1/products/", p["id"])
			status, _ = call(t, "GET", product, "", "")
			require.Equal(t, http.StatusOK, status)

			order := func() (int, string, map[string]any) {
				return callWith(t, "POST", base+"/v1/orders", tok, fmt.Sprintf(`{"items":[{"product_id":%v,"quantity":2}]}`, p["id"]),
					"Idempotency-Key", "cluster-order-1")
			}
			status, _, first := order()
			require.Equal(t, http.StatusCreated, status, "%v", first)
			status, replayed, again := order()
			require.Equal(t, http.StatusCreated, status)
			assert.Equal(t, "true", replayed, "the replay comes from the cluster")
			assert.Equal(t, first["id"], again["id"])

			// The consumer applies order.placed from the stream on the
			// cluster; poll its effect within a deadline.
			deadline := time.Now().Add(20 * time.Second)
			for {
				_, got := call(t, "GET", product, "", "")
				if got["units_sold"] == 2.0 {
					break
				}
				require.True(t, time.Now().Before(deadline), "units_sold never reached 2: %v", got["units_sold"])
				time.Sleep(20 * time.Millisecond)
			}

			var keys atomic.Int64 // ForEachMaster asks the masters at once
			require.NoError(t, cluster.ForEachMaster(context.Background(), func(ctx context.Context, node *redis.Client) error {
				n, err := node.Keys(ctx, prefix+"*").Result()
				keys.Add(int64(len(n)))
				return err
			}))
			assert.Positive(t, keys.Load(), "the service wrote its keys on the cluster")
		})
	}
}

// TestRedisClusterOptions checks how the configuration names a cluster.
func TestRedisClusterOptions(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		addrs   []string // nil: one server
		pass    string
		wantErr string
	}{
		{"one server", map[string]string{"REDIS_URL": "redis://10.0.0.1:6379/0"}, nil, "", ""},
		{"REDIS_CLUSTER_ADDRS", map[string]string{"REDIS_CLUSTER_ADDRS": "10.0.0.1:7000, 10.0.0.2:7000"},
			[]string{"10.0.0.1:7000", "10.0.0.2:7000"}, "", ""},
		{"a list in REDIS_URL", map[string]string{"REDIS_URL": "redis://:secret@10.0.0.1:7000,10.0.0.2:7000"},
			[]string{"10.0.0.1:7000", "10.0.0.2:7000"}, "secret", ""},
		{"a database in the list", map[string]string{"REDIS_URL": "redis://10.0.0.1:7000/3,10.0.0.2:7000"}, nil, "",
			"a Redis Cluster has only database 0"},
		{"both", map[string]string{"REDIS_URL": "redis://10.0.0.1:6379", "REDIS_CLUSTER_ADDRS": "10.0.0.1:7000"}, nil, "",
			"set REDIS_CLUSTER_ADDRS or REDIS_URL, not both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(envMap(tt.env))
			if err == nil {
				var opts *redis.ClusterOptions
				opts, err = redisClusterOptions(cfg)
				if err == nil && tt.addrs == nil {
					assert.Nil(t, opts)
				} else if err == nil {
					assert.Equal(t, tt.addrs, opts.Addrs)
					assert.Equal(t, tt.pass, opts.Password)
					assert.True(t, opts.ContextTimeoutEnabled)
					assert.Equal(t, time.Second, opts.ClusterStateReloadInterval)
				}
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}
