package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/auth/session/sessiontest"
)

func TestMemoryStore_Conformance(t *testing.T) {
	sessiontest.Run(t, func(*testing.T) session.Store { return &session.MemoryStore{} })
}

func TestNew_RejectsBadConfig(t *testing.T) {
	cases := map[string]struct {
		store session.Store
		cfg   session.Config
	}{
		"nil store":          {nil, session.Config{}},
		"grace needs secret": {&session.MemoryStore{}, session.Config{GraceWindow: time.Second}},
		"short secret":       {&session.MemoryStore{}, session.Config{GraceWindow: time.Second, Secret: []byte("x")}},
		"long grace":         {&session.MemoryStore{}, session.Config{GraceWindow: time.Hour, Secret: make([]byte, 32)}},
		"negative":           {&session.MemoryStore{}, session.Config{IdleTimeout: -1}},
	}
	for name, tc := range cases {
		_, err := session.New(tc.store, tc.cfg)
		assert.ErrorIs(t, err, session.ErrInvalidConfig, name)
	}
}

func Example() {
	m, _ := session.New(&session.MemoryStore{}, session.Config{})
	ctx := context.Background()
	login, _ := m.Issue(ctx, "user_42")

	next, err := m.Rotate(ctx, login.Token) // the client refreshes
	fmt.Println(next.Subject, err)

	_, err = m.Rotate(ctx, login.Token) // someone replays the old token
	fmt.Println(err)
	// Output:
	// user_42 <nil>
	// session: refresh token reused; family revoked: auth: invalid credential
}

func BenchmarkRotate_Memory(b *testing.B) {
	m, _ := session.New(&session.MemoryStore{}, session.Config{})
	s, _ := m.Issue(context.Background(), "u")
	b.ReportAllocs()
	for b.Loop() {
		next, err := m.Rotate(context.Background(), s.Token)
		if err != nil {
			b.Fatal(err)
		}
		s = next
	}
}
