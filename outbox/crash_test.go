package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment of the re-executed test binary that plays a relay process.
const (
	crashChildEnv  = "OUTBOX_CRASH_CHILD_SCHEMA"
	crashEventsEnv = "OUTBOX_CRASH_EVENTS" // events in the crash test; 2000 when unset
	crashBatch     = 50
	crashLoops     = 2 // claim loops per child process
)

func TestMain(m *testing.M) {
	if schema := os.Getenv(crashChildEnv); schema != "" {
		os.Exit(crashChild(schema))
	}
	os.Exit(m.Run())
}

// crashChild runs a relay whose broker is a table in the same database,
// written outside the relay's transaction like a real broker, until it is
// killed. It exits on its own after a minute so that a dead parent cannot
// leave it running.
func crashChild(schema string) int {
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
	broker := outbox.PublisherFunc(func(ctx context.Context, msgs []outbox.Message) error {
		ids, keys, payloads := make([]string, len(msgs)), make([]string, len(msgs)), make([]string, len(msgs))
		for i, m := range msgs {
			ids[i], keys[i], payloads[i] = m.ID, m.Key, string(m.Payload)
		}
		_, err := pool.Exec(ctx, `INSERT INTO broker (id, key, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`, ids, keys, payloads)
		return err
	})
	relay, err := outbox.NewRelay(pool, broker, outbox.RelayConfig{
		BatchSize: crashBatch, Concurrency: crashLoops, PollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_ = relay.Run(ctx)
	return 0
}

// TestRelay_CrashSafety runs three relay processes that are SIGKILLed at
// random points while events flow, and checks that a consumer with the inbox
// ends with every event exactly once in effect, in per-key order.
func TestRelay_CrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: re-executes the test binary")
	}
	pool := setup(t)
	ctx := t.Context()
	events := 2000
	if v := os.Getenv(crashEventsEnv); v != "" {
		var err error
		events, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	var schema string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
	_, err := pool.Exec(ctx, `CREATE TABLE broker (n bigserial PRIMARY KEY, id uuid NOT NULL, key text NOT NULL, payload text NOT NULL);
CREATE TABLE effects (n bigserial PRIMARY KEY, key text NOT NULL, payload text NOT NULL)`)
	require.NoError(t, err)

	children := make([]*exec.Cmd, 3)
	start := func(i int) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+schema)
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
				if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					return outbox.Enqueue(ctx, tx, msgs...)
				}); err != nil {
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
	for {
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		select {
		case <-writersDone:
			if countRows(t, pool, "true") == 0 {
				goto done
			}
		default:
		}
		require.True(t, time.Now().Before(deadline), "events still pending after 90s: %d", countRows(t, pool, "true"))
		i := rand.IntN(len(children))
		kill(i)
		kills++
		start(i)
	}
done:
	require.Equal(t, events-events%writers, countBroker(t, pool, "count(DISTINCT id)"), "0 lost")
	delivered := countBroker(t, pool, "count(*)")
	duplicates := delivered - (events - events%writers)
	t.Logf("%d events, %d kills, %d duplicates delivered", events, kills, duplicates)
	assert.LessOrEqual(t, duplicates, kills*crashBatch*crashLoops, "duplicates bounded by in-flight batches per kill")

	flowed := time.Since(began)
	consume(t, pool)
	t.Logf("flow %v, consume %v", flowed, time.Since(began)-flowed)
	var effects, distinct int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (key, payload)) FROM effects`).Scan(&effects, &distinct))
	assert.Equal(t, events-events%writers, effects, "every event exactly once in effect")
	assert.Equal(t, effects, distinct)
	rows, err := pool.Query(ctx, `SELECT key, payload FROM effects ORDER BY n`)
	require.NoError(t, err)
	last := map[string]int{}
	for rows.Next() {
		var key, payload string
		require.NoError(t, rows.Scan(&key, &payload))
		v, _ := strconv.Atoi(payload)
		prev, seen := last[key]
		if !seen {
			prev = -1
		}
		require.Equal(t, prev+1, v, "key %s out of order", key)
		last[key] = v
	}
	require.NoError(t, rows.Err())
}

func countBroker(t *testing.T, pool *pgxpool.Pool, expr string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT "+expr+" FROM broker").Scan(&n))
	return n
}

// consume replays the broker in delivery order through the inbox.
func consume(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := t.Context()
	inbox, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(t, err)
	rows, err := pool.Query(ctx, `SELECT id::text, key, payload FROM broker ORDER BY n`)
	require.NoError(t, err)
	type delivery struct{ id, key, payload string }
	var all []delivery
	for rows.Next() {
		var d delivery
		require.NoError(t, rows.Scan(&d.id, &d.key, &d.payload))
		all = append(all, d)
	}
	require.NoError(t, rows.Err())
	// Eight consumers, each owning the keys that hash to it, like the
	// partitions of a broker: a key's deliveries are applied in order.
	const consumers = 8
	var wg sync.WaitGroup
	for c := range consumers {
		wg.Go(func() {
			for _, d := range all {
				if int(crc32.ChecksumIEEE([]byte(d.key)))%consumers != c {
					continue
				}
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					return inbox.Process(ctx, tx, d.id, func(ctx context.Context, tx pgx.Tx) error {
						_, err := tx.Exec(ctx, `INSERT INTO effects (key, payload) VALUES ($1, $2)`, d.key, d.payload)
						return err
					})
				})
				if err != nil && !errors.Is(err, outbox.ErrDuplicate) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
