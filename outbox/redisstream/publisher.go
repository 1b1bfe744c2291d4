package redisstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/internal/redisclient"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/redis/go-redis/v9"
)

// ErrInvalidConfig reports a bad Config or ConsumerConfig.
var ErrInvalidConfig = errors.New("redisstream: invalid config")

// Stream entry fields written by the publisher and read by the consumer.
const (
	FieldID      = "id"
	FieldTopic   = "topic"
	FieldKey     = "key"
	FieldPayload = "payload"
	FieldHeaders = "headers"
)

// Config configures a [Publisher]. The zero value writes each topic to its
// own stream "{topic}", keeps streams unbounded and de-duplicates message
// ids for 10 minutes.
type Config struct {
	// Prefix is prepended to every key, e.g. "events:".
	Prefix string
	// Stream, when set, sends every topic to the one stream Prefix+"{Stream}"
	// (the topic is a field of each entry). When empty each topic goes to
	// Prefix+"{topic}". The braces are a Redis Cluster hash tag: the stream
	// and its de-duplication markers share a slot. Inside them '%', '{' and
	// '}' of a topic are written %25, %7B and %7D and an empty name is "%",
	// so any topic is a valid tag of its own; [Publisher.StreamKey] says
	// which key a topic goes to.
	Stream string
	// MaxLen trims streams with XADD MAXLEN ~ MaxLen; 0 means no trimming.
	MaxLen int64
	// DedupeWindow is how long a message id is remembered so that a
	// republished message is not appended twice; 10m when zero. It must
	// exceed the relay's worst redelivery delay to be exact.
	DedupeWindow time.Duration
	// DisableDedupe appends every publish, leaving duplicates to the
	// consumer's inbox; it saves one small key per message.
	DisableDedupe bool
}

// Publisher appends outbox messages to Redis Streams with one pipelined
// round trip per batch. It is safe for concurrent use.
type Publisher struct {
	client redis.UniversalClient
	cfg    Config
	window int64 // milliseconds; 0 when dedupe is off
}

// The marker is set after XADD succeeded, so a failed XADD (which aborts
// the script) leaves no marker that would hide the retry.
var xaddScript = redis.NewScript(`
if ARGV[1] ~= '0' and redis.call('EXISTS', KEYS[2]) == 1 then
  return false
end
local id
if ARGV[2] ~= '0' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
else
  id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
end
if ARGV[1] ~= '0' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
end
return id
`)

// New returns a Publisher, or an error wrapping ErrInvalidConfig. A
// go-redis client must set ContextTimeoutEnabled, as every Redis-backed
// package of Bedrock requires: without it the relay's PublishTimeout and
// its shutdown cannot interrupt a slow Redis.
func New(client redis.UniversalClient, cfg Config) (*Publisher, error) {
	if err := redisclient.Check(client, ErrInvalidConfig); err != nil {
		return nil, err
	}
	if cfg.MaxLen < 0 || cfg.DedupeWindow < 0 {
		return nil, fmt.Errorf("%w: negative MaxLen or DedupeWindow", ErrInvalidConfig)
	}
	if cfg.DedupeWindow == 0 {
		cfg.DedupeWindow = 10 * time.Minute
	}
	p := &Publisher{client: client, cfg: cfg}
	if !cfg.DisableDedupe {
		p.window = cfg.DedupeWindow.Milliseconds()
	}
	return p, nil
}

// StreamKey returns the key of the stream that messages of topic go to.
func (p *Publisher) StreamKey(topic string) string {
	if p.cfg.Stream != "" {
		topic = p.cfg.Stream
	}
	// HashTag escapes braces (and never yields an empty tag), so the
	// stream and its markers share a slot whatever the topic, and two
	// topics never share a stream.
	return p.cfg.Prefix + "{" + redisclient.HashTag(topic) + "}"
}

// Publish appends msgs in order. A partial failure returns an
// *outbox.PublishError saying which entries were appended.
func (p *Publisher) Publish(ctx context.Context, msgs []outbox.Message) error {
	err := p.publish(ctx, msgs)
	if err != nil && strings.Contains(err.Error(), "NOSCRIPT") {
		// A flushed or new server: load the script and publish again; the
		// markers make the entries already appended no-ops.
		if lerr := xaddScript.Load(ctx, p.client).Err(); lerr != nil {
			return fmt.Errorf("redisstream: load script: %w", lerr)
		}
		err = p.publish(ctx, msgs)
	}
	return err
}

func (p *Publisher) publish(ctx context.Context, msgs []outbox.Message) error {
	pipe := p.client.Pipeline()
	cmds := make([]*redis.Cmd, len(msgs))
	window := fmt.Sprint(p.window)
	maxLen := fmt.Sprint(p.cfg.MaxLen)
	for i, m := range msgs {
		stream := p.StreamKey(m.Topic)
		args := []any{window, maxLen, FieldID, m.ID, FieldTopic, m.Topic, FieldKey, m.Key, FieldPayload, m.Payload}
		if len(m.Headers) > 0 {
			h, err := json.Marshal(m.Headers)
			if err != nil {
				return fmt.Errorf("redisstream: headers of %s: %w", m.ID, err)
			}
			args = append(args, FieldHeaders, h)
		}
		cmds[i] = xaddScript.EvalSha(ctx, pipe, []string{stream, stream + ":id:" + m.ID}, args...)
	}
	_, _ = pipe.Exec(ctx) // per-command errors are inspected below
	var errs []error
	for i, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) { // Nil: a duplicate
			if errs == nil {
				errs = make([]error, len(msgs))
			}
			errs[i] = fmt.Errorf("redisstream: xadd %s: %w", msgs[i].ID, err)
		}
	}
	if errs == nil {
		return nil
	}
	return &outbox.PublishError{Errs: errs}
}
