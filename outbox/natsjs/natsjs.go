package natsjs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers that carry the outbox fields that are not the subject or body.
const (
	HeaderTopic = "Outbox-Topic"
	HeaderKey   = "Outbox-Key"
)

// Errors of this package.
var (
	// ErrInvalidConfig reports a bad Config or ConsumerConfig.
	ErrInvalidConfig = errors.New("natsjs: invalid config")
	// ErrMalformedMessage reports a message that has no Nats-Msg-Id.
	ErrMalformedMessage = errors.New("natsjs: malformed message")
)

// Config configures a [Publisher]. The zero value publishes each message on
// the subject named by its topic.
type Config struct {
	// SubjectPrefix is prepended to the topic to form the subject, e.g.
	// "events.". The stream must capture the resulting subjects.
	SubjectPrefix string
}

// Publisher publishes outbox messages to JetStream with Nats-Msg-Id set to
// the message id, so that the stream drops a republished message within its
// duplicate window, and waits for every acknowledgement. It is safe for
// concurrent use.
type Publisher struct {
	js  jetstream.JetStream
	cfg Config
}

// New returns a Publisher, or an error wrapping ErrInvalidConfig.
func New(js jetstream.JetStream, cfg Config) (*Publisher, error) {
	if js == nil {
		return nil, fmt.Errorf("%w: nil JetStream", ErrInvalidConfig)
	}
	if strings.ContainsAny(cfg.SubjectPrefix, " \t\r\n*>") {
		return nil, fmt.Errorf("%w: SubjectPrefix %q contains whitespace or wildcards", ErrInvalidConfig, cfg.SubjectPrefix)
	}
	return &Publisher{js: js, cfg: cfg}, nil
}

// Subject returns the subject messages of topic are published on.
func (p *Publisher) Subject(topic string) string { return p.cfg.SubjectPrefix + topic }

// Publish sends msgs asynchronously, in order, and waits for all the acks
// or ctx. A partial failure returns an *outbox.PublishError.
func (p *Publisher) Publish(ctx context.Context, msgs []outbox.Message) error {
	futures := make([]jetstream.PubAckFuture, len(msgs))
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(msgs))
		}
		errs[i] = fmt.Errorf("natsjs: publish %s: %w", msgs[i].ID, err)
	}
	for i, m := range msgs {
		nm := nats.NewMsg(p.Subject(m.Topic))
		nm.Data = m.Payload
		for k, v := range m.Headers {
			nm.Header.Set(k, v)
		}
		nm.Header.Set(HeaderTopic, m.Topic)
		if m.Key != "" {
			nm.Header.Set(HeaderKey, m.Key)
		}
		f, err := p.js.PublishMsgAsync(nm, jetstream.WithMsgID(m.ID))
		if err != nil {
			fail(i, err)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			fail(i, err)
		case <-ctx.Done():
			fail(i, ctx.Err())
		}
	}
	if errs == nil {
		return nil
	}
	return &outbox.PublishError{Errs: errs}
}

// Decode rebuilds the outbox message carried by a JetStream message.
func Decode(subject string, header nats.Header, data []byte) (outbox.Message, error) {
	m := outbox.Message{ID: header.Get(jetstream.MsgIDHeader), Topic: header.Get(HeaderTopic),
		Key: header.Get(HeaderKey), Payload: data}
	if m.ID == "" {
		return m, fmt.Errorf("%w: no %s header on %q", ErrMalformedMessage, jetstream.MsgIDHeader, subject)
	}
	if m.Topic == "" {
		m.Topic = subject
	}
	for k, v := range header {
		switch k {
		case jetstream.MsgIDHeader, HeaderTopic, HeaderKey:
			continue
		}
		if len(v) > 0 {
			if m.Headers == nil {
				m.Headers = make(map[string]string, len(header))
			}
			m.Headers[k] = v[0]
		}
	}
	return m, nil
}

// ConsumerConfig configures a [Consumer]; zero fields have the documented
// defaults.
type ConsumerConfig struct {
	// Batch bounds the messages fetched per pull; 100 when zero.
	Batch int
	// Workers is the number of messages handled at once: messages are
	// spread over the workers by key (Outbox-Key), so one key's messages
	// are handled one after another in stream order while different keys
	// proceed in parallel (keyless ones are spread by id). 8 when zero; 1
	// handles one message at a time.
	Workers int
	// MaxWait is how long a pull waits for messages; 1s when zero.
	MaxWait time.Duration
	// NakDelay is the redelivery delay after a handler error; 1s when zero.
	NakDelay time.Duration
	// Hooks observe the consumer; nil hooks cost nothing.
	Hooks ConsumerHooks
}

