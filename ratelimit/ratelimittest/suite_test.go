package ratelimittest_test

import (
	"testing"

	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/ratelimittest"
)

func TestMemoryConforms(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
		m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}
