package outbox

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers can branch with [errors.Is].
var (
	// ErrInvalidMessage reports a message that cannot be enqueued; the
	// *MessageError wrapping it says which field and why.
	ErrInvalidMessage = errors.New("outbox: invalid message")
	// ErrInvalidConfig reports a bad Config given to a constructor.
	ErrInvalidConfig = errors.New("outbox: invalid config")
	// ErrInvalidID reports a string that is not a canonical UUID.
	ErrInvalidID = errors.New("outbox: invalid message id")
	// ErrDuplicate is returned by [Inbox.Process] when the message was
	// already processed; the callback was not run.
	ErrDuplicate = errors.New("outbox: message already processed")
)

// MessageError says which message of an Enqueue call is invalid and why. It
// wraps [ErrInvalidMessage].
type MessageError struct {
	Index  int    // position in the Enqueue call
	Field  string // "ID", "Topic", ...
	Reason string
}

// Error names the message by its index, the field and the reason.
func (e *MessageError) Error() string {
	return fmt.Sprintf("outbox: invalid message %d: %s: %s", e.Index, e.Field, e.Reason)
}

// Unwrap returns [ErrInvalidMessage].
func (e *MessageError) Unwrap() error { return ErrInvalidMessage }

// Message is one event. On the writing side ID may be empty (Enqueue assigns
// a UUIDv7) and CreatedAt and Attempt are ignored; on the publishing side
// every field is filled from the stored row.
type Message struct {
	// ID is a UUID in canonical text form; it is also the broker message id,
	// so that brokers and inboxes can drop redeliveries.
	ID string
	// Topic names the destination (a stream, a subject); it must not be empty.
	Topic string
	// Key is the aggregate key. Events with the same non-empty key are
	// published one at a time in commit order; an empty key means no
	// ordering constraint.
	Key string
	// Payload is the body, opaque to the outbox.
	Payload []byte
	// Headers travel with the message (e.g. "traceparent").
	Headers map[string]string
	// NotBefore delays publication until that time; zero means now.
	NotBefore time.Time
	// CreatedAt is the database time of the enqueueing transaction.
	CreatedAt time.Time
	// Attempt is the number of earlier failed publish attempts.
	Attempt int
}

// JSON returns a message whose payload is v encoded as JSON and whose
// "content-type" header is "application/json".
func JSON(topic, key string, v any) (Message, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Message{}, fmt.Errorf("%w: encode payload: %w", ErrInvalidMessage, err)
	}
	return Message{Topic: topic, Key: key, Payload: b,
		Headers: map[string]string{"content-type": "application/json"}}, nil
}

const maxKeyLen, maxTopicLen = 1024, 1024

func (m *Message) validate(i int) error {
	switch {
	case m.Topic == "":
		return &MessageError{Index: i, Field: "Topic", Reason: "empty"}
	case len(m.Topic) > maxTopicLen:
		return &MessageError{Index: i, Field: "Topic", Reason: "longer than 1024 bytes"}
	case len(m.Key) > maxKeyLen:
		return &MessageError{Index: i, Field: "Key", Reason: "longer than 1024 bytes"}
	}
	if m.ID != "" {
		if _, err := ParseID(m.ID); err != nil {
			return &MessageError{Index: i, Field: "ID", Reason: err.Error()}
		}
	}
	return nil
}

// NewID returns a new UUIDv7 (RFC 9562) in canonical text form: 48 bits of
// Unix milliseconds followed by random bits, so ids sort roughly by creation.
func NewID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go >= 1.24)
	ms := uint64(time.Now().UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[:6], ts[2:])
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return formatID(u)
}

func formatID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// ParseID parses a UUID in canonical 8-4-4-4-12 hex form (either case) and
// returns its bytes. Any other form wraps [ErrInvalidID].
func ParseID(s string) ([16]byte, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("%w: want 8-4-4-4-12 hex digits, got %d bytes", ErrInvalidID, len(s))
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return u, fmt.Errorf("%w: non-hex digit at offset %d", ErrInvalidID, i)
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
