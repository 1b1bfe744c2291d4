package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
	"github.com/bedrock-go/bedrock/outbox"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Errors of this package. Every error it returns wraps one of them.
var (
	// ErrInvalidConfig reports a bad Config, ConsumerConfig or Topology.
	ErrInvalidConfig = errors.New("rabbitmq: invalid config")
	// ErrUnroutable reports a message the broker returned because no queue
	// was bound for its routing key; the *UnroutableError wrapping it says
	// which. The relay retries such an event and dead-letters it after its
	// MaxAttempts: it is never dropped.
	ErrUnroutable = errors.New("rabbitmq: message unroutable")
	// ErrNacked reports a message the broker refused to take (a queue at
	// its length limit with overflow reject-publish, an internal error).
	ErrNacked = errors.New("rabbitmq: message nacked by the broker")
	// ErrUnavailable reports that the broker could not be reached, that it
	// blocks publishers (a memory or disk alarm), or that the connection or
	// channel closed before the broker confirmed a message. The message may have arrived; the relay publishes it again
	// and consumers drop the copy by message id.
	ErrUnavailable = errors.New("rabbitmq: broker unavailable")
	// ErrWindowFull reports a message that was not sent because the
	// in-flight window stayed full until the context ended: the broker
	// confirms more slowly than the relay publishes.
	ErrWindowFull = errors.New("rabbitmq: in-flight window full")
	// ErrMalformedMessage reports a delivery that is not an outbox message
	// (it has no message id).
	ErrMalformedMessage = errors.New("rabbitmq: malformed message")
	// ErrClosed is returned by Publish after Close.
	ErrClosed = errors.New("rabbitmq: publisher closed")
)

// UnroutableError is the error of a message returned by the broker as
// unroutable (AMQP basic.return to a mandatory publish). It wraps
// [ErrUnroutable].
type UnroutableError struct {
	MessageID  string
	Exchange   string
	RoutingKey string
	ReplyCode  uint16 // 312 NO_ROUTE
	ReplyText  string
}

// Error says which message came back, from which exchange and routing
// key, and the broker's reply.
func (e *UnroutableError) Error() string {
	return fmt.Sprintf("rabbitmq: message %s returned by exchange %q for routing key %q: %d %s",
		e.MessageID, e.Exchange, e.RoutingKey, e.ReplyCode, e.ReplyText)
}

// Unwrap returns [ErrUnroutable].
func (e *UnroutableError) Unwrap() error { return ErrUnroutable }

// Config configures a [Publisher]. Every zero field has the documented
// default; a zero Config publishes to the default exchange with the topic
// as routing key, that is to the queue named like the topic.
type Config struct {
	// Exchange receives every message; "" is the default exchange, which
	// routes a message to the queue named by its routing key. The exchange
	// must exist (declare it with a [Topology] or the broker's tools): a
	// publish to a missing one makes the broker close the channel, so the
	// batch fails with ErrUnavailable naming NOT_FOUND, and the relay
	// retries it.
	Exchange string
	// RoutingKey returns the routing key of a message; the topic when nil.
	// It must be a pure function of the message: the relay may publish an
	// event more than once and every copy must go where the first went.
	RoutingKey func(m outbox.Message) string
	// Transient publishes with delivery mode 1 (not persisted by the
	// broker). The default is persistent: the outbox deletes an event once
	// the broker confirmed it, so the broker's copy is the only one left.
	Transient bool
	// MaxInFlight bounds the messages sent and not yet confirmed, across
	// all concurrent Publish calls; 1000 when zero. A Publish that finds
	// the window full waits for confirmations (or its context).
	MaxInFlight int
	// DialTimeout bounds establishing one connection, and closing it;
	// 10s when zero.
	DialTimeout time.Duration
	// Heartbeat is the AMQP heartbeat interval, which detects a dead peer
	// on an idle connection; 10s when zero.
	Heartbeat time.Duration
	// ReconnectInitial and ReconnectMax shape the backoff between dial
	// attempts after the connection failed: 100ms and 10s when zero. Within
	// the backoff, Publish fails at once with ErrUnavailable rather than
	// dialling again.
	ReconnectInitial, ReconnectMax time.Duration
	// Hooks observe the publisher.
	Hooks Hooks
}

// Hooks observe a [Publisher]. Every field may be nil; a nil hook costs
// nothing. Hooks run on the publisher's goroutines and must not block.
type Hooks struct {
	// OnDial is called after every dial attempt with its error, nil when
	// the connection and channel are up.
	OnDial func(err error)
	// OnReturn is called for every message the broker returned as
	// unroutable.
	OnReturn func(err *UnroutableError)
}

