package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/bedrock-go/bedrock/ratelimit"
)

// loginLimits wraps the login handler in the per-IP limiter, then the
// per-email one: guessing passwords is slowed per source and per target
// account, so that neither many IPs against one account nor one IP against
// many accounts gets far. Either limiter may be nil.
func loginLimits(ip, email *ratelimit.Limiter, next http.Handler) (http.Handler, error) {
	h := next
	if email != nil {
		mw, err := ratelimit.NewMiddleware(email, ratelimit.MiddlewareConfig{Key: emailKey})
		if err != nil {
			return nil, err
		}
		h = mw.Handler(h)
	}
	if ip != nil {
		key, err := ratelimit.KeyByClientIP(ratelimit.ClientIPConfig{})
		if err != nil {
			return nil, err
		}
		mw, err := ratelimit.NewMiddleware(ip, ratelimit.MiddlewareConfig{Key: key})
		if err != nil {
			return nil, err
		}
		h = mw.Handler(h)
	}
	return h, nil
}

// maxLoginBody bounds what emailKey reads; a login body is tiny.
const maxLoginBody = 8 << 10

// emailKey reads the email of a login body and puts the body back for the
// handler. A body it cannot read counts against one shared key: the handler
// refuses it anyway, and it must not escape the limit.
func emailKey(r *http.Request) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxLoginBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), r.Body))
	if err != nil || len(data) > maxLoginBody {
		return "email:?", nil
	}
	var body struct {
		Email string `json:"email"`
	}
	if json.Unmarshal(data, &body) != nil || body.Email == "" {
		return "email:?", nil
	}
	return "email:" + strings.ToLower(body.Email), nil
}
