package cache

import (
	"encoding/json"
)

// Codec turns values into bytes for the store and back. Implementations must
// be safe for concurrent use. Changing a value's type or its encoding calls
// for a new Config.Version, so that old bytes are never decoded as the new
// type.
type Codec[V any] interface {
	Marshal(v V) ([]byte, error)
	Unmarshal(data []byte, v *V) error
}

// JSON is the default codec: encoding/json.
type JSON[V any] struct{}

// Marshal encodes v with json.Marshal.
func (JSON[V]) Marshal(v V) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes data with json.Unmarshal.
func (JSON[V]) Unmarshal(data []byte, v *V) error { return json.Unmarshal(data, v) }

// Bytes stores []byte values as they are, for callers with their own binary
// encoding.
type Bytes struct{}

// Marshal returns v itself.
func (Bytes) Marshal(v []byte) ([]byte, error) { return v, nil }

// Unmarshal stores a copy of data in v: the store may reuse its buffer.
func (Bytes) Unmarshal(data []byte, v *[]byte) error {
	*v = append([]byte(nil), data...)
	return nil
}

// String stores string values as their bytes.
type String struct{}

// Marshal returns the bytes of v.
func (String) Marshal(v string) ([]byte, error) { return []byte(v), nil }

// Unmarshal sets v to data as a string.
func (String) Unmarshal(data []byte, v *string) error {
	*v = string(data)
	return nil
}
