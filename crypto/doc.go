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
// This section specifies every byte the package writes, so that its data
// can be read, and written, without it: the package's own tests decrypt
// and produce each format from this text with the standard library alone.
// Integers are unsigned and big-endian; "||" is concatenation; byte ranges
// are inclusive and count from 0. AES-256-GCM is that of NIST SP 800-38D
// with a 12-byte nonce and a 16-byte tag, as [crypto/cipher.NewGCM] makes
// it; its output is the ciphertext, as long as the plaintext, followed by
// the tag. Each format starts with its own version byte, so that a blob
// passed to the wrong opener fails with ErrFormat instead of being misread.
//
// A key ring ciphertext ([KeyRing.Seal]) of an n-byte plaintext:
//
//	offset  size  field
//	0       1     version, 0x01
//	1       4     key id (never 0)
//	5       12    nonce, random
//	17      n+16  AES-256-GCM ciphertext and tag
//
// The key is the ring's 32-byte key with that id (the "key" member of the
// exported ring). The associated data is bytes 0-4 followed by the caller's
// aad, which may be empty.
//
// An envelope ([Envelope.Seal], [EnvelopeSeal]) of an n-byte plaintext:
//
//	offset  size  field
//	0       1     version, 0x45 ("E")
//	1       2     L, the length of the wrapped key (1 to 65535; readers
//	              accept at most EnvelopeConfig.MaxWrappedKeySize)
//	3       L     wrapped key, as KeyWrapper.Wrap returned it
//	3+L     12    nonce, random
//	15+L    n+16  AES-256-GCM ciphertext and tag
//
// The payload is encrypted under a 32-byte random data key, the one
// KeyWrapper.Unwrap returns for the wrapped key and the caller's aad. Its
// associated data is bytes 0 to 2+L (version, length and wrapped key)
// followed by the caller's aad. A [KeyWrapper] receives the caller's aad
// exactly as given; [LocalWrapper] wraps the data key as a key ring
// ciphertext (above) whose aad is the 33 bytes
// "bedrock/crypto envelope data key" followed by one zero byte, then the
// caller's aad. The AES-GCM associated data of a locally wrapped key is
// therefore its own bytes 0-4, then those 33 bytes, then the caller's aad.
// With the data-key cache on, envelopes sealed with the same aad may share
// a data key and its wrapped form.
//
// A stream ([NewStreamWriter]) starts with a 41-byte header:
//
//	offset  size  field
//	0       1     version, 0x53 ("S")
//	1       4     key id (never 0)
//	5       4     C, the plaintext chunk size (MinChunkSize to MaxChunkSize)
//	9       32    salt, random
//
// followed by the chunks. The stream key is 32 bytes of HKDF-SHA256
// (RFC 5869) whose input key material is the ring key with that id, whose
// salt is header bytes 9-40, and whose info is the 24 bytes
// "bedrock/crypto stream v1" followed by header bytes 0-8. Chunk i (from 0)
// is the AES-256-GCM encryption, under the stream key, of plaintext bytes
// i*C to i*C+C-1 (fewer in the last chunk), with the nonce
// 0x000000 || i (8 bytes) || f, where f is 0x01 in the last chunk and 0x00
// in every other, and with the associated data the whole 41-byte header
// followed by the caller's aad. Every chunk but the last holds exactly C
// bytes of plaintext (C+16 bytes sealed); the last holds 0 to C bytes, so a
// stream has at least one chunk. Readers split what follows the header
// into pieces of C+16 bytes and take the last piece, whatever its length
// (at least 16), as the final chunk. The writer leaves the last chunk empty
// only for an empty plaintext.
//
// A MAC tag ([MACKeyRing.Sign]) is 37 bytes:
//
//	offset  size  field
//	0       1     version, 0x4d ("M")
//	1       4     key id (never 0)
//	5       32    HMAC-SHA256 of bytes 0-4 followed by the message
//
// keyed with the MAC ring's key with that id (32 to 64 bytes).
//
// An exported ring ([KeyRing.Export], [MACKeyRing.Export]) is one JSON
// object: "type" is "aes256-gcm" or "hmac-sha256"; "primary" is the
// primary's id, absent when there is none; "keys" lists, in the order they
// were added, objects with "id" (a number), "status" ("enabled" or
// "retired") and "key" (the key in standard, padded base64).
//
// # Errors
//
// Opening anything malformed, truncated, tampered with, or sealed under a
// key the ring lacks returns ErrFormat, ErrDecrypt, or a [*KeyError]
// wrapping ErrUnknownKey or ErrKeyRetired; never a panic and never partial
// plaintext.
package crypto
