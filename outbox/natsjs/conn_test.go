package natsjs_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/natsjs"
)

// TestConnOptions_ReconnectForeverAfterALongOutage: with NATS unreachable
// for far more reconnection attempts than nats.go's default limit of 60
// (after which it closes the connection for good), a connection built with
// ConnOptions keeps trying, the publisher's Check reports the outage, and
// publishing resumes once the server is back (issue 23, item 2). The waits
// are shrunk to a millisecond so that 200 attempts take well under a
// second.
func TestConnOptions_ReconnectForeverAfterALongOutage(t *testing.T) {
	_, natsURL := testenv.NATS(t)
	proxy := testenv.NewProxy(t, strings.TrimPrefix(natsURL, "nats://"))

	const attempts = 200 // > 60, nats.go's default MaxReconnects
	var failed, disconnects atomic.Int32
	enough := make(chan struct{})
	back := make(chan struct{}, 1)
	opts, err := natsjs.ConnOptions(natsjs.ConnConfig{
		ReconnectWait: time.Millisecond, MaxReconnectWait: time.Millisecond,
		Hooks: natsjs.ConnHooks{
			OnDisconnect: func(error) { disconnects.Add(1) },
			OnReconnectError: func(error) {
				if failed.Add(1) == attempts {
					close(enough)
				}
			},
			OnReconnect: func(string) { back <- struct{}{} },
		},
	})
	require.NoError(t, err)
	nc, err := nats.Connect("nats://"+proxy.Addr(), append(opts, nats.IgnoreDiscoveredServers())...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	name := testenv.UniqueName(t, "T")
	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.MemoryStorage,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: name + "."})
	require.NoError(t, err)
	msg := func() []outbox.Message {
		return []outbox.Message{{ID: outbox.NewID(), Topic: "t", Payload: []byte("x")}}
	}
	require.NoError(t, pub.Publish(t.Context(), msg()))
	require.NoError(t, pub.Check(t.Context()))

	require.NoError(t, proxy.Refuse(true))
	proxy.Cut()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	select {
	case <-enough:
	case <-ctx.Done():
		t.Fatalf("only %d reconnection attempts; connection status %v", failed.Load(), nc.Status())
	}
	assert.False(t, nc.IsClosed(), "still reconnecting after %d attempts", attempts)
	assert.ErrorIs(t, pub.Check(t.Context()), natsjs.ErrDisconnected)
	assert.EqualValues(t, 1, disconnects.Load())

	require.NoError(t, proxy.Refuse(false))
	select {
	case <-back:
	case <-ctx.Done():
		t.Fatalf("never reconnected; status %v", nc.Status())
	}
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	require.NoError(t, pub.Publish(pctx, msg()), "publishing resumes")
	assert.NoError(t, pub.Check(t.Context()))
}

func TestConnOptions_RejectsABadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []natsjs.ConnConfig{
		{ReconnectWait: -1}, {MaxReconnectWait: -1}, {PingInterval: -1},
		{ReconnectWait: time.Second, MaxReconnectWait: time.Millisecond},
	} {
		_, err := natsjs.ConnOptions(cfg)
		assert.ErrorIs(t, err, natsjs.ErrInvalidConfig, "%+v", cfg)
	}
	opts, err := natsjs.ConnOptions(natsjs.ConnConfig{})
	require.NoError(t, err)
	var o nats.Options
	for _, opt := range opts {
		require.NoError(t, opt(&o))
	}
	assert.Equal(t, -1, o.MaxReconnect, "reconnect forever")
	assert.Equal(t, natsjs.DefaultPingInterval, o.PingInterval)
	require.NotNil(t, o.CustomReconnectDelayCB)
	for i := 1; i < 100; i++ {
		d := o.CustomReconnectDelayCB(i)
		assert.True(t, d >= natsjs.DefaultReconnectWait/2 && d <= natsjs.DefaultMaxReconnectWait, "attempt %d: %v", i, d)
	}
}

// TestPublisher_CheckReportsAClosedConnection: a connection closed for good
// fails the check, naming its state.
func TestPublisher_CheckReportsAClosedConnection(t *testing.T) {
	js, _, prefix := natsJetStream(t)
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: prefix})
	require.NoError(t, err)
	require.NoError(t, pub.Check(t.Context()))
	js.Conn().Close()
	err = pub.Check(t.Context())
	require.ErrorIs(t, err, natsjs.ErrDisconnected)
	assert.Contains(t, err.Error(), "CLOSED")
}