func (c *Config) validate() error {
	switch {
	case c.MaxInFlight < 0:
		return fmt.Errorf("%w: MaxInFlight %d is negative", ErrInvalidConfig, c.MaxInFlight)
	case c.DialTimeout < 0 || c.Heartbeat < 0:
		return fmt.Errorf("%w: DialTimeout or Heartbeat is negative", ErrInvalidConfig)
	case c.ReconnectInitial < 0 || c.ReconnectMax < 0:
		return fmt.Errorf("%w: ReconnectInitial or ReconnectMax is negative", ErrInvalidConfig)
	case c.ReconnectInitial > 0 && c.ReconnectMax > 0 && c.ReconnectInitial > c.ReconnectMax:
		return fmt.Errorf("%w: ReconnectInitial %v exceeds ReconnectMax %v", ErrInvalidConfig, c.ReconnectInitial, c.ReconnectMax)
	case len(c.Exchange) > 255:
		return fmt.Errorf("%w: Exchange is longer than 255 bytes", ErrInvalidConfig)
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 1000
	}
	return nil
}

// dialer holds what a publisher and a consumer share: the URL, the dial
// settings and the reconnect backoff.
type dialer struct {
	url       string
	timeout   time.Duration
	heartbeat time.Duration
	retry     backoff.Exponential
	onDial    func(error)

	mu       sync.Mutex
	failures int
	retryAt  time.Time
	lastErr  error
}

func newDialer(url string, timeout, heartbeat, initial, max time.Duration, onDial func(error)) (*dialer, error) {
	if url == "" {
		return nil, fmt.Errorf("%w: empty URL", ErrInvalidConfig)
	}
	if _, err := amqp.ParseURI(url); err != nil {
		// The parser's message may quote the URL, password included.
		return nil, fmt.Errorf("%w: URL is not an amqp:// or amqps:// URL", ErrInvalidConfig)
	}
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if heartbeat == 0 {
		heartbeat = 10 * time.Second
	}
	return &dialer{url: url, timeout: timeout, heartbeat: heartbeat, onDial: onDial,
		retry: backoff.Exponential{Initial: initial, Max: max, Jitter: backoff.EqualJitter}}, nil
}

// dial connects, unless an earlier failure's backoff has not passed yet.
func (d *dialer) dial(ctx context.Context) (*amqp.Connection, error) {
	d.mu.Lock()
	if wait := time.Until(d.retryAt); wait > 0 {
		err := d.lastErr
		d.mu.Unlock()
		return nil, fmt.Errorf("%w: reconnecting in %v after: %w", ErrUnavailable, wait.Round(time.Millisecond), err)
	}
	d.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := amqp.DialConfig(d.url, amqp.Config{
		Dial: d.dialContext(ctx), Heartbeat: d.heartbeat, Properties: amqp.NewConnectionProperties(),
	})
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // cancellation is not the broker's failure
	}
	d.settle(err)
	if err != nil {
		return nil, fmt.Errorf("%w: dial: %w", ErrUnavailable, redactErr(err, d.url))
	}
	return conn, nil
}

// dialContext is amqp.DefaultDial with ctx: the TCP connect ends with ctx,
// and the deadline bounds the TLS and AMQP handshakes, which the client
// library clears once the connection is open.
func (d *dialer) dialContext(ctx context.Context) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{Timeout: d.timeout}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		deadline := time.Now().Add(d.timeout)
		if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
			deadline = dl
		}
		if err := conn.SetDeadline(deadline); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// settle records the outcome of a connection attempt (a dial, or the
// channel set-up after it).
func (d *dialer) settle(err error) {
	d.mu.Lock()
	if err == nil {
		d.failures, d.retryAt, d.lastErr = 0, time.Time{}, nil
	} else {
		d.retryAt = time.Now().Add(d.retry.Delay(d.failures, nil))
		d.failures++
		d.lastErr = err
	}
	d.mu.Unlock()
	if d.onDial != nil {
		d.onDial(err)
	}
}

// redactErr keeps the URL's password out of an error message.
func redactErr(err error, url string) error {
	u, perr := amqp.ParseURI(url)
	if perr != nil || u.Password == "" || !strings.Contains(err.Error(), u.Password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), u.Password, "xxxxx"))
}

