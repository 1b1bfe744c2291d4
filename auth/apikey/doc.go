// Package apikey generates, parses and verifies API keys of the form
//
//		<prefix>_<id>_<secret><checksum>
//		bk_live_4f9XwQ2mT7aB_Zk3...Rr8q1kP0
//
//	  - prefix: readable, chosen by the service (bk_live, bk_test), so a leaked
//	    key is recognisable by secret scanners and by people;
//	  - id: 12 base62 characters, public, used to look the key up;
//	  - secret: 32 base62 characters (190 bits) from crypto/rand;
//	  - checksum: 6 base62 characters of the CRC-32 of everything before it,
//	    so a mistyped or truncated key is refused without a database hit.
//
// # Storage
//
// Only the SHA-256 of the secret is stored. A keyed hash (HMAC with a server
// key) or a slow hash would add key management or latency and buy nothing:
// with 190 bits of entropy the secret cannot be recovered from its hash by
// guessing, which is what those would defend against. Verification compares
// hashes in constant time, and an unknown id costs the same as a wrong
// secret.
//
// [Keys] ties the format to a [Store] (an in-memory one is provided) with
// metadata: name, owner, scopes, creation, last use, expiry and revocation.
package apikey
