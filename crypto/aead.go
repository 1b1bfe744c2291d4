package crypto

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"
)

// Layout of a key-ring ciphertext:
//
//	version (1) | key id (4, big-endian) | nonce (12) | ciphertext | tag (16)
//
// The version byte and key id form the header; they are authenticated as
// the start of the AEAD's associated data, before the caller's aad.
const (
	ringVersion = 0x01
	headerSize  = 5
	nonceSize   = 12
	tagSize     = 16

	// Overhead is the number of bytes Seal adds to a plaintext.
	Overhead = headerSize + nonceSize + tagSize

	// MaxPlaintextSize is the largest plaintext one Seal (or one envelope)
	// can take: GCM's limit of 2^32-2 blocks under one nonce.
	MaxPlaintextSize = (1<<32 - 2) * 16
)

// checkSize keeps a huge plaintext from reaching cipher.AEAD.Seal, which
// panics on it.
func checkSize(n uint64) error {
	if n > MaxPlaintextSize {
		return ErrTooLarge
	}
	return nil
}

// maxPooledAAD keeps one huge aad from pinning a large buffer in the pool.
const maxPooledAAD = 4 << 10

// adPool holds scratch buffers for header||aad: a cipher.AEAD is an
// interface, so a stack buffer passed to it would escape and allocate on
// every call. The zero adPool is ready to use.
type adPool struct{ p sync.Pool }

func (a *adPool) get(header, aad []byte) *[]byte {
	p, _ := a.p.Get().(*[]byte)
	if p == nil {
		b := make([]byte, 0, 256)
		p = &b
	}
	*p = append(append((*p)[:0], header...), aad...)
	return p
}

func (a *adPool) put(p *[]byte) {
	if cap(*p) <= maxPooledAAD {
		a.p.Put(p)
	}
}

// Seal encrypts and authenticates plaintext with the primary key, binding
// aad (which may be nil) to the result. Open must be given the same aad.
// See SealTo for the errors.
func (r *KeyRing) Seal(plaintext, aad []byte) ([]byte, error) {
	ct, err := r.SealTo(make([]byte, 0, len(plaintext)+Overhead), plaintext, aad)
	if err != nil {
		return nil, err
	}
	return ct, nil
}

// SealTo appends the ciphertext of plaintext to dst and returns the extended
// slice; it allocates nothing when cap(dst)-len(dst) >= len(plaintext)+Overhead.
// plaintext must not overlap the appended region, except that it may start
// exactly Overhead-16 bytes into it (in-place encryption); otherwise SealTo
// returns ErrBufferOverlap.
//
// It fails with ErrTooLarge for a plaintext above MaxPlaintextSize, with
// ErrNoPrimary on a ring without a primary, and with a
// *KeyError wrapping ErrKeyExhausted when the primary has sealed
// MaxSealsPerKey messages and the ring does not rotate by itself. On error
// dst is returned unchanged.
func (r *KeyRing) SealTo(dst, plaintext, aad []byte) ([]byte, error) {
	if err := checkSize(uint64(len(plaintext))); err != nil {
		return dst, err
	}
	e := r.set.load().primary
	if e == nil {
		return dst, ErrNoPrimary
	}
	if e.mat.seals.Add(1) > r.sealLimit() {
		var err error
		if e, err = r.exhausted(e); err != nil {
			return dst, err
		}
	}
	ret, out := sliceForAppend(dst, len(plaintext)+Overhead)
	body := out[headerSize+nonceSize:]
	if inexactOverlap(body, plaintext) || overlaps(out[:headerSize+nonceSize], plaintext) {
		return dst, ErrBufferOverlap
	}
	out[0] = ringVersion
	binary.BigEndian.PutUint32(out[1:headerSize], uint32(e.id))
	nonce := out[headerSize : headerSize+nonceSize]
	if err := readRandom(r.rand, nonce); err != nil {
		return dst, err
	}
	if len(aad) == 0 {
		e.mat.aead.Seal(body[:0], nonce, plaintext, out[:headerSize])
		return ret, nil
	}
	ad := r.ad.get(out[:headerSize], aad)
	e.mat.aead.Seal(body[:0], nonce, plaintext, *ad)
	r.ad.put(ad)
	return ret, nil
}

// Open authenticates and decrypts a ciphertext made by Seal with the same
// aad. See OpenTo for the errors.
func (r *KeyRing) Open(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < Overhead {
		return nil, r.openFailed(errShort)
	}
	pt, err := r.OpenTo(make([]byte, 0, len(ciphertext)-Overhead), ciphertext, aad)
	if err != nil {
		return nil, err
	}
	return pt, nil
}

var errShort = fmt.Errorf("%w: ciphertext shorter than %d bytes", ErrFormat, Overhead)

// OpenTo appends the plaintext of ciphertext to dst and returns the extended
// slice; it allocates nothing when dst has room for len(ciphertext)-Overhead
// more bytes. dst must not overlap ciphertext, except that
// OpenTo(ciphertext[Overhead-16:Overhead-16], ciphertext, aad) decrypts in
// place; otherwise OpenTo returns ErrBufferOverlap.
//
// A ciphertext that is too short or has an unknown version fails with
// ErrFormat; an id not in the ring with a *KeyError wrapping ErrUnknownKey;
// a retired key with one wrapping ErrKeyRetired; any other change to the
// ciphertext, or a different aad, with ErrDecrypt. On error dst is returned
// unchanged and no plaintext is written past its length.
func (r *KeyRing) OpenTo(dst, ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < Overhead {
		return dst, r.openFailed(errShort)
	}
	if ciphertext[0] != ringVersion {
		return dst, r.openFailed(fmt.Errorf("%w: unknown ciphertext version %d", ErrFormat, ciphertext[0]))
	}
	e, err := r.set.load().lookup(KeyID(binary.BigEndian.Uint32(ciphertext[1:headerSize])))
	if err != nil {
		return dst, r.openFailed(err)
	}
	body := ciphertext[headerSize+nonceSize:]
	ret, out := sliceForAppend(dst, len(body)-tagSize)
	if inexactOverlap(out, body) || overlaps(out, ciphertext[:headerSize+nonceSize]) {
		return dst, ErrBufferOverlap
	}
	nonce := ciphertext[headerSize : headerSize+nonceSize]
	if len(aad) == 0 {
		_, err = e.mat.aead.Open(out[:0], nonce, body, ciphertext[:headerSize])
	} else {
		ad := r.ad.get(ciphertext[:headerSize], aad)
		_, err = e.mat.aead.Open(out[:0], nonce, body, *ad)
		r.ad.put(ad)
	}
	if err != nil {
		return dst, r.openFailed(ErrDecrypt)
	}
	return ret, nil
}

func (r *KeyRing) openFailed(err error) error {
	if r.hooks.OnOpenFailure != nil {
		r.hooks.OnOpenFailure(err)
	}
	return err
}

// sliceForAppend extends in by n bytes, reallocating only when it lacks
// capacity, and returns the whole slice and the new tail.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return head, tail
}

// overlaps reports whether x and y share any memory.
func overlaps(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 {
		return false
	}
	xs, ys := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&y[0]))
	return xs <= ys+uintptr(len(y)-1) && ys <= xs+uintptr(len(x)-1)
}

// inexactOverlap reports whether x and y share memory at different offsets,
// which cipher.AEAD does not support (it panics).
func inexactOverlap(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 || &x[0] == &y[0] {
		return false
	}
	return overlaps(x, y)
}
