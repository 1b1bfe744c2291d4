package rediscache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Subscribe implements [cache.Broadcaster]. The first subscription starts
// the store's listener goroutine, and with Config.Tracking its tracking
// listeners, which run until Close.
//
// Whenever the listener loses its connection, and again when it has
// subscribed anew, every subscriber gets an Invalidation with All set:
// messages sent in between are lost, so every local copy is suspect.
func (s *Store) Subscribe(fn func(cache.Invalidation)) (unsubscribe func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	if s.stop == nil && !s.closed {
		ctx, stop := context.WithCancel(context.Background())
		s.stop, s.done = stop, make(chan struct{})
		go s.listen(ctx, s.done)
		if s.tracks {
			s.tracked = make(chan struct{})
			go s.track(ctx, s.tracked)
		}
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

// Close stops the listener (and the tracking listeners, closing their
// connections) and waits for them, at most about HealthCheck if one is
// stuck on a server that does not answer. It does not close the client.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	stop, done, ps, tracked := s.stop, s.done, s.ps, s.tracked
	s.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	if ps != nil {
		_ = ps.Close() // unblocks a Receive in progress
	}
	<-done
	if tracked != nil {
		<-tracked
	}
	return nil
}

func (s *Store) dispatch(inv cache.Invalidation) {
	s.mu.Lock()
	fns := make([]func(cache.Invalidation), 0, len(s.subs))
	for _, fn := range s.subs {
		fns = append(fns, fn)
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(inv)
	}
}

func (s *Store) subscriptionError(err error) {
	if h := s.hooks.OnSubscriptionError; h != nil {
		h(err)
	}
}

var resubscribe = backoff.Exponential{Initial: 50 * time.Millisecond, Max: 5 * time.Second}

// listen keeps a subscription to the channel until ctx ends, flushing the
// local tiers whenever it may have missed a message.
func (s *Store) listen(ctx context.Context, done chan struct{}) {
	defer close(done)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		ps := s.client.Subscribe(ctx)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = ps.Close()
			return
		}
		s.ps = ps
		s.mu.Unlock()
		// A deadline, because go-redis cannot cancel a dial or handshake
		// in progress: a server that accepts and never answers would hold
		// the listener (and Close) forever.
		subCtx, cancel := context.WithTimeout(ctx, s.health)
		err := ps.Subscribe(subCtx, s.channel)
		cancel()
		healthy := false
		if err == nil {
			healthy, err = s.receive(ctx, ps)
		}
		_ = ps.Close()
		if ctx.Err() != nil {
			return
		}
		s.dispatch(cache.Invalidation{All: true})
		s.subscriptionError(fmt.Errorf("rediscache: invalidation subscription lost: %w", err))
		if healthy {
			attempt = 0
		}
		t := time.NewTimer(resubscribe.Delay(attempt, nil))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// receive reads ps until it fails, and reports whether it had subscribed.
func (s *Store) receive(ctx context.Context, ps *redis.PubSub) (subscribed bool, err error) {
	for {
		msg, err := s.next(ctx, ps)
		if err != nil {
			return subscribed, err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// Messages published before this point were missed.
				subscribed = true
				s.dispatch(cache.Invalidation{All: true})
			}
		case *redis.Message:
			in, err := parseMessage([]byte(m.Payload))
			switch {
			case err != nil:
				s.subscriptionError(err)
				s.dispatch(cache.Invalidation{All: true})
			case in.sender != s.id:
				s.dispatch(cache.Invalidation{Keys: in.keys, Tags: in.tags, Seq: in.seq})
			}
		}
	}
}

// next returns the next message of ps, the replies to pings included. A
// silence of one health-check period gets a ping, due within another
// period; an error (the ping's unanswered too) ends the connection.
func (s *Store) next(ctx context.Context, ps *redis.PubSub) (any, error) {
	for pinged := false; ; pinged = true {
		rctx, cancel := context.WithTimeout(ctx, 2*s.health)
		msg, err := ps.ReceiveTimeout(rctx, s.health)
		cancel()
		if err == nil {
			return msg, nil
		}
		var ne net.Error
		timeout := errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
		if !timeout || pinged || ctx.Err() != nil {
			return nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, s.health)
		err = ps.Ping(pctx)
		cancel()
		if err != nil {
			return nil, err
		}
	}
}
