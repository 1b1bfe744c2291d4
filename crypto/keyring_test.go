package crypto_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

func TestKeyRing_RoundTrip(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	for _, size := range []int{0, 1, 15, 16, 64, 1024, 64 << 10} {
		for _, aad := range [][]byte{nil, []byte("tenant=42"), bytes.Repeat([]byte{7}, 5000)} {
			t.Run(fmt.Sprintf("size=%d/aad=%d", size, len(aad)), func(t *testing.T) {
				pt := bytes.Repeat([]byte{0xa5}, size)
				ct, err := r.Seal(pt, aad)
				require.NoError(t, err)
				assert.Len(t, ct, size+bcrypto.Overhead)
				got, err := r.Open(ct, aad)
				require.NoError(t, err)
				assert.Equal(t, pt, got)
			})
		}
	}
}

func TestKeyRing_SealUsesFreshNonces(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	a, err := r.Seal([]byte("same"), nil)
	require.NoError(t, err)
	b, err := r.Seal([]byte("same"), nil)
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestKeyRing_OldCiphertextsOpenAfterRotation(t *testing.T) {
	var rotations [][2]bcrypto.KeyID
	r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{Hooks: bcrypto.KeyRingHooks{
		OnRotate: func(old, new bcrypto.KeyID) { rotations = append(rotations, [2]bcrypto.KeyID{old, new}) },
	}})
	require.NoError(t, err)
	var cts [][]byte
	var ids []bcrypto.KeyID
	for i := range 4 {
		id, err := r.Rotate()
		require.NoError(t, err)
		ids = append(ids, id)
		ct, err := r.Seal([]byte{byte(i)}, nil)
		require.NoError(t, err)
		cts = append(cts, ct)
	}
	for i, ct := range cts {
		pt, err := r.Open(ct, nil)
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, pt)
	}
	p, ok := r.Primary()
	assert.True(t, ok)
	assert.Equal(t, ids[3], p)
	require.Len(t, rotations, 4)
	assert.Equal(t, [2]bcrypto.KeyID{0, ids[0]}, rotations[0])
	assert.Equal(t, [2]bcrypto.KeyID{ids[2], ids[3]}, rotations[3])
}

func TestKeyRing_GenerateThenPromote(t *testing.T) {
	r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	id, err := r.Generate()
	require.NoError(t, err)
	_, err = r.Seal(nil, nil)
	assert.ErrorIs(t, err, bcrypto.ErrNoPrimary, "a generated key is not primary until promoted")
	require.NoError(t, r.Promote(id))
	ct, err := r.Seal([]byte("x"), nil)
	require.NoError(t, err)
	_, err = r.Open(ct, nil)
	assert.NoError(t, err)
}

func TestKeyRing_Retirement(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	old, _ := r.Primary()
	ct, err := r.Seal([]byte("secret"), nil)
	require.NoError(t, err)
	_, err = r.Rotate()
	require.NoError(t, err)

	require.NoError(t, r.Retire(old))
	_, err = r.Open(ct, nil)
	assert.ErrorIs(t, err, bcrypto.ErrKeyRetired)
	assert.Equal(t, old, keyErr(t, err).ID)

	require.NoError(t, r.Reinstate(old))
	pt, err := r.Open(ct, nil)
	require.NoError(t, err)
	assert.Equal(t, []byte("secret"), pt)

	require.NoError(t, r.Remove(old))
	_, err = r.Open(ct, nil)
	assert.ErrorIs(t, err, bcrypto.ErrUnknownKey)
}

func TestKeyRing_PrimaryIsProtected(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	p, _ := r.Primary()
	tests := map[string]func() error{
		"retire": func() error { return r.Retire(p) },
		"remove": func() error { return r.Remove(p) },
		"promote retired": func() error {
			id, err := r.Generate()
			require.NoError(t, err)
			require.NoError(t, r.Retire(id))
			return r.Promote(id)
		},
	}
	for name, op := range tests {
		t.Run(name, func(t *testing.T) {
			err := op()
			assert.True(t, errors.Is(err, bcrypto.ErrPrimaryKey) || errors.Is(err, bcrypto.ErrKeyRetired), "got %v", err)
		})
	}
}

