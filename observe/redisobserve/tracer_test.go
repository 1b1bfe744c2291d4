package redisobserve_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/observe/redisobserve"
)

type tracerHarness struct {
	rdb     *redis.Client
	prefix  string
	spans   *tracetest.SpanRecorder
	metrics *otelhooktest.Recorder
	logs    *logRecorder
}

func newTracerHarness(t *testing.T, cfg redisobserve.Config) *tracerHarness {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	h := &tracerHarness{rdb: rdb, prefix: prefix, spans: tracetest.NewSpanRecorder(),
		metrics: otelhooktest.NewRecorder(t, "redisobserve"), logs: &logRecorder{}}
	cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	cfg.MeterProvider = h.metrics.MP
	cfg.Logger = slog.New(h.logs)
	tr, err := redisobserve.NewTracer(cfg)
	require.NoError(t, err)
	rdb.AddHook(tr)
	return h
}

func (h *tracerHarness) spansNamed(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range h.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) messages(msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.records {
		if r.Message == msg {
			m := map[string]string{}
			r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
			out = append(out, m)
		}
	}
	return out
}

func TestTracer_CommandSpanAndMetricCarryTheCommandNameOnly(t *testing.T) {
	h := newTracerHarness(t, redisobserve.Config{})
	ctx := context.Background()
	key := h.prefix + "secret-key"
	require.NoError(t, h.rdb.Set(ctx, key, "secret-value", 0).Err())
	require.NoError(t, h.rdb.Get(ctx, key).Err())
	require.ErrorIs(t, h.rdb.Get(ctx, h.prefix+"missing").Err(), redis.Nil)

	set := h.spansNamed("SET")
	require.Len(t, set, 1)
	a := attrs(set[0])
	assert.Equal(t, "redis", a["db.system.name"].AsString())
	assert.Equal(t, "SET", a["db.operation.name"].AsString())
	gets := h.spansNamed("GET")
	require.Len(t, gets, 2)
	for _, s := range gets {
		assert.Equal(t, codes.Unset, s.Status().Code, "a miss is not a failure")
		assert.NotContains(t, attrs(s), "error.type")
	}
	for _, s := range h.spans.Ended() {
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.String(), "secret", "span %s attribute %s", s.Name(), kv.Key)
		}
	}
	counts := h.metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["db.operation.name=SET,db.system.name=redis"], "%v", counts)
	assert.Equal(t, uint64(2), counts["db.operation.name=GET,db.system.name=redis"], "%v", counts)
}

func TestTracer_ServerErrorCarriesItsPrefix(t *testing.T) {
	h := newTracerHarness(t, redisobserve.Config{})
	ctx := context.Background()
	key := h.prefix + "s"
	require.NoError(t, h.rdb.Set(ctx, key, "v", 0).Err())
	require.Error(t, h.rdb.LPush(ctx, key, "x").Err())

	s := h.spansNamed("LPUSH")
	require.Len(t, s, 1)
	a := attrs(s[0])
	assert.Equal(t, "WRONGTYPE", a["error.type"].AsString())
	assert.Equal(t, "WRONGTYPE", a["db.response.status_code"].AsString())
	assert.Equal(t, codes.Error, s[0].Status().Code)
	counts := h.metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["db.operation.name=LPUSH,db.response.status_code=WRONGTYPE,db.system.name=redis,error.type=WRONGTYPE"], "%v", counts)
}

func TestTracer_Pipelines(t *testing.T) {
	h := newTracerHarness(t, redisobserve.Config{})
	ctx := context.Background()
	_, err := h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 3 {
			p.Set(ctx, h.prefix+strings.Repeat("k", i+1), "v", 0)
		}
		return nil
	})
	require.NoError(t, err)
	_, err = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, h.prefix+"a", "v", 0)
		p.Get(ctx, h.prefix+"a")
		return nil
	})
	require.NoError(t, err)
	_, err = h.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, h.prefix+"n")
		p.Incr(ctx, h.prefix+"n")
		return nil
	})
	require.NoError(t, err)

	for name, size := range map[string]int64{"BATCH SET": 3, "BATCH": 2, "MULTI": 2} {
		s := h.spansNamed(name)
		require.Len(t, s, 1, name)
		assert.Equal(t, size, attrs(s[0])["db.operation.batch.size"].AsInt64(), name)
	}
	counts := h.metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["db.operation.name=BATCH SET,db.system.name=redis"], "%v", counts)
	assert.Equal(t, uint64(1), counts["db.operation.name=MULTI,db.system.name=redis"], "%v", counts)
}

