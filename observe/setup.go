package observe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Exporter names, as in OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER.
const (
	ExporterOTLP       = "otlp"
	ExporterStdout     = "console"
	ExporterPrometheus = "prometheus"
	ExporterNone       = "none"
)

// Config configures [Setup]. Empty fields fall back to the standard OTEL_*
// environment variables, then to the documented default.
type Config struct {
	// ServiceName is service.name; OTEL_SERVICE_NAME, then "unknown_service".
	ServiceName string
	// ServiceVersion is service.version.
	ServiceVersion string
	// Environment is deployment.environment.name ("production", ...).
	Environment string
	// Traces exporter: "otlp" (OTLP over HTTP, configured by the
	// OTEL_EXPORTER_OTLP_* variables), "console" (stdout, for development)
	// or "none"; OTEL_TRACES_EXPORTER, then "none".
	Traces string
	// Metrics exporter: "otlp", "console", "prometheus" (served by
	// Telemetry.MetricsHandler) or "none"; OTEL_METRICS_EXPORTER, then
	// "none".
	Metrics string
	// SampleRatio of root traces kept, 0 to 1; OTEL_TRACES_SAMPLER_ARG, then
	// 1. Children follow their parent's decision. A ratio outside [0, 1],
	// or a variable that is not a number, is an error.
	SampleRatio *float64
	// MetricInterval is how often push exporters send; 30s when zero,
	// an error when negative.
	MetricInterval time.Duration
	// Stdout receives the console exporters' output; os.Stdout when nil.
	Stdout io.Writer
}

// Telemetry is what [Setup] built.
type Telemetry struct {
	TracerProvider *sdktrace.TracerProvider
	MeterProvider  *sdkmetric.MeterProvider
	metrics        http.Handler
}

// MetricsHandler serves the metrics in the Prometheus text format when the
// metrics exporter is "prometheus", and answers 404 otherwise.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t.metrics == nil {
		return http.NotFoundHandler()
	}
	return t.metrics
}

// Shutdown flushes and stops both providers. Call it after the HTTP server
// has stopped, so the last requests' spans are exported.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.TracerProvider.Shutdown(ctx), t.MeterProvider.Shutdown(ctx))
}

// ErrInvalidConfig is wrapped by the errors about a bad Config or OTEL_*
// environment variable.
var ErrInvalidConfig = errors.New("observe: invalid config")

// Setup builds and installs global tracer and meter providers and the W3C
// trace-context and baggage propagators. The meter provider reports the Go
// runtime's metrics ([RuntimeMetrics]).
func Setup(ctx context.Context, cfg Config) (*Telemetry, error) {
	cfg, err := withEnv(cfg)
	if err != nil {
		return nil, err
	}
	ratio := 1.0
	if cfg.SampleRatio != nil {
		ratio = *cfg.SampleRatio
	}
	if !(ratio >= 0 && ratio <= 1) { // NaN too
		return nil, fmt.Errorf("%w: SampleRatio %v is outside [0, 1]", ErrInvalidConfig, ratio)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(resourceAttrs(cfg)...))
	if err != nil {
		return nil, fmt.Errorf("observe: resource: %w", err)
	}

	topts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	}
	switch cfg.Traces {
	case ExporterOTLP:
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: OTLP trace exporter: %w", err)
		}
		topts = append(topts, sdktrace.WithBatcher(exp))
	case ExporterStdout:
		exp, err := stdouttrace.New(stdouttrace.WithWriter(cfg.Stdout))
		if err != nil {
			return nil, err
		}
		topts = append(topts, sdktrace.WithBatcher(exp))
	case ExporterNone:
	default:
		return nil, fmt.Errorf("%w: Traces exporter %q is none of otlp, console (stdout) and none", ErrInvalidConfig, cfg.Traces)
	}

	t := &Telemetry{}
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	interval := sdkmetric.WithInterval(cfg.MetricInterval)
	switch cfg.Metrics {
	case ExporterOTLP:
		exp, err := otlpmetrichttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: OTLP metric exporter: %w", err)
		}
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, interval)))
	case ExporterStdout:
		exp, err := stdoutmetric.New(stdoutmetric.WithWriter(cfg.Stdout))
		if err != nil {
			return nil, err
		}
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, interval)))
	case ExporterPrometheus:
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, fmt.Errorf("observe: prometheus exporter: %w", err)
		}
		mopts = append(mopts, sdkmetric.WithReader(exp))
		t.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	case ExporterNone:
	default:
		return nil, fmt.Errorf("%w: Metrics exporter %q is none of otlp, console (stdout), prometheus and none", ErrInvalidConfig, cfg.Metrics)
	}

	t.TracerProvider = sdktrace.NewTracerProvider(topts...)
	t.MeterProvider = sdkmetric.NewMeterProvider(mopts...)
	if _, err := RuntimeMetrics(t.MeterProvider); err != nil {
		return nil, err
	}
	otel.SetTracerProvider(t.TracerProvider)
	otel.SetMeterProvider(t.MeterProvider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return t, nil
}

func withEnv(cfg Config) (Config, error) {
	env := func(v *string, name, def string) {
		if *v == "" {
			*v = os.Getenv(name)
		}
		if *v == "" {
			*v = def
		}
	}
	env(&cfg.ServiceName, "OTEL_SERVICE_NAME", "unknown_service")
	env(&cfg.Traces, "OTEL_TRACES_EXPORTER", ExporterNone)
	env(&cfg.Metrics, "OTEL_METRICS_EXPORTER", ExporterNone)
	cfg.Traces, cfg.Metrics = normalizeExporter(cfg.Traces), normalizeExporter(cfg.Metrics)
	if cfg.SampleRatio == nil {
		if s := os.Getenv("OTEL_TRACES_SAMPLER_ARG"); s != "" {
			r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				// A typo must not silently sample everything.
				return cfg, fmt.Errorf("%w: OTEL_TRACES_SAMPLER_ARG %q is not a number", ErrInvalidConfig, s)
			}
			cfg.SampleRatio = &r
		}
	}
	if cfg.MetricInterval < 0 {
		return cfg, fmt.Errorf("%w: MetricInterval %v is negative", ErrInvalidConfig, cfg.MetricInterval)
	}
	if cfg.MetricInterval == 0 {
		cfg.MetricInterval = 30 * time.Second
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	return cfg, nil
}

// normalizeExporter accepts "stdout" for "console"; the environment
// variables allow a list, of which the first is used.
func normalizeExporter(s string) string {
	s, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(s)), ",")
	if s == "stdout" {
		return ExporterStdout
	}
	return s
}

func resourceAttrs(cfg Config) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attribute.String("service.name", cfg.ServiceName)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	if cfg.Environment != "" {
		attrs = append(attrs, attribute.String("deployment.environment.name", cfg.Environment))
	}
	return attrs
}