func TestKeyRing_AddRejectsBadKeys(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	p, _ := r.Primary()
	tests := []struct {
		name string
		id   bcrypto.KeyID
		key  []byte
	}{
		{"zero id", 0, fixedKey(1)},
		{"duplicate id", p, fixedKey(1)},
		{"short key", 7, fixedKey(1)[:16]},
		{"long key", 7, append(fixedKey(1), 0)},
		{"nil key", 7, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Add(tt.id, tt.key)
			assert.ErrorIs(t, err, bcrypto.ErrInvalidKey)
			assert.Equal(t, tt.id, keyErr(t, err).ID)
		})
	}
}

func TestKeyRing_UnknownOperationsOnMissingKeys(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	for name, op := range map[string]func(bcrypto.KeyID) error{
		"promote": r.Promote, "retire": r.Retire, "reinstate": r.Reinstate, "remove": r.Remove,
	} {
		t.Run(name, func(t *testing.T) { assert.ErrorIs(t, op(12345), bcrypto.ErrUnknownKey) })
	}
}

func TestNewKeyRing_ValidatesConfig(t *testing.T) {
	_, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{MaxSealsPerKey: bcrypto.DefaultMaxSealsPerKey + 1})
	assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
	_, err = bcrypto.NewKeyRing(bcrypto.KeyRingConfig{MaxSealsPerKey: bcrypto.DefaultMaxSealsPerKey})
	assert.NoError(t, err)
}

func TestKeyRing_ExhaustedKeyRefusesToSeal(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{MaxSealsPerKey: 3})
	p, _ := r.Primary()
	var cts [][]byte
	for range 3 {
		ct, err := r.Seal([]byte("m"), nil)
		require.NoError(t, err)
		cts = append(cts, ct)
	}
	_, err := r.Seal([]byte("m"), nil)
	assert.ErrorIs(t, err, bcrypto.ErrKeyExhausted)
	assert.Equal(t, p, keyErr(t, err).ID)
	for _, ct := range cts {
		_, err := r.Open(ct, nil)
		assert.NoError(t, err, "an exhausted key still opens")
	}
	_, err = r.Rotate()
	require.NoError(t, err)
	_, err = r.Seal([]byte("m"), nil)
	assert.NoError(t, err, "a rotated ring seals again")
}

func TestKeyRing_RotatesOnExhaustionUnderConcurrency(t *testing.T) {
	const budget, goroutines, perG = 10, 50, 20
	var rotated atomic.Int64
	r := newRing(t, bcrypto.KeyRingConfig{
		MaxSealsPerKey:     budget,
		RotateOnExhaustion: true,
		Hooks:              bcrypto.KeyRingHooks{OnRotate: func(_, _ bcrypto.KeyID) { rotated.Add(1) }},
	})
	var wg sync.WaitGroup
	var failures atomic.Int64
	cts := make([][]byte, goroutines*perG)
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				ct, err := r.Seal([]byte{byte(i)}, nil)
				if err != nil {
					failures.Add(1)
					continue
				}
				cts[g*perG+i] = ct
			}
		})
	}
	wg.Wait()
	require.Zero(t, failures.Load())
	for _, k := range r.Keys() {
		assert.LessOrEqual(t, k.Uses, uint64(budget+goroutines), "key %v", k.ID)
	}
	// Each key's first budget seals succeed, so at least total/budget keys.
	assert.GreaterOrEqual(t, rotated.Load(), int64(goroutines*perG/budget))
	for _, ct := range cts {
		_, err := r.Open(ct, nil)
		require.NoError(t, err)
	}
}

