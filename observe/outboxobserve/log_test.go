package outboxobserve_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/observe/outboxobserve"
	"github.com/bedrock-go/bedrock/outbox"
)

// TestLogged_FailuresAreLoggedAndStillCounted: publish failures and relay
// errors reach the log (sampled, with the count left out), dead letters
// always do, and the hooks being wrapped still run (issue 23, item 10).
func TestLogged_FailuresAreLoggedAndStillCounted(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var failed, errs, dead int
	h := outboxobserve.Logged(outbox.Hooks{
		OnFailure:    func(outbox.Message, error, time.Duration) { failed++ },
		OnError:      func(error) { errs++ },
		OnDeadLetter: func(outbox.Message, error) { dead++ },
	}, log, "orders")
	boom := errors.New("nats: connection closed")
	m := outbox.Message{ID: "id-1", Topic: "orders.placed"}
	for range 100 {
		h.OnFailure(m, boom, time.Second)
	}
	h.OnError(boom)
	h.OnDeadLetter(m, boom)
	assert.Equal(t, 100, failed)
	assert.Equal(t, 1, errs)
	assert.Equal(t, 1, dead)
	out := buf.String()
	assert.Equal(t, 1, strings.Count(out, "outbox publish failed"), "sampled: one line a second")
	assert.Contains(t, out, "nats: connection closed")
	assert.Contains(t, out, "relay=orders")
	assert.Contains(t, out, "outbox relay error")
	assert.Contains(t, out, "outbox message dead-lettered")
	assert.Contains(t, out, "id=id-1")

	// Nil hooks underneath are fine.
	h = outboxobserve.Logged(outbox.Hooks{}, nil, "x")
	h.OnFailure(m, boom, 0)
	h.OnError(boom)
}
