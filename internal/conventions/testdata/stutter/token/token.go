package token

import "errors"

// TokenVerifier stutters.
type TokenVerifier struct{}

// ErrTokenExpired stutters after Err.
var ErrTokenExpired = errors.New("token: expired")

// Token is allowed by the list the test passes.
type Token struct{}

// Tokenize does not stutter: "token" is not a word of it.
func Tokenize() {}

// ErrExpired does not stutter.
var ErrExpired = errors.New("token: expired")
