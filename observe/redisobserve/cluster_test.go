package redisobserve_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/observe/redisobserve"
)

// On a Redis Cluster a PING reaches one node, so a check that pings once
// passes while a master is dead and a third of the keys fail. The check
// asks every master: it fails, naming the dead one, until its replica has
// taken over, and passes again once the client sees the new master.
func TestCheck_OnAClusterAsksEveryMaster(t *testing.T) {
	cluster := testenv.StartRedisCluster(t, testenv.PrivateRedisClusterConfig{})
	client := redis.NewClusterClient(cluster.Options())
	t.Cleanup(func() { _ = client.Close() })
	ctx := t.Context()
	check := redisobserve.Check(client)
	require.NoError(t, check(ctx), "a healthy cluster passes")

	const key = "{health}"
	dead, err := cluster.MasterOf(ctx, key)
	require.NoError(t, err)
	cluster.Kill(dead)

	// Until a replica takes over, every check fails. The failover may come
	// after a few checks (cluster-node-timeout is 2 s, and a check against
	// the dead node takes up to a second of dial retries on a busy
	// machine), so a check that passes is right only once it has.
	failed := 0
	for i := range 10 {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			master, merr := cluster.MasterOf(ctx, key)
			require.NoError(t, merr)
			require.NotEqual(t, dead, master, "check %d passed while %s was still the master", i, dead)
			break
		}
		failed++
		assert.Contains(t, err.Error(), dead, "the error names the master that does not answer")
	}
	require.Positive(t, failed, "no check failed after %s died", dead)

	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	promoted, err := cluster.WaitForFailover(waitCtx, dead, key)
	require.NoError(t, err)
	// The client learns the new slot map within its reload interval; poll
	// the check until then, bounded by the same minute.
	for {
		cctx, cancel := context.WithTimeout(waitCtx, 2*time.Second)
		err = check(cctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-waitCtx.Done():
			t.Fatalf("the check still fails after %s took over: %v", promoted, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
