package password

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gate makes h's argon2id block for passwords starting with "held" until
// release is closed, and counts how many run at once.
type gate struct {
	release chan struct{}
	running atomic.Int32
	peak    atomic.Int32
}

func holdKDF(h *Hasher) *gate {
	g := &gate{release: make(chan struct{})}
	next := h.kdf
	h.kdf = func(pw, salt []byte, p Params) []byte {
		if bytes.HasPrefix(pw, []byte("held")) {
			n := g.running.Add(1)
			for {
				old := g.peak.Load()
				if n <= old || g.peak.CompareAndSwap(old, n) {
					break
				}
			}
			<-g.release
			g.running.Add(-1)
		}
		return next(pw, salt, p)
	}
	return g
}

var tiny = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestHash_CannotTakeEverySlot: while new passwords saturate their share of
// hashing, verification still gets a slot at once (issue 20.3).
func TestHash_CannotTakeEverySlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := New(Config{Params: tiny, MaxConcurrent: 2}) // MaxConcurrentHash defaults to 1
		require.NoError(t, err)
		ctx := context.Background()
		stored, err := h.Hash(ctx, "login password")
		require.NoError(t, err)
		g := holdKDF(h)

		var signups sync.WaitGroup
		for i := range 8 {
			signups.Go(func() {
				_, err := h.Hash(ctx, fmt.Sprintf("held signup %d", i))
				assert.NoError(t, err)
			})
		}
		synctest.Wait()
		assert.Equal(t, int32(1), g.running.Load(), "signups hash one at a time, their share of 2 slots")

		var logins sync.WaitGroup
		var done atomic.Int32
		for range 3 {
			logins.Go(func() {
				ok, _, err := h.Verify(ctx, "login password", stored)
				assert.NoError(t, err)
				assert.True(t, ok)
				require.NoError(t, h.VerifyDummy(ctx, "someone else"))
				done.Add(1)
			})
		}
		synctest.Wait()
		assert.Equal(t, int32(3), done.Load(), "logins never wait behind signups")

		close(g.release)
		signups.Wait()
		logins.Wait()
		assert.Equal(t, int32(1), g.peak.Load(), "never more than MaxConcurrentHash signups at once")
	})
}

// TestVerify_MayUseEverySlot: the reservation is one-sided; with no Hash
// running, verification uses all MaxConcurrent slots and no more.
func TestVerify_MayUseEverySlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := New(Config{Params: tiny, MaxConcurrent: 2})
		require.NoError(t, err)
		g := holdKDF(h)
		ctx := context.Background()
		var wg sync.WaitGroup
		var done atomic.Int32
		for range 3 {
			wg.Go(func() {
				assert.NoError(t, h.VerifyDummy(ctx, "held login"))
				done.Add(1)
			})
		}
		synctest.Wait()
		assert.Equal(t, int32(2), g.running.Load(), "two verifications run at once")
		assert.Equal(t, int32(0), done.Load(), "the third waits for a slot")
		close(g.release)
		wg.Wait()
		assert.Equal(t, int32(2), g.peak.Load())
	})
}

func TestHash_MaxConcurrentHashAtOrAboveMaxConcurrentUsesEverySlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := New(Config{Params: tiny, MaxConcurrent: 2, MaxConcurrentHash: 5})
		require.NoError(t, err)
		g := holdKDF(h)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				_, err := h.Hash(context.Background(), "held signup")
				assert.NoError(t, err)
			})
		}
		synctest.Wait()
		assert.Equal(t, int32(2), g.running.Load(), "capped by MaxConcurrent")
		close(g.release)
		wg.Wait()
	})
}

// TestHash_BeyondMaxHashWaitingFailsAtOnce: a burst of new passwords is
// turned away with ErrBusy before it waits or computes anything.
func TestHash_BeyondMaxHashWaitingFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := New(Config{Params: tiny, MaxConcurrent: 2, MaxConcurrentHash: 1, MaxHashWaiting: 2})
		require.NoError(t, err)
		g := holdKDF(h)
		ctx := context.Background()
		var wg sync.WaitGroup
		for range 3 { // one hashing, two waiting
			wg.Go(func() {
				_, err := h.Hash(ctx, "held signup")
				assert.NoError(t, err)
			})
		}
		synctest.Wait()
		_, err = h.Hash(ctx, "one too many")
		assert.ErrorIs(t, err, ErrBusy)

		close(g.release)
		wg.Wait()
		_, err = h.Hash(ctx, "after the burst")
		assert.NoError(t, err, "the waiting count is given back")
	})
}

func TestHash_WaitingForItsShareHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := New(Config{Params: tiny, MaxConcurrent: 2, MaxConcurrentHash: 1, MaxHashWaiting: 1})
		require.NoError(t, err)
		g := holdKDF(h)
		var wg sync.WaitGroup
		wg.Go(func() {
			_, err := h.Hash(context.Background(), "held signup")
			assert.NoError(t, err)
		})
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		wg.Go(func() {
			_, err := h.Hash(ctx, "waits")
			assert.ErrorIs(t, err, context.Canceled)
		})
		synctest.Wait()
		cancel()
		synctest.Wait()
		_, err = h.Hash(ctx, "not counted twice")
		assert.ErrorIs(t, err, context.Canceled, "a cancelled waiter leaves the queue: waits, not ErrBusy")
		close(g.release)
		wg.Wait()
	})
}

// TestHash_RefusesOverlongBeforeWaiting: a signup with an unusable password
// costs neither a slot nor a computation, even when hashing is saturated.
func TestHash_RefusesOverlongBeforeWaiting(t *testing.T) {
	h, err := New(Config{Params: tiny, MaxConcurrent: 1})
	require.NoError(t, err)
	runs := countKDF(h)
	h.slots <- struct{}{}
	h.hashSlots <- struct{}{}
	_, err = h.Hash(context.Background(), strings.Repeat("\ufdfa", 341))
	assert.ErrorIs(t, err, ErrTooLong)
	assert.Equal(t, int32(0), runs.Load())
}
