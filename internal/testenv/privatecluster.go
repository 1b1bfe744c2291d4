package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// PrivateRedisCluster is a Redis Cluster of three masters and three
// replicas that one test starts on free loopback ports and may break (kill
// a node) without disturbing any other test. Its nodes are killed and their
// files removed when the test ends. It is safe for concurrent use.
type PrivateRedisCluster struct {
	t     TB
	addrs []string

	mu    sync.Mutex
	procs map[string]*process // by address; a killed node is removed
}

// process is a running redis-server; exited is closed when it ends.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// PrivateRedisClusterConfig configures [StartRedisCluster].
type PrivateRedisClusterConfig struct {
	// NodeTimeout is cluster-node-timeout: how long a node may be silent
	// before the others count it as failing, which bounds how soon a
	// replica takes over. Zero means 2 s, which a busy 2-core machine does
	// not reach by accident and which keeps a failover within seconds.
	NodeTimeout time.Duration
}

// privateClusterDeadline bounds each step of starting a private cluster:
// generous, because six servers and redis-cli start on a machine that runs
// other tests too, and a step that finishes returns at once.
const privateClusterDeadline = time.Minute

// StartRedisCluster starts six redis-server processes with cluster mode on
// free loopback ports (each port p with its cluster bus on p+10000), joins
// them with `redis-cli --cluster create --cluster-replicas 1` and returns
// once every node sees a healthy cluster and every replica is in sync with
// its master. When redis-server or redis-cli is missing the test fails if
// CI is set and is skipped otherwise, as for a missing server.
func StartRedisCluster(t TB, cfg PrivateRedisClusterConfig) *PrivateRedisCluster {
	t.Helper()
	if cfg.NodeTimeout == 0 {
		cfg.NodeTimeout = 2 * time.Second
	}
	server, cli, err := redisBinaries()
	if err != nil {
		if InCI() {
			t.Fatalf("testenv: %v and CI is set", err)
			return nil
		}
		t.Skipf("testenv: %v; install it with `apt-get install redis-server`", err)
		return nil
	}
	dir, err := os.MkdirTemp("", "bedrock-redis-cluster-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
		return nil
	}
	c := &PrivateRedisCluster{t: t, procs: map[string]*process{}}
	t.Cleanup(func() {
		c.stop()
		_ = os.RemoveAll(dir)
	})
	// Another process may take a port between the check and the server's
	// bind; the server then exits, and the cluster starts again elsewhere.
	for attempt := 1; ; attempt++ {
		err = c.start(server, dir, cfg)
		if err == nil {
			break
		}
		c.stop()
		if attempt == 3 {
			t.Fatalf("testenv: start a private Redis Cluster: %v", err)
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), privateClusterDeadline)
	defer cancel()
	create := exec.CommandContext(ctx, cli, append([]string{"--cluster", "create"},
		append(c.Addrs(), "--cluster-replicas", "1", "--cluster-yes")...)...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
		return nil
	}
	if err := c.waitHealthy(ctx, c.Addrs()); err != nil {
		t.Fatalf("testenv: the private Redis Cluster did not become healthy: %v", err)
		return nil
	}
	return c
}

func redisBinaries() (server, cli string, err error) {
	if server, err = exec.LookPath("redis-server"); err != nil {
		return "", "", fmt.Errorf("redis-server is not installed (%w)", err)
	}
	if cli, err = exec.LookPath("redis-cli"); err != nil {
		return "", "", fmt.Errorf("redis-cli is not installed (%w)", err)
	}
	return server, cli, nil
}

// start runs six nodes on free ports and waits until each answers.
func (c *PrivateRedisCluster) start(server, dir string, cfg PrivateRedisClusterConfig) error {
	ports, err := freeClusterPorts(6)
	if err != nil {
		return err
	}
	c.addrs = c.addrs[:0]
	for _, port := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		nodeDir := filepath.Join(dir, strconv.Itoa(port))
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			return err
		}
		cmd := exec.Command(server,
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.FormatInt(cfg.NodeTimeout.Milliseconds(), 10),
			// A replica takes over however long ago it last heard from its
			// master: the test decides when a master dies, not the clock.
			"--cluster-replica-validity-factor", "0",
			"--dir", nodeDir, "--save", "", "--appendonly", "no",
			"--logfile", filepath.Join(nodeDir, "redis.log"))
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start redis-server on %s: %w", addr, err)
		}
		p := &process{cmd: cmd, exited: make(chan struct{})}
		go func() {
			_ = cmd.Wait()
			close(p.exited)
		}()
		c.mu.Lock()
		c.procs[addr] = p
		c.mu.Unlock()
		c.addrs = append(c.addrs, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), privateClusterDeadline)
	defer cancel()
	for _, addr := range c.addrs {
		c.mu.Lock()
		exited := c.procs[addr].exited
		c.mu.Unlock()
		if err := poll(ctx, func(ctx context.Context) error {
			select {
			case <-exited: // most likely its port was taken meanwhile
				return errExited
			default:
			}
			_, err := nodeClusterInfo(ctx, addr)
			return err
		}); err != nil {
			return fmt.Errorf("node %s did not answer (see its redis.log under %s): %w", addr, dir, err)
		}
	}
	return nil
}

// errExited stops a poll: the server it waits for has exited.
var errExited = errors.New("redis-server exited")

