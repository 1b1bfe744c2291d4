package rabbitmq

import (
	"errors"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/bedrock-go/bedrock/outbox"
)

// When the connection dies while a message is being sent, the session's
// fail takes the message and releases its window slot; the failed send
// must then hand over the outcome instead of releasing the slot a second
// time. A second release blocked Publish for good on a window of one (a CI
// run under load found it: TestPublisher_RecoversAfterConnectionCut hung
// for 10 minutes).
func TestSession_SendFailingWhileTheSessionFailsReleasesTheSlotOnce(t *testing.T) {
	window := make(chan struct{}, 1)
	s := &session{window: window, done: make(chan struct{}), nextTag: 1, pending: map[uint64]*inflight{}}
	cut := errors.New("connection reset")
	s.send = func(string, string, amqp.Publishing) error {
		s.fail(cut) // the dispatcher sees the close while the send fails
		return amqp.ErrClosed
	}
	window <- struct{}{} // Publish holds the message's slot
	res, err := s.publish("x", "k", &outbox.Message{ID: "m1", Topic: "t"}, amqp.Persistent)
	if err != nil {
		t.Fatalf("publish returned %v: its caller would release the slot fail already released", err)
	}
	if got := <-res; !errors.Is(got, cut) {
		t.Fatalf("outcome %v, want the session's failure", got)
	}
	if n := len(window); n != 0 {
		t.Fatalf("%d window slots held after the message failed, want 0", n)
	}

	// A send that fails on its own (the session still alive) reports the
	// error, and its caller releases the slot.
	s2 := &session{window: window, done: make(chan struct{}), nextTag: 1, pending: map[uint64]*inflight{}}
	s2.send = func(string, string, amqp.Publishing) error { return amqp.ErrClosed }
	window <- struct{}{}
	if _, err := s2.publish("x", "k", &outbox.Message{ID: "m2", Topic: "t"}, amqp.Persistent); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("publish = %v, want ErrUnavailable", err)
	}
	if len(s2.pending) != 0 {
		t.Fatal("a failed send stays pending")
	}
}
