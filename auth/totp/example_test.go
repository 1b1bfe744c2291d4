package totp_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/bedrock-go/bedrock/auth/totp"
	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// Verify a code and store the step it returns; the same code a second
// time is a replay. The key and clock are fixed so that the output is
// stable; real keys come from Authenticator.NewKey.
func ExampleAuthenticator_Verify() {
	at := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	a, err := totp.New(totp.Config{Issuer: "Example", Now: func() time.Time { return at }})
	if err != nil {
		panic(err)
	}
	key := &totp.Key{Issuer: "Example", Account: "alice", Secret: []byte("12345678901234567890"),
		Digits: 6, Period: 30 * time.Second}

	code, _ := totp.Code(key, at) // what the user's app shows
	var lastUsedStep int64        // stored per user; 0 before the first code
	step, err := a.Verify(key, code, lastUsedStep)
	fmt.Println(code, err)
	lastUsedStep = step // store before letting the user in

	_, err = a.Verify(key, code, lastUsedStep)
	fmt.Println(errors.Is(err, totp.ErrReplay))
	_, err = a.Verify(key, "12345x", lastUsedStep)
	fmt.Println(err)
	// Output:
	// 535472 <nil>
	// true
	// totp: malformed code: auth: invalid credential
}

// The URI an authenticator app scans at enrollment.
func ExampleKey_URI() {
	key := &totp.Key{Issuer: "Example", Account: "alice@example.com",
		Secret: []byte("12345678901234567890"), Digits: 6, Period: 30 * time.Second}
	fmt.Println(key.URI())
	// Output:
	// otpauth://totp/Example:alice@example.com?algorithm=SHA1&digits=6&issuer=Example&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
}

// The secret is stored sealed with a crypto.KeyRing, the user id as
// associated data, so that a sealed secret copied to another user's row
// does not open.
func ExampleKey_sealed() {
	ring, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	if err != nil {
		panic(err)
	}
	if _, err := ring.Rotate(); err != nil {
		panic(err)
	}
	a, err := totp.New(totp.Config{Issuer: "Example"})
	if err != nil {
		panic(err)
	}
	key, err := a.NewKey("alice@example.com")
	if err != nil {
		panic(err)
	}
	sealed, err := ring.Seal(key.Secret, []byte("totp:user:42"))
	if err != nil {
		panic(err)
	}
	// Store sealed with key.Algorithm, key.Digits and key.Period; later:
	secret, err := ring.Open(sealed, []byte("totp:user:42"))
	fmt.Println(len(secret), err)
	_, err = ring.Open(sealed, []byte("totp:user:43"))
	fmt.Println(errors.Is(err, bcrypto.ErrDecrypt))
	// Output:
	// 20 <nil>
	// true
}

// Recovery codes: show the codes once, store the hashes, delete the hash
// a code matched.
func ExampleRecoveryHasher() {
	h, err := totp.NewRecoveryHasher([]byte("a 32-byte server key, from a secret store"))
	if err != nil {
		panic(err)
	}
	codes, hashes := h.Generate()
	fmt.Println(len(codes), len(codes[0]))

	i, err := h.Match(codes[2], hashes) // as typed by the user
	fmt.Println(i, err)
	hashes = append(hashes[:i], hashes[i+1:]...)
	_, err = h.Match(codes[2], hashes)
	fmt.Println(err)
	// Output:
	// 10 14
	// 2 <nil>
	// totp: wrong recovery code: auth: invalid credential
}
