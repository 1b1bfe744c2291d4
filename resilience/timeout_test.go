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
		_, err := resilience.NewTimeout(d)
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
	}{
		{"fast call succeeds", 500 * time.Millisecond, time.Hour, nil, nil},
		{"slow call times out", 2 * time.Second, time.Hour, resilience.ErrTimeout, context.DeadlineExceeded},
		{"caller deadline first is not a timeout", 2 * time.Second, 100 * time.Millisecond, context.DeadlineExceeded, resilience.ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				to, err := resilience.NewTimeout(time.Second)
				require.NoError(t, err)
				assert.Equal(t, time.Second, to.Duration())
				ctx, cancel := context.WithTimeout(t.Context(), tc.callerWait)
				defer cancel()
				err = to.Do(ctx, waitFor(tc.work))
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
		to, err := resilience.NewTimeout(time.Second)
		require.NoError(t, err)
		err = to.Do(t.Context(), func(context.Context) error { time.Sleep(2 * time.Second); return nil })
		assert.NoError(t, err)
	})
}
