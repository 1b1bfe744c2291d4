package old

import "errors"

// ErrConfig is the old name.
var ErrConfig = errors.New("old: bad config")
