package idempotency

import (
	"bytes"
	"net/http"
)

// recorder passes the response through to the client and keeps a copy of up
// to limit bytes of the body.
type recorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	limit    int
	overflow bool
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if !rec.overflow {
		if rec.body.Len()+len(p) > rec.limit {
			rec.overflow = true
			rec.body = bytes.Buffer{}
		} else {
			rec.body.Write(p)
		}
	}
	return rec.ResponseWriter.Write(p)
}

func (rec *recorder) statusOrOK() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush,
// deadlines, hijack).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
