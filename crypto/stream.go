package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Stream layout (the STREAM construction of Hoang, Reyhanitabar, Rogaway
// and Vizár, as in DARE 2.0 and age):
//
//	header: version (1) | key id (4) | chunk size (4) | salt (32)
//	chunks: ciphertext | tag (16), each chunk of exactly chunk size bytes
//	        except the last, which may be shorter (or empty)
//
// Each stream encrypts under its own key, HKDF-SHA256 with the ring key as
// secret, the salt as salt and streamInfo || header[:9] as info, so chunk
// nonces can be a plain counter: nonce = 0 (3) | chunk index (8) | final
// flag (1). The package doc specifies every byte. The header and the caller's aad
// are every chunk's associated data. A reordered or dropped chunk has the
// wrong index, a truncated stream lacks the final flag, and data after the
// final chunk makes it non-final: all fail authentication.
const (
	streamVersion    = 0x53
	streamHeaderSize = 1 + 4 + 4 + 32
	streamInfo       = "bedrock/crypto stream v1"

	// DefaultChunkSize is the plaintext size of a stream chunk.
	DefaultChunkSize = 64 << 10
	// MinChunkSize and MaxChunkSize bound chunk sizes, in the writer's
	// configuration and in the headers a reader accepts.
	MinChunkSize = 16
	MaxChunkSize = 16 << 20

	defaultMaxReadChunk = 1 << 20
)

// StreamConfig configures [NewStreamWriter] and [NewStreamReader]. The zero
// value writes 64 KiB chunks and reads chunks up to 1 MiB.
type StreamConfig struct {
	// ChunkSize is the writer's plaintext chunk size. Zero means
	// DefaultChunkSize; it must lie in [MinChunkSize, MaxChunkSize].
	ChunkSize int
	// MaxChunkSize is the largest chunk size a reader accepts from a header,
	// which bounds the memory an untrusted stream can make it allocate.
	// Zero means the larger of 1 MiB and ChunkSize.
	MaxChunkSize int
}

func (c StreamConfig) withDefaults() (StreamConfig, error) {
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.MaxChunkSize == 0 {
		c.MaxChunkSize = max(defaultMaxReadChunk, c.ChunkSize)
	}
	for _, v := range [...]int{c.ChunkSize, c.MaxChunkSize} {
		if v < MinChunkSize || v > MaxChunkSize {
			return c, fmt.Errorf("%w: chunk size %d outside [%d, %d]", ErrInvalidConfig, v, MinChunkSize, MaxChunkSize)
		}
	}
	return c, nil
}

// chunkPool recycles the buffers of default-size streams: at 64 KiB they
// are large objects, whose allocation and collection cost more than sealing
// a chunk. Buffers are cleared before reuse leaves them lying around. The
// zero chunkPool is ready to use.
type chunkPool struct{ p sync.Pool }

// chunkBufSize holds one sealed chunk plus the reader's look-ahead byte.
func chunkBufSize(chunk int) int { return chunk + tagSize + 1 }

func (c *chunkPool) get(chunk int) []byte {
	if chunk == DefaultChunkSize {
		if b, _ := c.p.Get().(*[]byte); b != nil {
			return (*b)[:chunkBufSize(chunk)]
		}
	}
	return make([]byte, chunkBufSize(chunk))
}

func (c *chunkPool) put(b []byte) {
	if cap(b) != chunkBufSize(DefaultChunkSize) {
		return
	}
	b = b[:cap(b)]
	clear(b)
	c.p.Put(&b)
}

func streamAEAD(ringKey, header []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, ringKey, header[9:], streamInfo+string(header[:9]), KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func chunkNonce(n *[nonceSize]byte, index uint64, final bool) {
	binary.BigEndian.PutUint64(n[3:11], index)
	n[11] = 0
	if final {
		n[11] = 1
	}
}

func streamAD(header, aad []byte) []byte {
	return append(append(make([]byte, 0, len(header)+len(aad)), header...), aad...)
}

// errSource marks errors of the underlying reader, which say nothing about
// the stream's authenticity.
var errSource = errors.New("crypto: reading stream")

type sourceError struct{ err error }

func (e *sourceError) Error() string   { return errSource.Error() + ": " + e.err.Error() }
func (e *sourceError) Unwrap() []error { return []error{errSource, e.err} }

// StreamWriter encrypts a stream of any length in chunks; see
// [NewStreamWriter]. It is not safe for concurrent use.
type StreamWriter struct {
	dst       io.Writer
	pool      *chunkPool
	aead      cipher.AEAD
	header    []byte
	ad        []byte
	chunk     int
	buf       []byte // pending plaintext; room for a tag so chunks seal in place
	index     uint64
	nonce     [nonceSize]byte
	wroteHead bool
	closed    bool
	err       error
}

// NewStreamWriter returns a writer that encrypts what is written to it with
// ring's primary key and writes the stream to dst. aad is bound to every
// chunk. Close must be called to write the final chunk; without it the
// stream is truncated and will not decrypt. Nothing is written to dst
// before the first chunk is complete or Close is called.
func NewStreamWriter(dst io.Writer, ring *KeyRing, aad []byte, cfg StreamConfig) (*StreamWriter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if dst == nil || ring == nil {
		return nil, fmt.Errorf("%w: nil writer or key ring", ErrInvalidConfig)
	}
	e := ring.set.load().primary
	if e == nil {
		return nil, ErrNoPrimary
	}
	header := make([]byte, streamHeaderSize)
	header[0] = streamVersion
	binary.BigEndian.PutUint32(header[1:5], uint32(e.id))
	binary.BigEndian.PutUint32(header[5:9], uint32(cfg.ChunkSize))
	if err := readRandom(ring.rand, header[9:]); err != nil {
		return nil, err
	}
	a, err := streamAEAD(e.mat.raw, header)
	if err != nil {
		return nil, err
	}
	return &StreamWriter{
		dst: dst, aead: a, header: header, ad: streamAD(header, aad), chunk: cfg.ChunkSize,
		pool: &ring.chunks, buf: ring.chunks.get(cfg.ChunkSize)[:0],
	}, nil
}

// Write encrypts p. Full chunks are written to dst as soon as it is known
// that more data follows them; the last chunk waits for Close.
func (w *StreamWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == w.chunk {
			if err := w.flush(w.buf, false); err != nil {
				return n, err
			}
		}
		// More than a chunk in p: that chunk is not the last, so seal it
		// straight from p and skip a copy.
		if len(w.buf) == 0 && len(p) > w.chunk {
			if err := w.flush(p[:w.chunk], false); err != nil {
				return n, err
			}
			p, n = p[w.chunk:], n+w.chunk
			continue
		}
		k := copy(w.buf[len(w.buf):w.chunk], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
	}
	return n, nil
}

// ReadFrom encrypts everything read from src until EOF, so that io.Copy
// reads straight into the chunk buffer. It does not Close the writer.
func (w *StreamWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	var total int64
	for {
		// Read one byte past the chunk to learn whether it is the last.
		m, err := io.ReadFull(src, w.buf[len(w.buf):w.chunk+1])
		w.buf = w.buf[:len(w.buf)+m]
		total += int64(m)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		extra := w.buf[w.chunk]
		if err := w.flush(w.buf[:w.chunk], false); err != nil {
			return total, err
		}
		w.buf = append(w.buf, extra)
	}
}

// Close writes the final chunk. It does not close dst. Calling Close again
// returns the first Close's result.
func (w *StreamWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		w.err = w.flush(w.buf, true)
	}
	w.pool.put(w.buf)
	w.buf = nil
	return w.err
}

// flush seals pt (w.buf itself, sealed in place, or a full chunk of the
// caller's data) into w.buf and writes it; w.buf is empty afterwards.
func (w *StreamWriter) flush(pt []byte, final bool) error {
	if !w.wroteHead {
		if err := w.write(w.header); err != nil {
			return err
		}
		w.wroteHead = true
	}
	chunkNonce(&w.nonce, w.index, final)
	w.index++
	ct := w.aead.Seal(w.buf[:0], w.nonce[:], pt, w.ad)
	w.buf = w.buf[:0]
	return w.write(ct)
}

func (w *StreamWriter) write(b []byte) error {
	n, err := w.dst.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("crypto: writing stream: %w", err)
	}
	return w.err
}

