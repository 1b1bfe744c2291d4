package crypto

import (
	"errors"
	"strconv"
)

// Errors returned by the package. Every failure to open a ciphertext, an
// envelope or a stream is one of ErrDecrypt, ErrFormat, ErrUnknownKey or
// ErrKeyRetired (the last two wrapped in a [*KeyError]), so callers can
// branch with [errors.Is] without parsing messages.
var (
	// ErrDecrypt reports that authentication failed: the ciphertext, its
	// header, the associated data or the key does not match what was sealed.
	// It deliberately says nothing more, so that it gives an attacker no
	// oracle.
	ErrDecrypt = errors.New("crypto: message authentication failed")

	// ErrFormat reports input that is not a well-formed ciphertext, envelope,
	// stream, signature, tag or key encoding: too short, an unknown version,
	// a length out of bounds.
	ErrFormat = errors.New("crypto: malformed input")

	// ErrUnknownKey reports a key id that the key ring does not hold.
	ErrUnknownKey = errors.New("crypto: unknown key")

	// ErrKeyRetired reports a key id whose key has been retired: its data
	// can no longer be opened or verified until the key is reinstated.
	ErrKeyRetired = errors.New("crypto: key is retired")

	// ErrKeyExhausted reports that the primary key has sealed as many
	// messages as its random-nonce budget allows (see
	// [KeyRingConfig.MaxSealsPerKey]) and the ring is not configured to
	// rotate by itself.
	ErrKeyExhausted = errors.New("crypto: key has exhausted its nonce budget")

	// ErrNoPrimary reports a seal or sign on a key ring without a primary key.
	ErrNoPrimary = errors.New("crypto: key ring has no primary key")

	// ErrInvalidKey reports key material of the wrong size or form, or a key
	// id that cannot be used (zero, or already in the ring).
	ErrInvalidKey = errors.New("crypto: invalid key")

	// ErrPrimaryKey reports an attempt to retire or remove the primary key,
	// or to promote a retired one.
	ErrPrimaryKey = errors.New("crypto: operation not allowed on the primary key")

	// ErrInvalidConfig reports a configuration that New... refuses.
	ErrInvalidConfig = errors.New("crypto: invalid config")

	// ErrSignature reports a signature or MAC that does not verify.
	ErrSignature = errors.New("crypto: invalid signature")

	// ErrBufferOverlap reports a destination buffer that overlaps the input
	// in a way the AEAD cannot handle (see [KeyRing.SealTo] and
	// [KeyRing.OpenTo]).
	ErrBufferOverlap = errors.New("crypto: destination overlaps input")

	// ErrTooLarge reports a plaintext above MaxPlaintextSize, the most GCM
	// can encrypt under one nonce (about 64 GiB); use a stream instead.
	ErrTooLarge = errors.New("crypto: message too large for AES-GCM")

	// ErrClosed reports a write to a stream writer after Close.
	ErrClosed = errors.New("crypto: stream is closed")
)

// KeyError is the error for a specific key id: its Err is ErrUnknownKey,
// ErrKeyRetired, ErrKeyExhausted, ErrInvalidKey or ErrPrimaryKey.
// Use [errors.As] to learn which key was involved.
type KeyError struct {
	ID  KeyID
	Err error
}

// Error implements error.
func (e *KeyError) Error() string {
	msg := e.Err.Error()
	const prefix = "crypto: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		msg = msg[len(prefix):]
	}
	return "crypto: key " + strconv.FormatUint(uint64(e.ID), 10) + ": " + msg
}

// Unwrap returns the sentinel, so that errors.Is(err, ErrKeyRetired) holds.
func (e *KeyError) Unwrap() error { return e.Err }
