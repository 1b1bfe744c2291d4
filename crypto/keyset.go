package crypto

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// KeyID identifies a key inside a key ring. It is written in clear into every
// ciphertext and tag, so that the reader can pick the key; it is not secret.
// Zero is never a valid id, so that a forgotten field cannot select a key.
type KeyID uint32

// String returns the id in decimal, as it appears in a serialised key ring.
func (id KeyID) String() string { return strconv.FormatUint(uint64(id), 10) }

// KeyStatus is the life-cycle state of a key in a ring.
type KeyStatus uint8

const (
	// StatusEnabled keys open and verify data; the primary also seals or signs.
	StatusEnabled KeyStatus = iota + 1
	// StatusRetired keys are kept only so that their data fails with
	// ErrKeyRetired instead of ErrUnknownKey; they open and verify nothing.
	StatusRetired
)

// String returns "enabled" or "retired", the names used in serialised rings.
func (s KeyStatus) String() string {
	switch s {
	case StatusEnabled:
		return "enabled"
	case StatusRetired:
		return "retired"
	}
	return "KeyStatus(" + strconv.Itoa(int(s)) + ")"
}

// KeyInfo describes one key of a ring without revealing its material.
type KeyInfo struct {
	ID      KeyID
	Status  KeyStatus
	Primary bool
	// Uses counts the seals (for an AEAD ring) attempted with the key by
	// this process, including those refused once it was exhausted; it is
	// not persisted. It is zero for a MAC ring.
	Uses uint64
}

// entry is immutable once published; a change of status publishes a copy that
// shares mat, so per-key counters survive status changes.
type entry[T any] struct {
	id     KeyID
	status KeyStatus
	mat    T
}

type keyState[T any] struct {
	primary *entry[T]
	byID    map[KeyID]*entry[T]
	order   []KeyID // insertion order, for stable listings and exports
	// small mirrors byID for rings of up to smallRing keys: scanning a few
	// pointers beats hashing on the Open path.
	small []*entry[T]
}

const smallRing = 8

// keySet is the copy-on-write core shared by the AEAD and MAC rings: readers
// load one atomic pointer and never lock; writers serialise on mu and publish
// a new state.
type keySet[T any] struct {
	mu sync.Mutex
	st atomic.Pointer[keyState[T]]
}

// load returns the current state; a zero keySet reads as empty, which makes
// the zero rings usable.
func (s *keySet[T]) load() *keyState[T] {
	if st := s.st.Load(); st != nil {
		return st
	}
	return &keyState[T]{}
}

// lookup returns an enabled key, or a *KeyError.
func (st *keyState[T]) lookup(id KeyID) (*entry[T], error) {
	var e *entry[T]
	if st.small != nil {
		for _, c := range st.small {
			if c.id == id {
				e = c
				break
			}
		}
	} else {
		e = st.byID[id]
	}
	if e == nil {
		return nil, &KeyError{ID: id, Err: ErrUnknownKey}
	}
	if e.status != StatusEnabled {
		return nil, &KeyError{ID: id, Err: ErrKeyRetired}
	}
	return e, nil
}

// publish indexes n and makes it the state readers see.
func (s *keySet[T]) publish(n *keyState[T]) {
	n.small = nil
	if len(n.order) <= smallRing {
		n.small = make([]*entry[T], 0, len(n.order))
		for _, id := range n.order {
			n.small = append(n.small, n.byID[id])
		}
	}
	s.st.Store(n)
}

// clone copies the state for modification by a writer holding mu.
func (st *keyState[T]) clone() *keyState[T] {
	n := &keyState[T]{
		primary: st.primary,
		byID:    make(map[KeyID]*entry[T], len(st.byID)+1),
		order:   slices.Clone(st.order),
	}
	for k, v := range st.byID {
		n.byID[k] = v
	}
	return n
}

func (s *keySet[T]) add(id KeyID, mat T, status KeyStatus, primary bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(id, mat, status, primary)
}

func (s *keySet[T]) addLocked(id KeyID, mat T, status KeyStatus, primary bool) error {
	if id == 0 {
		return &KeyError{ID: id, Err: ErrInvalidKey}
	}
	if status != StatusEnabled && status != StatusRetired {
		return fmt.Errorf("%w: status %v", ErrInvalidKey, status)
	}
	if primary && status != StatusEnabled {
		return &KeyError{ID: id, Err: ErrPrimaryKey}
	}
	cur := s.load()
	if _, dup := cur.byID[id]; dup {
		return &KeyError{ID: id, Err: fmt.Errorf("%w: id already in the ring", ErrInvalidKey)}
	}
	n := cur.clone()
	e := &entry[T]{id: id, status: status, mat: mat}
	n.byID[id] = e
	n.order = append(n.order, id)
	if primary {
		n.primary = e
	}
	s.publish(n)
	return nil
}

