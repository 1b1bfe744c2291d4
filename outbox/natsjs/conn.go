package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
	"github.com/nats-io/nats.go"
)

// ErrDisconnected reports, from [Publisher.Check], a NATS connection that
// is not connected now: reconnecting after an outage, or closed for good.
var ErrDisconnected = errors.New("natsjs: disconnected")

// Defaults of [ConnConfig].
const (
	DefaultReconnectWait    = 100 * time.Millisecond
	DefaultMaxReconnectWait = 5 * time.Second
	DefaultPingInterval     = 10 * time.Second
)

// ConnConfig configures the connection options [ConnOptions] returns. Every
// zero field has the documented default.
type ConnConfig struct {
	// ReconnectWait is the delay after the first failed reconnection; it
	// doubles with each further failure up to MaxReconnectWait, with equal
	// jitter so that many instances do not reconnect in step. 100ms and 5s
	// when zero; MaxReconnectWait must not be below ReconnectWait.
	ReconnectWait, MaxReconnectWait time.Duration
	// PingInterval is how often the client pings the server; two
	// unanswered pings mark the connection stale and start reconnecting, so
	// a silent partition is noticed within about twice this. 10s when zero
	// (nats.go's own default, two minutes, notices it after four).
	PingInterval time.Duration
	// Hooks observe the connection.
	Hooks ConnHooks
}

// ConnHooks observe a NATS connection built with [ConnOptions]. Every field
// may be nil; they run on nats.go's callback goroutine and must not block.
type ConnHooks struct {
	// OnDisconnect is called when the connection is lost, with the reason
	// (nil for a clean close).
	OnDisconnect func(err error)
	// OnReconnectError is called for every failed reconnection attempt.
	OnReconnectError func(err error)
	// OnReconnect is called when the connection is back, with the URL of
	// the server it reached.
	OnReconnect func(url string)
	// OnClosed is called when the connection is closed for good: only by
	// nc.Close or Drain, since these options never stop reconnecting.
	OnClosed func()
}

// ConnOptions returns the nats.Options that Bedrock recommends for a
// connection an outbox publishes or consumes on: reconnect forever (nats.go
// gives up after 60 attempts by default, about two minutes, and then the
// connection is closed for good and every publish fails), with exponential
// backoff and jitter between attempts, a ping interval that notices a
// silent partition within seconds, and the hooks called on every
// disconnection, failed attempt and reconnection, so that they can be
// logged and counted. Pass them to nats.Connect, followed by any option of
// the caller's (a later option wins). It returns an error wrapping
// ErrInvalidConfig for a bad configuration.
//
// Register [Publisher.Check] with the service's health so that an outage is
// visible in readiness rather than only as a growing outbox.
func ConnOptions(cfg ConnConfig) ([]nats.Option, error) {
	if cfg.ReconnectWait < 0 || cfg.MaxReconnectWait < 0 || cfg.PingInterval < 0 {
		return nil, fmt.Errorf("%w: negative ReconnectWait, MaxReconnectWait or PingInterval", ErrInvalidConfig)
	}
	if cfg.ReconnectWait == 0 {
		cfg.ReconnectWait = DefaultReconnectWait
	}
	if cfg.MaxReconnectWait == 0 {
		cfg.MaxReconnectWait = max(DefaultMaxReconnectWait, cfg.ReconnectWait)
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.MaxReconnectWait < cfg.ReconnectWait {
		return nil, fmt.Errorf("%w: MaxReconnectWait %v is below ReconnectWait %v",
			ErrInvalidConfig, cfg.MaxReconnectWait, cfg.ReconnectWait)
	}
	delay := backoff.Exponential{Initial: cfg.ReconnectWait, Max: cfg.MaxReconnectWait, Jitter: backoff.EqualJitter}
	h := cfg.Hooks
	return []nats.Option{
		nats.MaxReconnects(-1),
		// Called after every pass over the server list; attempts counts
		// the passes, from 1.
		nats.CustomReconnectDelay(func(attempts int) time.Duration { return delay.Delay(attempts-1, nil) }),
		nats.PingInterval(cfg.PingInterval),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if h.OnDisconnect != nil {
				h.OnDisconnect(err)
			}
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			if h.OnReconnectError != nil {
				h.OnReconnectError(err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			if h.OnReconnect != nil {
				h.OnReconnect(nc.ConnectedUrlRedacted())
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			if h.OnClosed != nil {
				h.OnClosed()
			}
		}),
	}, nil
}

// Check reports whether the publisher's NATS connection is connected now:
// nil when it is, an error matching [ErrDisconnected] and naming the state
// (RECONNECTING, CLOSED, ...) when it is not. It has the shape of an
// observe.Check: register it as a readiness check (non-critical if the
// service should keep serving while the outbox holds the events).
func (p *Publisher) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nc := p.js.Conn()
	if nc == nil {
		return fmt.Errorf("%w: no connection", ErrDisconnected)
	}
	if s := nc.Status(); s != nats.CONNECTED {
		if err := nc.LastError(); err != nil {
			return fmt.Errorf("%w: %v: %w", ErrDisconnected, s, err)
		}
		return fmt.Errorf("%w: %v", ErrDisconnected, s)
	}
	return nil
}
