package observe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The adapters turn the hooks of Bedrock's packages into OpenTelemetry
// metrics. Each one builds its instruments once and precomputes every
// attribute set it can record, so that a hook call is an allocation-free
// instrument update: the attribute values come from small fixed sets
// (states, reason classes, names chosen in code), never from keys, ids,
// paths or error text, which would make the number of series unbounded.

// attrErrorType is the semantic-convention key for a low-cardinality error
// class.
const attrErrorType = attribute.Key("error.type")

// instruments creates instruments on one meter and collects the
// failures, so that an adapter can build all its instruments and check
// once.
type instruments struct {
	m   metric.Meter
	err error
}

func newInstruments(mp metric.MeterProvider) *instruments {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return &instruments{m: mp.Meter(instrumentation)}
}

func (b *instruments) counter(name, unit, desc string) metric.Int64Counter {
	c, err := b.m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.err = errors.Join(b.err, err)
	return c
}

func (b *instruments) duration(name, desc string) metric.Float64Histogram {
	h, err := b.m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
		// The boundaries the semantic conventions recommend for
		// durations, in seconds.
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	b.err = errors.Join(b.err, err)
	return h
}

// check wraps the creation failures, if any, for the adapter named what.
func (b *instruments) check(what string) error {
	if b.err != nil {
		return fmt.Errorf("observe: creating the %s instruments: %w", what, b.err)
	}
	return nil
}

// An errorClass maps the errors matching err (with errors.Is) to a reason.
type errorClass struct {
	err    error
	reason string
}

// classifier maps errors to precomputed attribute sets, one per class,
// trying the classes in order; unmatched errors get the fallback set.
type classifier struct {
	classes  []errorClass
	sets     []countOpts
	fallback countOpts
}

// countOpts holds the ready-made option slices of one attribute set.
type countOpts struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

func optsOf(kvs ...attribute.KeyValue) countOpts {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return countOpts{add: []metric.AddOption{o}, record: []metric.RecordOption{o}}
}

// newClassifier builds one set per class from base plus key=reason.
func newClassifier(key attribute.Key, fallback string, classes []errorClass, base ...attribute.KeyValue) *classifier {
	c := &classifier{classes: classes, sets: make([]countOpts, len(classes))}
	with := func(reason string) countOpts {
		kvs := append(append([]attribute.KeyValue(nil), base...), key.String(reason))
		return optsOf(kvs...)
	}
	for i, cl := range classes {
		c.sets[i] = with(cl.reason)
	}
	c.fallback = with(fallback)
	return c
}

func (c *classifier) of(err error) countOpts { return c.at(c.index(err)) }

// index is the position of err's class, len(classes) for the fallback.
func (c *classifier) index(err error) int {
	for i := range c.classes {
		if errors.Is(err, c.classes[i].err) {
			return i
		}
	}
	return len(c.classes)
}

func (c *classifier) at(i int) countOpts {
	if i < len(c.sets) {
		return c.sets[i]
	}
	return c.fallback
}

// withContextClasses appends the classes of the two context errors, which
// an adapter that sees callers' errors must tell apart from real failures.
func withContextClasses(classes ...errorClass) []errorClass {
	return append(classes, errorClass{context.Canceled, "canceled"},
		errorClass{context.DeadlineExceeded, "deadline_exceeded"})
}

// maxDynamicSets bounds the attribute sets a boundedSets creates: values
// chosen in code (limit names) stay far below it, and a misuse that feeds
// it unbounded values costs one overflow series instead of a memory leak
// in every exporter.
const maxDynamicSets = 256

// boundedSets caches the attribute sets of values known only at run time
// but bounded by configuration (such as the names of rate limits). Reads
// are a lock-free map lookup; a new value copies the map once. Past
// maxDynamicSets values, fold maps each new value to one of a small fixed
// set (the same value with its configured name replaced by "_OTHER"), so
// the other attributes keep their meaning.
type boundedSets[K comparable] struct {
	cur   atomic.Pointer[map[K]countOpts]
	mu    sync.Mutex
	build func(K) countOpts
	fold  func(K) K
}

func newBoundedSets[K comparable](build func(K) countOpts, fold func(K) K) *boundedSets[K] {
	return &boundedSets[K]{build: build, fold: fold}
}

func (b *boundedSets[K]) get(k K) countOpts {
	if m := b.cur.Load(); m != nil {
		if o, ok := (*m)[k]; ok {
			return o
		}
	}
	return b.add(k)
}

func (b *boundedSets[K]) add(k K) countOpts {
	b.mu.Lock()
	defer b.mu.Unlock()
	var old map[K]countOpts
	if m := b.cur.Load(); m != nil {
		old = *m
	}
	if o, ok := old[k]; ok {
		return o
	}
	if len(old) >= maxDynamicSets {
		// The folded values may take the map a little past the bound: they
		// are few and fixed.
		k = b.fold(k)
		if o, ok := old[k]; ok {
			return o
		}
	}
	m := make(map[K]countOpts, len(old)+1)
	for kk, o := range old {
		m[kk] = o
	}
	o := b.build(k)
	m[k] = o
	b.cur.Store(&m)
	return o
}

// errorTypeOf is the error.type value of an error seen by a caller:
// canceled, deadline_exceeded or _OTHER.
func errorTypeOf(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "_OTHER"
}
