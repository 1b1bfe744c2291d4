package rediscache

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessage_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sender string
		keys   []string
	}{
		{"one key", "s1", []string{"user:v1:42"}},
		{"no keys", "s1", []string{}},
		{"keys with any bytes", "", []string{"", "a\nb", "\x00\xff", "{x}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sender, keys, err := parseMessage(appendMessage(nil, tc.sender, tc.keys))
			require.NoError(t, err)
			assert.Equal(t, tc.sender, sender)
			assert.Equal(t, tc.keys, keys)
		})
	}
}

func TestMessage_RejectsGarbage(t *testing.T) {
	valid := appendMessage(nil, "s", []string{"a", "bc"})
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseMessage(tc.msg)
			assert.True(t, errors.Is(err, ErrBadMessage), "got %v", err)
		})
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add(appendMessage(nil, "sender", []string{"a", "b"}))
	f.Add(appendMessage(nil, "", nil))
	f.Add([]byte{messageV1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		sender, keys, err := parseMessage(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again := appendMessage(nil, sender, keys)
		if string(again) != string(b) {
			// Uvarints have one canonical form per value here, except
			// padded ones; a padded encoding must at least decode alike.
			s2, k2, err := parseMessage(again)
			if err != nil || s2 != sender || len(k2) != len(keys) {
				t.Fatalf("re-encoding changed the message")
			}
		}
	})
}
