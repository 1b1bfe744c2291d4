package natsjsobserve

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/outbox/natsjs"
)

// attrConnection names the connection in every metric.
const attrConnection = attribute.Key("bedrock.nats.connection")

// ConnHooks returns hooks that count the events of the NATS connection
// called name (a constant: it becomes the bedrock.nats.connection
// attribute). A nil mp means the global provider.
//
// Metrics:
//   - bedrock.nats.disconnects ({disconnect}, counter): connections lost.
//   - bedrock.nats.reconnect_errors ({attempt}, counter): reconnection
//     attempts that failed; a rate that stays up is an outage.
//   - bedrock.nats.reconnects ({reconnect}, counter): connections
//     restored.
//   - bedrock.nats.closed ({close}, counter): connections closed for good.
//
// Whether the connection is up now is natsjs.Publisher.Check, for health.
// It fails only if the instruments cannot be created.
func ConnHooks(mp metric.MeterProvider, name string) (natsjs.ConnHooks, error) {
	b := otelhook.New(mp, "natsjsobserve")
	disconnects := b.Counter("bedrock.nats.disconnects", "{disconnect}", "NATS connections lost.")
	failed := b.Counter("bedrock.nats.reconnect_errors", "{attempt}", "NATS reconnection attempts that failed.")
	reconnects := b.Counter("bedrock.nats.reconnects", "{reconnect}", "NATS connections restored.")
	closed := b.Counter("bedrock.nats.closed", "{close}", "NATS connections closed for good.")
	if err := b.Check("conn"); err != nil {
		return natsjs.ConnHooks{}, err
	}
	o := otelhook.OptsOf(attrConnection.String(name))
	return natsjs.ConnHooks{
		OnDisconnect:     func(error) { disconnects.Add(context.Background(), 1, o.Add...) },
		OnReconnectError: func(error) { failed.Add(context.Background(), 1, o.Add...) },
		OnReconnect:      func(string) { reconnects.Add(context.Background(), 1, o.Add...) },
		OnClosed:         func() { closed.Add(context.Background(), 1, o.Add...) },
	}, nil
}

// Logged returns h with log lines added: a lost connection at Warn, a
// restored one at Info, a connection closed for good at Error, and failed
// reconnection attempts at Warn, at most one line every 10 seconds with the
// count of attempts left out. The hooks already in h still run, after the
// logging. name is the connection's name; a nil log means slog.Default().
func Logged(h natsjs.ConnHooks, log *slog.Logger, name string) natsjs.ConnHooks {
	if log == nil {
		log = slog.Default()
	}
	conn := slog.String("connection", name)
	attempts := &otelhook.Sampler{Every: 10 * time.Second}
	onDisconnect, onFailed, onReconnect, onClosed := h.OnDisconnect, h.OnReconnectError, h.OnReconnect, h.OnClosed
	h.OnDisconnect = func(err error) {
		log.LogAttrs(context.Background(), slog.LevelWarn, "nats disconnected, reconnecting", conn, slog.Any("error", err))
		if onDisconnect != nil {
			onDisconnect(err)
		}
	}
	h.OnReconnectError = func(err error) {
		if skipped, ok := attempts.Allow(time.Now()); ok {
			log.LogAttrs(context.Background(), slog.LevelWarn, "nats still unreachable", conn,
				slog.Any("error", err), slog.Int("suppressed", skipped))
		}
		if onFailed != nil {
			onFailed(err)
		}
	}
	h.OnReconnect = func(url string) {
		log.LogAttrs(context.Background(), slog.LevelInfo, "nats reconnected", conn, slog.String("url", url))
		if onReconnect != nil {
			onReconnect(url)
		}
	}
	h.OnClosed = func() {
		log.LogAttrs(context.Background(), slog.LevelError, "nats connection closed", conn)
		if onClosed != nil {
			onClosed()
		}
	}
	return h
}
