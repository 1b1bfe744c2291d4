package conformance

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// The decoders and encoders below use the standard library alone and follow
// the byte layouts of crypto/doc.go ("Formats"). Where the doc of this tree
// stops short (item 21.4: the domain string of a wrapped data key, the HKDF
// info of a stream), the bytes come from the layout comments beside the
// code, and are named here so that they are easy to hold against the doc.
const (
	ringVersion     = 0x01
	envelopeVersion = 0x45
	streamVersion   = 0x53
	macVersion      = 0x4d
	// wrapDomain prefixes the caller's aad when a local ring wraps an
	// envelope's data key.
	wrapDomain = "bedrock/crypto envelope data key\x00"
	// streamInfo, followed by the first nine header bytes (version, key id,
	// chunk size), is the HKDF info of a stream key; the salt is the
	// header's last 32 bytes.
	streamInfo = "bedrock/crypto stream v1"
)

func gcm(t *testing.T, key []byte) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	a, err := cipher.NewGCM(block)
	require.NoError(t, err)
	return a
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// stdRingOpen opens 0x01 | key id (4) | nonce (12) | ciphertext | tag (16),
// whose associated data is its first five bytes, then aad.
func stdRingOpen(t *testing.T, keys map[uint32][]byte, ct, aad []byte) ([]byte, error) {
	t.Helper()
	if len(ct) < 5+12+16 || ct[0] != ringVersion {
		return nil, errors.New("not a ring ciphertext")
	}
	key, ok := keys[binary.BigEndian.Uint32(ct[1:5])]
	if !ok {
		return nil, errors.New("unknown key")
	}
	return gcm(t, key).Open(nil, ct[5:17], ct[17:], cat(ct[:5], aad))
}

func stdRingSeal(t *testing.T, id uint32, key, pt, aad []byte) []byte {
	t.Helper()
	hdr := binary.BigEndian.AppendUint32([]byte{ringVersion}, id)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	return gcm(t, key).Seal(cat(hdr, nonce), nonce, pt, cat(hdr, aad))
}

// stdEnvelopeOpen opens 0x45 | wrapped key length (2) | wrapped key |
// nonce (12) | ciphertext | tag (16) whose key is wrapped by a local ring.
func stdEnvelopeOpen(t *testing.T, keys map[uint32][]byte, env, aad []byte) ([]byte, error) {
	t.Helper()
	if len(env) < 3 || env[0] != envelopeVersion {
		return nil, errors.New("not an envelope")
	}
	wl := int(binary.BigEndian.Uint16(env[1:3]))
	if len(env) < 3+wl+12+16 {
		return nil, errors.New("short envelope")
	}
	dek, err := stdRingOpen(t, keys, env[3:3+wl], cat([]byte(wrapDomain), aad))
	if err != nil {
		return nil, fmt.Errorf("unwrapping the data key: %w", err)
	}
	body := env[3+wl:]
	return gcm(t, dek).Open(nil, body[:12], body[12:], cat(env[:3+wl], aad))
}

func stdEnvelopeSeal(t *testing.T, id uint32, key, pt, aad []byte) []byte {
	t.Helper()
	dek := make([]byte, 32)
	_, _ = rand.Read(dek)
	wrapped := stdRingSeal(t, id, key, dek, cat([]byte(wrapDomain), aad))
	hdr := binary.BigEndian.AppendUint16([]byte{envelopeVersion}, uint16(len(wrapped)))
	hdr = append(hdr, wrapped...)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	return gcm(t, dek).Seal(cat(hdr, nonce), nonce, pt, cat(hdr, aad))
}

// stdStreamKey derives a stream's AEAD from its 41-byte header.
func stdStreamKey(t *testing.T, ringKey, hdr []byte) cipher.AEAD {
	t.Helper()
	k, err := hkdf.Key(sha256.New, ringKey, hdr[9:41], streamInfo+string(hdr[:9]), 32)
	require.NoError(t, err)
	return gcm(t, k)
}

func streamNonce(i uint64, final bool) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[3:11], i)
	if final {
		n[11] = 1
	}
	return n
}

// stdStreamOpen reads 0x53 | key id (4) | chunk size (4) | salt (32), then
// chunks of chunk size + 16 bytes, the last one shorter (or a bare tag)
// and sealed with the final flag.
func stdStreamOpen(t *testing.T, keys map[uint32][]byte, s, aad []byte) ([]byte, error) {
	t.Helper()
	if len(s) < 41 || s[0] != streamVersion {
		return nil, errors.New("not a stream")
	}
	hdr := s[:41]
	key, ok := keys[binary.BigEndian.Uint32(hdr[1:5])]
	if !ok {
		return nil, errors.New("unknown key")
	}
	chunk := int(binary.BigEndian.Uint32(hdr[5:9]))
	a := stdStreamKey(t, key, hdr)
	ad := cat(hdr, aad)
	var out []byte
	rest := s[41:]
	for i := uint64(0); ; i++ {
		n := min(len(rest), chunk+16)
		final := n == len(rest)
		pt, err := a.Open(nil, streamNonce(i, final), rest[:n], ad)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, err)
		}
		out = append(out, pt...)
		rest = rest[n:]
		if final {
			return out, nil
		}
	}
}

func stdStreamSeal(t *testing.T, id uint32, key []byte, chunk int, pt, aad []byte) []byte {
	t.Helper()
	hdr := binary.BigEndian.AppendUint32([]byte{streamVersion}, id)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(chunk))
	salt := make([]byte, 32)
	_, _ = rand.Read(salt)
	hdr = append(hdr, salt...)
	a := stdStreamKey(t, key, hdr)
	out := append([]byte(nil), hdr...)
	for i := uint64(0); ; i++ {
		n := min(len(pt), chunk)
		// The last chunk is the one that leaves nothing behind; a plaintext
		// of whole chunks ends with a full final chunk.
		final := n == len(pt)
		out = a.Seal(out, streamNonce(i, final), pt[:n], cat(hdr, aad))
		pt = pt[n:]
		if final {
			return out
		}
	}
}