// StreamReader decrypts a stream written by a [StreamWriter]; see
// [NewStreamReader]. It is not safe for concurrent use.
type StreamReader struct {
	src   io.Reader
	ring  *KeyRing
	aad   []byte
	max   int
	aead  cipher.AEAD
	ad    []byte
	chunk int
	buf   []byte // one sealed chunk plus one byte of look-ahead
	carry bool   // buf[len(sealed chunk)] holds a byte of the next chunk
	pt    []byte // authenticated plaintext not yet returned
	index uint64
	nonce [nonceSize]byte
	done  bool
	err   error
}

// NewStreamReader returns a reader of the plaintext of the stream read from
// src, which must have been sealed with a key in ring and the same aad. The
// header is read on the first Read.
//
// Read returns only authenticated plaintext, a chunk at a time: a bad
// header fails with ErrFormat or a *KeyError (ErrUnknownKey,
// ErrKeyRetired), and a tampered, reordered, dropped or truncated chunk with
// ErrDecrypt; no byte of a chunk that failed is returned, and the error is
// sticky. Errors of src are returned wrapped.
func NewStreamReader(src io.Reader, ring *KeyRing, aad []byte, cfg StreamConfig) (*StreamReader, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if src == nil || ring == nil {
		return nil, fmt.Errorf("%w: nil reader or key ring", ErrInvalidConfig)
	}
	return &StreamReader{src: src, ring: ring, aad: aad, max: cfg.MaxChunkSize}, nil
}

