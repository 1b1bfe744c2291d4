package httpapi

import (
	"errors"
	"strconv"
)

// ErrInvalidConfig matches every configuration error of the package: every
// error a New function returns is a [*ConfigError] wrapping it.
var ErrInvalidConfig = errors.New("httpapi: invalid config")

// Request refusals. Each names the status code the package answers with,
// so that a handler mapping them itself answers the same way.
var (
	// ErrUnknownVersion reports a request that names an API version the
	// service does not offer, or two different versions: 400 Bad Request.
	// It is wrapped in a [*VersionError].
	ErrUnknownVersion = errors.New("httpapi: unknown API version")

	// ErrGone reports a call to a route past its sunset: 410 Gone.
	ErrGone = errors.New("httpapi: route is past its sunset")

	// ErrPreconditionRequired reports a write without If-Match or
	// If-Unmodified-Since where one is required: 428 Precondition Required.
	ErrPreconditionRequired = errors.New("httpapi: precondition required")

	// ErrPreconditionFailed reports a precondition that does not hold for
	// the current representation: 412 Precondition Failed.
	ErrPreconditionFailed = errors.New("httpapi: precondition failed")

	// ErrInvalidPrecondition reports an If-Match or If-None-Match field
	// that is not a valid list of entity tags: 400 Bad Request.
	ErrInvalidPrecondition = errors.New("httpapi: malformed precondition")

	// ErrInvalidETag reports a string that is not an entity tag.
	ErrInvalidETag = errors.New("httpapi: malformed entity tag")
)

// ConfigError describes one invalid configuration field.
type ConfigError struct {
	Field  string // the configuration field, such as "VersioningConfig.Default"
	Value  string // the offending value, if it helps
	Reason string // what is wrong with it
}

// Error implements error.
func (e *ConfigError) Error() string {
	s := "httpapi: invalid config: " + e.Field
	if e.Value != "" {
		s += " " + strconv.Quote(e.Value)
	}
	return s + ": " + e.Reason
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

func configError(field, value, reason string) error {
	return &ConfigError{Field: field, Value: value, Reason: reason}
}
