package crypto_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

func newMACRing(t testing.TB) *bcrypto.MACKeyRing {
	t.Helper()
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	_, err = m.Rotate()
	require.NoError(t, err)
	return m
}

func TestMACKeyRing_SignVerifyAndRotation(t *testing.T) {
	m := newMACRing(t)
	first, _ := m.Primary()
	msg := []byte("user=42;exp=1700000000")
	tag, err := m.Sign(msg)
	require.NoError(t, err)
	require.Len(t, tag, bcrypto.MACSize)
	require.NoError(t, m.Verify(msg, tag))

	second, err := m.Rotate()
	require.NoError(t, err)
	tag2, err := m.Sign(msg)
	require.NoError(t, err)
	assert.NotEqual(t, tag, tag2)
	assert.NoError(t, m.Verify(msg, tag), "old tags verify after rotation")
	assert.NoError(t, m.Verify(msg, tag2))

	require.NoError(t, m.Retire(first))
	assert.ErrorIs(t, m.Verify(msg, tag), bcrypto.ErrKeyRetired)
	require.NoError(t, m.Reinstate(first))
	assert.NoError(t, m.Verify(msg, tag))
	require.NoError(t, m.Remove(first))
	assert.ErrorIs(t, m.Verify(msg, tag), bcrypto.ErrUnknownKey)
	assert.ErrorIs(t, m.Remove(second), bcrypto.ErrPrimaryKey)
	require.NoError(t, m.Add(99, bytes.Repeat([]byte{1}, 32)))
	require.NoError(t, m.Promote(99))
	p, _ := m.Primary()
	assert.Equal(t, bcrypto.KeyID(99), p)
	assert.Len(t, m.Keys(), 2)
}

func TestMACKeyRing_Tamper(t *testing.T) {
	m := newMACRing(t)
	msg := []byte("payload")
	tag, err := m.Sign(msg)
	require.NoError(t, err)
	for n := range len(tag) {
		assert.ErrorIs(t, m.Verify(msg, tag[:n]), bcrypto.ErrFormat, "length %d", n)
	}
	assert.ErrorIs(t, m.Verify(msg, append(bytes.Clone(tag), 0)), bcrypto.ErrFormat)
	for i := range tag {
		bad := bytes.Clone(tag)
		bad[i] ^= 1 << (i % 8)
		err := m.Verify(msg, bad)
		switch {
		case i == 0:
			assert.ErrorIs(t, err, bcrypto.ErrFormat)
		case i < 5:
			assert.ErrorIs(t, err, bcrypto.ErrUnknownKey)
		default:
			assert.ErrorIs(t, err, bcrypto.ErrSignature, "byte %d", i)
		}
	}
	for _, other := range [][]byte{nil, []byte("payloaD"), []byte("payload\x00")} {
		assert.ErrorIs(t, m.Verify(other, tag), bcrypto.ErrSignature)
	}
}

// Same material under two ids: a swapped id verifies only if the id is not
// covered by the MAC.
func TestMACKeyRing_SwappedKeyIDFails(t *testing.T) {
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	key := bytes.Repeat([]byte{5}, 32)
	require.NoError(t, m.Add(1, key))
	require.NoError(t, m.Add(2, key))
	require.NoError(t, m.Promote(1))
	tag, err := m.Sign([]byte("m"))
	require.NoError(t, err)
	tag[4] = 2
	assert.ErrorIs(t, m.Verify([]byte("m"), tag), bcrypto.ErrSignature)
}

func TestMACKeyRing_KeyValidation(t *testing.T) {
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	_, err = m.Sign([]byte("x"))
	assert.ErrorIs(t, err, bcrypto.ErrNoPrimary)
	for _, n := range []int{0, 16, 31, 65} {
		assert.ErrorIs(t, m.Add(1, make([]byte, n)), bcrypto.ErrInvalidKey, "size %d", n)
	}
	assert.NoError(t, m.Add(1, make([]byte, 64)))
}

func TestMACKeyRing_SignToVerifyAllocateNothing(t *testing.T) {
	m := newMACRing(t)
	msg := bytes.Repeat([]byte{1}, 256)
	buf := make([]byte, 0, bcrypto.MACSize)
	var tag []byte
	// Warm the per-key hash pool before counting.
	tag, err := m.SignTo(buf[:0], msg)
	require.NoError(t, err)
	tag = bytes.Clone(tag)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = m.SignTo(buf[:0], msg) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if m.Verify(msg, tag) != nil {
			panic("verify failed")
		}
	}))
}

func TestMACKeyRing_ConcurrentSignVerify(t *testing.T) {
	m := newMACRing(t)
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				msg := []byte(fmt.Sprintf("%d-%d", g, i))
				tag, err := m.Sign(msg)
				if err != nil || m.Verify(msg, tag) != nil {
					bad.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			_, _ = m.Rotate()
		}
	})
	wg.Wait()
	assert.Zero(t, bad.Load())
}

