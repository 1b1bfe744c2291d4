package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Errors about JSON Web Key Sets and the keys in them.
var (
	// ErrJWKS is wrapped by errors about a document that is not a JSON Web
	// Key Set at all; [ParseJWKS] returns no keys with it.
	ErrJWKS = errors.New("token: invalid JWKS")
	// ErrNoUsableKeys means a JWK Set has keys but none this package can
	// verify with; it wraps ErrJWKS. An empty set is not this error.
	ErrNoUsableKeys = fmt.Errorf("%w: no usable key", ErrJWKS)
	// ErrKeyUnsupported is wrapped by the reason a key of a JWK Set is
	// skipped when it is of a kind this package does not verify with: a key
	// type, curve or algorithm other than Ed25519, P-256 and RS256, an
	// encryption key, a symmetric (oct) key, or a kid the verifier cannot
	// select (absent, longer than 128 bytes, or with control characters).
	// Broken keys of a usable kind (bad material, RSA under 2048 bits,
	// published private material, a repeated kid) wrap [ErrKey] instead.
	ErrKeyUnsupported = errors.New("token: unsupported key")
)

// SkippedKey describes a key of a JWK Set that [ParseJWKSFunc] left out.
type SkippedKey struct {
	Index int    // position in the set's "keys" array
	ID    string // the key's kid as published; "" when absent or unreadable
	Type  string // the key's kty; "" when absent or unreadable
	Err   error  // why: wraps ErrKeyUnsupported or ErrKey
}

// String describes s for a log line.
func (s SkippedKey) String() string {
	return fmt.Sprintf("JWK %d (kty %q, kid %q) skipped: %v", s.Index, s.Type, s.ID, s.Err)
}

