package crypto_test

// These tests read and write every format with the standard library alone,
// following the "Formats" section of the package doc and nothing else: if
// one fails, either the code or that text is wrong.

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
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// exportedKey returns the key with id from a ring's export: the doc says
// the "key" member holds it in standard, padded base64.
func exportedKey(t *testing.T, export []byte, id uint32) []byte {
	t.Helper()
	var ring struct {
		Type    string `json:"type"`
		Primary uint32 `json:"primary"`
		Keys    []struct {
			ID     uint32 `json:"id"`
			Status string `json:"status"`
			Key    string `json:"key"`
		} `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(export, &ring))
	for _, k := range ring.Keys {
		if k.ID == id {
			raw, err := base64.StdEncoding.Strict().DecodeString(k.Key)
			require.NoError(t, err)
			return raw
		}
	}
	t.Fatalf("key %d not in the export", id)
	return nil
}

func stdGCM(t *testing.T, key []byte) cipher.AEAD {
	t.Helper()
	require.Len(t, key, 32, "AES-256")
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	a, err := cipher.NewGCM(block)
	require.NoError(t, err)
	return a
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// stdOpenRing opens a key ring ciphertext: 0x01 | key id (4) | nonce (12) |
// ciphertext and tag, with bytes 0-4 || aad as associated data.
func stdOpenRing(t *testing.T, export, ct, aad []byte) []byte {
	t.Helper()
	require.GreaterOrEqual(t, len(ct), 1+4+12+16)
	require.Equal(t, byte(0x01), ct[0], "version")
	id := binary.BigEndian.Uint32(ct[1:5])
	require.NotZero(t, id)
	pt, err := stdGCM(t, exportedKey(t, export, id)).Open(nil, ct[5:17], ct[17:], cat(ct[:5], aad))
	require.NoError(t, err)
	return pt
}

// stdSealRing writes a key ring ciphertext under the key with id.
func stdSealRing(t *testing.T, key []byte, id uint32, pt, aad []byte) []byte {
	t.Helper()
	hdr := binary.BigEndian.AppendUint32([]byte{0x01}, id)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	return stdGCM(t, key).Seal(cat(hdr, nonce), nonce, pt, cat(hdr, aad))
}

// localWrapDomain is the 33-byte prefix the doc gives for LocalWrapper.
var localWrapDomain = append([]byte("bedrock/crypto envelope data key"), 0)

func TestFormat_RingCiphertextOpenedByStdlib(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	export, err := ring.Export()
	require.NoError(t, err)
	for _, aad := range [][]byte{nil, []byte("row:42")} {
		ct, err := ring.Seal([]byte("card 4111"), aad)
		require.NoError(t, err)
		assert.Equal(t, "card 4111", string(stdOpenRing(t, export, ct, aad)))
	}
}

func TestFormat_StdlibRingCiphertextOpenedByBedrock(t *testing.T) {
	ring := fixedRing(t)
	ct := stdSealRing(t, fixedKey(1), 1, []byte("made elsewhere"), []byte("ctx"))
	pt, err := ring.Open(ct, []byte("ctx"))
	require.NoError(t, err)
	assert.Equal(t, "made elsewhere", string(pt))
}

// stdOpenEnvelope opens an envelope wrapped by a LocalWrapper over the
// exported ring: 0x45 | L (2) | wrapped key (L) | nonce (12) | ciphertext
// and tag, the data key being a ring ciphertext with domain || aad as aad.
func stdOpenEnvelope(t *testing.T, export, env, aad []byte) []byte {
	t.Helper()
	require.GreaterOrEqual(t, len(env), 3)
	require.Equal(t, byte(0x45), env[0], "version")
	l := int(binary.BigEndian.Uint16(env[1:3]))
	require.GreaterOrEqual(t, len(env), 3+l+12+16)
	dek := stdOpenRing(t, export, env[3:3+l], cat(localWrapDomain, aad))
	require.Len(t, dek, 32)
	pt, err := stdGCM(t, dek).Open(nil, env[3+l:15+l], env[15+l:], cat(env[:3+l], aad))
	require.NoError(t, err)
	return pt
}

func TestFormat_EnvelopeOpenedByStdlib(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	export, err := ring.Export()
	require.NoError(t, err)
	cached, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(ring), bcrypto.EnvelopeConfig{CacheMaxUses: 4})
	require.NoError(t, err)
	plain, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(ring), bcrypto.EnvelopeConfig{})
	require.NoError(t, err)
	for name, e := range map[string]*bcrypto.Envelope{"uncached": plain, "cached": cached} {
		for _, aad := range [][]byte{nil, []byte("tenant:7")} {
			for _, msg := range []string{"", "x", "a longer message than one AES block"} {
				env, err := e.Seal(context.Background(), []byte(msg), aad)
				require.NoError(t, err)
				assert.Equal(t, msg, string(stdOpenEnvelope(t, export, env, aad)), "%s aad=%q", name, aad)
			}
		}
	}
}

func TestFormat_StdlibEnvelopeOpenedByBedrock(t *testing.T) {
	ring := fixedRing(t)
	aad := []byte("tenant:7")
	dek := make([]byte, 32)
	_, _ = rand.Read(dek)
	wrapped := stdSealRing(t, fixedKey(1), 1, dek, cat(localWrapDomain, aad))
	hdr := binary.BigEndian.AppendUint16([]byte{0x45}, uint16(len(wrapped)))
	hdr = append(hdr, wrapped...)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	env := stdGCM(t, dek).Seal(cat(hdr, nonce), nonce, []byte("made elsewhere"), cat(hdr, aad))

	pt, err := bcrypto.EnvelopeOpen(context.Background(), bcrypto.NewLocalWrapper(ring), env, aad)
	require.NoError(t, err)
	assert.Equal(t, "made elsewhere", string(pt))
}

// stdStreamKey derives a stream key: HKDF-SHA256 with the ring key as
// secret, header bytes 9-40 as salt and "bedrock/crypto stream v1" ||
// header bytes 0-8 as info.
func stdStreamKey(t *testing.T, ringKey, header []byte) []byte {
	t.Helper()
	key, err := hkdf.Key(sha256.New, ringKey, header[9:41], "bedrock/crypto stream v1"+string(header[:9]), 32)
	require.NoError(t, err)
	return key
}

func streamNonce(i uint64, final bool) []byte {
	n := binary.BigEndian.AppendUint64([]byte{0, 0, 0}, i)
	if final {
		return append(n, 1)
	}
	return append(n, 0)
}

// stdOpenStream decrypts a whole stream by the doc.
func stdOpenStream(t *testing.T, export, stream, aad []byte) []byte {
	t.Helper()
	require.GreaterOrEqual(t, len(stream), 41+16)
	header := stream[:41]
	require.Equal(t, byte(0x53), header[0], "version")
	id := binary.BigEndian.Uint32(header[1:5])
	c := int(binary.BigEndian.Uint32(header[5:9]))
	a := stdGCM(t, stdStreamKey(t, exportedKey(t, export, id), header))
	ad := cat(header, aad)
	out := []byte{}
	body := stream[41:]
	for i := uint64(0); ; i++ {
		final := len(body) <= c+16
		piece := body
		if !final {
			piece = body[:c+16]
		}
		pt, err := a.Open(nil, streamNonce(i, final), piece, ad)
		require.NoError(t, err, "chunk %d", i)
		out = append(out, pt...)
		if final {
			return out
		}
		body = body[c+16:]
	}
}

func TestFormat_StreamOpenedByStdlib(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	export, err := ring.Export()
	require.NoError(t, err)
	const chunk = bcrypto.MinChunkSize
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3*chunk + 5} {
		msg := make([]byte, n)
		_, _ = rand.Read(msg)
		for _, aad := range [][]byte{nil, []byte("file:9")} {
			var buf bytes.Buffer
			w, err := bcrypto.NewStreamWriter(&buf, ring, aad, bcrypto.StreamConfig{ChunkSize: chunk})
			require.NoError(t, err)
			_, err = w.Write(msg)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			assert.Equal(t, msg, stdOpenStream(t, export, buf.Bytes(), aad), "%d bytes, aad=%q", n, aad)
		}
	}
}

func TestFormat_StdlibStreamOpenedByBedrock(t *testing.T) {
	ring := fixedRing(t)
	aad := []byte("file:9")
	const c = 20
	msg := []byte("a stream of three chunks, the last one short")
	header := []byte{0x53, 0, 0, 0, 1}
	header = binary.BigEndian.AppendUint32(header, c)
	salt := make([]byte, 32)
	_, _ = rand.Read(salt)
	header = append(header, salt...)
	a := stdGCM(t, stdStreamKey(t, fixedKey(1), header))
	stream := append([]byte(nil), header...)
	for i := 0; i*c < len(msg); i++ {
		end := min((i+1)*c, len(msg))
		stream = a.Seal(stream, streamNonce(uint64(i), end == len(msg)), msg[i*c:end], cat(header, aad))
	}

	r, err := bcrypto.NewStreamReader(bytes.NewReader(stream), ring, aad, bcrypto.StreamConfig{})
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, msg, got)
}

func TestFormat_MACComputedByStdlib(t *testing.T) {
	ring, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	require.NoError(t, err)
	_, err = ring.Rotate()
	require.NoError(t, err)
	export, err := ring.Export()
	require.NoError(t, err)
	msg := []byte("user=42&exp=1700000000")
	tag, err := ring.Sign(msg)
	require.NoError(t, err)

	require.Len(t, tag, 37)
	require.Equal(t, byte(0x4d), tag[0], "version")
	m := hmac.New(sha256.New, exportedKey(t, export, binary.BigEndian.Uint32(tag[1:5])))
	m.Write(tag[:5])
	m.Write(msg)
	assert.Equal(t, m.Sum(nil), tag[5:])

	// And a tag computed by the doc verifies.
	mine := m.Sum(append([]byte(nil), tag[:5]...))
	assert.NoError(t, ring.Verify(msg, mine))
}