func TestKeyRing_NonceBudgetCountsEverySuccessfulSeal(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{MaxSealsPerKey: 100})
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if _, err := r.Seal(nil, nil); err == nil {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(100), ok.Load(), "exactly the budget succeeds, however many goroutines race")
}

func TestKeyRing_Tamper(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	aad := []byte("context")
	pt := []byte("attack at dawn, bring snacks")
	ct, err := r.Seal(pt, aad)
	require.NoError(t, err)

	t.Run("every truncation", func(t *testing.T) {
		for n := range len(ct) {
			got, err := r.Open(ct[:n], aad)
			require.Error(t, err, "length %d", n)
			assert.Nil(t, got)
			if n < bcrypto.Overhead {
				assert.ErrorIs(t, err, bcrypto.ErrFormat, "length %d", n)
			} else {
				assert.ErrorIs(t, err, bcrypto.ErrDecrypt, "length %d", n)
			}
		}
	})
	t.Run("one flipped bit in each byte", func(t *testing.T) {
		for i := range ct {
			for bit := range 8 {
				bad := bytes.Clone(ct)
				bad[i] ^= 1 << bit
				got, err := r.Open(bad, aad)
				require.Error(t, err, "byte %d bit %d", i, bit)
				assert.Nil(t, got)
				var want error
				switch {
				case i == 0:
					want = bcrypto.ErrFormat
				case i < 5:
					want = bcrypto.ErrUnknownKey
				default:
					want = bcrypto.ErrDecrypt
				}
				assert.ErrorIs(t, err, want, "byte %d bit %d", i, bit)
			}
		}
	})
	t.Run("appended byte", func(t *testing.T) {
		_, err := r.Open(append(bytes.Clone(ct), 0), aad)
		assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
	})
	t.Run("wrong aad", func(t *testing.T) {
		for _, bad := range [][]byte{nil, []byte("contexT"), []byte("context\x00")} {
			_, err := r.Open(ct, bad)
			assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
		}
	})
	t.Run("aad moved into the header", func(t *testing.T) {
		// header||aad must not be confused with a shorter aad: the header has
		// a fixed length, so this is a check that it is bound at all.
		ct2, err := r.Seal(pt, nil)
		require.NoError(t, err)
		_, err = r.Open(ct2, aad)
		assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
	})
}

// Two ids holding the same key material: swapping the id succeeds only if
// the id is not authenticated, so this proves the header binding.
func TestKeyRing_SwappedKeyIDFails(t *testing.T) {
	r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	require.NoError(t, r.Add(1, fixedKey(3)))
	require.NoError(t, r.Add(2, fixedKey(3)))
	require.NoError(t, r.Promote(1))
	ct, err := r.Seal([]byte("payload"), []byte("aad"))
	require.NoError(t, err)
	ct[4] = 2
	_, err = r.Open(ct, []byte("aad"))
	assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
}

func TestKeyRing_UnknownKeyFromAnotherRing(t *testing.T) {
	a, b := newRing(t, bcrypto.KeyRingConfig{}), newRing(t, bcrypto.KeyRingConfig{})
	ct, err := a.Seal([]byte("x"), nil)
	require.NoError(t, err)
	_, err = b.Open(ct, nil)
	assert.ErrorIs(t, err, bcrypto.ErrUnknownKey)
}

func TestKeyRing_OpenFailureHookSeesEveryFailure(t *testing.T) {
	var seen []error
	r := newRing(t, bcrypto.KeyRingConfig{Hooks: bcrypto.KeyRingHooks{OnOpenFailure: func(err error) { seen = append(seen, err) }}})
	ct, err := r.Seal([]byte("x"), nil)
	require.NoError(t, err)
	_, _ = r.Open(ct[:3], nil)
	_, _ = r.Open(ct, []byte("other"))
	_, err = r.Open(ct, nil)
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.ErrorIs(t, seen[0], bcrypto.ErrFormat)
	assert.ErrorIs(t, seen[1], bcrypto.ErrDecrypt)
}

