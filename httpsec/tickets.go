package httpsec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/tls"
	"sync"
	"time"
)

// ticketKeys encrypts session tickets with AES-256-GCM under keys it
// rotates itself. It sits in tls.Config's WrapSession and UnwrapSession
// rather than behind SetSessionTicketKeys because http.Server clones the
// config it is given: keys set on the original after the clone would
// never reach the handshakes, callbacks do. Rotation is lazy, on the
// first ticket made or read after it is due.
type ticketKeys struct {
	rotation time.Duration
	now      func() time.Time

	mu   sync.Mutex
	keys []ticketKey // newest first, at most ticketKeysKept
}

type ticketKey struct {
	name    [16]byte // random, says which key sealed a ticket
	aead    cipher.AEAD
	created time.Time
}

// current returns the keys after dropping the expired and, when due,
// making a new one.
func (t *ticketKeys) current() ([]ticketKey, error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) > 0 && now.Sub(t.keys[0].created) < t.rotation && now.Sub(t.keys[0].created) >= 0 {
		return t.keys, nil
	}
	var secret [32]byte
	k := ticketKey{created: now}
	if _, err := rand.Read(k.name[:]); err != nil {
		return nil, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(secret[:])
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	keys := make([]ticketKey, 0, ticketKeysKept)
	keys = append(keys, k)
	for _, old := range t.keys {
		if len(keys) < ticketKeysKept && now.Sub(old.created) < ticketKeysKept*t.rotation {
			keys = append(keys, old)
		}
	}
	t.keys = keys // a new slice: callers holding the old one keep a consistent view
	return keys, nil
}

// wrap seals a session as name | nonce | AES-GCM(session), the name as
// additional data.
func (t *ticketKeys) wrap(_ tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
	keys, err := t.current()
	if err != nil {
		return nil, err
	}
	plain, err := ss.Bytes()
	if err != nil {
		return nil, err
	}
	k := keys[0]
	out := make([]byte, 0, len(k.name)+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	out = append(out, k.name[:]...)
	nonce := out[len(out) : len(out)+k.aead.NonceSize()]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = out[:len(out)+len(nonce)]
	return k.aead.Seal(out, nonce, plain, k.name[:]), nil
}

// unwrap opens a ticket. A ticket it cannot open (unknown or expired key,
// tampered bytes) is ignored, not an error: the client gets a full
// handshake instead of a failed one.
func (t *ticketKeys) unwrap(identity []byte, _ tls.ConnectionState) (*tls.SessionState, error) {
	keys, err := t.current()
	if err != nil || len(identity) < 16 {
		return nil, nil
	}
	for _, k := range keys {
		if string(k.name[:]) != string(identity[:16]) {
			continue
		}
		rest := identity[16:]
		if len(rest) < k.aead.NonceSize() {
			return nil, nil
		}
		plain, err := k.aead.Open(nil, rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():], k.name[:])
		if err != nil {
			return nil, nil
		}
		ss, err := tls.ParseSessionState(plain)
		if err != nil {
			return nil, nil
		}
		return ss, nil
	}
	return nil, nil
}
