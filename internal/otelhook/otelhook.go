package otelhook

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

// ScopePrefix is the import path of observe; an adapter's instrumentation
// scope is its own import path, ScopePrefix + "/" + its package name.
const ScopePrefix = "github.com/bedrock-go/bedrock/observe"

// AttrErrorType is the semantic-convention key for a low-cardinality error
// class.
const AttrErrorType = attribute.Key("error.type")

// Meter returns the meter of the adapter package pkg (such as
// "cacheobserve") on mp, the global provider when mp is nil.
func Meter(mp metric.MeterProvider, pkg string) metric.Meter {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return mp.Meter(ScopePrefix + "/" + pkg)
}

// Instruments creates instruments on one meter and collects the
// failures, so that an adapter can build all its instruments and check
// once.
type Instruments struct {
	m   metric.Meter
	pkg string
	err error
}

// New returns the instrument builder of the adapter package pkg on mp, the
// global provider when mp is nil.
func New(mp metric.MeterProvider, pkg string) *Instruments {
	return &Instruments{m: Meter(mp, pkg), pkg: pkg}
}

// Counter creates an int64 counter.
func (b *Instruments) Counter(name, unit, desc string) metric.Int64Counter {
	c, err := b.m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.err = errors.Join(b.err, err)
	return c
}

// Duration creates a histogram of durations in seconds.
func (b *Instruments) Duration(name, desc string) metric.Float64Histogram {
	h, err := b.m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
		// The boundaries the semantic conventions recommend for
		// durations, in seconds.
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	b.err = errors.Join(b.err, err)
	return h
}

// Check wraps the creation failures, if any, for the adapter named what,
// prefixed with the adapter's package name.
func (b *Instruments) Check(what string) error {
	if b.err != nil {
		return fmt.Errorf("%s: creating the %s instruments: %w", b.pkg, what, b.err)
	}
	return nil
}

// An ErrorClass maps the errors matching Err (with errors.Is) to Reason.
type ErrorClass struct {
	Err    error
	Reason string
}

// Classifier maps errors to precomputed attribute sets, one per class,
// trying the classes in order; unmatched errors get the fallback set.
type Classifier struct {
	classes  []ErrorClass
	sets     []Opts
	fallback Opts
}

// Opts holds the ready-made option slices of one attribute set, so that
// recording with it allocates nothing.
type Opts struct {
	Add    []metric.AddOption
	Record []metric.RecordOption
}

// OptsOf builds the options of the attribute set of kvs.
func OptsOf(kvs ...attribute.KeyValue) Opts {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return Opts{Add: []metric.AddOption{o}, Record: []metric.RecordOption{o}}
}

// NewClassifier builds one set per class from base plus key=reason.
func NewClassifier(key attribute.Key, fallback string, classes []ErrorClass, base ...attribute.KeyValue) *Classifier {
	c := &Classifier{classes: classes, sets: make([]Opts, len(classes))}
	with := func(reason string) Opts {
		kvs := append(append([]attribute.KeyValue(nil), base...), key.String(reason))
		return OptsOf(kvs...)
	}
	for i, cl := range classes {
		c.sets[i] = with(cl.Reason)
	}
	c.fallback = with(fallback)
	return c
}

// Of returns the set of err's class.
func (c *Classifier) Of(err error) Opts { return c.At(c.Index(err)) }

// Index is the position of err's class, len(classes) for the fallback.
func (c *Classifier) Index(err error) int {
	for i := range c.classes {
		if errors.Is(err, c.classes[i].Err) {
			return i
		}
	}
	return len(c.classes)
}

// At returns the set of the class at position i, the fallback's past the
// last class.
func (c *Classifier) At(i int) Opts {
	if i < len(c.sets) {
		return c.sets[i]
	}
	return c.fallback
}

// WithContextClasses appends the classes of the two context errors, which
// an adapter that sees callers' errors must tell apart from real failures.
func WithContextClasses(classes ...ErrorClass) []ErrorClass {
	return append(classes, ErrorClass{Err: context.Canceled, Reason: "canceled"},
		ErrorClass{Err: context.DeadlineExceeded, Reason: "deadline_exceeded"})
}

// MaxDynamicSets bounds the attribute sets a BoundedSets creates: values
// chosen in code (limit names) stay far below it, and a misuse that feeds
// it unbounded values costs one overflow series instead of a memory leak
// in every exporter.
const MaxDynamicSets = 256

// BoundedSets caches the attribute sets of values known only at run time
// but bounded by configuration (such as the names of rate limits). Reads
// are a lock-free map lookup; a new value copies the map once. Past
// MaxDynamicSets values, fold maps each new value to one of a small fixed
// set (the same value with its configured name replaced by "_OTHER"), so
// the other attributes keep their meaning.
type BoundedSets[K comparable] struct {
	cur   atomic.Pointer[map[K]Opts]
	mu    sync.Mutex
	build func(K) Opts
	fold  func(K) K
}

// NewBoundedSets returns a cache that builds the set of a new value with
// build, and folds values past the bound with fold.
func NewBoundedSets[K comparable](build func(K) Opts, fold func(K) K) *BoundedSets[K] {
	return &BoundedSets[K]{build: build, fold: fold}
}

// Get returns the set of k, building it on first use.
func (b *BoundedSets[K]) Get(k K) Opts {
	if m := b.cur.Load(); m != nil {
		if o, ok := (*m)[k]; ok {
			return o
		}
	}
	return b.add(k)
}

func (b *BoundedSets[K]) add(k K) Opts {
	b.mu.Lock()
	defer b.mu.Unlock()
	var old map[K]Opts
	if m := b.cur.Load(); m != nil {
		old = *m
	}
	if o, ok := old[k]; ok {
		return o
	}
	if len(old) >= MaxDynamicSets {
		// The folded values may take the map a little past the bound: they
		// are few and fixed.
		k = b.fold(k)
		if o, ok := old[k]; ok {
			return o
		}
	}
	m := make(map[K]Opts, len(old)+1)
	for kk, o := range old {
		m[kk] = o
	}
	o := b.build(k)
	m[k] = o
	b.cur.Store(&m)
	return o
}

// ErrorTypeOf is the error.type value of an error seen by a caller:
// canceled, deadline_exceeded or _OTHER.
func ErrorTypeOf(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "_OTHER"
}
