// Package crypto provides the cryptography a backend needs for data at rest
// and for tokens, with keys that rotate and formats that describe
// themselves. It is built on the standard library only, and its names are
// chosen to read well when imported as bcrypto:
//
//	import bcrypto "github.com/bedrock-go/bedrock/crypto"
//
// # Key rings
//
// A [KeyRing] holds AES-256-GCM keys, each with a 32-bit [KeyID], exactly
// one of them primary. [KeyRing.Seal] encrypts with the primary key and
// [KeyRing.Open] picks the key named in the ciphertext, so rotating
// ([KeyRing.Rotate], or [KeyRing.Generate] then [KeyRing.Promote]) never
// makes old data unreadable; retiring a key ([KeyRing.Retire]) does, with
// the typed error ErrKeyRetired. A ciphertext is
//
//	version (1) | key id (4) | nonce (12) | ciphertext | tag (16)
//
// and the version and key id are authenticated with the caller's associated
// data. [KeyRing.SealTo] and [KeyRing.OpenTo] append to a buffer and
// allocate nothing when it has room. Each key seals at most 2^32 messages
// (the NIST bound for random nonces, counted in memory); past that Seal
// returns ErrKeyExhausted or, if configured, rotates by itself.
//
// Rings serialise to JSON ([KeyRing.Export], [ParseKeyRing]) for a secret
// store; formatting or logging a ring prints key ids, never key material.
//
// # Envelope encryption
//
// [Envelope] encrypts each payload under a fresh data key and wraps that key
// with a [KeyWrapper]: a cloud KMS, or a local KeyRing through
// [NewLocalWrapper]. The caller's associated data is bound to the wrapped
// key as well as to the payload. An optional cache reuses a data key for a
// bounded number of messages and time, so the KMS is not called per message.
//
// # Streams
//
// [NewStreamWriter] and [NewStreamReader] encrypt payloads of any size in
// chunks (64 KiB by default) with the STREAM construction: every chunk is
// authenticated on its own with a counter nonce and a final-chunk flag, so
// memory stays bounded and reordered, dropped or truncated chunks are
// detected. The reader returns no byte of a chunk before it is
// authenticated.
//
// # Signatures, MACs and tokens
//
// [SigningKey] and [VerifyingKey] wrap Ed25519 with raw and PEM (PKCS #8,
// PKIX) encodings and RFC 7638 thumbprints as key ids. [MACKeyRing] signs
// with HMAC-SHA256 under rotating keys and verifies in constant time.
// [RandomToken], [RandomString] and [Equal] cover secure random tokens and
// their comparison.
//
// # Formats
//
// Every output starts with a version byte that names its kind, so that a
// blob passed to the wrong opener fails with ErrFormat instead of being
// misread. Integers are big-endian.
//
//	ring ciphertext  0x01 | key id (4) | nonce (12) | ciphertext | tag (16)
//	envelope         0x45 | wrapped key length (2) | wrapped key | nonce (12) | ciphertext | tag (16)
//	stream           0x53 | key id (4) | chunk size (4) | salt (32) | chunks, each ciphertext | tag (16)
//	MAC tag          0x4d | key id (4) | HMAC-SHA256 (32)
//
// A ring ciphertext authenticates its first five bytes and the caller's aad.
// An envelope's payload authenticates everything before its nonce and the
// caller's aad, and its data key is wrapped with the caller's aad. A stream
// encrypts under HKDF-SHA256(ring key, salt, header) with nonces
// 0 (3) | chunk index (8) | final flag (1), and authenticates the header and
// the caller's aad in every chunk. A MAC covers its first five bytes and the
// message.
//
// # Errors
//
// Opening anything malformed, truncated, tampered with, or sealed under a
// key the ring lacks returns ErrFormat, ErrDecrypt, or a [*KeyError]
// wrapping ErrUnknownKey or ErrKeyRetired; never a panic and never partial
// plaintext.
package crypto
