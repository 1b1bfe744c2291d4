package otelhook_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
)

// setOf reads back the attribute set of o.
func setOf(t *testing.T, o otelhook.Opts) string {
	t.Helper()
	require.Len(t, o.Add, 1)
	cfg := metric.NewAddConfig(o.Add)
	set := cfg.Attributes()
	return otelhooktest.AttrKey(set)
}

var (
	errSpecific = errors.New("specific")
	errGeneral  = fmt.Errorf("general, wrapping: %w", errSpecific)
)

func TestClassifier_TriesClassesInOrderThenFallsBack(t *testing.T) {
	c := otelhook.NewClassifier(attribute.Key("reason"), "other", otelhook.WithContextClasses(
		otelhook.ErrorClass{Err: errSpecific, Reason: "specific"},
	), attribute.String("name", "x"))
	tests := []struct {
		err  error
		want string
	}{
		{errSpecific, "name=x,reason=specific"},
		{fmt.Errorf("wrapped: %w", errGeneral), "name=x,reason=specific"},
		{fmt.Errorf("request: %w", context.Canceled), "name=x,reason=canceled"},
		{context.DeadlineExceeded, "name=x,reason=deadline_exceeded"},
		{errors.New("connection refused"), "name=x,reason=other"},
		{nil, "name=x,reason=other"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			assert.Equal(t, tt.want, setOf(t, c.Of(tt.err)))
		})
	}
}

func TestBoundedSets_FoldValuesPastTheBound(t *testing.T) {
	type key struct{ name, class string }
	sets := otelhook.NewBoundedSets(func(k key) otelhook.Opts {
		return otelhook.OptsOf(attribute.String("name", k.name), attribute.String("class", k.class))
	}, func(k key) key { return key{"_OTHER", k.class} })
	for i := range otelhook.MaxDynamicSets {
		assert.Equal(t, "class=a,name=n"+strconv.Itoa(i), setOf(t, sets.Get(key{"n" + strconv.Itoa(i), "a"})))
	}
	assert.Equal(t, "class=a,name=n7", setOf(t, sets.Get(key{"n7", "a"})), "known values keep their set")
	assert.Equal(t, "class=b,name=_OTHER", setOf(t, sets.Get(key{"new", "b"})), "new ones keep their other attributes")
}

func TestBoundedSets_ConcurrentGetsAgree(t *testing.T) {
	sets := otelhook.NewBoundedSets(func(k int) otelhook.Opts {
		return otelhook.OptsOf(attribute.Int("k", k))
	}, func(int) int { return -1 })
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 64 {
				k := (g + i) % 32
				assert.Equal(t, "k="+strconv.Itoa(k), setOf(t, sets.Get(k)))
			}
		})
	}
	wg.Wait()
}

func TestInstruments_CheckNamesThePackageAndWrapsEveryFailure(t *testing.T) {
	b := otelhook.New(otelhooktest.FailingProvider{}, "cacheobserve")
	b.Counter("a", "1", "a")
	b.Duration("b", "b")
	err := b.Check("cache")
	require.ErrorIs(t, err, otelhooktest.ErrNoInstrument)
	assert.Contains(t, err.Error(), "cacheobserve: creating the cache instruments: ")

	ok := otelhook.New(noop.NewMeterProvider(), "cacheobserve")
	ok.Counter("a", "1", "a")
	assert.NoError(t, ok.Check("cache"))
}

func TestErrorTypeOf(t *testing.T) {
	for err, want := range map[error]string{
		context.Canceled: "canceled",
		fmt.Errorf("x: %w", context.DeadlineExceeded): "deadline_exceeded",
		errors.New("connection reset by peer"):        "_OTHER",
	} {
		assert.Equal(t, want, otelhook.ErrorTypeOf(err), err.Error())
	}
}
