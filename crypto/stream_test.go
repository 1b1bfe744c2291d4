package crypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

const testChunk = 64

const streamHeader = 41

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func encryptStream(t testing.TB, ring *bcrypto.KeyRing, pt, aad []byte, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := bcrypto.NewStreamWriter(&out, ring, aad, bcrypto.StreamConfig{ChunkSize: chunk})
	require.NoError(t, err)
	_, err = w.Write(pt)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return out.Bytes()
}

func decryptStream(ring *bcrypto.KeyRing, ct, aad []byte) ([]byte, error) {
	r, err := bcrypto.NewStreamReader(bytes.NewReader(ct), ring, aad, bcrypto.StreamConfig{})
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestStream_RoundTrip(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	sizes := []int{0, 1, testChunk - 1, testChunk, testChunk + 1, 3 * testChunk, 3*testChunk + 5}
	writers := map[string]func(w *bcrypto.StreamWriter, pt []byte) error{
		"one write": func(w *bcrypto.StreamWriter, pt []byte) error { _, err := w.Write(pt); return err },
		"byte by byte": func(w *bcrypto.StreamWriter, pt []byte) error {
			for i := range pt {
				if _, err := w.Write(pt[i : i+1]); err != nil {
					return err
				}
			}
			return nil
		},
		"uneven writes": func(w *bcrypto.StreamWriter, pt []byte) error {
			for step := 1; len(pt) > 0; step = step*3 + 1 {
				n := min(step, len(pt))
				if _, err := w.Write(pt[:n]); err != nil {
					return err
				}
				pt = pt[n:]
			}
			return nil
		},
		"ReadFrom": func(w *bcrypto.StreamWriter, pt []byte) error {
			_, err := io.Copy(w, iotest.HalfReader(bytes.NewReader(pt)))
			return err
		},
	}
	readers := map[string]func(r *bcrypto.StreamReader) ([]byte, error){
		"ReadAll": func(r *bcrypto.StreamReader) ([]byte, error) { return io.ReadAll(r) },
		"one byte reads": func(r *bcrypto.StreamReader) ([]byte, error) {
			return io.ReadAll(iotest.OneByteReader(r))
		},
		"WriteTo": func(r *bcrypto.StreamReader) ([]byte, error) {
			var b bytes.Buffer
			_, err := r.WriteTo(&b)
			return b.Bytes(), err
		},
	}
	for _, size := range sizes {
		pt := pattern(size)
		for wn, write := range writers {
			var out bytes.Buffer
			w, err := bcrypto.NewStreamWriter(&out, ring, []byte("aad"), bcrypto.StreamConfig{ChunkSize: testChunk})
			require.NoError(t, err)
			require.NoError(t, write(w, pt))
			require.NoError(t, w.Close())
			chunks := max(1, (size+testChunk-1)/testChunk)
			require.Equal(t, streamHeader+size+16*chunks, out.Len(), "size %d %s", size, wn)
			for rn, read := range readers {
				t.Run(fmt.Sprintf("size=%d/%s/%s", size, wn, rn), func(t *testing.T) {
					r, err := bcrypto.NewStreamReader(iotest.HalfReader(bytes.NewReader(out.Bytes())), ring, []byte("aad"), bcrypto.StreamConfig{})
					require.NoError(t, err)
					got, err := read(r)
					require.NoError(t, err)
					assert.Equal(t, pt, append([]byte{}, got...))
				})
			}
		}
	}
}

func TestStream_DefaultChunkSizeRoundTrip(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	pt := pattern(3*bcrypto.DefaultChunkSize + 100)
	ct := encryptStream(t, ring, pt, nil, 0)
	assert.Equal(t, streamHeader+len(pt)+4*16, len(ct))
	got, err := decryptStream(ring, ct, nil)
	require.NoError(t, err)
	assert.Equal(t, pt, got)
}

// chunks splits a stream into header and sealed chunks.
func chunks(ct []byte, chunk int) (header []byte, cs [][]byte) {
	header, ct = ct[:streamHeader], ct[streamHeader:]
	for len(ct) > 0 {
		n := min(chunk+16, len(ct))
		cs = append(cs, ct[:n])
		ct = ct[n:]
	}
	return header, cs
}

func join(header []byte, cs ...[]byte) []byte {
	out := bytes.Clone(header)
	for _, c := range cs {
		out = append(out, c...)
	}
	return out
}

// checkRejected asserts that decryption fails and returns nothing but whole,
// authentic leading chunks of pt.
func checkRejected(t *testing.T, ring *bcrypto.KeyRing, ct, pt []byte, want ...error) {
	t.Helper()
	got, err := decryptStream(ring, ct, []byte("aad"))
	require.Error(t, err)
	matched := false
	for _, w := range want {
		matched = matched || errors.Is(err, w)
	}
	assert.True(t, matched, "error %v, want one of %v", err, want)
	assert.Zero(t, len(got)%testChunk, "only whole chunks are released")
	assert.True(t, bytes.HasPrefix(pt, got), "released bytes are authentic plaintext")
}

func TestStream_Tamper(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	pt := pattern(3*testChunk + 10)
	ct := encryptStream(t, ring, pt, []byte("aad"), testChunk)
	header, cs := chunks(ct, testChunk)
	require.Len(t, cs, 4)

	t.Run("every truncation", func(t *testing.T) {
		for n := range len(ct) {
			if n < streamHeader {
				checkRejected(t, ring, ct[:n], pt, bcrypto.ErrFormat)
			} else {
				checkRejected(t, ring, ct[:n], pt, bcrypto.ErrDecrypt)
			}
		}
	})
	t.Run("one flipped bit in each byte", func(t *testing.T) {
		for i := range ct {
			bad := bytes.Clone(ct)
			bad[i] ^= 1 << (i % 8)
			checkRejected(t, ring, bad, pt, bcrypto.ErrFormat, bcrypto.ErrDecrypt, bcrypto.ErrUnknownKey)
		}
	})
	tests := map[string][]byte{
		"reordered chunks":       join(header, cs[1], cs[0], cs[2], cs[3]),
		"dropped chunk":          join(header, cs[0], cs[2], cs[3]),
		"missing final chunk":    join(header, cs[0], cs[1], cs[2]),
		"duplicated chunk":       join(header, cs[0], cs[0], cs[1], cs[2], cs[3]),
		"final chunk moved up":   join(header, cs[3]),
		"trailing byte":          append(bytes.Clone(ct), 0),
		"trailing chunk":         join(header, cs[0], cs[1], cs[2], cs[3], cs[1]),
		"header from new stream": join(encryptStream(t, ring, pt, []byte("aad"), testChunk)[:streamHeader], cs...),
	}
	for name, bad := range tests {
		t.Run(name, func(t *testing.T) { checkRejected(t, ring, bad, pt, bcrypto.ErrDecrypt) })
	}
	t.Run("wrong aad", func(t *testing.T) {
		_, err := decryptStream(ring, ct, []byte("aaD"))
		assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
	})
}

func TestStream_FullFinalChunkCannotBeExtended(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	pt := pattern(2 * testChunk)
	ct := encryptStream(t, ring, pt, []byte("aad"), testChunk)
	header, cs := chunks(ct, testChunk)
	require.Len(t, cs, 2)
	other := encryptStream(t, ring, pt, []byte("aad"), testChunk)
	_, ocs := chunks(other, testChunk)
	checkRejected(t, ring, join(header, cs[0], cs[1], ocs[1]), pt, bcrypto.ErrDecrypt)
	checkRejected(t, ring, join(header, cs[0]), pt, bcrypto.ErrDecrypt)
}

func TestStream_HeaderErrors(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	ct := encryptStream(t, ring, pattern(10), []byte("aad"), testChunk)
	mutate := func(f func([]byte)) []byte { b := bytes.Clone(ct); f(b); return b }
	tests := map[string]struct {
		ct   []byte
		want error
	}{
		"bad version":      {mutate(func(b []byte) { b[0] = 1 }), bcrypto.ErrFormat},
		"unknown key":      {mutate(func(b []byte) { b[1] ^= 0xff }), bcrypto.ErrUnknownKey},
		"chunk too small":  {mutate(func(b []byte) { b[5], b[6], b[7], b[8] = 0, 0, 0, 15 }), bcrypto.ErrFormat},
		"chunk too large":  {mutate(func(b []byte) { b[5], b[6], b[7], b[8] = 0, 0x10, 0, 1 }), bcrypto.ErrFormat},
		"chunk size moved": {mutate(func(b []byte) { b[8] = 65 }), bcrypto.ErrDecrypt},
		"salt changed":     {mutate(func(b []byte) { b[20] ^= 1 }), bcrypto.ErrDecrypt},
		"empty":            {nil, bcrypto.ErrFormat},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decryptStream(ring, tt.ct, []byte("aad"))
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestStream_RetiredKey(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	old, _ := ring.Primary()
	ct := encryptStream(t, ring, pattern(100), nil, testChunk)
	_, err := ring.Rotate()
	require.NoError(t, err)
	got, err := decryptStream(ring, ct, nil)
	require.NoError(t, err, "rotation keeps old streams readable")
	assert.Equal(t, pattern(100), got)
	require.NoError(t, ring.Retire(old))
	_, err = decryptStream(ring, ct, nil)
	assert.ErrorIs(t, err, bcrypto.ErrKeyRetired)
}

func TestStream_ErrorsAreSticky(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	ct := encryptStream(t, ring, pattern(200), nil, testChunk)
	ct[streamHeader+5] ^= 1
	r, err := bcrypto.NewStreamReader(bytes.NewReader(ct), ring, nil, bcrypto.StreamConfig{})
	require.NoError(t, err)
	buf := make([]byte, 1000)
	for range 3 {
		n, err := r.Read(buf)
		assert.Zero(t, n)
		assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
	}
}

func TestStream_ReaderMaxChunkSize(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	ct := encryptStream(t, ring, pattern(100), nil, 4096)
	r, err := bcrypto.NewStreamReader(bytes.NewReader(ct), ring, nil, bcrypto.StreamConfig{MaxChunkSize: 1024})
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	assert.ErrorIs(t, err, bcrypto.ErrFormat)
}

type failingWriter struct {
	n   int
	err error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	f.n--
	return len(p), nil
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestStreamWriter_Errors(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	boom := errors.New("disk full")

	t.Run("destination error is sticky", func(t *testing.T) {
		w, err := bcrypto.NewStreamWriter(&failingWriter{n: 1, err: boom}, ring, nil, bcrypto.StreamConfig{ChunkSize: testChunk})
		require.NoError(t, err)
		_, err = w.Write(pattern(3 * testChunk))
		assert.ErrorIs(t, err, boom)
		_, err = w.Write([]byte("x"))
		assert.ErrorIs(t, err, boom)
		assert.ErrorIs(t, w.Close(), boom)
	})
	t.Run("short write", func(t *testing.T) {
		w, err := bcrypto.NewStreamWriter(shortWriter{}, ring, nil, bcrypto.StreamConfig{ChunkSize: testChunk})
		require.NoError(t, err)
		assert.ErrorIs(t, w.Close(), io.ErrShortWrite)
	})
	t.Run("write after close", func(t *testing.T) {
		w, err := bcrypto.NewStreamWriter(io.Discard, ring, nil, bcrypto.StreamConfig{})
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, w.Close(), "Close is idempotent")
		_, err = w.Write([]byte("x"))
		assert.ErrorIs(t, err, bcrypto.ErrClosed)
		_, err = w.ReadFrom(bytes.NewReader([]byte("x")))
		assert.ErrorIs(t, err, bcrypto.ErrClosed)
	})
	t.Run("nothing written before a chunk is complete", func(t *testing.T) {
		var out bytes.Buffer
		w, err := bcrypto.NewStreamWriter(&out, ring, nil, bcrypto.StreamConfig{ChunkSize: testChunk})
		require.NoError(t, err)
		_, err = w.Write(pattern(testChunk))
		require.NoError(t, err)
		assert.Zero(t, out.Len())
	})
	t.Run("no primary", func(t *testing.T) {
		empty, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
		require.NoError(t, err)
		_, err = bcrypto.NewStreamWriter(io.Discard, empty, nil, bcrypto.StreamConfig{})
		assert.ErrorIs(t, err, bcrypto.ErrNoPrimary)
	})
}

func TestStreamReader_SourceErrorsAreWrapped(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	boom := errors.New("connection reset")
	ct := encryptStream(t, ring, pattern(300), nil, testChunk)
	src := io.MultiReader(bytes.NewReader(ct[:streamHeader+100]), iotest.ErrReader(boom))
	r, err := bcrypto.NewStreamReader(src, ring, nil, bcrypto.StreamConfig{})
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, pattern(300)[:testChunk], got)
}

func TestStreamConfig_Validation(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	_, err := bcrypto.NewStreamWriter(nil, ring, nil, bcrypto.StreamConfig{})
	assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
	_, err = bcrypto.NewStreamReader(bytes.NewReader(nil), nil, nil, bcrypto.StreamConfig{})
	assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
	for _, cfg := range []bcrypto.StreamConfig{
		{ChunkSize: bcrypto.MinChunkSize - 1}, {ChunkSize: -1}, {ChunkSize: bcrypto.MaxChunkSize + 1},
		{MaxChunkSize: 8}, {MaxChunkSize: bcrypto.MaxChunkSize + 1},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			_, err := bcrypto.NewStreamWriter(io.Discard, ring, nil, cfg)
			assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
			_, err = bcrypto.NewStreamReader(bytes.NewReader(nil), ring, nil, cfg)
			assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
		})
	}
}