func TestKeyRing_SealToOpenToAllocateNothing(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	pt := bytes.Repeat([]byte{1}, 1024)
	for _, aad := range [][]byte{nil, []byte("tenant=42")} {
		t.Run(fmt.Sprintf("aad=%d", len(aad)), func(t *testing.T) {
			ctBuf := make([]byte, 0, len(pt)+bcrypto.Overhead)
			ptBuf := make([]byte, 0, len(pt))
			var ct []byte
			sealAllocs := testing.AllocsPerRun(100, func() {
				var err error
				if ct, err = r.SealTo(ctBuf[:0], pt, aad); err != nil {
					panic(err)
				}
			})
			openAllocs := testing.AllocsPerRun(100, func() {
				if _, err := r.OpenTo(ptBuf[:0], ct, aad); err != nil {
					panic(err)
				}
			})
			assert.Zero(t, sealAllocs)
			assert.Zero(t, openAllocs)
		})
	}
}

func TestKeyRing_AppendsToDst(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	ct, err := r.SealTo([]byte("prefix"), []byte("body"), nil)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(ct, []byte("prefix")))
	pt, err := r.OpenTo([]byte("pre:"), ct[len("prefix"):], nil)
	require.NoError(t, err)
	assert.Equal(t, "pre:body", string(pt))
	bad := bytes.Clone(ct[len("prefix"):])
	bad[len(bad)-1] ^= 1
	dst := []byte("keep")
	got, err := r.OpenTo(dst, bad, nil)
	assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
	assert.Equal(t, "keep", string(got), "dst is returned unchanged on error")
}

func TestKeyRing_BufferOverlap(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	const hdr = bcrypto.Overhead - 16
	t.Run("in place", func(t *testing.T) {
		buf := make([]byte, hdr+5, hdr+5+16)
		copy(buf[hdr:], "hello")
		ct, err := r.SealTo(buf[:0], buf[hdr:hdr+5], nil)
		require.NoError(t, err)
		pt, err := r.OpenTo(ct[hdr:hdr], ct, nil)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(pt))
	})
	t.Run("inexact seal", func(t *testing.T) {
		buf := make([]byte, 64, 200)
		_, err := r.SealTo(buf[:0], buf[1:10], nil)
		assert.ErrorIs(t, err, bcrypto.ErrBufferOverlap)
	})
	t.Run("inexact open", func(t *testing.T) {
		ct, err := r.Seal([]byte("hello world"), nil)
		require.NoError(t, err)
		_, err = r.OpenTo(ct[:0], ct, nil)
		assert.ErrorIs(t, err, bcrypto.ErrBufferOverlap)
	})
}

func TestKeyRing_RandomSourceFailure(t *testing.T) {
	boom := errors.New("entropy gone")
	r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{Rand: errReader{boom}})
	require.NoError(t, err)
	_, err = r.Rotate()
	assert.ErrorIs(t, err, boom)
	require.NoError(t, r.Add(1, fixedKey(1)))
	require.NoError(t, r.Promote(1))
	_, err = r.Seal([]byte("x"), nil)
	assert.ErrorIs(t, err, boom)
}

