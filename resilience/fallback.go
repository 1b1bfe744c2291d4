package resilience

import "context"

// Fallback replaces a failure with a value or with the result of another
// function: a cached copy, a default, a degraded answer. It is typed by the
// result and is used in a [Pipeline] of the same type, usually outermost.
//
// A Fallback is immutable and safe for concurrent use.
type Fallback[T any] struct {
	value  T
	fn     func(ctx context.Context, err error) (T, error)
	byFunc bool
	when   func(error) bool
}

// FallbackValue returns a Fallback that answers v, with a nil error, to
// every failure.
func FallbackValue[T any](v T) *Fallback[T] {
	return &Fallback[T]{value: v}
}

// FallbackFunc returns a Fallback that answers fn(ctx, err) to every
// failure err. A nil fn is rejected by [NewPipeline].
func FallbackFunc[T any](fn func(ctx context.Context, err error) (T, error)) *Fallback[T] {
	return &Fallback[T]{fn: fn, byFunc: true}
}

// When returns a copy of f that handles only the errors for which pred is
// true; the others are returned unchanged.
func (f *Fallback[T]) When(pred func(error) bool) *Fallback[T] {
	c := *f
	c.when = pred
	return &c
}

// handles reports whether err is the fallback's to replace. A caller that
// gave up does not get a fallback: nobody would read it.
func (f *Fallback[T]) handles(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if f.when != nil {
		return f.when(err)
	}
	return true
}

// Do calls fn and applies the fallback to its failure.
func (f *Fallback[T]) Do(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	v, err := fn(ctx)
	return f.apply(ctx, v, err)
}

func (f *Fallback[T]) apply(ctx context.Context, v T, err error) (T, error) {
	if !f.handles(ctx, err) {
		return v, err
	}
	if f.byFunc {
		return f.fn(ctx, err)
	}
	return f.value, nil
}

func (f *Fallback[T]) validate() error {
	if f.byFunc && f.fn == nil {
		return configError("FallbackFunc", "nil function")
	}
	return nil
}

func (*Fallback[T]) policy() {}