// testRing is a Bedrock ring holding one known key, promoted.
func testRing(t *testing.T) (*bcrypto.KeyRing, uint32, []byte, map[uint32][]byte) {
	t.Helper()
	ring, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	const id = 0x0a0b0c0d
	require.NoError(t, ring.Add(id, key))
	require.NoError(t, ring.Promote(id))
	return ring, id, key, map[uint32][]byte{id: key}
}

var cryptoPayloads = []struct {
	name    string
	pt, aad []byte
}{
	{"empty", nil, nil},
	{"short with aad", []byte("hello"), []byte("user:42")},
	{"binary, no aad", bytes.Repeat([]byte{0, 0xff}, 300), nil},
}

// TestRing_StdlibBothWays opens Bedrock's ring ciphertexts with the
// standard library and the reverse, and reads key material from Export's
// JSON as doc.go describes it.
func TestRing_StdlibBothWays(t *testing.T) {
	ring, id, key, keys := testRing(t)
	for _, p := range cryptoPayloads {
		t.Run(p.name, func(t *testing.T) {
			ct, err := ring.Seal(p.pt, p.aad)
			require.NoError(t, err)
			assert.Len(t, ct, len(p.pt)+bcrypto.Overhead)
			got, err := stdRingOpen(t, keys, ct, p.aad)
			require.NoError(t, err)
			assert.Equal(t, string(p.pt), string(got))
			_, err = stdRingOpen(t, keys, ct, append(p.aad, 'x'))
			assert.Error(t, err, "the aad is bound")

			got, err = ring.Open(stdRingSeal(t, id, key, p.pt, p.aad), p.aad)
			require.NoError(t, err)
			assert.Equal(t, string(p.pt), string(got))
		})
	}
	t.Run("Export", func(t *testing.T) {
		data, err := ring.Export()
		require.NoError(t, err)
		var s struct {
			Type    string `json:"type"`
			Primary uint32 `json:"primary"`
			Keys    []struct {
				ID     uint32 `json:"id"`
				Status string `json:"status"`
				Key    string `json:"key"`
			} `json:"keys"`
		}
		require.NoError(t, json.Unmarshal(data, &s))
		assert.Equal(t, "aes256-gcm", s.Type)
		assert.Equal(t, uint32(id), s.Primary)
		require.Len(t, s.Keys, 1)
		assert.Equal(t, base64.StdEncoding.EncodeToString(key), s.Keys[0].Key)
	})
}

// TestEnvelope_StdlibBothWays does the same for envelopes whose data key a
// local ring wraps, with and without the data-key cache.
func TestEnvelope_StdlibBothWays(t *testing.T) {
	ring, id, key, keys := testRing(t)
	for _, cfg := range []struct {
		name string
		cfg  bcrypto.EnvelopeConfig
	}{{"no cache", bcrypto.EnvelopeConfig{}}, {"cache", bcrypto.EnvelopeConfig{CacheMaxUses: 100}}} {
		env, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(ring), cfg.cfg)
		require.NoError(t, err)
		for _, p := range cryptoPayloads {
			t.Run(cfg.name+"/"+p.name, func(t *testing.T) {
				ct, err := env.Seal(context.Background(), p.pt, p.aad)
				require.NoError(t, err)
				got, err := stdEnvelopeOpen(t, keys, ct, p.aad)
				require.NoError(t, err)
				assert.Equal(t, string(p.pt), string(got))

				got, err = env.Open(context.Background(), stdEnvelopeSeal(t, id, key, p.pt, p.aad), p.aad)
				require.NoError(t, err)
				assert.Equal(t, string(p.pt), string(got))
			})
		}
	}
}

// TestStream_StdlibBothWays covers empty streams, partial and whole final
// chunks, and several chunks.
func TestStream_StdlibBothWays(t *testing.T) {
	ring, id, key, keys := testRing(t)
	const chunk = bcrypto.MinChunkSize
	aad := []byte("file:7")
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3*chunk + 5} {
		pt := make([]byte, n)
		_, _ = rand.Read(pt)
		t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := bcrypto.NewStreamWriter(&buf, ring, aad, bcrypto.StreamConfig{ChunkSize: chunk})
			require.NoError(t, err)
			_, err = w.Write(pt)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			got, err := stdStreamOpen(t, keys, buf.Bytes(), aad)
			require.NoError(t, err)
			assert.Equal(t, pt, append([]byte{}, got...))

			r, err := bcrypto.NewStreamReader(bytes.NewReader(stdStreamSeal(t, id, key, chunk, pt, aad)), ring, aad, bcrypto.StreamConfig{ChunkSize: chunk})
			require.NoError(t, err)
			got, err = io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, pt, append([]byte{}, got...))
		})
	}
}

// TestMAC_Stdlib: 0x4d | key id (4) | HMAC-SHA256 over the first five
// bytes and the message.
func TestMAC_Stdlib(t *testing.T) {
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	key := bytes.Repeat([]byte{7}, 32)
	require.NoError(t, m.Add(9, key))
	require.NoError(t, m.Promote(9))
	msg := []byte("message")
	tag, err := m.Sign(msg)
	require.NoError(t, err)
	require.Len(t, tag, bcrypto.MACSize)
	mac := hmac.New(sha256.New, key)
	mac.Write(tag[:5])
	mac.Write(msg)
	assert.Equal(t, cat([]byte{macVersion, 0, 0, 0, 9}, mac.Sum(nil)), tag)
}
