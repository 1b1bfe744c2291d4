package crypto_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

func TestKeyRing_ExportParseRoundTrip(t *testing.T) {
	r := newRing(t, bcrypto.KeyRingConfig{})
	old, _ := r.Primary()
	ctOld, err := r.Seal([]byte("old"), nil)
	require.NoError(t, err)
	_, err = r.Rotate()
	require.NoError(t, err)
	retired, err := r.Generate()
	require.NoError(t, err)
	require.NoError(t, r.Retire(retired))
	ctNew, err := r.Seal([]byte("new"), nil)
	require.NoError(t, err)

	data, err := r.Export()
	require.NoError(t, err)
	loaded, err := bcrypto.ParseKeyRing(data, bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	assert.Equal(t, r.String(), loaded.String())
	for ct, want := range map[*[]byte]string{&ctOld: "old", &ctNew: "new"} {
		pt, err := loaded.Open(*ct, nil)
		require.NoError(t, err)
		assert.Equal(t, want, string(pt))
	}
	ct, err := loaded.Seal([]byte("from loaded"), nil)
	require.NoError(t, err)
	_, err = r.Open(ct, nil)
	assert.NoError(t, err)
	assert.NotEqual(t, old, bcrypto.KeyID(0))
}

func TestParseKeyRing_Format(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(fixedKey(1))
	data := `{"type":"aes256-gcm","primary":7,"keys":[{"id":7,"status":"enabled","key":"` + key + `"},{"id":9,"status":"retired","key":"` + key + `"}]}`
	r, err := bcrypto.ParseKeyRing([]byte(data), bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	assert.Equal(t, "crypto.KeyRing{primary=7 keys=[7:enabled 9:retired]}", r.String())
	out, err := r.Export()
	require.NoError(t, err)
	assert.JSONEq(t, data, string(out))
}

func TestParseKeyRing_RejectsBadInput(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(fixedKey(1))
	ring := func(primary string, keys ...string) string {
		return `{"type":"aes256-gcm"` + primary + `,"keys":[` + strings.Join(keys, ",") + `]}`
	}
	k := func(id, status, material string) string {
		return fmt.Sprintf(`{"id":%s,"status":%q,"key":%q}`, id, status, material)
	}
	tests := map[string]struct {
		in   string
		want error
	}{
		"not JSON":         {"{", bcrypto.ErrFormat},
		"empty":            {"", bcrypto.ErrFormat},
		"array":            {"[]", bcrypto.ErrFormat},
		"unknown field":    {`{"type":"aes256-gcm","keys":[],"extra":1}`, bcrypto.ErrFormat},
		"wrong type":       {`{"type":"hmac-sha256","keys":[]}`, bcrypto.ErrFormat},
		"missing type":     {`{"keys":[]}`, bcrypto.ErrFormat},
		"trailing data":    {ring(``) + "{}", bcrypto.ErrFormat},
		"zero id":          {ring(``, k("0", "enabled", key)), bcrypto.ErrInvalidKey},
		"negative id":      {ring(``, k("-1", "enabled", key)), bcrypto.ErrFormat},
		"id over 32 bits":  {ring(``, k("4294967296", "enabled", key)), bcrypto.ErrFormat},
		"duplicate id":     {ring(``, k("1", "enabled", key), k("1", "enabled", key)), bcrypto.ErrInvalidKey},
		"bad base64":       {ring(``, k("1", "enabled", "!!!")), bcrypto.ErrFormat},
		"url base64":       {ring(``, k("1", "enabled", base64.URLEncoding.EncodeToString(fixedKey(0xfb)))), bcrypto.ErrFormat},
		"short key":        {ring(``, k("1", "enabled", key[:20]+"==")), bcrypto.ErrFormat},
		"16-byte key":      {ring(``, k("1", "enabled", base64.StdEncoding.EncodeToString(fixedKey(1)[:16]))), bcrypto.ErrInvalidKey},
		"unknown status":   {ring(``, k("1", "disabled", key)), bcrypto.ErrFormat},
		"primary missing":  {ring(`,"primary":2`, k("1", "enabled", key)), bcrypto.ErrInvalidKey},
		"primary retired":  {ring(`,"primary":1`, k("1", "retired", key)), bcrypto.ErrPrimaryKey},
		"huge input":       {`{"type":"aes256-gcm","keys":[]}` + strings.Repeat(" ", 1<<20), bcrypto.ErrFormat},
		"key is a number":  {`{"type":"aes256-gcm","keys":[{"id":1,"status":"enabled","key":5}]}`, bcrypto.ErrFormat},
		"status missing":   {`{"type":"aes256-gcm","keys":[{"id":1,"key":"` + key + `"}]}`, bcrypto.ErrFormat},
		"keys not a list":  {`{"type":"aes256-gcm","keys":{}}`, bcrypto.ErrFormat},
		"primary a string": {`{"type":"aes256-gcm","primary":"1","keys":[]}`, bcrypto.ErrFormat},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := bcrypto.ParseKeyRing([]byte(tt.in), bcrypto.KeyRingConfig{})
			assert.Nil(t, r)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestParseKeyRing_EmptyRingOpensNothingAndSealsNothing(t *testing.T) {
	r, err := bcrypto.ParseKeyRing([]byte(`{"type":"aes256-gcm","keys":[]}`), bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	_, err = r.Seal(nil, nil)
	assert.ErrorIs(t, err, bcrypto.ErrNoPrimary)
	_, ok := r.Primary()
	assert.False(t, ok)
	out, err := r.Export()
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(out, &v))
	assert.Equal(t, "aes256-gcm", v["type"])
}
