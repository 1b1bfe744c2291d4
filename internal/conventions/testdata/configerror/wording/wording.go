package wording

import (
	"errors"
	"fmt"
)

// Errors.
var (
	// ErrInvalidConfig has the wrong message.
	ErrInvalidConfig = errors.New("wording: configuration is invalid")
)

// ErrOther is not a config sentinel.
var ErrOther = fmt.Errorf("wording: other")
