package events_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/examples/service/internal/events"
)

func TestRedactNATS(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://bob:s3cret@127.0.0.1:4222", "nats://bob:xxxxx@127.0.0.1:4222"},
		{"nats://t0ken@127.0.0.1:4222", "nats://xxxxx@127.0.0.1:4222"},
		{"nats://a:p1@h1:4222, nats://p2tok@h2:4222", "nats://a:xxxxx@h1:4222,nats://xxxxx@h2:4222"},
		{"nats://bob:s3cret@[::1:4222", "(an invalid URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := events.RedactNATS(tt.in)
			assert.Equal(t, tt.want, got)
			for _, secret := range []string{"s3cret", "t0ken", "p1@", "p2tok"} {
				assert.NotContains(t, got, secret)
			}
		})
	}
}