// Per-stream setup allocates (key derivation, one chunk buffer); chunks
// must not, so a 16-chunk stream costs what a 1-chunk stream does.
func TestStream_AllocationsDoNotGrowWithLength(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	// A non-default chunk size keeps the buffer pool out of the count: under
	// the race detector sync.Pool drops items at random.
	const chunk = 4096
	small, large := pattern(100), pattern(16*chunk+100)
	sealed := map[int][]byte{}
	encrypt := func(pt []byte) float64 {
		return testing.AllocsPerRun(5, func() {
			var out bytes.Buffer
			out.Grow(len(pt) + 1024)
			w, err := bcrypto.NewStreamWriter(&out, ring, nil, bcrypto.StreamConfig{ChunkSize: chunk})
			if err != nil {
				panic(err)
			}
			_, _ = w.Write(pt)
			if err := w.Close(); err != nil {
				panic(err)
			}
			sealed[len(pt)] = out.Bytes()
		})
	}
	decrypt := func(ct []byte) float64 {
		src := bytes.NewReader(nil)
		return testing.AllocsPerRun(5, func() {
			src.Reset(ct)
			r, err := bcrypto.NewStreamReader(src, ring, nil, bcrypto.StreamConfig{})
			if err != nil {
				panic(err)
			}
			if _, err := r.WriteTo(io.Discard); err != nil {
				panic(err)
			}
		})
	}
	assert.Equal(t, encrypt(small), encrypt(large))
	assert.Equal(t, decrypt(sealed[len(small)]), decrypt(sealed[len(large)]))
	assert.LessOrEqual(t, decrypt(sealed[len(large)]), 30.0)
}

