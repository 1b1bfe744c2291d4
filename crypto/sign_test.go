package crypto_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

func TestSigningKey_SignVerify(t *testing.T) {
	k, err := bcrypto.GenerateSigningKey(nil)
	require.NoError(t, err)
	msg := []byte("ship it")
	sig := k.Sign(msg)
	require.Len(t, sig, bcrypto.SignatureSize)
	v := k.Public()
	require.NoError(t, v.Verify(msg, sig))

	tests := map[string]struct{ msg, sig []byte }{
		"other message":  {[]byte("ship It"), sig},
		"short sig":      {msg, sig[:63]},
		"long sig":       {msg, append(sig[:64:64], 0)},
		"nil sig":        {msg, nil},
		"flipped in sig": {msg, func() []byte { s := append([]byte{}, sig...); s[10] ^= 1; return s }()},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) { assert.ErrorIs(t, v.Verify(tt.msg, tt.sig), bcrypto.ErrSignature) })
	}
	other, err := bcrypto.GenerateSigningKey(nil)
	require.NoError(t, err)
	assert.ErrorIs(t, other.Public().Verify(msg, sig), bcrypto.ErrSignature)
}

// RFC 8037 appendix A: the key, a signature, and the RFC 7638 thumbprint.
func TestSigningKey_RFC8037Vectors(t *testing.T) {
	seed, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	k, err := bcrypto.NewSigningKey(seed)
	require.NoError(t, err)
	assert.Equal(t, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", base64.RawURLEncoding.EncodeToString(k.Public().Bytes()))
	assert.Equal(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", k.KeyID())
	assert.Equal(t, k.KeyID(), k.Public().KeyID())
	sig := k.Sign([]byte("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"))
	assert.Equal(t, "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
		base64.RawURLEncoding.EncodeToString(sig))
	assert.Equal(t, seed, k.Seed())
}

func TestSigningKey_Encodings(t *testing.T) {
	k, err := bcrypto.GenerateSigningKey(nil)
	require.NoError(t, err)

	privPEM, err := k.MarshalPEM()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(privPEM), "-----BEGIN PRIVATE KEY-----"))
	k2, err := bcrypto.ParseSigningKeyPEM(privPEM)
	require.NoError(t, err)
	assert.Equal(t, k.Seed(), k2.Seed())

	pubPEM, err := k.Public().MarshalPEM()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----"))
	v, err := bcrypto.ParseVerifyingKeyPEM(pubPEM)
	require.NoError(t, err)
	assert.Equal(t, k.KeyID(), v.KeyID())
	require.NoError(t, v.Verify([]byte("m"), k.Sign([]byte("m"))))

	raw, err := bcrypto.NewVerifyingKey(k.Public().Bytes())
	require.NoError(t, err)
	assert.Equal(t, k.KeyID(), raw.KeyID())
	k3, err := bcrypto.NewSigningKey(k.Seed())
	require.NoError(t, err)
	assert.Equal(t, k.KeyID(), k3.KeyID())
}

func TestParsePEM_RejectsBadInput(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	k, _ := bcrypto.GenerateSigningKey(nil)
	good, _ := k.MarshalPEM()
	goodPub, _ := k.Public().MarshalPEM()
	enc := func(typ string, der []byte, h map[string]string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: h})
	}
	privTests := map[string]struct {
		in   []byte
		want error
	}{
		"empty":         {nil, bcrypto.ErrFormat},
		"not PEM":       {[]byte("hello"), bcrypto.ErrFormat},
		"wrong type":    {goodPub, bcrypto.ErrFormat},
		"garbage DER":   {enc("PRIVATE KEY", []byte{1, 2, 3}, nil), bcrypto.ErrFormat},
		"ECDSA key":     {enc("PRIVATE KEY", ecPriv, nil), bcrypto.ErrInvalidKey},
		"trailing data": {append(append([]byte{}, good...), "junk"...), bcrypto.ErrFormat},
		"headers":       {enc("PRIVATE KEY", ecPriv, map[string]string{"Proc-Type": "4,ENCRYPTED"}), bcrypto.ErrFormat},
	}
	for name, tt := range privTests {
		t.Run("private/"+name, func(t *testing.T) {
			_, err := bcrypto.ParseSigningKeyPEM(tt.in)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	pubTests := map[string]struct {
		in   []byte
		want error
	}{
		"empty":       {nil, bcrypto.ErrFormat},
		"wrong type":  {good, bcrypto.ErrFormat},
		"garbage DER": {enc("PUBLIC KEY", []byte{1, 2, 3}, nil), bcrypto.ErrFormat},
		"ECDSA key":   {enc("PUBLIC KEY", ecPub, nil), bcrypto.ErrInvalidKey},
	}
	for name, tt := range pubTests {
		t.Run("public/"+name, func(t *testing.T) {
			_, err := bcrypto.ParseVerifyingKeyPEM(tt.in)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	_, err = bcrypto.NewSigningKey(make([]byte, 31))
	assert.ErrorIs(t, err, bcrypto.ErrInvalidKey)
	_, err = bcrypto.NewVerifyingKey(make([]byte, 33))
	assert.ErrorIs(t, err, bcrypto.ErrInvalidKey)
}

func TestSigningKey_FormattingShowsIDOnly(t *testing.T) {
	k, err := bcrypto.GenerateSigningKey(nil)
	require.NoError(t, err)
	seed := k.Seed()
	for _, out := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%x", k), fmt.Sprintf("%+v", *k)} {
		assert.NotContains(t, out, hex.EncodeToString(seed[:8]))
		assert.NotContains(t, out, strings.Trim(fmt.Sprint(seed[:8]), "[]"))
		assert.NotContains(t, out, base64.StdEncoding.EncodeToString(seed)[:10])
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "k", k, "v", *k)
	assert.Equal(t, 2, strings.Count(logged.String(), k.KeyID()))
	assert.NotContains(t, logged.String(), hex.EncodeToString(seed[:8]))
	assert.Contains(t, fmt.Sprint(k), k.KeyID())
	assert.Contains(t, k.Public().String(), k.KeyID())
}

func TestGenerateSigningKey_RandomFailure(t *testing.T) {
	_, err := bcrypto.GenerateSigningKey(errReader{assert.AnError})
	assert.ErrorIs(t, err, assert.AnError)
}
