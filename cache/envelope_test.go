package cache

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvelope_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  envelope
	}{
		{"value", envelope{stale: time.Minute, delta: 1500 * time.Microsecond, payload: []byte(`{"a":1}`)}},
		{"not found", envelope{missing: true}},
		{"empty payload", envelope{payload: []byte{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEnvelope(appendEnvelope(nil, tc.env))
			require.NoError(t, err)
			assert.Equal(t, tc.env.missing, got.missing)
			assert.Equal(t, tc.env.stale, got.stale)
			assert.Equal(t, tc.env.delta, got.delta)
			assert.Equal(t, string(tc.env.payload), string(got.payload))
		})
	}
}

func TestEnvelope_RejectsCorruptBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"json from an older format", []byte(`{"name":"x"}`)},
		{"unknown flag", []byte{envelopeV1, 0x80, 0, 0}},
		{"truncated varint", []byte{envelopeV1, 0, 0x80}},
		{"absurd duration", append([]byte{envelopeV1, 0}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0)},
		{"payload on not found", []byte{envelopeV1, flagMissing, 0, 0, 'x'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseEnvelope(tc.b)
			assert.True(t, errors.Is(err, ErrCorrupt), "got %v", err)
		})
	}
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add(appendEnvelope(nil, envelope{stale: time.Second, delta: time.Millisecond, payload: []byte(`"v"`)}))
	f.Add(appendEnvelope(nil, envelope{missing: true}))
	f.Add([]byte(`{"legacy":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := parseEnvelope(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if env.stale < 0 || env.delta < 0 {
			t.Fatalf("negative duration from %x", b)
		}
		again, err := parseEnvelope(appendEnvelope(nil, env))
		if err != nil || again.missing != env.missing || again.stale != env.stale ||
			again.delta != env.delta || string(again.payload) != string(env.payload) {
			t.Fatalf("re-encoding changed the envelope: %+v vs %+v (%v)", env, again, err)
		}
	})
}