// jwk is one JSON Web Key (RFC 7517) as read or written.
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
	Alg    string   `json:"alg,omitempty"`
	Crv    string   `json:"crv,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	// Private or symmetric material must never be published; a key that
	// has it is never used.
	D string `json:"d,omitempty"`
	K string `json:"k,omitempty"`
}

type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// MarshalJWKS returns the JSON Web Key Set of the public halves of keys.
// HS256 keys have no public half and are left out.
func MarshalJWKS(keys []*Key) ([]byte, error) {
	out := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	enc := base64.RawURLEncoding
	for _, k := range keys {
		j := jwk{Kid: k.id, Use: "sig", Alg: string(k.alg)}
		switch k.alg {
		case EdDSA:
			j.Kty, j.Crv, j.X = "OKP", "Ed25519", enc.EncodeToString(k.edPub)
		case ES256:
			raw, err := k.ecPub.Bytes() // 0x04 || X || Y
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrKey, err)
			}
			j.Kty, j.Crv = "EC", "P-256"
			j.X, j.Y = enc.EncodeToString(raw[1:33]), enc.EncodeToString(raw[33:])
		case RS256:
			j.Kty = "RSA"
			j.N = enc.EncodeToString(k.rsaPub.N.Bytes())
			j.E = enc.EncodeToString(big.NewInt(int64(k.rsaPub.E)).Bytes())
		default:
			continue
		}
		out.Keys = append(out.Keys, j)
	}
	return json.Marshal(out)
}

// ParseJWKS reads a JSON Web Key Set and returns the keys this package can
// verify with, in order. Following RFC 7517 §5, a key it cannot use is
// skipped and the rest are kept; [ParseJWKSFunc] reports the skipped ones.
// It returns an error wrapping [ErrJWKS] for a document that is not a key
// set, and [ErrNoUsableKeys] for a set with keys of which none is usable.
// An empty set returns no keys and no error.
//
// Kids may repeat across keys of different algorithms (RFC 7517 §4.5);
// [RemoteKeySet] tells them apart by the token's alg, while a [KeyRing]
// refuses a repeated kid. A kid repeated on a second key of the same
// algorithm is skipped: the first key wins.
func ParseJWKS(data []byte) ([]*Key, error) { return ParseJWKSFunc(data, nil) }

// ParseJWKSFunc is [ParseJWKS], calling onSkip (when not nil) for every key
// it leaves out, in order, before it returns.
func ParseJWKSFunc(data []byte, onSkip func(SkippedKey)) ([]*Key, error) {
	var set jwkSet
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the key set", ErrJWKS)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: no keys array", ErrJWKS)
	}
	type kidAlg struct {
		kid string
		alg Algorithm
	}
	seen := map[kidAlg]bool{}
	var keys []*Key
	var first *SkippedKey
	for i, raw := range set.Keys {
		k, skip := readJWK(raw)
		if k != nil && seen[kidAlg{k.id, k.alg}] {
			k, skip.Err = nil, fmt.Errorf("%w: kid %q repeated for %s; the first key is kept", ErrKey, k.id, k.alg)
		}
		if k == nil {
			skip.Index = i
			if first == nil {
				first = &skip
			}
			if onSkip != nil {
				onSkip(skip)
			}
			continue
		}
		seen[kidAlg{k.id, k.alg}] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 && first != nil {
		return nil, fmt.Errorf("%w: %d keys skipped, the first because %v", ErrNoUsableKeys, len(set.Keys), first.Err)
	}
	return keys, nil
}

// readJWK returns the key raw holds, or nil and why it is skipped.
func readJWK(raw json.RawMessage) (*Key, SkippedKey) {
	var j jwk
	if err := json.Unmarshal(raw, &j); err != nil {
		// Keep what can be read, for the report.
		var partial struct{ Kty, Kid any }
		_ = json.Unmarshal(raw, &partial)
		kty, _ := partial.Kty.(string)
		kid, _ := partial.Kid.(string)
		return nil, SkippedKey{ID: kid, Type: kty, Err: fmt.Errorf("%w: not a JWK: %v", ErrKey, err)}
	}
	skip := SkippedKey{ID: j.Kid, Type: j.Kty}
	if j.D != "" || j.K != "" {
		skip.Err = fmt.Errorf("%w: the key set publishes its private or secret material, so anyone can sign with it", ErrKey)
		return nil, skip
	}
	if err := usableKind(j); err != nil {
		skip.Err = err
		return nil, skip
	}
	if err := checkVerifyID(j.Kid); err != nil {
		skip.Err = fmt.Errorf("%w: %v", ErrKeyUnsupported, err)
		return nil, skip
	}
	k, err := parseJWK(j)
	if err != nil {
		skip.Err = fmt.Errorf("%w: %v", ErrKey, err)
		return nil, skip
	}
	return k, skip
}

// usableKind refuses keys of a kind this package never verifies with.
func usableKind(j jwk) error {
	if j.Use != "" && j.Use != "sig" {
		return fmt.Errorf("%w: use %q", ErrKeyUnsupported, j.Use)
	}
	if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
		return fmt.Errorf("%w: key_ops without verify", ErrKeyUnsupported)
	}
	switch {
	case j.Kty == "oct":
		return fmt.Errorf("%w: symmetric keys are never taken from a key set", ErrKeyUnsupported)
	case j.Kty == "OKP" && j.Crv == "Ed25519" && (j.Alg == "" || j.Alg == string(EdDSA)),
		j.Kty == "EC" && j.Crv == "P-256" && (j.Alg == "" || j.Alg == string(ES256)),
		j.Kty == "RSA" && (j.Alg == "" || j.Alg == string(RS256)):
		return nil
	}
	return fmt.Errorf("%w: kty %q, crv %q, alg %q", ErrKeyUnsupported, j.Kty, j.Crv, j.Alg)
}

// parseJWK builds the key of j, whose kind usableKind accepted.
func parseJWK(j jwk) (*Key, error) {
	switch j.Kty {
	case "OKP":
		x, err := decodeBase64URL(j.X)
		if err != nil {
			return nil, errors.New("bad x")
		}
		return NewEd25519Public(j.Kid, x)
	case "EC":
		x, errX := decodeBase64URL(j.X)
		y, errY := decodeBase64URL(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad x or y")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, errors.New("point not on P-256")
		}
		return NewES256Public(j.Kid, pub)
	default: // RSA
		n, errN := decodeBase64URL(j.N)
		e, errE := decodeBase64URL(j.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 || len(n) > 1024 {
			return nil, errors.New("bad n or e")
		}
		return NewRS256Public(j.Kid, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())})
	}
}

// JWKSHandler serves the public keys of ring as a JSON Web Key Set, for
// /.well-known/jwks.json. maxAge sets Cache-Control (5m when zero): long
// enough to spare the issuer, short enough that a newly added key reaches
// verifiers before it signs anything, if keys are added maxAge ahead.
func JWKSHandler(ring *KeyRing, maxAge time.Duration) http.Handler {
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	cache := "public, max-age=" + strconv.Itoa(int(maxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := MarshalJWKS(ring.Keys())
		if err != nil {
			http.Error(w, "key set unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", cache)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
