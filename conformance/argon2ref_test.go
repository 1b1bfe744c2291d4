package conformance

import (
	"encoding/binary"
	"math/bits"

	"golang.org/x/crypto/blake2b"
)

// Argon2 written from RFC 9106 alone, so that Bedrock's PHC strings are
// checked against an implementation that shares no code with the one it
// uses (x/crypto). Unlike x/crypto it takes the secret K and associated
// data X, which the RFC's own test vectors need. It is slow and simple on
// purpose: clarity over speed.

const (
	argon2d  = 0
	argon2i  = 1
	argon2id = 2

	argon2Version = 0x13
	blockWords    = 128 // a block is 1024 bytes, 128 64-bit words
	syncPoints    = 4   // slices per pass
)

type argon2Block [blockWords]uint64

type argon2Params struct {
	typ            int
	password, salt []byte
	secret, data   []byte
	memory, passes uint32 // KiB, passes
	lanes, tagLen  uint32
}

// argon2Ref computes the tag of RFC 9106 §3.
func argon2Ref(p argon2Params) []byte {
	// §3.2 step 1: H0.
	h, _ := blake2b.New512(nil)
	for _, v := range []uint32{p.lanes, p.tagLen, p.memory, p.passes, argon2Version, uint32(p.typ)} {
		h.Write(le32(v))
	}
	for _, b := range [][]byte{p.password, p.salt, p.secret, p.data} {
		h.Write(le32(uint32(len(b))))
		h.Write(b)
	}
	h0 := h.Sum(nil)

	// Step 2: m' blocks in p lanes of q columns, 4 segments per lane.
	mPrime := 4 * p.lanes * (p.memory / (4 * p.lanes))
	q := mPrime / p.lanes
	segLen := q / syncPoints
	mem := make([]argon2Block, mPrime)
	at := func(lane, col uint32) *argon2Block { return &mem[lane*q+col] }

	// Steps 3-4: the first two blocks of each lane.
	for l := uint32(0); l < p.lanes; l++ {
		for c := uint32(0); c < 2; c++ {
			in := append(append(append([]byte(nil), h0...), le32(c)...), le32(l)...)
			*at(l, c) = blockFromBytes(hPrime(in, 1024))
		}
	}

	// Steps 5-6: passes, slice by slice (lanes are independent within a
	// slice, so computing them one after another is exact).
	for pass := uint32(0); pass < p.passes; pass++ {
		for slice := uint32(0); slice < syncPoints; slice++ {
			for l := uint32(0); l < p.lanes; l++ {
				fillSegment(p, mem, at, q, segLen, mPrime, pass, slice, l)
			}
		}
	}

	// Step 7: XOR of the last column, then H' to the tag length.
	var c argon2Block
	for l := uint32(0); l < p.lanes; l++ {
		for i, w := range at(l, q-1) {
			c[i] ^= w
		}
	}
	return hPrime(blockBytes(&c), p.tagLen)
}

func fillSegment(p argon2Params, mem []argon2Block, at func(l, c uint32) *argon2Block,
	q, segLen, mPrime, pass, slice, lane uint32) {
	// §3.4.1: Argon2i addresses, and Argon2id for the first half of the
	// first pass, come from a counter; the rest from the previous block.
	independent := p.typ == argon2i || p.typ == argon2id && pass == 0 && slice < 2
	var input, addresses, zero argon2Block
	if independent {
		input[0], input[1], input[2] = uint64(pass), uint64(lane), uint64(slice)
		input[3], input[4], input[5] = uint64(mPrime), uint64(p.passes), uint64(p.typ)
	}
	nextAddresses := func() {
		input[6]++
		addresses = compress(&zero, &input)
		addresses = compress(&zero, &addresses)
	}
	start := uint32(0)
	if pass == 0 && slice == 0 {
		start = 2
	}
	if independent && start != 0 {
		nextAddresses()
	}
	for idx := start; idx < segLen; idx++ {
		col := slice*segLen + idx
		prevCol := col - 1
		if col == 0 {
			prevCol = q - 1
		}
		prev := at(lane, prevCol)
		var pseudo uint64
		if independent {
			if idx%blockWords == 0 {
				nextAddresses()
			}
			pseudo = addresses[idx%blockWords]
		} else {
			pseudo = prev[0]
		}
		j1, j2 := pseudo&0xffffffff, pseudo>>32
		refLane := uint32(j2 % uint64(p.lanes))
		if pass == 0 && slice == 0 {
			refLane = lane
		}
		ref := at(refLane, refIndex(pass, slice, idx, segLen, q, refLane == lane, j1))
		next := compress(prev, ref)
		cur := at(lane, col)
		if pass == 0 {
			*cur = next
		} else {
			for i := range cur {
				cur[i] ^= next[i]
			}
		}
	}
}

