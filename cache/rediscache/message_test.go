package rediscache

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessage_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  message
		v    byte
	}{
		{"one key", message{sender: "s1", keys: []string{"user:v1:42"}}, messageV1},
		{"no keys", message{sender: "s1", keys: []string{}}, messageV1},
		{"keys with any bytes", message{sender: "", keys: []string{"", "a\nb", "\x00\xff", "{x}"}}, messageV1},
		{"tags", message{sender: "s1", keys: []string{}, tags: []string{"product:42", "category:7"}, seq: 1 << 50}, messageV2},
		{"tags and keys", message{sender: "s", keys: []string{"k"}, tags: []string{"\x00{t}"}, seq: 1}, messageV2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := appendMessage(nil, tc.msg)
			assert.Equal(t, tc.v, b[0], "key-only messages keep the format older deploys read")
			got, err := parseMessage(b)
			require.NoError(t, err)
			assert.Equal(t, tc.msg.sender, got.sender)
			assert.Equal(t, tc.msg.keys, got.keys)
			assert.Equal(t, tc.msg.tags, got.tags)
			assert.Equal(t, tc.msg.seq, got.seq)
		})
	}
}

func TestMessage_RejectsGarbage(t *testing.T) {
	valid := appendMessage(nil, message{sender: "s", keys: []string{"a", "bc"}})
	tagged := appendMessage(nil, message{sender: "s", tags: []string{"t"}, seq: 300})
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"unknown format", []byte{9, 0, 0}},
		{"truncated", valid[:len(valid)-1]},
		{"trailing bytes", append(append([]byte(nil), valid...), 'x')},
		{"huge count", []byte{messageV1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"huge length", []byte{messageV1, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"tagged without its number", tagged[:len(tagged)-2]},
		{"tagged, truncated number", tagged[:len(tagged)-1]},
		{"huge tag count", []byte{messageV2, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMessage(tc.msg)
			assert.True(t, errors.Is(err, ErrBadMessage), "got %v", err)
		})
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add(appendMessage(nil, message{sender: "sender", keys: []string{"a", "b"}}))
	f.Add(appendMessage(nil, message{}))
	f.Add(appendMessage(nil, message{sender: "s", tags: []string{"product:42"}, seq: 1 << 52}))
	f.Add([]byte{messageV1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{messageV2, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Every string took at least a byte of the message.
		if len(m.keys)+len(m.tags) > len(b) {
			t.Fatalf("%d strings from %d bytes", len(m.keys)+len(m.tags), len(b))
		}
		again, err := parseMessage(appendMessage(nil, m))
		if err != nil || again.sender != m.sender || len(again.keys) != len(m.keys) ||
			len(again.tags) != len(m.tags) || again.seq != m.seq {
			t.Fatalf("re-encoding changed the message: %+v vs %+v (%v)", m, again, err)
		}
	})
}
