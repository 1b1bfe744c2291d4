package rabbitmq

import (
	"fmt"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/outbox"
	amqp "github.com/rabbitmq/amqp091-go"
)

// session is one connection with one channel in confirm mode, and the
// goroutine that matches the broker's returns and confirmations to the
// messages awaiting them.
//
// Why one goroutine reads both: RabbitMQ sends basic.return for an
// unroutable mandatory message before the basic.ack that confirms it, and
// the client library hands both, in that order, to unbuffered Go channels
// from its single reader goroutine. A single receiver of both channels
// therefore always sees a message's return before its confirmation, and
// can report it as unroutable; with two receivers the confirmation could
// win the race and an unroutable message would count as delivered.
type session struct {
	conn   *amqp.Connection
	ch     *amqp.Channel
	send   func(exchange, key string, msg amqp.Publishing) error // ch.Publish, mandatory
	window chan struct{}
	onRet  func(*UnroutableError)
	bound  time.Duration // of the close handshake
	done   chan struct{} // closed when the channel or connection closed

	pubMu   sync.Mutex // serialises sends, so delivery tags follow nextTag
	nextTag uint64

	mu      sync.Mutex // guards pending; never held during network I/O
	pending map[uint64]*inflight
	failed  error  // set when done is closed
	blocked string // the broker's reason while it blocks publishers
}

type inflight struct {
	id, exchange, key string
	returned          *UnroutableError
	result            chan error // buffered: the waiter may have gone
}

func newSession(conn *amqp.Connection, window chan struct{}, onRet func(*UnroutableError), bound time.Duration) (*session, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		return nil, err
	}
	s := &session{conn: conn, ch: ch, window: window, onRet: onRet, bound: bound, done: make(chan struct{}),
		nextTag: 1, pending: make(map[uint64]*inflight)}
	s.send = func(exchange, key string, msg amqp.Publishing) error {
		return ch.Publish(exchange, key, true, false, msg)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation))
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 1))
	go s.dispatch(returns, confirms, closed, connClosed, blocked)
	return s, nil
}

func (s *session) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// publish sends one message and returns the channel its outcome arrives on.
func (s *session) publish(exchange, key string, m *outbox.Message, mode uint8) (chan error, error) {
	f := &inflight{id: m.ID, exchange: exchange, key: key, result: make(chan error, 1)}
	msg := publishing(m, mode)
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	tag := s.nextTag
	s.mu.Lock()
	if s.failed != nil {
		err := s.failed
		s.mu.Unlock()
		return nil, err
	}
	if s.blocked != "" {
		// A send now would wait in the socket, out of reach of ctx, until
		// the broker resumes reading.
		reason := s.blocked
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: the broker blocks publishers: %s", ErrUnavailable, reason)
	}
	s.pending[tag] = f
	s.mu.Unlock()
	if err := s.send(exchange, key, msg); err != nil {
		s.mu.Lock()
		_, mine := s.pending[tag]
		delete(s.pending, tag)
		s.mu.Unlock()
		if !mine {
			// The connection died during the send and fail took the
			// message: it has released the message's window slot and
			// sent its outcome. Releasing the slot again here would take
			// another message's (or block on an empty window for good).
			return f.result, nil
		}
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	s.nextTag++
	return f.result, nil
}

func (s *session) dispatch(returns <-chan amqp.Return, confirms <-chan amqp.Confirmation, closed, connClosed <-chan *amqp.Error,
	blocked <-chan amqp.Blocking) {
	var reason error
	for reason == nil {
		select {
		case r, ok := <-returns:
			if !ok {
				reason = fmt.Errorf("%w: channel closed", ErrUnavailable)
				break
			}
			s.returned(r)
		case c, ok := <-confirms:
			if !ok {
				reason = fmt.Errorf("%w: channel closed", ErrUnavailable)
				break
			}
			s.confirmed(c)
		case e := <-closed:
			reason = fmt.Errorf("%w: channel closed: %v", ErrUnavailable, e)
		case e := <-connClosed:
			reason = fmt.Errorf("%w: connection closed: %v", ErrUnavailable, e)
		case b, ok := <-blocked:
			if !ok {
				blocked = nil // closed with the connection, which connClosed reports
				continue
			}
			s.setBlocked(b)
		}
	}
	s.fail(reason)
	_ = s.conn.CloseDeadline(time.Now().Add(s.bound))
}

func (s *session) setBlocked(b amqp.Blocking) {
	reason := ""
	if b.Active {
		reason = b.Reason
		if reason == "" {
			reason = "no reason given"
		}
	}
	s.mu.Lock()
	s.blocked = reason
	s.mu.Unlock()
}

// returned marks the oldest message awaiting confirmation with the
// returned message's id; its confirmation follows.
func (s *session) returned(r amqp.Return) {
	e := &UnroutableError{MessageID: r.MessageId, Exchange: r.Exchange, RoutingKey: r.RoutingKey,
		ReplyCode: r.ReplyCode, ReplyText: r.ReplyText}
	s.mu.Lock()
	var oldest uint64
	for tag, f := range s.pending {
		if f.id == r.MessageId && f.returned == nil && (oldest == 0 || tag < oldest) {
			oldest = tag
		}
	}
	if oldest != 0 {
		s.pending[oldest].returned = e
	}
	s.mu.Unlock()
	if s.onRet != nil {
		s.onRet(e)
	}
}

func (s *session) confirmed(c amqp.Confirmation) {
	s.mu.Lock()
	f := s.pending[c.DeliveryTag]
	delete(s.pending, c.DeliveryTag)
	s.mu.Unlock()
	if f == nil {
		return
	}
	var err error
	switch {
	case !c.Ack:
		err = fmt.Errorf("rabbitmq: publish %s: %w", f.id, ErrNacked)
	case f.returned != nil:
		err = f.returned
	}
	f.result <- err
	<-s.window
}

// fail ends the session: every message still awaiting a confirmation fails
// with reason.
func (s *session) fail(reason error) {
	s.mu.Lock()
	s.failed = reason
	pending := s.pending
	s.pending = map[uint64]*inflight{}
	close(s.done)
	s.mu.Unlock()
	for _, f := range pending {
		f.result <- fmt.Errorf("rabbitmq: %s not confirmed: %w", f.id, reason)
		<-s.window
	}
}

func (s *session) close() error {
	err := s.conn.CloseDeadline(time.Now().Add(s.bound))
	<-s.done
	return err
}
