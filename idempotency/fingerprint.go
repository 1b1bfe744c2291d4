package idempotency

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
)

// fingerprint identifies the request a key was first used for: method,
// route, principal and a hash of the body, unless Config.Fingerprint
// replaces it.
func (m *Middleware) fingerprint(r *http.Request, principal string, body []byte) Fingerprint {
	if m.cfg.Fingerprint != nil {
		return m.cfg.Fingerprint(r, body)
	}
	route := ""
	if m.cfg.Route != nil {
		route = m.cfg.Route(r)
	} else if r.Pattern != "" {
		route = r.Pattern
	} else {
		route = r.URL.Path
	}
	bodySum := sha256.Sum256(body)
	h := sha256.New()
	for _, part := range []string{r.Method, route, principal} {
		writeField(h, part)
	}
	h.Write(bodySum[:])
	var fp Fingerprint
	h.Sum(fp[:0])
	return fp
}

// writeField writes s length-prefixed, so that fields cannot run into each
// other ("ab"+"c" differs from "a"+"bc").
func writeField(w io.Writer, s string) {
	var n [8]byte
	l := strconv.AppendInt(n[:0], int64(len(s)), 10)
	w.Write(l)
	w.Write([]byte{':'})
	io.WriteString(w, s)
}

// scopedKey hashes the principal with the client's key, so that keys of
// different principals never meet and the store key has a fixed length.
func scopedKey(principal, key string) string {
	h := sha256.New()
	writeField(h, principal)
	writeField(h, key)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// readBody reads the whole body, up to limit bytes, to fingerprint it, and
// puts it back for the handler.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
