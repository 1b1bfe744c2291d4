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

	"github.com/bedrock-go/bedrock/observe"

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
// listening address on addr when that is not nil.
func run(ctx context.Context, getenv func(string) string, log *slog.Logger, addr chan<- string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if getenv("ADMIN_EMAILS") != "" {
		log.Warn("ADMIN_EMAILS is set but ignored: a signup never grants a role, because emails are not verified and whoever signed up first with a listed address would be admin. Grant roles with `service grant-role EMAIL admin`.")
	}

	pool, err := connectPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	rdb, closeRedis, err := connectRedis(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	if err := checkIdempotencyDurability(ctx, rdb, cfg.Env, getenv, log); err != nil {
		return err
	}

	// Telemetry: exporters from the standard OTEL_* variables; metrics are
	// served at /metrics unless OTEL_METRICS_EXPORTER says otherwise.
	metrics := getenv("OTEL_METRICS_EXPORTER")
	if metrics == "" {
		metrics = observe.ExporterPrometheus
	}
	tel, err := observe.Setup(ctx, observe.Config{ServiceName: "bedrock-shop", Environment: cfg.Env, Metrics: metrics})
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	opts := app.Options{RedisPrefix: cfg.RedisPrefix, TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider}
	if metrics == observe.ExporterPrometheus {
		opts.Metrics = tel.MetricsHandler()
	}
	if cfg.NATSURL != "" && cfg.EventsBroker == "redis" {
		// NATS as a second destination; with EVENTS_BROKER=nats it is the
		// broker, which the app connects.
		pub, closeNATS, err := connectNATS(ctx, cfg.NATSURL)
		if err != nil {
			return err
		}
		defer closeNATS()
		opts.Events = pub
	}
	a, err := app.New(ctx, cfg, pool, rdb, log, opts)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
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
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("scheme", scheme), slog.String("env", cfg.Env))
	if addr != nil {
		addr <- ln.Addr().String()
	}
	serveErr := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			serveErr <- srv.ServeTLS(ln, "", "") // the certificate comes from TLSConfig
			return
		}
		serveErr <- srv.Serve(ln)
	}()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	// Readiness goes false first so that the load balancer stops routing
	// here; in-flight requests then finish within the timeout.
	log.Info("shutting down")
	a.Drain()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
