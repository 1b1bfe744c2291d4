package ex_test

import (
	"testing"

	env "github.com/bedrock-go/bedrock/internal/testenv"
)

func Example() {
	_ = env.Redis
}

func ExampleOther() {}

func TestUses(t *testing.T) { _ = env.Redis }
