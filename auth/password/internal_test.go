package password

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSemaphore_WaitHonoursContext(t *testing.T) {
	h, err := New(Config{Params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, MaxConcurrent: 1})
	require.NoError(t, err)
	enc, err := h.Hash(context.Background(), "pw")
	require.NoError(t, err)

	h.slots <- struct{}{} // every slot taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = h.Hash(ctx, "pw")
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = h.Verify(ctx, "pw", enc)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, h.VerifyDummy(ctx, "pw"), context.Canceled)
	<-h.slots

	ok, _, err := h.Verify(context.Background(), "pw", enc)
	require.NoError(t, err)
	assert.True(t, ok, "a freed slot is usable again")
}

func TestVerifyDummy_UsesTheCurrentParameters(t *testing.T) {
	h, err := New(Config{Params: Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}})
	require.NoError(t, err)
	require.NoError(t, h.VerifyDummy(context.Background(), "pw"))
	assert.Equal(t, h.params, h.dummy.params, "the dummy costs what a real verification costs")
	assert.Len(t, h.dummy.salt, 16)
}

func TestPHC_EncodeDecodeRoundTrip(t *testing.T) {
	in := phc{params: Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, pepperID: "2026-01",
		salt: make([]byte, 16), key: make([]byte, 32)}
	out, err := decodePHC(in.encode(), DefaultBounds())
	require.NoError(t, err)
	assert.Equal(t, in, out)
}
