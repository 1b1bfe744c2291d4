package idempotency

import (
	"context"
	"crypto/rand"
	"sync"
	"time"
)

// MemoryStore is a [Store] for a single process. The zero value is not
// usable; call [NewMemoryStore]. It is safe for concurrent use. Expired
// records are removed lazily, and swept in full once the number of
// operations since the last sweep reaches the number of records, so memory
// stays proportional to the live records at amortised constant cost.
type MemoryStore struct {
	now func() time.Time

	mu      sync.Mutex
	records map[string]*memRecord
	ops     int
}

type memRecord struct {
	state    State
	fp       Fingerprint
	token    string
	resp     *Response
	deadline time.Time
}

// NewMemoryStore returns an empty in-memory store. now is the clock; nil
// means time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, records: make(map[string]*memRecord)}
}

// Begin implements [Store].
func (s *MemoryStore) Begin(_ context.Context, key string, fp Fingerprint, lockTTL time.Duration) (Lookup, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if r, ok := s.records[key]; ok && now.Before(r.deadline) {
		return Lookup{State: r.state, Fingerprint: r.fp, Response: r.resp}, nil
	}
	token := newToken()
	s.records[key] = &memRecord{state: InProgress, fp: fp, token: token, deadline: now.Add(lockTTL)}
	return Lookup{State: Acquired, Fingerprint: fp, Token: token}, nil
}

// Complete implements [Store].
func (s *MemoryStore) Complete(_ context.Context, key, token string, resp *Response, retention time.Duration) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.heldLocked(key, token, now)
	if r == nil {
		return ErrLockLost
	}
	r.state, r.resp, r.token, r.deadline = Completed, resp, "", now.Add(retention)
	return nil
}

// Release implements [Store].
func (s *MemoryStore) Release(_ context.Context, key, token string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heldLocked(key, token, now) == nil {
		return ErrLockLost
	}
	delete(s.records, key)
	return nil
}

// heldLocked returns the record of key if token holds its live lock.
func (s *MemoryStore) heldLocked(key, token string, now time.Time) *memRecord {
	r, ok := s.records[key]
	if !ok || r.state != InProgress || r.token != token || !now.Before(r.deadline) {
		return nil
	}
	return r
}

// Len returns the number of records held, expired ones included until the
// next sweep.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

func (s *MemoryStore) sweepLocked(now time.Time) {
	s.ops++
	if s.ops < len(s.records) || s.ops < 64 {
		return
	}
	s.ops = 0
	for k, r := range s.records {
		if !now.Before(r.deadline) {
			delete(s.records, k)
		}
	}
}

func newToken() string {
	return rand.Text()
}
