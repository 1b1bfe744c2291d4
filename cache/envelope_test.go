package cache

import (
	"encoding/binary"
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
		{"tagged", envelope{tags: []string{"category:7", "product:42"}, seq: 1 << 52, payload: []byte(`"v"`)}},
		{"tagged not found", envelope{missing: true, tags: []string{"product:42"}, seq: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEnvelope(appendEnvelope(nil, tc.env))
			require.NoError(t, err)
			assert.Equal(t, tc.env.missing, got.missing)
			assert.Equal(t, tc.env.stale, got.stale)
			assert.Equal(t, tc.env.delta, got.delta)
			assert.Equal(t, string(tc.env.payload), string(got.payload))
			assert.Equal(t, tc.env.tags, got.tags)
			assert.Equal(t, tc.env.seq, got.seq)
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
		{"tagged without tags", []byte{envelopeV1, flagTagged, 0, 0, 1, 0}},
		{"too many tags", append(binary.AppendUvarint([]byte{envelopeV1, flagTagged, 0, 0, 1}, MaxTags+1), 1, 'a')},
		{"empty tag", []byte{envelopeV1, flagTagged, 0, 0, 1, 1, 0}},
		{"tag too long", append([]byte{envelopeV1, flagTagged, 0, 0, 1, 1, 0x81, 0x02}, make([]byte, MaxTagLength+1)...)},
		{"truncated tag", []byte{envelopeV1, flagTagged, 0, 0, 1, 1, 5, 'a'}},
		{"truncated tag count", []byte{envelopeV1, flagTagged, 0, 0, 1}},
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
	f.Add(appendEnvelope(nil, envelope{tags: []string{"a", "product:42"}, seq: 99, payload: []byte(`1`)}))
	f.Add([]byte{envelopeV1, flagTagged, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
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
		if len(env.tags) > MaxTags {
			t.Fatalf("%d tags from %x", len(env.tags), b)
		}
		for _, tag := range env.tags {
			if tag == "" || len(tag) > MaxTagLength {
				t.Fatalf("bad tag %q from %x", tag, b)
			}
		}
		again, err := parseEnvelope(appendEnvelope(nil, env))
		if err != nil || again.missing != env.missing || again.stale != env.stale ||
			again.delta != env.delta || string(again.payload) != string(env.payload) ||
			again.seq != env.seq || len(again.tags) != len(env.tags) {
			t.Fatalf("re-encoding changed the envelope: %+v vs %+v (%v)", env, again, err)
		}
	})
}

// The table remembers at most max tags; an evicted tag's number raises the
// floor, below which entries can no longer be vouched for (never wrongly
// declared valid).
func TestTagTable_EvictionRaisesTheFloor(t *testing.T) {
	var tt tagTable
	tt.init(2, true)
	tt.apply([]string{"a"}, 1)
	tt.apply([]string{"b"}, 2)
	tt.apply([]string{"c"}, 3)
	assert.Len(t, tt.m, 2)
	assert.GreaterOrEqual(t, tt.floor, uint64(1))
	assert.Equal(t, tagsInvalid, tt.check([]string{"c"}, 2))
	assert.Equal(t, tagsValid, tt.check([]string{"c"}, 3))
	assert.Equal(t, tagsValid, tt.check([]string{"never"}, 3), "an unknown tag is at most the floor")
	assert.Equal(t, tagsUnknown, tt.check([]string{"never"}, 0), "below the floor the table cannot tell")
	for _, tag := range []string{"a", "b"} {
		if _, kept := tt.m[tag]; !kept {
			assert.NotEqual(t, tagsValid, tt.check([]string{tag}, 0), "evicted %s", tag)
		}
	}
	tt.reset()
	assert.Equal(t, tagsUnknown, tt.check([]string{"c"}, 3), "after a reset only the store can tell")
	tt.applyRead(tt.startRead(), []string{"c"}, []uint64{3}, 5)
	assert.Equal(t, tagsValid, tt.check([]string{"c", "other"}, 5))
	resets := tt.startRead()
	tt.reset()
	tt.applyRead(resets, nil, nil, 9)
	assert.False(t, tt.known, "a read sent before a reset is not applied after it")
}