// Publisher publishes outbox messages to RabbitMQ with publisher confirms
// and the mandatory flag, and reports a message acknowledged only once the
// broker confirmed it and did not return it as unroutable. Its one method
// is [Publisher.Publish], which the relay calls; [Publisher.Close] ends
// it. It is safe for concurrent use.
//
// It keeps one connection with one confirm-mode channel. When either
// closes, the messages awaiting confirmation fail with ErrUnavailable and
// the next Publish dials again, no sooner than the reconnect backoff allows.
type Publisher struct {
	cfg    Config
	dialer *dialer
	window chan struct{}

	mu     sync.Mutex
	sess   *session
	closed bool
}

// New returns a Publisher to the broker at url (amqp://user:pass@host:port/vhost),
// or an error wrapping ErrInvalidConfig. It does not connect: the first
// Publish does.
func New(url string, cfg Config) (*Publisher, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d, err := newDialer(url, cfg.DialTimeout, cfg.Heartbeat, cfg.ReconnectInitial, cfg.ReconnectMax, cfg.Hooks.OnDial)
	if err != nil {
		return nil, err
	}
	return &Publisher{cfg: cfg, dialer: d, window: make(chan struct{}, cfg.MaxInFlight)}, nil
}

// RoutingKey returns the routing key m is published with.
func (p *Publisher) RoutingKey(m outbox.Message) string {
	if p.cfg.RoutingKey != nil {
		return p.cfg.RoutingKey(m)
	}
	return m.Topic
}

// Publish sends msgs in slice order on one channel, so that a queue
// receives them in that order, and waits until the broker confirmed each
// one or ctx ends. A message the broker returned as unroutable fails with
// an *UnroutableError, one it nacked with ErrNacked, one not confirmed
// because the connection closed with ErrUnavailable; a partial failure is
// an *outbox.PublishError. Publish never reports a message acknowledged
// before its confirmation arrived.
func (p *Publisher) Publish(ctx context.Context, msgs []outbox.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	s, err := p.session(ctx)
	if err != nil {
		return err
	}
	mode := amqp.Persistent
	if p.cfg.Transient {
		mode = amqp.Transient
	}
	results := make([]chan error, len(msgs))
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(msgs))
		}
		errs[i] = err
	}
	for i := range msgs {
		select {
		case p.window <- struct{}{}:
		default:
			select {
			case p.window <- struct{}{}:
			case <-ctx.Done():
				for j := i; j < len(msgs); j++ {
					fail(j, fmt.Errorf("rabbitmq: %s not sent: %w: %w", msgs[j].ID, ErrWindowFull, ctx.Err()))
				}
				return p.wait(ctx, msgs, results, errs)
			}
		}
		ch, err := s.publish(p.cfg.Exchange, p.RoutingKey(msgs[i]), &msgs[i], mode)
		if err != nil {
			<-p.window
			fail(i, fmt.Errorf("rabbitmq: publish %s: %w", msgs[i].ID, err))
			continue
		}
		results[i] = ch
	}
	return p.wait(ctx, msgs, results, errs)
}

// wait collects the confirmations of one Publish call.
func (p *Publisher) wait(ctx context.Context, msgs []outbox.Message, results []chan error, errs []error) error {
	for i, ch := range results {
		if ch == nil {
			continue
		}
		var err error
		select {
		case err = <-ch:
		case <-ctx.Done():
			err = fmt.Errorf("rabbitmq: %s not confirmed: %w", msgs[i].ID, ctx.Err())
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(msgs))
			}
			errs[i] = err
		}
	}
	if errs == nil {
		return nil
	}
	return &outbox.PublishError{Errs: errs}
}

// session returns the live session, dialling a new one if needed.
func (p *Publisher) session(ctx context.Context) (*session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.sess != nil && !p.sess.isDone() {
		return p.sess, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := p.dialer.dial(ctx)
	if err != nil {
		return nil, err
	}
	s, err := newSession(conn, p.window, p.cfg.Hooks.OnReturn, p.dialer.timeout)
	if err != nil {
		_ = conn.Close()
		p.dialer.settle(err)
		return nil, fmt.Errorf("%w: open confirm channel: %w", ErrUnavailable, err)
	}
	p.sess = s
	return s, nil
}

// Close closes the connection. Messages still awaiting confirmation fail
// with ErrUnavailable; Publish returns ErrClosed afterwards.
func (p *Publisher) Close() error {
	p.mu.Lock()
	s := p.sess
	p.closed, p.sess = true, nil
	p.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.close()
}
