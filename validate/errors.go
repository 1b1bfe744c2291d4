package validate

import "errors"

// Sentinel errors. Decoding failures come back as a [*DecodeError] whose
// Unwrap returns one of these, so callers branch with errors.Is.
var (
	// ErrInvalidConfig is returned by [New] for a Config it cannot use.
	ErrInvalidConfig = errors.New("validate: invalid config")
	// ErrInvalidTarget means DecodeJSON was given something other than a
	// non-nil pointer: a programmer error, reported as a 500.
	ErrInvalidTarget = errors.New("validate: decode target must be a non-nil pointer")
	// ErrUnsupportedMediaType means the request's Content-Type is not JSON (415).
	ErrUnsupportedMediaType = errors.New("validate: unsupported media type")
	// ErrBodyTooLarge means the body is larger than Config.MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("validate: request body too large")
	// ErrMalformedJSON means the body is not one well-formed JSON value:
	// a syntax error, invalid UTF-8, an empty body or trailing data (400).
	ErrMalformedJSON = errors.New("validate: malformed JSON")
	// ErrTooDeep means objects and arrays nest deeper than Config.MaxDepth (400).
	ErrTooDeep = errors.New("validate: JSON nested too deeply")
	// ErrSchemaMismatch means the JSON is well formed but does not fit the
	// target type: unknown or duplicate members, members that differ from a
	// field only in case, or values of the wrong type (400). The
	// DecodeError's Violations say where.
	ErrSchemaMismatch = errors.New("validate: JSON does not match the expected shape")
	// ErrReadBody means reading the body failed for a reason other than its
	// size, such as a client that went away.
	ErrReadBody = errors.New("validate: reading request body")
	// ErrInvalidPointer is matched by a [*PointerError].
	ErrInvalidPointer = errors.New("validate: invalid JSON pointer")
)

var errBadTilde = errors.New("'~' must be followed by '0' or '1'")
