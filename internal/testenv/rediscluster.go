package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/internal/redisclient"
)

// DefaultRedisClusterAddrs are the nodes of the test Redis Cluster that
// `.ci/run` starts (three masters, three replicas), used when
// RedisClusterAddrsEnv is unset.
const DefaultRedisClusterAddrs = "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002," +
	"127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005"

// RedisClusterAddrsEnv names the environment variable that points the
// cluster tests at other nodes: comma-separated host:port pairs, any of
// which is enough for the client to discover the rest.
const RedisClusterAddrsEnv = "BEDROCK_REDIS_CLUSTER_ADDRS"

// startRedisCluster is how a developer starts the cluster that CI has.
const startRedisCluster = "bash .ci/run redis-cluster"

// RedisClusterAddrs returns the addresses of the test Redis Cluster's nodes.
func RedisClusterAddrs() []string {
	var addrs []string
	for _, a := range strings.Split(envOr(RedisClusterAddrsEnv, DefaultRedisClusterAddrs), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// RedisClusterOptions returns new options for a client of the test Redis
// Cluster, with ContextTimeoutEnabled, as every Redis-backed package
// requires, and the slot-map reload interval Bedrock recommends
// ([redisclient.ClusterStateReloadInterval]), without which a client keeps
// failing on a dead master's slots for up to a minute after its replica has
// taken over. Each call returns a fresh value; a test that plays several
// processes builds one client per process from them.
func RedisClusterOptions(t TB) *redis.ClusterOptions {
	t.Helper()
	return clusterOptions(RedisClusterAddrs())
}

func clusterOptions(addrs []string) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                      addrs,
		DialTimeout:                connectTimeout,
		ContextTimeoutEnabled:      true,
		ClusterStateReloadInterval: redisclient.ClusterStateReloadInterval,
	}
}

// RedisCluster returns a client of the test Redis Cluster and a key prefix
// unique to this test, ending in ':' and free of braces, so that the hash
// tags Bedrock's packages put after it decide the slot. The client is built
// from [RedisClusterOptions]. Every key that starts with the prefix, on
// every master, is deleted and the client closed when the test ends.
//
// When no node answers, or the nodes do not form a healthy cluster, the
// test fails if CI is set and is skipped otherwise, as with [Redis].
func RedisCluster(t TB) (*redis.ClusterClient, string) {
	t.Helper()
	addrs := RedisClusterAddrs()
	if err := probeCluster(addrs); err != nil {
		unavailable(t, "Redis Cluster", strings.Join(addrs, ","), err, startRedisCluster)
		return nil, ""
	}
	client := redis.NewClusterClient(RedisClusterOptions(t))
	return client, cleanPrefix(t, client, " on the cluster")
}

// probeCluster asks the first node that answers whether the cluster is
// healthy, once and without retries, so an absent cluster is reported at
// once.
func probeCluster(addrs []string) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%s names no address", RedisClusterAddrsEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	var errs []error
	for _, addr := range addrs {
		info, err := nodeClusterInfo(ctx, addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if info["cluster_state"] != "ok" {
			return fmt.Errorf("%s reports cluster_state:%s", addr, info["cluster_state"])
		}
		return nil
	}
	return errors.Join(errs...)
}

// nodeClusterInfo returns one node's CLUSTER INFO as a map.
func nodeClusterInfo(ctx context.Context, addr string) (map[string]string, error) {
	node := redis.NewClient(&redis.Options{
		Addr: addr, DialTimeout: connectTimeout, ContextTimeoutEnabled: true,
		MaxRetries: -1, DialerRetries: 1,
	})
	defer node.Close()
	text, err := node.ClusterInfo(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	info := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			info[k] = v
		}
	}
	return info, nil
}

// deleteClusterPrefix deletes the keys under prefix on every master of a
// cluster: SCAN sees one node only, and one UNLINK may name keys of one
// slot only, so each master is scanned and each key unlinked on its own, in
// pipelined batches.
func deleteClusterPrefix(ctx context.Context, client *redis.ClusterClient, prefix string) error {
	return client.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, escapeGlob(prefix)+"*", 500).Iterator()
		pipe := node.Pipeline()
		for iter.Next(ctx) {
			pipe.Unlink(ctx, iter.Val())
			if pipe.Len() == 500 {
				if _, err := pipe.Exec(ctx); err != nil {
					return fmt.Errorf("%s: %w", node.Options().Addr, err)
				}
			}
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("%s: scan: %w", node.Options().Addr, err)
		}
		if pipe.Len() > 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("%s: %w", node.Options().Addr, err)
			}
		}
		return nil
	})
}
