package wrapped

import "fmt"

// ErrInvalidConfig wraps another error.
var ErrInvalidConfig = fmt.Errorf("wrapped: invalid config: %w", fmt.Errorf("x"))
