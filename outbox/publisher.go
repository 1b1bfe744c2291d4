package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Publisher sends a batch of messages to a broker and returns once the
// broker has acknowledged them. Publish must be idempotent per message ID
// (the relay delivers at least once) and must not retain msgs after it
// returns.
//
// A nil error means every message was acknowledged. A *PublishError says
// which ones were; any other error means none is considered acknowledged.
type Publisher interface {
	Publish(ctx context.Context, msgs []Message) error
}

// PublisherFunc adapts a function to [Publisher], for brokers without a
// dedicated package (Kafka, HTTP webhooks).
type PublisherFunc func(ctx context.Context, msgs []Message) error

// Publish calls f(ctx, msgs).
func (f PublisherFunc) Publish(ctx context.Context, msgs []Message) error { return f(ctx, msgs) }

// PublishError reports a partially acknowledged batch: Errs has one entry per
// message of the batch, nil for the acknowledged ones.
type PublishError struct {
	Errs []error
}

// Error counts the messages not acknowledged and quotes the first error.
func (e *PublishError) Error() string {
	failed := 0
	var first error
	for _, err := range e.Errs {
		if err != nil {
			if first == nil {
				first = err
			}
			failed++
		}
	}
	return fmt.Sprintf("outbox: %d of %d messages not acknowledged: %v", failed, len(e.Errs), first)
}

// Unwrap returns the per-message errors.
func (e *PublishError) Unwrap() []error { return e.Errs }

// errorFor returns the error of message i of a batch of n after Publish
// returned err.
func errorFor(err error, i, n int) error {
	if err == nil {
		return nil
	}
	var pe *PublishError
	if errors.As(err, &pe) && len(pe.Errs) == n {
		return pe.Errs[i]
	}
	return err
}

// MemoryPublisher keeps published messages in memory, for tests and
// examples. Like a broker with de-duplication it keeps the first copy of each
// ID and counts the others. The zero value is ready to use; it is safe for
// concurrent use.
type MemoryPublisher struct {
	// Fail, when set, is called for every message; a non-nil result makes
	// that message fail. It is read without locking: set it before use.
	Fail func(Message) error

	mu         sync.Mutex
	msgs       []Message
	seen       map[string]struct{}
	duplicates int
	notify     chan struct{}
}

// Publish records msgs.
func (p *MemoryPublisher) Publish(ctx context.Context, msgs []Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = make(map[string]struct{})
	}
	for i, m := range msgs {
		if p.Fail != nil {
			if err := p.Fail(m); err != nil {
				if errs == nil {
					errs = make([]error, len(msgs))
				}
				errs[i] = err
				continue
			}
		}
		if _, dup := p.seen[m.ID]; dup {
			p.duplicates++
			continue
		}
		p.seen[m.ID] = struct{}{}
		m.Payload = append([]byte(nil), m.Payload...)
		p.msgs = append(p.msgs, m)
	}
	if p.notify != nil {
		close(p.notify)
		p.notify = nil
	}
	if errs != nil {
		return &PublishError{Errs: errs}
	}
	return nil
}

// Messages returns a copy of the distinct messages published so far, in
// publication order.
func (p *MemoryPublisher) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.msgs...)
}

// Len returns the number of distinct messages published so far.
func (p *MemoryPublisher) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// Duplicates returns how many redelivered copies were dropped.
func (p *MemoryPublisher) Duplicates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.duplicates
}

// WaitLen blocks until at least n distinct messages were published or ctx
// ends.
func (p *MemoryPublisher) WaitLen(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		if len(p.msgs) >= n {
			p.mu.Unlock()
			return nil
		}
		if p.notify == nil {
			p.notify = make(chan struct{})
		}
		ch := p.notify
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
