// Package events is the service's event flow: orders enqueue order.placed
// in their transaction (the outbox), a relay publishes it to the broker
// (Redis Streams, NATS JetStream or RabbitMQ: EVENTS_BROKER), and a
// consumer of that broker, behind an inbox, handles each event exactly
// once.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/observe/outboxobserve"
	"github.com/bedrock-go/bedrock/outbox"
)

// TopicOrderPlaced is the topic of OrderPlaced events.
const TopicOrderPlaced = "order.placed"

// OrderPlaced is the payload of an order.placed event.
type OrderPlaced struct {
	OrderID    int64       `json:"order_id"`
	UserID     string      `json:"user_id"`
	TotalCents int64       `json:"total_cents"`
	Items      []OrderLine `json:"items"`
}

// OrderLine is one line of an OrderPlaced event.
type OrderLine struct {
	ProductID int64 `json:"product_id"`
	Quantity  int64 `json:"quantity"`
}

// Flow runs the relay and the consumer until Close.
type Flow struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	broker *Broker
}

// Start starts the relay to broker and the consumer of broker, which the
// Flow then owns (its Close closes it); the outbox and inbox tables are
// migrated with the service's schema (app.New), before. afterApply runs after an event's effects committed, with the
// products it changed (to invalidate caches).
//
// When also is not nil (NATS JetStream, when NATS_URL is set with the
// Redis broker), every event is published there too, after the broker.
func Start(ctx context.Context, pool *pgxpool.Pool, broker *Broker, log *slog.Logger,
	mp metric.MeterProvider, also outbox.Publisher, afterApply func(ctx context.Context, productIDs []int64)) (*Flow, error) {
	pub := broker.Publisher
	hooks, err := outboxobserve.Hooks(mp, "orders")
	if err != nil {
		return nil, err
	}
	relay, err := outbox.NewRelay(pool, fanOut(pub, also), outbox.RelayConfig{Hooks: hooks})
	if err != nil {
		return nil, err
	}
	inbox, err := outbox.NewInbox(outbox.InboxConfig{})
	if err != nil {
		return nil, err
	}
	apply := inbox.Handle(pool, func(ctx context.Context, tx pgx.Tx, m outbox.Message) error {
		var e OrderPlaced
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			return err
		}
		for _, it := range e.Items {
			if _, err := tx.Exec(ctx, `UPDATE products SET units_sold = units_sold + $2, version = version + 1, updated_at = now() WHERE id = $1`,
				it.ProductID, it.Quantity); err != nil {
				return err
			}
		}
		// Sending mail is out of scope: the log line stands for it. It runs
		// inside the inbox transaction, so once per event.
		log.InfoContext(ctx, "order confirmation email", slog.Int64("order", e.OrderID), slog.String("user", e.UserID),
			slog.Int64("total_cents", e.TotalCents))
		return nil
	})
	handler := func(ctx context.Context, m outbox.Message) error {
		if err := apply(ctx, m); err != nil {
			return err
		}
		var e OrderPlaced
		if json.Unmarshal(m.Payload, &e) == nil {
			ids := make([]int64, len(e.Items))
			for i, it := range e.Items {
				ids[i] = it.ProductID
			}
			afterApply(ctx, ids)
		}
		return nil
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &Flow{cancel: cancel, broker: broker}
	f.wg.Add(2)
	go func() {
		defer f.wg.Done()
		if err := relay.Run(runCtx); err != nil {
			log.Error("outbox relay stopped", slog.Any("error", err))
		}
	}()
	go func() {
		defer f.wg.Done()
		if err := broker.consume(runCtx, handler); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("order.placed consumer stopped", slog.Any("error", err))
		}
	}()
	return f, nil
}

// Close stops the relay and the consumer and waits for them (the relay
// finishes its in-flight batch first), then closes the broker.
func (f *Flow) Close() error {
	f.cancel()
	f.wg.Wait()
	f.broker.Close()
	return nil
}

// fanOut publishes to first, then to second when it is not nil. A failure
// of first acknowledges nothing (its partial acknowledgements are dropped),
// so that no event is marked published before both brokers have it; both
// publishers de-duplicate by message id, so the retry is harmless.
func fanOut(first, second outbox.Publisher) outbox.Publisher {
	if second == nil {
		return first
	}
	return outbox.PublisherFunc(func(ctx context.Context, msgs []outbox.Message) error {
		if err := first.Publish(ctx, msgs); err != nil {
			return fmt.Errorf("events: first broker: %v", err) //nolint:errorlint // %v on purpose: a *PublishError must not leak through
		}
		return second.Publish(ctx, msgs)
	})
}
