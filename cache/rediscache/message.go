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
//
// A tag invalidation is messageV2: the same fields, then
//
//	uvarint   number of tags
//	per tag:  uvarint length, then the tag's bytes
//	uvarint   the invalidation's sequence number
//
// Key-only messages stay in messageV1, so that processes of an older deploy
// still read them; a v2 message makes those flush their local tier, which
// is safe.
const (
	messageV1 byte = 1
	messageV2 byte = 2
)

// message is one decoded invalidation message.
type message struct {
	sender string
	keys   []string
	tags   []string
	seq    uint64
}

// ErrBadMessage reports an invalidation message that could not be decoded.
// The store then flushes every local tier, since it cannot tell which keys
// were meant.
var ErrBadMessage = errors.New("rediscache: bad invalidation message")

func appendMessage(dst []byte, m message) []byte {
	tagged := len(m.tags) > 0 || m.seq > 0
	if tagged {
		dst = append(dst, messageV2)
	} else {
		dst = append(dst, messageV1)
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.sender)))
	dst = append(dst, m.sender...)
	dst = appendStrings(dst, m.keys)
	if tagged {
		dst = appendStrings(dst, m.tags)
		dst = binary.AppendUvarint(dst, m.seq)
	}
	return dst
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

func parseMessage(b []byte) (message, error) {
	if len(b) == 0 || b[0] != messageV1 && b[0] != messageV2 {
		return message{}, fmt.Errorf("%w: unknown format", ErrBadMessage)
	}
	tagged := b[0] == messageV2
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
	strs := func(what string) ([]string, error) {
		count, w := binary.Uvarint(rest)
		// Every string takes at least one byte, which bounds the
		// allocation.
		if w <= 0 || count > uint64(len(rest)-w) {
			return nil, fmt.Errorf("%w: bad %s count", ErrBadMessage, what)
		}
		rest = rest[w:]
		out := make([]string, 0, count)
		for range count {
			f, ok := field()
			if !ok {
				return nil, fmt.Errorf("%w: truncated %s", ErrBadMessage, what)
			}
			out = append(out, string(f))
		}
		return out, nil
	}
	id, ok := field()
	if !ok {
		return message{}, fmt.Errorf("%w: bad sender", ErrBadMessage)
	}
	m := message{sender: string(id)}
	var err error
	if m.keys, err = strs("key"); err != nil {
		return message{}, err
	}
	if tagged {
		if m.tags, err = strs("tag"); err != nil {
			return message{}, err
		}
		seq, w := binary.Uvarint(rest)
		if w <= 0 {
			return message{}, fmt.Errorf("%w: bad sequence number", ErrBadMessage)
		}
		m.seq, rest = seq, rest[w:]
	}
	if len(rest) != 0 {
		return message{}, fmt.Errorf("%w: %d trailing bytes", ErrBadMessage, len(rest))
	}
	return m, nil
}
