package sessiontest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/internal/testenv/testclock"
)

// Clock is the suite's fake clock: Now returns its time, which moves only
// with Advance (or Set). The zero Clock reads the zero time; it is safe for
// concurrent use. It is the one clock of Bedrock's suites.
type Clock = testclock.Clock

// Run runs the suite; newStore returns an empty store for one test.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	setup := func(t *testing.T, cfg session.Config) (*session.RefreshTokens, session.Store, *Clock) {
		clock := testclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
		cfg.Now = clock.Now
		store := newStore(t)
		m, err := session.New(store, cfg)
		require.NoError(t, err)
		return m, store, clock
	}
	ctx := context.Background()

	t.Run("RotateIssuesASuccessorAndRetiresTheToken", func(t *testing.T) {
		m, _, _ := setup(t, session.Config{})
		s0, err := m.Issue(ctx, "user_1")
		require.NoError(t, err)
		s1, err := m.Rotate(ctx, s0.Token)
		require.NoError(t, err)
		assert.NotEqual(t, s0.Token, s1.Token)
		assert.Equal(t, s0.FamilyID, s1.FamilyID)
		assert.Equal(t, "user_1", s1.Subject)
		s2, err := m.Rotate(ctx, s1.Token)
		require.NoError(t, err)
		assert.NotEqual(t, s1.Token, s2.Token)
	})

	t.Run("ReuseRevokesTheFamily", func(t *testing.T) {
		var alerts atomic.Int32
		m, _, _ := setup(t, session.Config{Hooks: session.Hooks{OnReuse: func(context.Context, session.Family) { alerts.Add(1) }}})
		s0, _ := m.Issue(ctx, "user_1")
		s1, err := m.Rotate(ctx, s0.Token)
		require.NoError(t, err)
		_, err = m.Rotate(ctx, s0.Token) // the thief, or the victim, replays
		assert.ErrorIs(t, err, session.ErrTokenReused)
		assert.Equal(t, int32(1), alerts.Load())
		_, err = m.Rotate(ctx, s1.Token)
		assert.ErrorIs(t, err, session.ErrFamilyRevoked, "the legitimate successor dies with the family")
	})

	t.Run("GraceWindowReturnsTheSameSuccessor", func(t *testing.T) {
		m, _, clock := setup(t, session.Config{GraceWindow: 10 * time.Second, Secret: secret})
		s0, _ := m.Issue(ctx, "user_1")
		s1, err := m.Rotate(ctx, s0.Token)
		require.NoError(t, err)
		clock.Advance(5 * time.Second)
		again, err := m.Rotate(ctx, s0.Token)
		require.NoError(t, err, "a retry within the window")
		assert.Equal(t, s1.Token, again.Token, "never a second successor")
		clock.Advance(6 * time.Second)
		_, err = m.Rotate(ctx, s0.Token)
		assert.ErrorIs(t, err, session.ErrTokenReused, "after the window it is reuse")
	})

	t.Run("GraceEndsOnceTheSuccessorIsUsed", func(t *testing.T) {
		m, _, _ := setup(t, session.Config{GraceWindow: 10 * time.Second, Secret: secret})
		s0, _ := m.Issue(ctx, "user_1")
		s1, _ := m.Rotate(ctx, s0.Token)
		_, err := m.Rotate(ctx, s1.Token)
		require.NoError(t, err)
		_, err = m.Rotate(ctx, s0.Token)
		assert.ErrorIs(t, err, session.ErrTokenReused)
	})

	t.Run("IdleAndAbsoluteLifetimes", func(t *testing.T) {
		m, _, clock := setup(t, session.Config{IdleTimeout: time.Hour, MaxLifetime: 3 * time.Hour})
		s0, _ := m.Issue(ctx, "user_1")
		clock.Advance(time.Hour)
		_, err := m.Rotate(ctx, s0.Token)
		assert.ErrorIs(t, err, session.ErrExpired, "idle timeout")

		s, _ := m.Issue(ctx, "user_1")
		for range 5 { // rotating every 50 minutes keeps it alive, up to 3 hours
			clock.Advance(50 * time.Minute)
			next, err := m.Rotate(ctx, s.Token)
			if err != nil {
				assert.ErrorIs(t, err, session.ErrExpired, "absolute lifetime")
				return
			}
			s = next
		}
		t.Fatal("the family outlived its absolute lifetime")
	})

	t.Run("Revocation", func(t *testing.T) {
		m, _, _ := setup(t, session.Config{})
		a, _ := m.Issue(ctx, "user_1")
		b, _ := m.Issue(ctx, "user_1")
		c, _ := m.Issue(ctx, "user_2")
		require.NoError(t, m.Revoke(ctx, a.Token))
		require.NoError(t, m.Revoke(ctx, a.Token), "logging out twice is fine")
		require.NoError(t, m.Revoke(ctx, "not-a-token"))
		_, err := m.Rotate(ctx, a.Token)
		assert.ErrorIs(t, err, session.ErrFamilyRevoked)
		_, err = m.Rotate(ctx, b.Token)
		require.NoError(t, err, "another device of the same user is unaffected")

		n, err := m.RevokeAllForSubject(ctx, "user_1")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = m.Rotate(ctx, c.Token)
		assert.NoError(t, err, "other users are unaffected")
	})

	t.Run("UnknownAndMalformedTokens", func(t *testing.T) {
		m, _, _ := setup(t, session.Config{})
		for _, tok := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"} {
			_, err := m.Rotate(ctx, tok)
			assert.ErrorIs(t, err, session.ErrInvalidToken, tok)
		}
	})

	t.Run("CleanupDeletesEndedFamiliesInBatches", func(t *testing.T) {
		m, _, clock := setup(t, session.Config{MaxLifetime: time.Hour})
		var old []session.Session
		for range 7 {
			s, _ := m.Issue(ctx, "user_1")
			old = append(old, s)
		}
		clock.Advance(2 * time.Hour)
		live, _ := m.Issue(ctx, "user_2")
		n, err := m.Cleanup(ctx, 3)
		require.NoError(t, err)
		assert.Equal(t, 7, n)
		_, err = m.Rotate(ctx, old[0].Token)
		assert.ErrorIs(t, err, session.ErrInvalidToken)
		_, err = m.Rotate(ctx, live.Token)
		assert.NoError(t, err)
	})

	for _, grace := range []time.Duration{0, 10 * time.Second} {
		name := "ConcurrentRotationWithoutGrace"
		if grace > 0 {
			name = "ConcurrentRotationWithGrace"
		}
		t.Run(name, func(t *testing.T) {
			m, _, _ := setup(t, session.Config{GraceWindow: grace, Secret: secret})
			s0, _ := m.Issue(ctx, "user_1")
			var wg sync.WaitGroup
			var mu sync.Mutex
			successors := map[string]int{}
			var reused atomic.Int32
			for range 100 {
				wg.Go(func() {
					s, err := m.Rotate(ctx, s0.Token)
					switch {
					case err == nil:
						mu.Lock()
						successors[s.Token]++
						mu.Unlock()
					case errors.Is(err, session.ErrTokenReused), errors.Is(err, session.ErrFamilyRevoked):
						reused.Add(1)
					default:
						t.Errorf("unexpected error: %v", err)
					}
				})
			}
			wg.Wait()
			assert.Len(t, successors, 1, "exactly one successor exists")
			if grace == 0 {
				assert.Greater(t, reused.Load(), int32(0))
				for tok := range successors {
					_, err := m.Rotate(ctx, tok)
					assert.ErrorIs(t, err, session.ErrFamilyRevoked, "without grace the family is revoked")
				}
			} else {
				assert.Zero(t, reused.Load(), "within grace every racer gets the same successor")
			}
		})
	}
}
