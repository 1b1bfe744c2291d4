package util

// Manager manages.
type Manager struct{}

// KeyHelper helps.
type KeyHelper struct{}

// Common is common.
type Common int

// Keeper is fine.
type Keeper struct{}
