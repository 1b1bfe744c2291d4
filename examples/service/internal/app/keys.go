package app

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/bedrock-go/bedrock/auth/token"
)

// keysFile is the format of JWT_KEYS_FILE: Ed25519 seeds by key id, and the
// id that signs. Keeping the retired keys in the file lets tokens they signed
// verify until they expire, which is how keys rotate without downtime.
//
//	{"signing": "2026-11", "keys": [{"kid": "2026-11", "ed25519_seed": "<base64 of 32 bytes>"}]}
type keysFile struct {
	Signing string `json:"signing"`
	Keys    []struct {
		KID  string `json:"kid"`
		Seed string `json:"ed25519_seed"`
	} `json:"keys"`
}

// LoadKeyRing reads a key ring from path.
func LoadKeyRing(path string) (*token.KeyRing, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("JWT_KEYS_FILE: %w", err)
	}
	var f keysFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("JWT_KEYS_FILE %s: %w", path, err)
	}
	var signing *token.Key
	var others []*token.Key
	for _, k := range f.Keys {
		seed, err := base64.StdEncoding.DecodeString(k.Seed)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("JWT_KEYS_FILE %s: key %q: ed25519_seed must be base64 of %d bytes", path, k.KID, ed25519.SeedSize)
		}
		key, err := token.NewEd25519(k.KID, ed25519.NewKeyFromSeed(seed))
		if err != nil {
			return nil, fmt.Errorf("JWT_KEYS_FILE %s: %w", path, err)
		}
		if k.KID == f.Signing {
			signing = key
		} else {
			others = append(others, key)
		}
	}
	if signing == nil {
		return nil, fmt.Errorf("JWT_KEYS_FILE %s: no key has the signing id %q", path, f.Signing)
	}
	return token.NewKeyRing(signing, others...)
}