// Read implements io.Reader.
func (r *StreamReader) Read(p []byte) (int, error) {
	for len(r.pt) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			r.release()
			return 0, io.EOF
		}
		r.err = r.next()
		r.release()
	}
	n := copy(p, r.pt)
	r.pt = r.pt[n:]
	return n, nil
}

// WriteTo writes the plaintext to w chunk by chunk, without the copy Read
// makes; io.Copy uses it.
func (r *StreamReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.pt) > 0 {
			n, err := w.Write(r.pt)
			total += int64(n)
			r.pt = r.pt[n:]
			if err != nil {
				return total, err
			}
			if len(r.pt) > 0 {
				return total, io.ErrShortWrite
			}
		}
		if r.err != nil {
			return total, r.err
		}
		if r.done {
			r.release()
			return total, nil
		}
		r.err = r.next()
		r.release()
	}
}

// release returns the chunk buffer once nothing can read from it again:
// after an error, or after the final chunk once its plaintext is consumed.
func (r *StreamReader) release() {
	if r.buf != nil && len(r.pt) == 0 && (r.err != nil || r.done) {
		r.ring.chunks.put(r.buf)
		r.buf = nil
	}
}

// next authenticates the next chunk into r.pt. Rejections of the stream
// (not I/O errors of src) are reported to the ring's OnOpenFailure hook.
func (r *StreamReader) next() error {
	err := r.nextChunk()
	if err != nil && r.ring.hooks.OnOpenFailure != nil && !errors.Is(err, errSource) {
		r.ring.hooks.OnOpenFailure(err)
	}
	return err
}

func (r *StreamReader) nextChunk() error {
	if r.aead == nil {
		if err := r.readHeader(); err != nil {
			return err
		}
	}
	sealed := r.chunk + tagSize
	start := 0
	if r.carry {
		r.buf[0] = r.buf[sealed]
		start = 1
	}
	m, err := io.ReadFull(r.src, r.buf[start:sealed+1])
	m += start
	final := false
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		final = true
	case err != nil:
		return &sourceError{err}
	}
	if final && m < tagSize {
		return fmt.Errorf("%w: stream truncated", ErrDecrypt)
	}
	ct := r.buf[:sealed]
	if final {
		ct = r.buf[:m]
	}
	r.carry = !final
	chunkNonce(&r.nonce, r.index, final)
	pt, err := r.aead.Open(ct[:0], r.nonce[:], ct, r.ad)
	if err != nil {
		return ErrDecrypt
	}
	r.index++
	r.pt = pt
	r.done = final
	return nil
}

func (r *StreamReader) readHeader() error {
	var header [streamHeaderSize]byte
	if _, err := io.ReadFull(r.src, header[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: stream header truncated", ErrFormat)
		}
		return &sourceError{err}
	}
	if header[0] != streamVersion {
		return fmt.Errorf("%w: unknown stream version %d", ErrFormat, header[0])
	}
	chunk := binary.BigEndian.Uint32(header[5:9])
	if chunk < MinChunkSize || chunk > uint32(r.max) {
		return fmt.Errorf("%w: stream chunk size %d outside [%d, %d]", ErrFormat, chunk, MinChunkSize, r.max)
	}
	e, err := r.ring.set.load().lookup(KeyID(binary.BigEndian.Uint32(header[1:5])))
	if err != nil {
		return err
	}
	a, err := streamAEAD(e.mat.raw, header[:])
	if err != nil {
		return err
	}
	r.aead, r.chunk = a, int(chunk)
	r.ad = streamAD(header[:], r.aad)
	r.buf = r.ring.chunks.get(r.chunk)
	return nil
}
