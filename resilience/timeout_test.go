package resilience_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

// waitFor simulates a dependency that answers after d unless ctx ends.
func waitFor(d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func TestNewTimeout_RejectsNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := resilience.NewTimeout(resilience.TimeoutConfig{Duration: d})
		assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
	}
}

func TestTimeout_Outcomes(t *testing.T) {
	cases := []struct {
		name       string
		work       time.Duration
		callerWait time.Duration
		wantErr    error
		notErr     error
		timeouts   int // OnTimeout calls
	}{
		{"fast call succeeds", 500 * time.Millisecond, time.Hour, nil, nil, 0},
		{"slow call times out", 2 * time.Second, time.Hour, resilience.ErrTimeout, context.DeadlineExceeded, 1},
		{"caller deadline first is not a timeout", 2 * time.Second, 100 * time.Millisecond, context.DeadlineExceeded, resilience.ErrTimeout, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				timeouts := 0
				to, err := resilience.NewTimeout(resilience.TimeoutConfig{
					Duration: time.Second,
					Hooks:    resilience.TimeoutHooks{OnTimeout: func() { timeouts++ }},
				})
				require.NoError(t, err)
				assert.Equal(t, time.Second, to.Duration())
				ctx, cancel := context.WithTimeout(t.Context(), tc.callerWait)
				defer cancel()
				err = to.Do(ctx, waitFor(tc.work))
				assert.Equal(t, tc.timeouts, timeouts, "OnTimeout counts the policy's timeouts only")
				if tc.wantErr == nil {
					assert.NoError(t, err)
					return
				}
				assert.ErrorIs(t, err, tc.wantErr)
				assert.NotErrorIs(t, err, tc.notErr)
			})
		})
	}
}

func TestTimeout_SuccessPastDeadlineKeepsResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to, err := resilience.NewTimeout(resilience.TimeoutConfig{Duration: time.Second})
		require.NoError(t, err)
		err = to.Do(t.Context(), func(context.Context) error { time.Sleep(2 * time.Second); return nil })
		assert.NoError(t, err)
	})
}

// A Timeout inside a Pipeline reports its timeouts too.
func TestTimeout_HookInPipeline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		timeouts := 0
		to, err := resilience.NewTimeout(resilience.TimeoutConfig{
			Duration: time.Second,
			Hooks:    resilience.TimeoutHooks{OnTimeout: func() { timeouts++ }},
		})
		require.NoError(t, err)
		p, err := resilience.NewPipeline[int](to)
		require.NoError(t, err)
		_, err = p.Execute(t.Context(), func(ctx context.Context) (int, error) { return 0, waitFor(2 * time.Second)(ctx) })
		assert.ErrorIs(t, err, resilience.ErrTimeout)
		assert.Equal(t, 1, timeouts)
	})
}
