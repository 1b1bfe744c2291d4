package conformance

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// A model of what a browser does with a CORS answer (the Fetch standard,
// §4.8 CORS-preflight fetch and §4.9 CORS check), so that two different
// answers can be judged by what a page sees rather than byte by byte: a
// 204 and a 200 to a preflight, a Vary that lists more, or a 403 problem
// document against a 200 without Access-Control-Allow-Origin all end the
// same way for the page.

// exchange is one request as a browser sent it and the answer it got.
type exchange struct {
	method     string
	req        http.Header
	status     int
	resp       http.Header
	handlerRan bool
}

// outcome is what a page can observe of an exchange, for both credentials
// modes a fetch may use.
type outcome struct {
	Kind string // "no origin", "preflight" or "actual"

	// Preflight: whether the browser goes on to send the actual request,
	// without and with credentials, and how many seconds it caches that
	// answer (Fetch: absent means 5; browsers cap it, Chromium at 7200).
	PreflightOK, PreflightOKCredentials bool
	CacheSeconds                        int

	// Actual request: whether the page may read the response, without and
	// with credentials, and which non-safelisted response headers it may
	// read.
	Readable, ReadableCredentials bool
	Exposed                       string

	// Whether the handler ran: a page cannot see it, but a server's state
	// can change. Recorded for requests that are not preflights.
	HandlerRan bool
}

func (o outcome) String() string {
	switch o.Kind {
	case "preflight":
		return fmt.Sprintf("preflight ok=%t ok-with-credentials=%t cached=%ds", o.PreflightOK, o.PreflightOKCredentials, o.CacheSeconds)
	case "actual":
		return fmt.Sprintf("actual readable=%t readable-with-credentials=%t exposed=[%s] handler=%t", o.Readable, o.ReadableCredentials, o.Exposed, o.HandlerRan)
	}
	return fmt.Sprintf("no origin handler=%t", o.HandlerRan)
}

// pageOutcome judges an exchange.
func pageOutcome(x exchange) outcome {
	origin := x.req.Values("Origin")
	if len(origin) == 0 {
		return outcome{Kind: "no origin", HandlerRan: x.handlerRan}
	}
	if x.method == http.MethodOptions && len(x.req.Values("Access-Control-Request-Method")) > 0 {
		o := outcome{Kind: "preflight", CacheSeconds: cacheSeconds(x.resp)}
		o.PreflightOK = preflightOK(x, false)
		o.PreflightOKCredentials = preflightOK(x, true)
		if !o.PreflightOK && !o.PreflightOKCredentials {
			o.CacheSeconds = 0 // a failed preflight is not cached
		}
		return o
	}
	o := outcome{Kind: "actual", HandlerRan: x.handlerRan}
	o.Readable = corsCheck(x, false)
	o.ReadableCredentials = corsCheck(x, true)
	if o.Readable || o.ReadableCredentials {
		o.Exposed = exposed(x.resp, o.ReadableCredentials && !o.Readable)
	}
	return o
}

// corsCheck is Fetch §4.9: one Access-Control-Allow-Origin equal to the
// request's origin, or "*" without credentials; with credentials also
// Access-Control-Allow-Credentials: true.
func corsCheck(x exchange, credentials bool) bool {
	acao := x.resp.Values("Access-Control-Allow-Origin")
	if len(acao) != 1 {
		return false
	}
	origin := x.req.Get("Origin")
	if acao[0] == "*" && !credentials {
		return true
	}
	if acao[0] != origin {
		return false
	}
	if !credentials {
		return true
	}
	acac := x.resp.Values("Access-Control-Allow-Credentials")
	return len(acac) == 1 && acac[0] == "true"
}

// preflightOK is Fetch §4.8 steps 7: an ok status, the CORS check, then
// the method and every requested header covered.
func preflightOK(x exchange, credentials bool) bool {
	if x.status < 200 || x.status > 299 || !corsCheck(x, credentials) {
		return false
	}
	methods := fieldList(x.resp.Values("Access-Control-Allow-Methods"))
	m := x.req.Get("Access-Control-Request-Method")
	safelisted := m == "GET" || m == "HEAD" || m == "POST"
	if !slices.Contains(methods, m) && !safelisted && (credentials || !slices.Contains(methods, "*")) {
		return false
	}
	allowed := fieldList(x.resp.Values("Access-Control-Allow-Headers"))
	for _, h := range fieldList(x.req.Values("Access-Control-Request-Headers")) {
		h = strings.ToLower(h)
		if containsFold(allowed, h) {
			continue
		}
		if h == "authorization" || credentials || !slices.Contains(allowed, "*") {
			return false
		}
	}
	// Private Network Access (WICG): a preflight that asks for it needs the
	// answer's consent.
	if x.req.Get("Access-Control-Request-Private-Network") == "true" &&
		x.resp.Get("Access-Control-Allow-Private-Network") != "true" {
		return false
	}
	return true
}

func cacheSeconds(h http.Header) int {
	v := h.Values("Access-Control-Max-Age")
	if len(v) == 0 {
		return 5
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil || n < 0 {
		return 5
	}
	return min(n, 7200)
}

// exposed lists, sorted and lowercased, the headers
// Access-Control-Expose-Headers lets a page read; "*" counts only without
// credentials.
func exposed(h http.Header, credentials bool) string {
	var names []string
	for _, n := range fieldList(h.Values("Access-Control-Expose-Headers")) {
		if n == "*" && credentials {
			continue
		}
		names = append(names, strings.ToLower(n))
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ",")
}

// fieldList splits list-based field values (RFC 9110 §5.6.1), dropping
// empty elements.
func fieldList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
