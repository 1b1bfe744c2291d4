package rediscache

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// An invalidation message is
//
//	byte      messageV1
//	uvarint   length of the sender's id, then the id
//	uvarint   number of keys
//	per key:  uvarint length, then the key's bytes
//
// Lengths rather than separators, because cache keys may hold any byte.
const messageV1 byte = 1

// ErrBadMessage reports an invalidation message that could not be decoded.
// The store then flushes every local tier, since it cannot tell which keys
// were meant.
var ErrBadMessage = errors.New("rediscache: bad invalidation message")

func appendMessage(dst []byte, sender string, keys []string) []byte {
	dst = append(dst, messageV1)
	dst = binary.AppendUvarint(dst, uint64(len(sender)))
	dst = append(dst, sender...)
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
	}
	return dst
}

func parseMessage(b []byte) (sender string, keys []string, err error) {
	if len(b) == 0 || b[0] != messageV1 {
		return "", nil, fmt.Errorf("%w: unknown format", ErrBadMessage)
	}
	rest := b[1:]
	field := func() ([]byte, bool) {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return nil, false
		}
		f := rest[w : w+int(n)]
		rest = rest[w+int(n):]
		return f, true
	}
	id, ok := field()
	if !ok {
		return "", nil, fmt.Errorf("%w: bad sender", ErrBadMessage)
	}
	count, w := binary.Uvarint(rest)
	// Every key takes at least one byte, which bounds the allocation.
	if w <= 0 || count > uint64(len(rest)-w) {
		return "", nil, fmt.Errorf("%w: bad key count", ErrBadMessage)
	}
	rest = rest[w:]
	keys = make([]string, 0, count)
	for range count {
		k, ok := field()
		if !ok {
			return "", nil, fmt.Errorf("%w: truncated key", ErrBadMessage)
		}
		keys = append(keys, string(k))
	}
	if len(rest) != 0 {
		return "", nil, fmt.Errorf("%w: %d trailing bytes", ErrBadMessage, len(rest))
	}
	return string(id), keys, nil
}
