package idempotency

import "net/http"

// Hooks are optional callbacks for instrumentation. They run on the request
// goroutine and must not block.
type Hooks struct {
	OnReplay     func(r *http.Request)
	OnConflict   func(r *http.Request)            // key in progress: 409
	OnMismatch   func(r *http.Request)            // key reused for another request: 422
	OnStoreError func(r *http.Request, err error) // the store failed
	OnLockLost   func(r *http.Request, err error) // the lock expired before the handler ended
}