func TestTracer_SlowCommandLog(t *testing.T) {
	var slow []redisobserve.SlowCommand
	h := newTracerHarness(t, redisobserve.Config{
		SlowThreshold: 20 * time.Millisecond,
		Hooks: redisobserve.Hooks{OnSlowCommand: func(_ context.Context, c redisobserve.SlowCommand) {
			if c.Operation == "BLPOP" {
				slow = append(slow, c)
			}
		}},
	})
	// BLPOP on an empty list waits its whole timeout: a lower bound on the
	// duration that does not depend on the machine's speed. (Do, because
	// BLPop rounds a timeout up to a second.)
	err := h.rdb.Do(context.Background(), "blpop", h.prefix+"secret-list", "0.05").Err()
	require.ErrorIs(t, err, redis.Nil)

	var logged []map[string]string
	for _, l := range h.logs.messages("slow redis command") {
		if l["db.operation.name"] == "BLPOP" {
			logged = append(logged, l)
		}
	}
	require.Len(t, logged, 1)
	s := h.spansNamed("BLPOP")
	require.Len(t, s, 1)
	assert.Equal(t, s[0].SpanContext().TraceID().String(), logged[0]["trace_id"])
	assert.Equal(t, "1", logged[0]["size"])
	for k, v := range logged[0] {
		assert.NotContains(t, v, "secret", k)
	}
	d, err := time.ParseDuration(logged[0]["duration"])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, d, 50*time.Millisecond)
	require.Len(t, slow, 1)
	assert.Equal(t, redisobserve.SlowCommand{Operation: "BLPOP", Size: 1, Duration: d, TraceID: s[0].SpanContext().TraceID()}, slow[0])
}

func TestTracer_NothingIsLoggedUnderTheThreshold(t *testing.T) {
	h := newTracerHarness(t, redisobserve.Config{SlowThreshold: time.Hour})
	err := h.rdb.Do(context.Background(), "blpop", h.prefix+"list", "0.05").Err()
	require.ErrorIs(t, err, redis.Nil)
	assert.Empty(t, h.logs.messages("slow redis command"))
}

func TestTracer_DialSpan(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	metrics := otelhooktest.NewRecorder(t, "redisobserve")
	tr, err := redisobserve.NewTracer(redisobserve.Config{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)), MeterProvider: metrics.MP})
	require.NoError(t, err)
	testenv.Redis(t) // fails in CI, skips elsewhere, when Redis is down
	rdb := redis.NewClient(testenv.RedisOptions(t))
	defer rdb.Close()
	rdb.AddHook(tr)
	require.NoError(t, rdb.Ping(context.Background()).Err())

	var connect sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "connect" {
			connect = s
		}
	}
	require.NotNil(t, connect)
	a := attrs(connect)
	assert.Equal(t, "127.0.0.1", a["server.address"].AsString())
	assert.Equal(t, int64(6379), a["server.port"].AsInt64())
	assert.Contains(t, metrics.HistogramCounts(t, "db.client.connection.create_time"), "db.system.name=redis")
}

func TestNewTracer_RejectsANegativeThreshold(t *testing.T) {
	_, err := redisobserve.NewTracer(redisobserve.Config{SlowThreshold: -time.Second})
	require.ErrorIs(t, err, redisobserve.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "SlowThreshold")
	_, err = redisobserve.NewTracer(redisobserve.Config{})
	assert.NoError(t, err, "the zero Config is valid")
}

// With the server down, commands fail as they would unhooked; the hook
// records the refused dial and the failed command with error.type
// "connection".
func TestTracer_ServerDown(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	metrics := otelhooktest.NewRecorder(t, "redisobserve")
	tr, err := redisobserve.NewTracer(redisobserve.Config{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)), MeterProvider: metrics.MP})
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{Addr: testenv.ClosedAddr(t), MaxRetries: -1, DialerRetries: 1,
		ContextTimeoutEnabled: true})
	defer rdb.Close()
	rdb.AddHook(tr)
	require.Error(t, rdb.Get(context.Background(), "k").Err())

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byName[s.Name()] = s
	}
	for _, name := range []string{"connect", "GET"} {
		s, ok := byName[name]
		require.True(t, ok, name)
		assert.Equal(t, codes.Error, s.Status().Code, name)
		assert.Equal(t, "connection", attrs(s)["error.type"].AsString(), name)
	}
	counts := metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["db.operation.name=GET,db.system.name=redis,error.type=connection"], "%v", counts)
}

// On a cluster client the hook traces commands and pipelines once each,
// whichever nodes they reach.
func TestTracer_OnAClusterClient(t *testing.T) {
	client, prefix := testenv.RedisCluster(t)
	spans := tracetest.NewSpanRecorder()
	metrics := otelhooktest.NewRecorder(t, "redisobserve")
	tr, err := redisobserve.NewTracer(redisobserve.Config{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)), MeterProvider: metrics.MP})
	require.NoError(t, err)
	client.AddHook(tr)
	ctx := context.Background()
	require.NoError(t, client.Set(ctx, prefix+"a", "1", 0).Err())
	_, err = client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range []string{"a", "b", "c", "d"} { // several slots
			p.Get(ctx, prefix+k)
		}
		return nil
	})
	require.ErrorIs(t, err, redis.Nil)

	names := map[string]int{}
	for _, s := range spans.Ended() {
		names[s.Name()]++
	}
	assert.Equal(t, 1, names["SET"])
	assert.Equal(t, 1, names["BATCH GET"])
	counts := metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["db.operation.name=BATCH GET,db.system.name=redis"], "%v", counts)
}