// ConsumerHooks observe a [Consumer]. Each hook is optional and runs on the
// consumer's goroutines, several at once when Workers is above 1; it must
// be safe for concurrent use and must not block.
type ConsumerHooks struct {
	// OnError receives handler, decoding and fetch errors.
	OnError func(err error)
}

// Consumer drives a durable pull consumer (create it with AckPolicy
// explicit): it hands each message to an outbox.Handler and acknowledges it
// (waiting for the server's confirmation) only after the handler returned
// nil, that is after its transaction committed; a handler error naks the
// message for redelivery after NakDelay. Malformed messages are terminated.
// Messages are handled by Workers goroutines partitioned by key; when one
// fails, the later messages of its key in the same pull are naked too,
// without being handled, so that the key's order holds on redelivery.
type Consumer struct {
	cons jetstream.Consumer
	cfg  ConsumerConfig
}

// NewConsumer returns a Consumer, or an error wrapping ErrInvalidConfig.
func NewConsumer(cons jetstream.Consumer, cfg ConsumerConfig) (*Consumer, error) {
	if cons == nil {
		return nil, fmt.Errorf("%w: nil consumer", ErrInvalidConfig)
	}
	if cfg.Batch < 0 || cfg.MaxWait < 0 || cfg.NakDelay < 0 || cfg.Workers < 0 {
		return nil, fmt.Errorf("%w: negative Batch, MaxWait, NakDelay or Workers", ErrInvalidConfig)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.Workers == 0 {
		cfg.Workers = 8
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = time.Second
	}
	if cfg.NakDelay == 0 {
		cfg.NakDelay = time.Second
	}
	return &Consumer{cons: cons, cfg: cfg}, nil
}

// Run consumes until ctx ends, then returns nil. A pull in progress when ctx
// ends finishes within MaxWait.
func (c *Consumer) Run(ctx context.Context, h outbox.Handler) error {
	for ctx.Err() == nil {
		batch, err := c.cons.Fetch(c.cfg.Batch, jetstream.FetchMaxWait(c.cfg.MaxWait))
		if err != nil {
			c.report(fmt.Errorf("natsjs: fetch: %w", err))
			pause(ctx, 100*time.Millisecond) // a down server is not spun on
			continue
		}
		c.dispatch(ctx, h, batch.Messages())
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			c.report(fmt.Errorf("natsjs: fetch: %w", err))
		}
	}
	return nil
}

// dispatch routes the messages of one pull, as they arrive, to workers by
// key, and returns when all are handled.
func (c *Consumer) dispatch(ctx context.Context, h outbox.Handler, msgs <-chan jetstream.Msg) {
	workers := make([]chan jetstream.Msg, c.cfg.Workers)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = make(chan jetstream.Msg, c.cfg.Batch)
		wg.Add(1)
		go func(in <-chan jetstream.Msg) {
			defer wg.Done()
			var failedKeys map[string]bool
			for msg := range in {
				c.handle(ctx, h, msg, &failedKeys)
			}
		}(workers[i])
	}
	for msg := range msgs {
		w := 0
		if len(workers) > 1 {
			key := msg.Headers().Get(HeaderKey)
			if key == "" {
				key = msg.Headers().Get(jetstream.MsgIDHeader)
			}
			w = int(fnv32(key) % uint32(len(workers)))
		}
		workers[w] <- msg
	}
	for _, w := range workers {
		close(w)
	}
	wg.Wait()
}

// fnv32 is 32-bit FNV-1a, to spread keys over workers.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// handle handles one message; failedKeys holds the keys of this worker that
// failed earlier in the pull, whose later messages are naked unhandled.
func (c *Consumer) handle(ctx context.Context, h outbox.Handler, msg jetstream.Msg, failedKeys *map[string]bool) {
	m, err := Decode(msg.Subject(), msg.Headers(), msg.Data())
	if err != nil {
		c.report(err)
		_ = msg.Term()
		return
	}
	if ctx.Err() != nil {
		_ = msg.Nak() // not handled: let another consumer have it now
		return
	}
	if m.Key != "" && (*failedKeys)[m.Key] {
		_ = msg.NakWithDelay(c.cfg.NakDelay) // behind its key's failed message
		return
	}
	if err := h(ctx, m); err != nil {
		c.report(fmt.Errorf("natsjs: handle %s: %w", m.ID, err))
		_ = msg.NakWithDelay(c.cfg.NakDelay)
		if m.Key != "" {
			if *failedKeys == nil {
				*failedKeys = map[string]bool{}
			}
			(*failedKeys)[m.Key] = true
		}
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		c.report(fmt.Errorf("natsjs: ack %s: %w", m.ID, err))
	}
}

func (c *Consumer) report(err error) {
	if h := c.cfg.Hooks.OnError; h != nil {
		h(err)
	}
}

func pause(ctx context.Context, d time.Duration) { _ = backoff.Sleep(ctx, d) }
