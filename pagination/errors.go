package pagination

import (
	"errors"
	"strconv"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// ErrInvalidCursor is matched (with [errors.Is]) by every error that rejects
// a cursor, whatever the reason: a client that sent a bad cursor should start
// again from the first page. The reason is one of the ErrCursor sentinels
// below, also matchable with errors.Is, and the error is a [*CursorError].
var ErrInvalidCursor = errors.New("pagination: invalid cursor")

// Reasons a cursor is rejected. Each is wrapped in a [*CursorError] that also
// matches [ErrInvalidCursor].
var (
	// ErrCursorMalformed: not base64url, too short or too long, an unknown
	// format version, or values that do not fit the sort.
	ErrCursorMalformed = errors.New("pagination: malformed cursor")
	// ErrCursorSignature: the Signer refused the tag; the cursor was
	// altered, or its key is no longer in use (the [*CursorError] then
	// also matches the Signer's own error, such as crypto.ErrUnknownKey).
	ErrCursorSignature = errors.New("pagination: cursor signature mismatch")
	// ErrCursorMismatch: a genuine cursor issued for a different sort or
	// filter than the current query's.
	ErrCursorMismatch = errors.New("pagination: cursor belongs to another query")
	// ErrCursorExpired: the cursor's expiry has passed.
	ErrCursorExpired = errors.New("pagination: cursor expired")
)

// CursorError reports why a cursor was rejected. It matches
// [ErrInvalidCursor], its Reason and, when there is one, the Signer's Err
// with [errors.Is].
type CursorError struct {
	Reason error  // one of the ErrCursor sentinels
	Detail string // what exactly was wrong, safe to show to the client
	// Err is the Signer's error when it refused the tag (Reason is then
	// ErrCursorSignature), for example crypto.ErrUnknownKey for a key
	// removed from a crypto.MACKeyRing; nil otherwise. It is for the
	// service's logs and metrics, not for the client.
	Err error
}

// Error returns the reason, followed by the detail and the Signer's error
// when there are.
func (e *CursorError) Error() string {
	s := e.Reason.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil && e.Err != e.Reason {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the reason, [ErrInvalidCursor] and the Signer's error.
func (e *CursorError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Reason, ErrInvalidCursor, e.Err}
	}
	return []error{e.Reason, ErrInvalidCursor}
}

func cursorErr(reason error, detail string) *CursorError {
	return &CursorError{Reason: reason, Detail: detail}
}

// ErrInvalidRequest is matched by every error about page parameters chosen by
// the client (limit, offset, sort, direction); the error is a
// [*RequestError].
var ErrInvalidRequest = errors.New("pagination: invalid page request")

// RequestError reports a page parameter the client got wrong. It matches
// [ErrInvalidRequest].
type RequestError struct {
	Param  string // the query parameter, e.g. "limit"
	Value  string // what the client sent
	Reason string // why it was refused
}

// Error names the parameter, an excerpt of the value (the client chose
// it, at any length) and the reason.
func (e *RequestError) Error() string {
	v, _ := problem.Excerpt(e.Value, problem.ExcerptBytes)
	return "pagination: invalid " + e.Param + " " + strconv.Quote(v) + ": " + e.Reason
}

// Unwrap returns [ErrInvalidRequest].
func (e *RequestError) Unwrap() error { return ErrInvalidRequest }

// ErrInvalidValue is matched by errors about a row's sort-key values, which
// come from the application's own rows (not from clients): a type the cursor
// cannot carry exactly, a NULL in a column declared NOT NULL, a wrong number
// of values. The error is a [*ValueError].
var ErrInvalidValue = errors.New("pagination: invalid sort-key value")

// ValueError reports a sort-key value that cannot go into a cursor.
type ValueError struct {
	Column string // the column the value belongs to, "" when the count is wrong
	Reason string
}

// Error names the column, when known, and the reason.
func (e *ValueError) Error() string {
	if e.Column == "" {
		return "pagination: invalid sort-key values: " + e.Reason
	}
	return "pagination: invalid sort-key value for " + strconv.Quote(e.Column) + ": " + e.Reason
}

// Unwrap returns [ErrInvalidValue].
func (e *ValueError) Unwrap() error { return ErrInvalidValue }

// ErrInvalidConfig is wrapped by every error [New], [NewSpec],
// [NewSecretSigner] and [NewOffset] return for a bad configuration.
var ErrInvalidConfig = errors.New("pagination: invalid config")