// generate adds mat under a new random id, enabled and not primary.
func (s *keySet[T]) generate(rnd io.Reader, mat T) (KeyID, error) {
	for {
		id, err := newKeyID(rnd, s.load().byID)
		if err != nil {
			return 0, err
		}
		err = s.add(id, mat, StatusEnabled, false)
		if err == nil {
			return id, nil
		}
		// Another goroutine may have taken the id between the two steps.
		if _, dup := s.load().byID[id]; !dup {
			return 0, err
		}
	}
}

func (s *keySet[T]) promote(id KeyID) (old KeyID, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.load()
	e, err := cur.lookup(id)
	if err != nil {
		return 0, err
	}
	if cur.primary != nil {
		old = cur.primary.id
	}
	n := cur.clone()
	n.primary = e
	s.publish(n)
	return old, nil
}

func (s *keySet[T]) setStatus(id KeyID, status KeyStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.load()
	e := cur.byID[id]
	if e == nil {
		return &KeyError{ID: id, Err: ErrUnknownKey}
	}
	if cur.primary == e && status != StatusEnabled {
		return &KeyError{ID: id, Err: ErrPrimaryKey}
	}
	if e.status == status {
		return nil
	}
	n := cur.clone()
	c := *e
	c.status = status
	n.byID[id] = &c
	s.publish(n)
	return nil
}

func (s *keySet[T]) remove(id KeyID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.load()
	e := cur.byID[id]
	if e == nil {
		return &KeyError{ID: id, Err: ErrUnknownKey}
	}
	if cur.primary == e {
		return &KeyError{ID: id, Err: ErrPrimaryKey}
	}
	n := cur.clone()
	delete(n.byID, id)
	n.order = slices.DeleteFunc(n.order, func(x KeyID) bool { return x == id })
	s.publish(n)
	return nil
}

// rotate adds a fresh key made by gen and promotes it. If expect is not nil,
// rotation happens only while expect is still the primary, so that many
// goroutines finding the same key exhausted rotate it once.
func (s *keySet[T]) rotate(rnd io.Reader, expect *entry[T], gen func() (T, error)) (old, id KeyID, rotated bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.load()
	if expect != nil && cur.primary != nil && cur.primary != expect {
		return 0, cur.primary.id, false, nil
	}
	id, err = newKeyID(rnd, cur.byID)
	if err != nil {
		return 0, 0, false, err
	}
	mat, err := gen()
	if err != nil {
		return 0, 0, false, err
	}
	if cur.primary != nil {
		old = cur.primary.id
	}
	if err := s.addLocked(id, mat, StatusEnabled, true); err != nil {
		return 0, 0, false, err
	}
	return old, id, true, nil
}

func (st *keyState[T]) info(uses func(T) uint64) []KeyInfo {
	out := make([]KeyInfo, 0, len(st.order))
	for _, id := range st.order {
		e := st.byID[id]
		ki := KeyInfo{ID: id, Status: e.status, Primary: st.primary == e}
		if uses != nil {
			ki.Uses = uses(e.mat)
		}
		out = append(out, ki)
	}
	return out
}

// describe renders ids and statuses only: it backs String, Format and LogValue
// of every ring type so that key material can never reach a log.
func (st *keyState[T]) describe(kind string) string {
	b := []byte(kind)
	b = append(b, "{primary="...)
	if st.primary != nil {
		b = strconv.AppendUint(b, uint64(st.primary.id), 10)
	} else {
		b = append(b, "none"...)
	}
	b = append(b, " keys=["...)
	for i, id := range st.order {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, uint64(id), 10)
		b = append(b, ':')
		b = append(b, st.byID[id].status.String()...)
	}
	b = append(b, "]}"...)
	return string(b)
}

// newKeyID draws a random non-zero id not yet in the ring. Random ids keep
// rings that are built separately (one per service, say) from colliding.
func newKeyID[T any](rnd io.Reader, taken map[KeyID]*entry[T]) (KeyID, error) {
	var b [4]byte
	for {
		if err := readRandom(rnd, b[:]); err != nil {
			return 0, err
		}
		id := KeyID(binary.BigEndian.Uint32(b[:]))
		if _, dup := taken[id]; id != 0 && !dup {
			return id, nil
		}
	}
}

// readRandom fills b from rnd, or from crypto/rand when rnd is nil.
func readRandom(rnd io.Reader, b []byte) error {
	if rnd == nil {
		_, _ = rand.Read(b) // never fails: the runtime aborts instead
		return nil
	}
	if _, err := io.ReadFull(rnd, b); err != nil {
		return fmt.Errorf("crypto: reading randomness: %w", err)
	}
	return nil
}
