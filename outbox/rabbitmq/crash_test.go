package rabbitmq_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/rabbitmq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment of the re-executed test binary that plays a relay process.
// The event count is read from the same variable as the outbox package's
// crash test, so that `.ci/run` sizes both alike.
const (
	crashSchemaEnv   = "RABBITMQ_CRASH_CHILD_SCHEMA"
	crashExchangeEnv = "RABBITMQ_CRASH_CHILD_EXCHANGE"
	crashEventsEnv   = "OUTBOX_CRASH_EVENTS" // events in the crash test; 2000 when unset
	crashBatch       = 50
	crashLoops       = 2 // claim loops per child process
	crashPartitions  = 4 // queues, each with its own consumer
)

// partitionKey routes an event to one of crashPartitions queues by a hash
// of its key, so that each key has one queue and one consumer, as the
// package doc describes.
func partitionKey(m outbox.Message) string {
	return m.Topic + "." + strconv.Itoa(int(crc32.ChecksumIEEE([]byte(m.Key))%crashPartitions))
}

func TestMain(m *testing.M) {
	if schema := os.Getenv(crashSchemaEnv); schema != "" {
		os.Exit(crashChild(schema, os.Getenv(crashExchangeEnv)))
	}
	os.Exit(m.Run())
}

// crashChild runs a relay publishing to RabbitMQ until it is killed. It
// exits on its own after a minute so that a dead parent cannot leave it
// running.
func crashChild(schema, exchange string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(testenv.PostgresURL())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer pool.Close()
	pub, err := rabbitmq.New(testenv.RabbitMQURL(), rabbitmq.Config{Exchange: exchange, RoutingKey: partitionKey})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer pub.Close()
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{
		BatchSize: crashBatch, Concurrency: crashLoops, PollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_ = relay.Run(ctx)
	return 0
}

// TestRelay_CrashSafety is the outbox crash test with RabbitMQ as the
// broker: three relay processes publish through the Publisher and are
// SIGKILLed at random points while events flow. Events go to four queues
// by a hash of their key; one Consumer per queue with the inbox, running
// all along, ends with every event exactly once in effect, in per-key
// order.
func TestRelay_CrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: re-executes the test binary")
	}
	b := newBroker(t, rabbitmq.Topology{BindingKeys: []string{"crash.0"}})
	queues := []string{b.topo.Queue}
	ch, err := b.conn.Channel()
	require.NoError(t, err)
	for p := 1; p < crashPartitions; p++ {
		topo := rabbitmq.Topology{Exchange: b.topo.Exchange, Queue: fmt.Sprintf("%s-p%d", b.topo.Queue, p),
			BindingKeys: []string{fmt.Sprint("crash.", p)}}
		require.NoError(t, topo.Declare(ch))
		queues = append(queues, topo.Queue)
		t.Cleanup(func() {
			_, _ = ch.QueueDelete(topo.Queue, false, false, false)
			_, _ = ch.QueueDelete(topo.Queue+".dead", false, false, false)
			_ = ch.ExchangeDelete(topo.Queue+".dlx", false, false)
		})
	}
	fx := newEffects(t)
	ctx := t.Context()
	events := 2000
	if v := os.Getenv(crashEventsEnv); v != "" {
		events, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	var schema string
	require.NoError(t, fx.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))

	var deliveries atomic.Int64
	handle := fx.handler(func(outbox.Message) error { return nil })
	for _, q := range queues {
		c, err := rabbitmq.NewConsumer(b.url, rabbitmq.ConsumerConfig{Queue: q, Prefetch: 100,
			Hooks: rabbitmq.ConsumerHooks{OnError: func(err error) { t.Errorf("consumer of %s: %v", q, err) }}})
		require.NoError(t, err)
		run(t, c, func(ctx context.Context, m outbox.Message) error {
			deliveries.Add(1)
			return handle(ctx, m)
		})
	}

	children := make([]*exec.Cmd, 3)
	start := func(i int) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashSchemaEnv+"="+schema, crashExchangeEnv+"="+b.topo.Exchange)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		children[i] = cmd
	}
	kill := func(i int) {
		_ = children[i].Process.Signal(syscall.SIGKILL)
		_ = children[i].Wait()
	}
	for i := range children {
		start(i)
	}
	defer func() {
		for i := range children {
			kill(i)
		}
	}()

	// Four writers own disjoint keys, so a key's payload counter follows its
	// commit order.
	const writers, keysPerWriter = 4, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			next := make([]int, keysPerWriter)
			for sent := 0; sent < events/writers; {
				n := min(1+rand.IntN(20), events/writers-sent)
				msgs := make([]outbox.Message, n)
				for i := range msgs {
					k := rand.IntN(keysPerWriter)
					msgs[i] = outbox.Message{Topic: "crash", Key: fmt.Sprintf("w%d-k%d", w, k),
						Payload: []byte(strconv.Itoa(next[k]))}
					next[k]++
				}
				if err := enqueue(ctx, fx.pool, msgs...); err != nil {
					t.Error(err)
					return
				}
				sent += n
			}
		})
	}

	began := time.Now()
	kills := 0
	deadline := time.Now().Add(90 * time.Second)
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	for flowing := true; flowing; {
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		select {
		case <-writersDone:
			flowing = pending(t, fx.pool) > 0
			if !flowing {
				continue
			}
		default:
		}
		require.True(t, time.Now().Before(deadline), "events still pending after 90s: %d", pending(t, fx.pool))
		i := rand.IntN(len(children))
		kill(i)
		kills++
		start(i)
	}
	flowed := time.Since(began)
	want := events - events%writers
	require.Eventually(t, func() bool { n, _ := fx.count(t); return n >= want }, 2*time.Minute, 10*time.Millisecond,
		"the consumer did not apply every event")
	n, distinct := fx.count(t)
	assert.Equal(t, want, distinct, "0 lost")
	assert.Equal(t, want, n, "every event exactly once in effect")
	duplicates := int(deliveries.Load()) - want
	t.Logf("%d events, %d kills, %d duplicates delivered; flow %v, consumed %v after", events, kills, duplicates,
		flowed, time.Since(began)-flowed)
	assert.LessOrEqual(t, duplicates, kills*crashBatch*crashLoops, "duplicates bounded by in-flight batches per kill")

	last := map[string]int{}
	for key, payloads := range fx.order(t) {
		for _, p := range payloads {
			v, _ := strconv.Atoi(p)
			prev, seen := last[key]
			if !seen {
				prev = -1
			}
			require.Equal(t, prev+1, v, "key %s out of order", key)
			last[key] = v
		}
	}
}

func pending(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM outbox_events").Scan(&n))
	return n
}
