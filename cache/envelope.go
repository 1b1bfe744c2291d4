package cache

import (
	"encoding/binary"
	"fmt"
	"time"
)

// An envelope is what the store holds for a key: a header the cache needs in
// every process, then the codec's bytes.
//
//	byte 0     format (envelopeV1)
//	byte 1     flags (flagMissing: a cached "not found", no payload)
//	uvarint    stale tail of the TTL, in microseconds
//	uvarint    load duration, in microseconds (the Δ of early refresh)
//	with flagTagged:
//	  uvarint  tag sequence number known when the load started
//	  uvarint  number of tags, 1..MaxTags
//	  per tag: uvarint length, 1..MaxTagLength, then the tag's bytes
//	rest       payload
//
// The stale tail travels with the value because the store's TTL counts down
// the whole lifetime: a reader learns how much of it is fresh only from the
// writer.
const (
	envelopeV1  byte = 0xB1
	flagMissing byte = 1 << 0
	flagTagged  byte = 1 << 1
	knownFlags       = flagMissing | flagTagged
)

type envelope struct {
	missing bool
	stale   time.Duration
	delta   time.Duration
	tags    []string
	seq     uint64
	payload []byte
}

func appendEnvelope(dst []byte, e envelope) []byte {
	flags := byte(0)
	if e.missing {
		flags |= flagMissing
	}
	if len(e.tags) > 0 {
		flags |= flagTagged
	}
	dst = append(dst, envelopeV1, flags)
	dst = binary.AppendUvarint(dst, uint64(max(e.stale, 0)/time.Microsecond))
	dst = binary.AppendUvarint(dst, uint64(max(e.delta, 0)/time.Microsecond))
	if len(e.tags) > 0 {
		dst = binary.AppendUvarint(dst, e.seq)
		dst = binary.AppendUvarint(dst, uint64(len(e.tags)))
		for _, t := range e.tags {
			dst = binary.AppendUvarint(dst, uint64(len(t)))
			dst = append(dst, t...)
		}
	}
	return append(dst, e.payload...)
}

// maxEnvelopeDuration bounds decoded durations so that converting them to
// nanoseconds cannot overflow.
const maxEnvelopeDuration = uint64(100 * 365 * 24 * time.Hour / time.Microsecond)

func parseEnvelope(b []byte) (envelope, error) {
	if len(b) < 2 {
		return envelope{}, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != envelopeV1 {
		return envelope{}, fmt.Errorf("%w: unknown format 0x%02x", ErrCorrupt, b[0])
	}
	flags := b[1]
	if flags&^knownFlags != 0 {
		return envelope{}, fmt.Errorf("%w: unknown flags 0x%02x", ErrCorrupt, flags)
	}
	rest := b[2:]
	stale, n := binary.Uvarint(rest)
	if n <= 0 || stale > maxEnvelopeDuration {
		return envelope{}, fmt.Errorf("%w: bad stale field", ErrCorrupt)
	}
	rest = rest[n:]
	delta, n := binary.Uvarint(rest)
	if n <= 0 || delta > maxEnvelopeDuration {
		return envelope{}, fmt.Errorf("%w: bad load-time field", ErrCorrupt)
	}
	rest = rest[n:]
	e := envelope{
		missing: flags&flagMissing != 0,
		stale:   time.Duration(stale) * time.Microsecond,
		delta:   time.Duration(delta) * time.Microsecond,
	}
	if flags&flagTagged != 0 {
		var err error
		if e.seq, e.tags, rest, err = parseTags(rest); err != nil {
			return envelope{}, err
		}
	}
	e.payload = rest
	if e.missing && len(rest) != 0 {
		return envelope{}, fmt.Errorf("%w: payload on a not-found entry", ErrCorrupt)
	}
	return e, nil
}

// parseTags reads the tag section of an envelope. Its bounds (MaxTags tags
// of at most MaxTagLength bytes) cap what corrupted bytes can allocate.
func parseTags(b []byte) (seq uint64, tags []string, rest []byte, err error) {
	seq, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, nil, fmt.Errorf("%w: bad tag sequence field", ErrCorrupt)
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count == 0 || count > MaxTags {
		return 0, nil, nil, fmt.Errorf("%w: bad tag count", ErrCorrupt)
	}
	b = b[n:]
	tags = make([]string, 0, count)
	for range count {
		l, n := binary.Uvarint(b)
		if n <= 0 || l == 0 || l > MaxTagLength || l > uint64(len(b)-n) {
			return 0, nil, nil, fmt.Errorf("%w: bad tag", ErrCorrupt)
		}
		tags = append(tags, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	return seq, tags, b, nil
}