// refIndex maps J1 to a column of the reference lane (§3.4.2).
func refIndex(pass, slice, idx, segLen, q uint32, sameLane bool, j1 uint64) uint32 {
	var area uint32
	switch {
	case pass == 0 && sameLane:
		area = slice*segLen + idx - 1
	case pass == 0:
		area = slice * segLen
		if idx == 0 {
			area--
		}
	case sameLane:
		area = q - segLen + idx - 1
	default:
		area = q - segLen
		if idx == 0 {
			area--
		}
	}
	x := j1 * j1 >> 32
	y := uint64(area) * x >> 32
	zz := uint64(area) - 1 - y
	startPos := uint32(0)
	if pass != 0 && slice != syncPoints-1 {
		startPos = (slice + 1) * segLen
	}
	return uint32((uint64(startPos) + zz) % uint64(q))
}

// compress is G of §3.5.
func compress(x, y *argon2Block) argon2Block {
	var r, z argon2Block
	for i := range r {
		r[i] = x[i] ^ y[i]
	}
	z = r
	for row := 0; row < 8; row++ { // rows of 8 16-byte registers
		permute(&z, [16]int{
			16 * row, 16*row + 1, 16*row + 2, 16*row + 3, 16*row + 4, 16*row + 5, 16*row + 6, 16*row + 7,
			16*row + 8, 16*row + 9, 16*row + 10, 16*row + 11, 16*row + 12, 16*row + 13, 16*row + 14, 16*row + 15,
		})
	}
	for col := 0; col < 8; col++ {
		var idx [16]int
		for k := 0; k < 8; k++ {
			idx[2*k], idx[2*k+1] = 16*k+2*col, 16*k+2*col+1
		}
		permute(&z, idx)
	}
	for i := range z {
		z[i] ^= r[i]
	}
	return z
}

// permute is P of §3.6 on the 16 words of b at idx.
func permute(b *argon2Block, idx [16]int) {
	v := func(i int) *uint64 { return &b[idx[i]] }
	gb(v(0), v(4), v(8), v(12))
	gb(v(1), v(5), v(9), v(13))
	gb(v(2), v(6), v(10), v(14))
	gb(v(3), v(7), v(11), v(15))
	gb(v(0), v(5), v(10), v(15))
	gb(v(1), v(6), v(11), v(12))
	gb(v(2), v(7), v(8), v(13))
	gb(v(3), v(4), v(9), v(14))
}

func gb(a, b, c, d *uint64) {
	mul := func(x, y uint64) uint64 { return 2 * (x & 0xffffffff) * (y & 0xffffffff) }
	*a = *a + *b + mul(*a, *b)
	*d = bits.RotateLeft64(*d^*a, -32)
	*c = *c + *d + mul(*c, *d)
	*b = bits.RotateLeft64(*b^*c, -24)
	*a = *a + *b + mul(*a, *b)
	*d = bits.RotateLeft64(*d^*a, -16)
	*c = *c + *d + mul(*c, *d)
	*b = bits.RotateLeft64(*b^*c, -63)
}

// hPrime is the variable-length hash H' of §3.3.
func hPrime(a []byte, t uint32) []byte {
	in := append(le32(t), a...)
	if t <= 64 {
		h, _ := blake2b.New(int(t), nil)
		h.Write(in)
		return h.Sum(nil)
	}
	r := (t+31)/32 - 2
	v := blake2b.Sum512(in)
	out := append([]byte(nil), v[:32]...)
	for i := uint32(2); i <= r; i++ {
		v = blake2b.Sum512(v[:])
		out = append(out, v[:32]...)
	}
	h, _ := blake2b.New(int(t-32*r), nil)
	h.Write(v[:])
	return h.Sum(out)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func blockFromBytes(b []byte) argon2Block {
	var blk argon2Block
	for i := range blk {
		blk[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return blk
}

func blockBytes(b *argon2Block) []byte {
	out := make([]byte, 0, 8*blockWords)
	for _, w := range b {
		out = binary.LittleEndian.AppendUint64(out, w)
	}
	return out
}
