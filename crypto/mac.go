package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"log/slog"
)

// Layout of a MAC tag:
//
//	version (1) | key id (4, big-endian) | HMAC-SHA256 (32)
//
// The MAC covers the version and key id as well as the message.
const (
	macVersion    = 0x4d
	macHeaderSize = 5

	// MACSize is the length of a tag from [MACKeyRing.Sign].
	MACSize = macHeaderSize + sha256.Size

	// MinMACKeySize and MaxMACKeySize bound HMAC keys: below the hash size
	// a key is weaker than the MAC; above the block size HMAC hashes it.
	MinMACKeySize = 32
	MaxMACKeySize = 64
)

// macFreeStates bounds the idle HMAC states kept per key.
const macFreeStates = 32

type macKey struct {
	raw []byte
	// free recycles HMAC states so that Sign and Verify do not allocate.
	// A buffered channel rather than a sync.Pool: the pool drops items at
	// random under the race detector, and an hmac.New costs several
	// allocations, so the zero-allocation guarantee would not hold there.
	free chan *macState
}

type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func newMACKey(raw []byte) (*macKey, error) {
	if len(raw) < MinMACKeySize || len(raw) > MaxMACKeySize {
		return nil, fmt.Errorf("%w: HMAC keys are %d to %d bytes, got %d", ErrInvalidKey, MinMACKeySize, MaxMACKeySize, len(raw))
	}
	return &macKey{raw: append([]byte(nil), raw...), free: make(chan *macState, macFreeStates)}, nil
}

func (k *macKey) get() *macState {
	select {
	case s := <-k.free:
		s.h.Reset()
		return s
	default:
		return &macState{h: hmac.New(sha256.New, k.raw)}
	}
}

func (k *macKey) put(s *macState) {
	select {
	case k.free <- s:
	default:
	}
}

// MACKeyRingConfig configures a [MACKeyRing]. The zero value is ready to use.
type MACKeyRingConfig struct {
	// Rand is the source of generated keys. Nil means crypto/rand; other
	// readers are for tests.
	Rand io.Reader

	// Hooks observe the ring. Nil fields cost nothing.
	Hooks MACKeyRingHooks
}

// MACKeyRingHooks are callbacks for instrumentation, the counterpart of
// [KeyRingHooks]. They run synchronously and must be safe for concurrent
// use.
type MACKeyRingHooks struct {
	// OnRotate runs after a new primary is installed by Rotate or Promote.
	// old is zero if the ring had no primary.
	OnRotate func(old, new KeyID)
	// OnVerifyFailure runs when Verify rejects a tag, with the error
	// returned: forged or corrupted tags, unknown or retired keys.
	OnVerifyFailure func(err error)
}

// MACKeyRing signs and verifies messages with HMAC-SHA256 under rotating
// keys: [MACKeyRing.Sign] uses the primary key and writes its id into the
// tag, [MACKeyRing.Verify] picks the key by that id and compares in
// constant time; those two are what most callers want. Its key management
// is [KeyRing]'s, method for method. It is safe for
// concurrent use. The zero MACKeyRing is an empty ring; a MACKeyRing must
// not be copied after first use.
type MACKeyRing struct {
	set   keySet[*macKey]
	rand  io.Reader
	hooks MACKeyRingHooks
}

// NewMACKeyRing returns an empty MAC key ring. Add keys with
// [MACKeyRing.Add] or [MACKeyRing.Rotate] before signing.
func NewMACKeyRing(cfg MACKeyRingConfig) (*MACKeyRing, error) {
	return &MACKeyRing{rand: cfg.Rand, hooks: cfg.Hooks}, nil
}

// ParseMACKeyRing loads a ring serialised by [MACKeyRing.Export], with the
// same strictness as [ParseKeyRing].
func ParseMACKeyRing(data []byte, cfg MACKeyRingConfig) (*MACKeyRing, error) {
	m, err := NewMACKeyRing(cfg)
	if err != nil {
		return nil, err
	}
	if err := parseSet(data, typeMAC, &m.set, newMACKey); err != nil {
		return nil, err
	}
	return m, nil
}

// Export serialises the ring, key material included; treat it as a secret.
func (m *MACKeyRing) Export() ([]byte, error) {
	return exportSet(m.set.load(), typeMAC, func(k *macKey) []byte { return k.raw })
}

// Add inserts a key of MinMACKeySize to MaxMACKeySize bytes under id,
// enabled and not primary.
func (m *MACKeyRing) Add(id KeyID, key []byte) error {
	k, err := newMACKey(key)
	if err != nil {
		return &KeyError{ID: id, Err: err}
	}
	return m.set.add(id, k, StatusEnabled, false)
}

// Generate adds a new random 32-byte key, enabled and not primary, and
// returns its id. Generating ahead of promotion lets every verifier learn
// the key before any signer uses it.
func (m *MACKeyRing) Generate() (KeyID, error) {
	k, err := m.generateKey()
	if err != nil {
		return 0, err
	}
	return m.set.generate(m.rand, k)
}

