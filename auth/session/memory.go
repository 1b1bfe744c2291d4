package session

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a [Store] in process memory, for tests and single-process
// services. The zero value is ready to use: hand it to [New], which calls
// its methods.
type MemoryStore struct {
	mu       sync.Mutex
	tokens   map[Hash]Token
	families map[string]Family
}

func (s *MemoryStore) init() {
	if s.tokens == nil {
		s.tokens = make(map[Hash]Token)
		s.families = make(map[string]Family)
	}
}

// Create implements [Store].
func (s *MemoryStore) Create(_ context.Context, f Family, first Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.families[f.ID] = f
	s.tokens[first.Hash] = first
	return nil
}

// Get implements [Store].
func (s *MemoryStore) Get(_ context.Context, h Hash) (Token, Family, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[h]
	if !ok {
		return Token{}, Family{}, ErrNotFound
	}
	return t, s.families[t.FamilyID], nil
}

// Rotate implements [Store].
func (s *MemoryStore) Rotate(_ context.Context, old Hash, next Token) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[old]
	if !ok || !t.UsedAt.IsZero() || !s.families[t.FamilyID].RevokedAt.IsZero() {
		return false, nil
	}
	t.UsedAt, t.Successor = next.IssuedAt, next.Hash
	s.tokens[old] = t
	s.tokens[next.Hash] = next
	return true, nil
}

// RevokeFamily implements [Store].
func (s *MemoryStore) RevokeFamily(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[id]
	if !ok {
		return ErrNotFound
	}
	if f.RevokedAt.IsZero() {
		f.RevokedAt = at
		s.families[id] = f
	}
	return nil
}

// RevokeSubject implements [Store].
func (s *MemoryStore) RevokeSubject(_ context.Context, subject string, at time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, f := range s.families {
		if f.Subject == subject && f.RevokedAt.IsZero() {
			f.RevokedAt = at
			s.families[id] = f
			n++
		}
	}
	return n, nil
}

// DeleteExpired implements [Store]: a family ends at its ExpiresAt, or
// when revoked; its tokens go with it.
func (s *MemoryStore) DeleteExpired(_ context.Context, before time.Time, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone := map[string]bool{}
	for id, f := range s.families {
		if len(gone) == limit {
			break
		}
		if f.ExpiresAt.Before(before) || (!f.RevokedAt.IsZero() && f.RevokedAt.Before(before)) {
			gone[id] = true
			delete(s.families, id)
		}
	}
	for h, t := range s.tokens {
		if gone[t.FamilyID] {
			delete(s.tokens, h)
		}
	}
	return len(gone), nil
}
