// Package events is the service's event flow: orders enqueue order.placed
// in their transaction (the outbox), a relay publishes it to the broker
// (Redis Streams, NATS JetStream or RabbitMQ: EVENTS_BROKER), and a
// consumer of that broker, behind an inbox, handles each event exactly
// once.
package events

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

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

// Flow runs the relays and the consumer until Close.
type Flow struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	broker *Broker
	writer *outbox.Writer
	lag    metric.Registration
	also   *Destination
}

// PublishTimeout bounds each relay's publication of a batch. A broker
// answers in milliseconds; one that does not (NATS reconnecting buffers
// publications until they time out) is logged and retried after this
// rather than the relay's default 30 s, and holds a shutdown no longer.
const PublishTimeout = 5 * time.Second

// Destination is a second broker that every event also goes to (NATS
// JetStream, when NATS_URL is set with the Redis broker). It has an outbox
// table and a relay of its own, so that each broker progresses on its own:
// an outage of one delays only its own events.
type Destination struct {
	// Name names the destination's table (outbox_events_<name>) and its
	// relay in logs and metrics; letters, digits and underscores.
	Name      string
	Publisher outbox.Publisher
	// Check reports whether the destination is reachable, for readiness;
	// nil when it cannot tell.
	Check func(ctx context.Context) error
	// Close releases the destination's connection, after its relay
	// stopped; nil when there is nothing to release.
	Close func()
}

// Table returns the outbox table of events bound for d.
func (d Destination) Table() string { return outbox.DefaultTable + "_" + d.Name }

// Start starts the relays and the consumer of broker, which the Flow then
// owns (its Close closes it). The outbox and inbox tables are migrated with
// the service's schema, under its lock (app.New); a second destination's
// table is migrated here (outbox.Migrate is safe from many instances at
// once). afterApply runs after an event's effects committed, with the
// products it changed (to invalidate caches).
//
// Every event goes to broker through the default outbox table and its
// relay and, when also is not nil, to also through a table and relay of
// its own (Flow.Writer writes each event into both, in the order's
// transaction).
func Start(ctx context.Context, pool *pgxpool.Pool, broker *Broker, log *slog.Logger,
	mp metric.MeterProvider, also *Destination, afterApply func(ctx context.Context, productIDs []int64)) (*Flow, error) {
	relays := map[string]*outbox.Relay{}
	tables := []string{outbox.DefaultTable}
	newRelay := func(name, table string, pub outbox.Publisher) error {
		hooks, err := outboxobserve.Hooks(mp, name)
		if err != nil {
			return err
		}
		relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{Table: table, PublishTimeout: PublishTimeout,
			Hooks: outboxobserve.Logged(hooks, log, name)})
		if err != nil {
			return err
		}
		relays[name] = relay
		return nil
	}
	if err := newRelay(broker.Kind, outbox.DefaultTable, broker.Publisher); err != nil {
		return nil, err
	}
	if also != nil {
		if err := outbox.Migrate(ctx, pool, outbox.MigrateConfig{Table: also.Table()}); err != nil {
			return nil, err
		}
		if err := newRelay(also.Name, also.Table(), also.Publisher); err != nil {
			return nil, err
		}
		tables = append(tables, also.Table())
	}
	writer, err := outbox.NewWriter(outbox.WriterConfig{Tables: tables})
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
		// The consumer handles several events at once (different orders in
		// parallel, each order's in turn): each runs in its own inbox
		// transaction, and the rows of products are locked in id order, as
		// orders lock them, so that two events sharing products wait for
		// each other instead of deadlocking.
		items := slices.Clone(e.Items)
		slices.SortFunc(items, func(a, b OrderLine) int { return cmp.Compare(a.ProductID, b.ProductID) })
		for _, it := range items {
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

	lag, err := broker.observeLag(mp)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &Flow{cancel: cancel, broker: broker, writer: writer, lag: lag, also: also}
	for name, relay := range relays {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			if err := relay.Run(runCtx); err != nil {
				log.Error("outbox relay stopped", slog.String("relay", name), slog.Any("error", err))
			}
		}()
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := broker.consume(runCtx, handler); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("order.placed consumer stopped", slog.Any("error", err))
		}
	}()
	return f, nil
}

// Writer writes an event into the outbox table of every destination, in
// the caller's transaction.
func (f *Flow) Writer() *outbox.Writer { return f.writer }

// Close stops the relays and the consumer and waits for them (each relay
// finishes its in-flight batch first), then closes the broker and the
// second destination.
func (f *Flow) Close() error {
	f.cancel()
	f.wg.Wait()
	var err error
	if f.lag != nil {
		err = f.lag.Unregister()
	}
	f.broker.Close()
	if f.also != nil && f.also.Close != nil {
		f.also.Close()
	}
	return err
}
