// Command service is Bedrock's reference shop backend: accounts with
// password login, rotating refresh tokens and API keys; a product catalogue
// with keyset pagination and optimistic locking; and orders that never
// oversell, made safe to retry with Idempotency-Key.
//
// Run it with PostgreSQL and Redis on their default local ports:
//
//	go run ./examples/service
//
// Roles are granted by the operator, with the server's DATABASE_URL:
//
//	go run ./examples/service grant-role admin@example.test admin
//	go run ./examples/service revoke-role admin@example.test admin
//
// See README.md for the configuration and a curl walkthrough.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/observe/pgxobserve"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
	"github.com/bedrock-go/bedrock/examples/service/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	var err error
	if len(os.Args) > 1 {
		err = command(ctx, os.Args[1:], os.Getenv, os.Stdout)
	} else {
		// Records carry the trace and request ids that observe.Middleware sets.
		err = run(ctx, os.Getenv, observe.NewLogger(observe.LogConfig{JSON: true}), nil)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. It reports the
// listening address on addr when that is not nil, and the admin listener's
// address after it when ADMIN_ADDR is set.
func run(ctx context.Context, getenv func(string) string, log *slog.Logger, addr chan<- string) (err error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if getenv("ADMIN_EMAILS") != "" {
		log.Warn("ADMIN_EMAILS is set but ignored: a signup never grants a role, because emails are not verified and whoever signed up first with a listed address would be admin. Grant roles with `service grant-role EMAIL admin`.")
	}
	// closers release what has been built, last first. On a graceful stop
	// they are the steps of observe.GracefulShutdown; on a failed start
	// they run here.
	var closers []func(context.Context) error
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i](context.WithoutCancel(ctx))
		}
	}()

	// Telemetry: exporters from the standard OTEL_* variables; metrics are
	// served at /metrics unless OTEL_METRICS_EXPORTER says otherwise.
	// Setup also registers the Go runtime's metrics (go.goroutine.count,
	// go.memory.used, ...). It comes first: the connections report every
	// query and command to it, and it is flushed last.
	metrics := getenv("OTEL_METRICS_EXPORTER")
	if metrics == "" {
		metrics = observe.ExporterPrometheus
	}
	tel, err := observe.Setup(ctx, observe.Config{ServiceName: "bedrock-shop", Environment: cfg.Env, Metrics: metrics})
	if err != nil {
		return err
	}
	closers = append(closers, tel.Shutdown) // flushes the last spans and metrics

	var pool *pgxpool.Pool
	queries, err := queryTracer(cfg, tel, log, func() pgxobserve.Querier { return pool })
	if err != nil {
		return err
	}
	if pool, err = connectPostgres(ctx, cfg.DatabaseURL, cfg.DBConnectTimeout, queries); err != nil {
		return err
	}
	closers = append(closers, func(context.Context) error { pool.Close(); return nil })
	// Closers run last first: the tracer closes before the pool, since a
	// plan capture may be using it.
	closers = append(closers, func(context.Context) error { return queries.Close() })
	rdb, closeRedis, err := connectRedis(ctx, cfg, log)
	if err != nil {
		return err
	}
	closers = append(closers, func(context.Context) error { closeRedis(); return nil })
	if err := checkIdempotencyDurability(ctx, rdb, cfg.Env, getenv, log); err != nil {
		return err
	}
	commands, err := commandTracer(cfg, tel, log)
	if err != nil {
		return err
	}
	rdb.AddHook(commands)

	opts := app.Options{RedisPrefix: cfg.RedisPrefix, TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider}
	if metrics == observe.ExporterPrometheus {
		opts.Metrics = tel.MetricsHandler()
	}
	if cfg.NATSURL != "" && cfg.EventsBroker == "redis" {
		// NATS as a second destination; with EVENTS_BROKER=nats it is the
		// broker, which the app connects.
		dest, err := connectNATS(ctx, cfg.NATSURL, tel.MeterProvider, log)
		if err != nil {
			return err
		}
		opts.Events = dest
	}
	a, err := app.New(ctx, cfg, pool, rdb, log, opts)
	if err != nil {
		if opts.Events != nil {
			opts.Events.Close()
		}
		return err
	}
	// Stops the relays and the consumer (after the server: in-flight
	// orders have enqueued their events), before the pools close.
	closers = append(closers, func(context.Context) error { return a.Close() })
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLS() {
		st, err := serverTLS(cfg, log)
		if err != nil {
			return err
		}
		srv.TLSConfig, scheme = st.Config(), "https"
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	serveErr := make(chan error, 2)
	admin, adminLn, err := adminServer(cfg, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("scheme", scheme), slog.String("env", cfg.Env))
	if addr != nil {
		addr <- ln.Addr().String()
	}
	go func() {
		if srv.TLSConfig != nil {
			serveErr <- srv.ServeTLS(ln, "", "") // the certificate comes from TLSConfig
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	if admin != nil {
		log.Info("admin listener serving /debug/pprof/", slog.String("addr", adminLn.Addr().String()))
		if addr != nil {
			addr <- adminLn.Addr().String()
		}
		go func() { serveErr <- admin.Serve(adminLn) }()
	}

	select {
	case err := <-serveErr:
		_ = srv.Close()
		if admin != nil {
			_ = admin.Close()
		}
		return err
	case <-ctx.Done():
	}
	// /readyz answers 503 first, while the listener stays open for the
	// drain and serves every request, so that the load balancer stops
	// routing here before anyone is refused; then the server stops
	// accepting and waits for in-flight requests; then the steps: the
	// admin listener, the relays and consumer, telemetry, the pools.
	log.Info("shutting down", slog.Duration("drain", cfg.ShutdownDrain))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownDrain+cfg.ShutdownTimeout)
	defer cancel()
	steps := []func(context.Context) error{}
	if admin != nil {
		steps = append(steps, admin.Shutdown)
	}
	for i := len(closers) - 1; i >= 0; i-- {
		steps = append(steps, closers[i])
	}
	closers = nil
	if err := observe.GracefulShutdown(shutdownCtx, srv, a.Health(), cfg.ShutdownDrain, steps...); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// adminServer returns the admin listener of ADMIN_ADDR, which serves the
// pprof profiles (observe.ProfilingHandler) and nothing else, on a
// listener of its own so that the public one never does; nil when
// ADMIN_ADDR is unset, the default.
func adminServer(cfg config.Config, log *slog.Logger) (*http.Server, net.Listener, error) {
	if cfg.AdminAddr == "" {
		return nil, nil, nil
	}
	ln, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("ADMIN_ADDR: %w", err)
	}
	return &http.Server{
		Handler:           observe.ProfilingHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		// No WriteTimeout: a CPU profile or trace writes for its seconds
		// (at most observe.MaxProfileSeconds).
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, ln, nil
}