// freeClusterPorts returns n loopback ports that are free, each with its
// cluster bus port (+10000) free too. The listeners are held until all are
// found, so the n ports differ.
func freeClusterPorts(n int) ([]int, error) {
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			_ = ln.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries == 100 {
			return nil, errors.New("no free pair of ports (p, p+10000) found")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		held = append(held, ln)
		port := ln.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			continue
		}
		held = append(held, bus)
		ports = append(ports, port)
	}
	return ports, nil
}

// Addrs returns the addresses of the cluster's nodes, the killed ones
// included.
func (c *PrivateRedisCluster) Addrs() []string { return append([]string(nil), c.addrs...) }

// Options returns new client options for the cluster, set as
// [RedisClusterOptions] sets them for the shared test cluster.
func (c *PrivateRedisCluster) Options() *redis.ClusterOptions { return clusterOptions(c.Addrs()) }

// MasterOf returns the address of the master that serves key, as a live
// node sees it.
func (c *PrivateRedisCluster) MasterOf(ctx context.Context, key string) (string, error) {
	var err error
	for _, node := range c.live() {
		var master string
		if master, err = nodeSlotMaster(ctx, node, key); err == nil {
			return master, nil
		}
	}
	return "", fmt.Errorf("no live node told the master of %q: %w", key, err)
}

// nodeSlotMaster asks node which master serves key's slot.
func nodeSlotMaster(ctx context.Context, node, key string) (string, error) {
	client := redis.NewClient(&redis.Options{Addr: node, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	slot, err := client.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", fmt.Errorf("%s: %w", node, err)
	}
	//lint:ignore SA1019 CLUSTER SLOTS is what go-redis reads for its slot map, so the test sees what a client sees.
	ranges, err := client.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("%s: %w", node, err)
	}
	for _, r := range ranges {
		if int(slot) >= r.Start && int(slot) <= r.End && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("%s serves no master for slot %d", node, slot)
}

// Kill kills the node at addr with SIGKILL, as a crash or an OOM kill
// would, and returns once the process is gone.
func (c *PrivateRedisCluster) Kill(addr string) {
	c.t.Helper()
	c.mu.Lock()
	p := c.procs[addr]
	delete(c.procs, addr)
	c.mu.Unlock()
	if p == nil {
		c.t.Fatalf("testenv: no running node at %s", addr)
		return
	}
	p.kill()
}

// WaitForFailover polls, every 20 ms until ctx ends, until every live node
// reports a healthy cluster in which key's slot is served by one master
// other than dead: the moment the cluster has recovered for a client that
// asks any node. It returns the new master's address.
func (c *PrivateRedisCluster) WaitForFailover(ctx context.Context, dead, key string) (string, error) {
	var promoted string
	err := poll(ctx, func(ctx context.Context) error {
		promoted = ""
		for _, node := range c.live() {
			info, err := nodeClusterInfo(ctx, node)
			if err != nil {
				return err
			}
			if info["cluster_state"] != "ok" {
				return fmt.Errorf("%s: cluster_state:%s", node, info["cluster_state"])
			}
			master, err := nodeSlotMaster(ctx, node, key)
			if err != nil {
				return err
			}
			if master == dead || (promoted != "" && master != promoted) {
				return fmt.Errorf("%s: %q served by %s", node, key, master)
			}
			promoted = master
		}
		return nil
	})
	return promoted, err
}

// live returns the addresses of the nodes not killed.
func (c *PrivateRedisCluster) live() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live []string
	for _, addr := range c.addrs {
		if c.procs[addr] != nil {
			live = append(live, addr)
		}
	}
	return live
}

// waitHealthy polls until every node in addrs sees a healthy cluster of
// six and every replica's link to its master is up.
func (c *PrivateRedisCluster) waitHealthy(ctx context.Context, addrs []string) error {
	return poll(ctx, func(ctx context.Context) error {
		for _, addr := range addrs {
			info, err := nodeClusterInfo(ctx, addr)
			if err != nil {
				return err
			}
			for k, want := range map[string]string{
				"cluster_state": "ok", "cluster_slots_ok": "16384",
				"cluster_known_nodes": "6", "cluster_size": "3",
			} {
				if info[k] != want {
					return fmt.Errorf("%s: %s:%s, want %s", addr, k, info[k], want)
				}
			}
			if err := replicaInSync(ctx, addr); err != nil {
				return err
			}
		}
		return nil
	})
}

// replicaInSync returns an error when addr is a replica whose link to its
// master is not up: a replica that never synced cannot take over.
func replicaInSync(ctx context.Context, addr string) error {
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer client.Close()
	text, err := client.Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	if strings.Contains(text, "role:slave") && !strings.Contains(text, "master_link_status:up") {
		return fmt.Errorf("%s: replica not in sync with its master", addr)
	}
	return nil
}

// poll calls fn every 20 ms until it succeeds or ctx ends, and returns
// fn's last error then.
func poll(ctx context.Context, fn func(ctx context.Context) error) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		err := fn(attempt)
		cancel()
		if err == nil {
			return nil
		}
		if errors.Is(err, errExited) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// stop kills every node still running.
func (c *PrivateRedisCluster) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for addr, p := range c.procs {
		p.kill()
		delete(c.procs, addr)
	}
}