// Rotate generates a 32-byte key and makes it the primary in one step; the
// old primary stays enabled, so existing tags still verify. On an empty
// ring it creates the first key. Where several processes share a ring,
// prefer Generate, distribute, then Promote.
func (m *MACKeyRing) Rotate() (KeyID, error) {
	old, id, _, err := m.set.rotate(m.rand, nil, m.generateKey)
	if err != nil {
		return 0, err
	}
	if m.hooks.OnRotate != nil {
		m.hooks.OnRotate(old, id)
	}
	return id, nil
}

func (m *MACKeyRing) generateKey() (*macKey, error) {
	var raw [MinMACKeySize]byte
	if err := readRandom(m.rand, raw[:]); err != nil {
		return nil, err
	}
	return newMACKey(raw[:])
}

// Promote makes an enabled key the primary. The previous primary stays
// enabled for Verify.
func (m *MACKeyRing) Promote(id KeyID) error {
	old, err := m.set.promote(id)
	if err == nil && old != id && m.hooks.OnRotate != nil {
		m.hooks.OnRotate(old, id)
	}
	return err
}

// Retire disables a key: its tags then fail with ErrKeyRetired. The
// primary cannot be retired (ErrPrimaryKey): promote another key first.
func (m *MACKeyRing) Retire(id KeyID) error { return m.set.setStatus(id, StatusRetired) }

// Reinstate re-enables a retired key.
func (m *MACKeyRing) Reinstate(id KeyID) error { return m.set.setStatus(id, StatusEnabled) }

// Remove deletes a key; its tags then fail with ErrUnknownKey. The primary
// cannot be removed.
func (m *MACKeyRing) Remove(id KeyID) error { return m.set.remove(id) }

// Primary returns the id of the primary key, and false if there is none.
func (m *MACKeyRing) Primary() (KeyID, bool) {
	p := m.set.load().primary
	if p == nil {
		return 0, false
	}
	return p.id, true
}

// Keys lists the keys in the order they were added, without their
// material.
func (m *MACKeyRing) Keys() []KeyInfo { return m.set.load().info(nil) }

// String describes the ring by key ids and statuses only.
func (m *MACKeyRing) String() string {
	if m == nil {
		return "crypto.MACKeyRing(nil)"
	}
	return m.set.load().describe("crypto.MACKeyRing")
}

// Format prints String for every verb.
func (m *MACKeyRing) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }

// LogValue makes slog print the description, never the keys.
func (m *MACKeyRing) LogValue() slog.Value { return slog.StringValue(m.String()) }

// Sign returns the MACSize-byte tag of msg under the primary key.
func (m *MACKeyRing) Sign(msg []byte) ([]byte, error) {
	return m.SignTo(make([]byte, 0, MACSize), msg)
}

// SignTo appends the tag of msg to dst; it allocates nothing when dst has
// MACSize bytes of room. It fails only with ErrNoPrimary.
func (m *MACKeyRing) SignTo(dst, msg []byte) ([]byte, error) {
	e := m.set.load().primary
	if e == nil {
		return dst, ErrNoPrimary
	}
	ret, out := sliceForAppend(dst, MACSize)
	out[0] = macVersion
	binary.BigEndian.PutUint32(out[1:macHeaderSize], uint32(e.id))
	s := e.mat.get()
	s.h.Write(out[:macHeaderSize])
	s.h.Write(msg)
	s.h.Sum(out[:macHeaderSize])
	e.mat.put(s)
	return ret, nil
}

// Verify checks tag against msg in constant time. It returns nil, ErrFormat
// for a tag of the wrong size or version, a *KeyError (ErrUnknownKey,
// ErrKeyRetired) for a key the ring cannot use, or ErrSignature.
func (m *MACKeyRing) Verify(msg, tag []byte) error {
	err := m.verify(msg, tag)
	if err != nil && m.hooks.OnVerifyFailure != nil {
		m.hooks.OnVerifyFailure(err)
	}
	return err
}

func (m *MACKeyRing) verify(msg, tag []byte) error {
	if len(tag) != MACSize || tag[0] != macVersion {
		return fmt.Errorf("%w: MAC tag must be %d bytes of version %d", ErrFormat, MACSize, macVersion)
	}
	e, err := m.set.load().lookup(KeyID(binary.BigEndian.Uint32(tag[1:macHeaderSize])))
	if err != nil {
		return err
	}
	s := e.mat.get()
	s.h.Write(tag[:macHeaderSize])
	s.h.Write(msg)
	ok := hmac.Equal(s.h.Sum(s.sum[:0]), tag[macHeaderSize:])
	e.mat.put(s)
	if !ok {
		return ErrSignature
	}
	return nil
}