// Default-size streams share pooled buffers; concurrent streams on one ring
// must never see each other's chunks.
func TestStream_ConcurrentStreamsShareNothing(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 3 {
				pt := bytes.Repeat([]byte{byte(g*3 + i)}, 2*bcrypto.DefaultChunkSize+g*1000+i)
				var sealed bytes.Buffer
				w, err := bcrypto.NewStreamWriter(&sealed, ring, []byte{byte(g)}, bcrypto.StreamConfig{})
				if err != nil {
					bad.Add(1)
					return
				}
				_, err = io.Copy(w, iotest.HalfReader(bytes.NewReader(pt)))
				if err != nil || w.Close() != nil {
					bad.Add(1)
					continue
				}
				r, err := bcrypto.NewStreamReader(&sealed, ring, []byte{byte(g)}, bcrypto.StreamConfig{})
				if err != nil {
					bad.Add(1)
					continue
				}
				got, err := io.ReadAll(iotest.HalfReader(r))
				if err != nil || !bytes.Equal(got, pt) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, bad.Load())
}

func TestStream_OpenFailureHookSeesRejectionsNotIOErrors(t *testing.T) {
	var seen []error
	ring := newRing(t, bcrypto.KeyRingConfig{Hooks: bcrypto.KeyRingHooks{OnOpenFailure: func(err error) { seen = append(seen, err) }}})
	ct := encryptStream(t, ring, pattern(300), nil, testChunk)

	bad := bytes.Clone(ct)
	bad[len(bad)-1] ^= 1
	_, err := decryptStream(ring, bad, nil)
	require.ErrorIs(t, err, bcrypto.ErrDecrypt)

	boom := errors.New("connection reset")
	r, err := bcrypto.NewStreamReader(io.MultiReader(bytes.NewReader(ct[:100]), iotest.ErrReader(boom)), ring, nil, bcrypto.StreamConfig{})
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "crypto: reading stream: connection reset")

	require.Len(t, seen, 1)
	assert.ErrorIs(t, seen[0], bcrypto.ErrDecrypt)
}
