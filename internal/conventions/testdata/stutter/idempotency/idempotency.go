package idempotency

// Idempotency is the package's name again.
func Idempotency() {}