func TestMACKeyRing_ExportParseAndFormatting(t *testing.T) {
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	key := bytes.Repeat([]byte{0x61}, 40)
	require.NoError(t, m.Add(5, key))
	require.NoError(t, m.Promote(5))
	tag, err := m.Sign([]byte("m"))
	require.NoError(t, err)
	data, err := m.Export()
	require.NoError(t, err)
	m2, err := bcrypto.ParseMACKeyRing(data, bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	assert.NoError(t, m2.Verify([]byte("m"), tag))
	_, err = bcrypto.ParseKeyRing(data, bcrypto.KeyRingConfig{})
	assert.ErrorIs(t, err, bcrypto.ErrFormat, "a MAC ring does not load as an AEAD ring")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("ring", "ring", m)
	for _, out := range []string{m.String(), fmt.Sprintf("%#v", m), fmt.Sprintf("%x", m), logged.String()} {
		assert.NotContains(t, out, string(key[:8]))
		assert.Contains(t, out, "5:enabled")
	}
}

// The two rings speak one vocabulary, the one every key ring of the module
// follows: the same management methods with the same signatures.
func TestKeyRings_ShareOneVocabulary(t *testing.T) {
	aead := reflect.TypeFor[*bcrypto.KeyRing]()
	mac := reflect.TypeFor[*bcrypto.MACKeyRing]()
	for _, name := range []string{"Add", "Generate", "Rotate", "Promote", "Primary", "Retire", "Reinstate", "Remove", "Keys", "Export"} {
		a, okA := aead.MethodByName(name)
		m, okM := mac.MethodByName(name)
		if assert.True(t, okA, "KeyRing.%s", name) && assert.True(t, okM, "MACKeyRing.%s", name) {
			assert.Equal(t, a.Type.String()[len("func(*crypto.KeyRing"):], m.Type.String()[len("func(*crypto.MACKeyRing"):], name)
		}
	}
	aeadCfg := reflect.TypeFor[bcrypto.KeyRingConfig]()
	macCfg := reflect.TypeFor[bcrypto.MACKeyRingConfig]()
	for _, cfg := range []reflect.Type{aeadCfg, macCfg} {
		_, ok := cfg.FieldByName("Hooks")
		assert.True(t, ok, "%v has Hooks", cfg)
	}
}

func TestMACKeyRing_GenerateThenPromote(t *testing.T) {
	var rotations [][2]bcrypto.KeyID
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{Hooks: bcrypto.MACKeyRingHooks{
		OnRotate: func(old, new bcrypto.KeyID) { rotations = append(rotations, [2]bcrypto.KeyID{old, new}) },
	}})
	require.NoError(t, err)
	first, err := m.Rotate()
	require.NoError(t, err)
	tag, err := m.Sign([]byte("m"))
	require.NoError(t, err)

	next, err := m.Generate()
	require.NoError(t, err)
	assert.NotEqual(t, first, next)
	p, _ := m.Primary()
	assert.Equal(t, first, p, "a generated key is not primary until promoted")
	require.NoError(t, m.Promote(next))
	p, _ = m.Primary()
	assert.Equal(t, next, p)
	assert.NoError(t, m.Verify([]byte("m"), tag), "the old primary still verifies")
	require.NoError(t, m.Promote(next), "promoting the primary again is no rotation")
	assert.Equal(t, [][2]bcrypto.KeyID{{0, first}, {first, next}}, rotations)
	assert.Len(t, m.Keys(), 2)
}

func TestMACKeyRing_VerifyFailureHook(t *testing.T) {
	var failures []error
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{Hooks: bcrypto.MACKeyRingHooks{
		OnVerifyFailure: func(err error) { failures = append(failures, err) },
	}})
	require.NoError(t, err)
	old, err := m.Rotate()
	require.NoError(t, err)
	oldTag, err := m.Sign([]byte("m"))
	require.NoError(t, err)
	_, err = m.Rotate()
	require.NoError(t, err)
	require.NoError(t, m.Retire(old))
	tag, err := m.Sign([]byte("m"))
	require.NoError(t, err)

	require.NoError(t, m.Verify([]byte("m"), tag))
	assert.Empty(t, failures, "a good tag is no failure")
	assert.ErrorIs(t, m.Verify([]byte("other"), tag), bcrypto.ErrSignature)
	assert.ErrorIs(t, m.Verify([]byte("m"), tag[:5]), bcrypto.ErrFormat)
	assert.ErrorIs(t, m.Verify([]byte("m"), oldTag), bcrypto.ErrKeyRetired)
	require.Len(t, failures, 3)
	assert.ErrorIs(t, failures[0], bcrypto.ErrSignature)
	assert.ErrorIs(t, failures[1], bcrypto.ErrFormat)
	assert.ErrorIs(t, failures[2], bcrypto.ErrKeyRetired)
}
