package hk

// Hooks holds a counter and a badly named callback.
type Hooks struct {
	Count int
	Hit   func()
	OnOK  func()
}

// RetryHooks is fine.
type RetryHooks struct {
	OnRetry Callback
}

// Callback is a named func type a hook may use.
type Callback func(attempt int)

// Config holds its hooks behind a pointer.
type Config struct {
	Hooks *Hooks
}

// RetryConfig holds a pointer to another package's hooks.
type RetryConfig struct {
	Hooks  *RetryHooks
	OnDone func()
	Now    func() int
}
