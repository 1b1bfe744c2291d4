package outboxobserve

import (
	"context"
	"log/slog"
	"time"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/outbox"
)

// Logged returns h with logging added to its failure hooks, so that a
// broker outage shows in the log as well as in the metrics: OnFailure (a
// publication that will be retried) and OnError (the relay's own failures,
// such as the database being down) log at Warn, at most one line per
// interval each, counting the lines left out; OnDeadLetter logs every
// message at Error with its id, since each needs an operator. The hooks
// already in h still run, after the logging. name is the relay's name, as
// given to [Hooks]; a nil log means slog.Default().
//
//	hooks, err := outboxobserve.Hooks(mp, "orders")
//	cfg.Hooks = outboxobserve.Logged(hooks, log, "orders")
func Logged(h outbox.Hooks, log *slog.Logger, name string) outbox.Hooks {
	if log == nil {
		log = slog.Default()
	}
	relay := slog.String("relay", name)
	failures := &otelhook.Sampler{Every: time.Second}
	errs := &otelhook.Sampler{Every: time.Second}
	onFailure, onError, onDead := h.OnFailure, h.OnError, h.OnDeadLetter
	h.OnFailure = func(m outbox.Message, err error, retryIn time.Duration) {
		if skipped, ok := failures.Allow(time.Now()); ok {
			log.LogAttrs(context.Background(), slog.LevelWarn, "outbox publish failed, will retry", relay,
				slog.String("topic", m.Topic), slog.Int("attempt", m.Attempt+1), slog.Duration("retry_in", retryIn),
				slog.Any("error", err), slog.Int("suppressed", skipped))
		}
		if onFailure != nil {
			onFailure(m, err, retryIn)
		}
	}
	h.OnError = func(err error) {
		if skipped, ok := errs.Allow(time.Now()); ok {
			log.LogAttrs(context.Background(), slog.LevelWarn, "outbox relay error", relay,
				slog.Any("error", err), slog.Int("suppressed", skipped))
		}
		if onError != nil {
			onError(err)
		}
	}
	h.OnDeadLetter = func(m outbox.Message, err error) {
		log.LogAttrs(context.Background(), slog.LevelError, "outbox message dead-lettered", relay,
			slog.String("id", m.ID), slog.String("topic", m.Topic), slog.Int("attempts", m.Attempt+1),
			slog.Any("error", err))
		if onDead != nil {
			onDead(m, err)
		}
	}
	return h
}
