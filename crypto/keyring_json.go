package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
)

// maxSerializedRing bounds the input ParseKeyRing reads, so that a corrupt
// secret cannot make it allocate without limit.
const maxSerializedRing = 1 << 20

// serialRing is the JSON form of a ring:
//
//	{"type":"aes256-gcm","primary":1234,"keys":[{"id":1234,"status":"enabled","key":"<base64>"}]}
type serialRing struct {
	Type    string      `json:"type"`
	Primary KeyID       `json:"primary,omitempty"`
	Keys    []serialKey `json:"keys"`
}

type serialKey struct {
	ID     KeyID  `json:"id"`
	Status string `json:"status"`
	Key    string `json:"key"`
}

const (
	typeAEAD = "aes256-gcm"
	typeMAC  = "hmac-sha256"
)

// Export serialises the ring, key material included, as JSON with
// standard base64 keys, for storing in a secret manager. Treat the result as
// a secret. Seal counters are not exported.
func (r *KeyRing) Export() ([]byte, error) {
	return exportSet(r.set.load(), typeAEAD, func(k *aeadKey) []byte { return k.raw })
}

// ParseKeyRing loads a ring serialised by [KeyRing.Export]. It is strict:
// unknown fields, a wrong type, a duplicate or zero id, a key that is not 32
// bytes of standard base64, or a primary that is missing or retired fail
// with an error wrapping ErrFormat or ErrInvalidKey. A ring without a
// primary can open but not seal.
func ParseKeyRing(data []byte, cfg KeyRingConfig) (*KeyRing, error) {
	r, err := NewKeyRing(cfg)
	if err != nil {
		return nil, err
	}
	if err := parseSet(data, typeAEAD, &r.set, newAEADKey); err != nil {
		return nil, err
	}
	return r, nil
}

func exportSet[T any](st *keyState[T], typ string, raw func(T) []byte) ([]byte, error) {
	s := serialRing{Type: typ, Keys: make([]serialKey, 0, len(st.order))}
	if st.primary != nil {
		s.Primary = st.primary.id
	}
	for _, id := range st.order {
		e := st.byID[id]
		s.Keys = append(s.Keys, serialKey{
			ID:     id,
			Status: e.status.String(),
			Key:    base64.StdEncoding.EncodeToString(raw(e.mat)),
		})
	}
	return json.Marshal(s)
}

func parseSet[T any](data []byte, typ string, set *keySet[T], mk func([]byte) (T, error)) error {
	if len(data) > maxSerializedRing {
		return fmt.Errorf("%w: key ring larger than %d bytes", ErrFormat, maxSerializedRing)
	}
	var s serialRing
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("%w: key ring JSON: %v", ErrFormat, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after key ring JSON", ErrFormat)
	}
	if s.Type != typ {
		return fmt.Errorf("%w: key ring type %q, want %q", ErrFormat, s.Type, typ)
	}
	primarySeen := false
	for _, k := range s.Keys {
		status, err := parseStatus(k.Status)
		if err != nil {
			return &KeyError{ID: k.ID, Err: err}
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(k.Key)
		if err != nil {
			return &KeyError{ID: k.ID, Err: fmt.Errorf("%w: key is not standard base64", ErrFormat)}
		}
		mat, err := mk(raw)
		clear(raw)
		if err != nil {
			return &KeyError{ID: k.ID, Err: err}
		}
		isPrimary := s.Primary != 0 && k.ID == s.Primary
		primarySeen = primarySeen || isPrimary
		if err := set.add(k.ID, mat, status, isPrimary); err != nil {
			return err
		}
	}
	if s.Primary != 0 && !primarySeen {
		return &KeyError{ID: s.Primary, Err: fmt.Errorf("%w: primary is not in the ring", ErrInvalidKey)}
	}
	return nil
}

func parseStatus(s string) (KeyStatus, error) {
	switch s {
	case "enabled":
		return StatusEnabled, nil
	case "retired":
		return StatusRetired, nil
	}
	return 0, fmt.Errorf("%w: unknown key status %q", ErrFormat, s)
}
