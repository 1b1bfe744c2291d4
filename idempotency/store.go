package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Fingerprint identifies a request's content: a SHA-256 over what the
// middleware was configured to compare (method, route, principal, body).
type Fingerprint [sha256.Size]byte

// State is the state of a key as [Store.Begin] found it.
type State uint8

const (
	// Acquired means the key was free and is now locked by the caller, who
	// must end the lock with [Store.Complete] or [Store.Release].
	Acquired State = iota + 1
	// InProgress means another request holds the key.
	InProgress
	// Completed means the key's request finished and its response is stored.
	Completed
)

// String returns the state in words ("acquired", "in progress",
// "completed"), for logs.
func (s State) String() string {
	switch s {
	case Acquired:
		return "acquired"
	case InProgress:
		return "in progress"
	case Completed:
		return "completed"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Lookup is what [Store.Begin] found.
type Lookup struct {
	State State
	// Fingerprint is the fingerprint of the request that holds or completed
	// the key (the caller's own when State is Acquired).
	Fingerprint Fingerprint
	// Response is the stored response when State is Completed.
	Response *Response
	// Token identifies the caller's lock when State is Acquired; it is passed
	// back to Complete and Release so that a request whose lock expired and
	// was taken by another cannot overwrite the other's record.
	Token string
}

// Store keeps idempotency records. Keys are opaque strings that the
// middleware derives from the principal and the client's key. A Store must
// be safe for concurrent use, and Begin must be atomic: of concurrent Begin
// calls on a free key, exactly one gets Acquired.
type Store interface {
	// Begin locks key for lockTTL if it is free, or reports what holds it.
	Begin(ctx context.Context, key string, fp Fingerprint, lockTTL time.Duration) (Lookup, error)
	// Complete stores resp under key for retention, if token still holds the
	// lock; otherwise it returns ErrLockLost and changes nothing.
	Complete(ctx context.Context, key, token string, resp *Response, retention time.Duration) error
	// Release frees key if token still holds the lock; otherwise it returns
	// ErrLockLost and changes nothing.
	Release(ctx context.Context, key, token string) error
}

// ErrLockLost is returned by [Store.Complete] and [Store.Release] when the
// caller's lock expired (the handler ran longer than the lock's TTL) and
// the key is now free or held by another request.
var ErrLockLost = errors.New("idempotency: lock lost")

// ErrCorruptRecord is returned when a stored record cannot be decoded.
var ErrCorruptRecord = errors.New("idempotency: corrupt stored record")

// Response is a stored HTTP response.
type Response struct {
	Status int
	Header http.Header // only the headers selected by Config.StoredHeaders
	Body   []byte
	// BodyOmitted is set when the body exceeded Config.MaxResponseBytes and
	// was not kept; such a response cannot be replayed.
	BodyOmitted bool
}

const encodingVersion = 1

// MarshalBinary encodes r compactly for a store: a version byte, flags, the
// status, the headers and the body, each length-prefixed.
func (r *Response) MarshalBinary() ([]byte, error) {
	n := 1 + 1 + 2 + binary.MaxVarintLen64 + len(r.Body)
	for k, vs := range r.Header {
		n += 2*binary.MaxVarintLen64 + len(k)
		for _, v := range vs {
			n += binary.MaxVarintLen64 + len(v)
		}
	}
	b := make([]byte, 0, n)
	var flags byte
	if r.BodyOmitted {
		flags |= 1
	}
	if r.Status < 100 || r.Status > 999 {
		return nil, fmt.Errorf("idempotency: status %d out of range", r.Status)
	}
	b = append(b, encodingVersion, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(r.Status))
	b = binary.AppendUvarint(b, uint64(len(r.Header)))
	for k, vs := range r.Header {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	b = appendString(b, string(r.Body))
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes what MarshalBinary produced. Malformed input
// returns an error wrapping [ErrCorruptRecord].
func (r *Response) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if len(data) < 4 || data[0] != encodingVersion || data[1]&^1 != 0 {
		return fmt.Errorf("%w: bad header", ErrCorruptRecord)
	}
	r.BodyOmitted = data[1]&1 != 0
	r.Status = int(binary.BigEndian.Uint16(data[2:4]))
	d.b = data[4:]
	nh := d.uvarint()
	if d.err == nil && nh > uint64(len(d.b)) {
		d.err = errShort
	}
	r.Header = make(http.Header, min(nh, 64))
	for i := uint64(0); i < nh && d.err == nil; i++ {
		k := d.string()
		nv := d.uvarint()
		if d.err == nil && nv > uint64(len(d.b)) {
			d.err = errShort
		}
		for j := uint64(0); j < nv && d.err == nil; j++ {
			r.Header[k] = append(r.Header[k], d.string())
		}
	}
	body := d.string()
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptRecord, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorruptRecord, len(d.b))
	}
	r.Body = []byte(body)
	return nil
}

var errShort = errors.New("truncated")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