func TestKeyRing_ConcurrentSealOpenWhileRotating(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 64 {
		wg.Go(func() {
			buf := make([]byte, 0, 128)
			for i := range 50 {
				msg := []byte(fmt.Sprintf("g%d-i%d", g, i))
				ct, err := r.Seal(msg, nil)
				if err != nil {
					bad.Add(1)
					continue
				}
				pt, err := r.OpenTo(buf[:0], ct, nil)
				if err != nil || !bytes.Equal(pt, msg) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := r.Rotate(); err != nil {
				bad.Add(1)
			}
		}
	})
	wg.Wait()
	assert.Zero(t, bad.Load())
	assert.Len(t, r.Keys(), 21)
}

func TestKeyRing_FormattingNeverRevealsKeys(t *testing.T) {
	r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	key := fixedKey(0x40)
	require.NoError(t, r.Add(77, key))
	require.NoError(t, r.Promote(77))
	id2, err := r.Generate()
	require.NoError(t, err)
	require.NoError(t, r.Retire(id2))

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("ring", "ring", r)
	outputs := []string{
		r.String(), fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r),
		fmt.Sprintf("%x", r), fmt.Sprintf("%s", r), fmt.Sprintf("%v", []any{r}), logged.String(),
	}
	for _, out := range outputs {
		assert.Contains(t, out, "77")
		for _, enc := range []string{base64.StdEncoding.EncodeToString(key), hex.EncodeToString(key), string(key[:8])} {
			assert.NotContains(t, out, enc)
		}
	}
	assert.Equal(t, "crypto.KeyRing{primary=77 keys=[77:enabled "+id2.String()+":retired]}", r.String())
	var nilRing *bcrypto.KeyRing
	assert.Equal(t, "crypto.KeyRing(nil)", fmt.Sprint(nilRing))
}

func TestKeyRing_KeysListsStatusAndUses(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	first, _ := r.Primary()
	for range 3 {
		_, err := r.Seal(nil, nil)
		require.NoError(t, err)
	}
	second, err := r.Rotate()
	require.NoError(t, err)
	require.NoError(t, r.Retire(first))
	assert.Equal(t, []bcrypto.KeyInfo{
		{ID: first, Status: bcrypto.StatusRetired, Uses: 3},
		{ID: second, Status: bcrypto.StatusEnabled, Primary: true},
	}, r.Keys())
	assert.True(t, strings.HasPrefix(bcrypto.KeyStatus(9).String(), "KeyStatus("))
}

func TestKeyRing_ZeroValueIsAnEmptyRing(t *testing.T) {
	var r bcrypto.KeyRing
	_, err := r.Seal([]byte("x"), nil)
	assert.ErrorIs(t, err, bcrypto.ErrNoPrimary)
	_, err = r.Open(make([]byte, bcrypto.Overhead), nil)
	assert.Error(t, err)
	assert.Equal(t, "crypto.KeyRing{primary=none keys=[]}", r.String())
	_, err = r.Rotate()
	require.NoError(t, err)
	ct, err := r.Seal([]byte("x"), nil)
	require.NoError(t, err)
	pt, err := r.Open(ct, nil)
	require.NoError(t, err)
	assert.Equal(t, "x", string(pt))

	var m bcrypto.MACKeyRing
	_, err = m.Sign(nil)
	assert.ErrorIs(t, err, bcrypto.ErrNoPrimary)
	_, err = m.Rotate()
	require.NoError(t, err)
	tag, err := m.Sign(nil)
	require.NoError(t, err)
	assert.NoError(t, m.Verify(nil, tag))
}

func TestKeyRing_LargeRingsFindEveryKey(t *testing.T) {
	for _, n := range []int{1, 8, 9, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
			require.NoError(t, err)
			cts := map[bcrypto.KeyID][]byte{}
			for range n {
				id, err := r.Rotate()
				require.NoError(t, err)
				cts[id], err = r.Seal([]byte(id.String()), nil)
				require.NoError(t, err)
			}
			for id, ct := range cts {
				pt, err := r.Open(ct, nil)
				require.NoError(t, err)
				assert.Equal(t, id.String(), string(pt))
			}
			first := r.Keys()[0].ID
			if n > 1 {
				require.NoError(t, r.Retire(first))
				_, err = r.Open(cts[first], nil)
				assert.ErrorIs(t, err, bcrypto.ErrKeyRetired)
			}
			_, err = r.Open(append([]byte{1, 0, 0, 0, 0}, make([]byte, 28)...), nil)
			assert.ErrorIs(t, err, bcrypto.ErrUnknownKey)
		})
	}
}
