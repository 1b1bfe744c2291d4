package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// DeprecationConfig configures [NewDeprecation]. Deprecated is required.
type DeprecationConfig struct {
	// Name labels the deprecated routes in [Hooks].OnDeprecatedCall and in
	// metrics, such as "v0" or "v0-products". Required: it is what a team
	// reads on its dashboard.
	Name string

	// Deprecated is when the routes are, or will be, deprecated: sent as
	// "Deprecation: @<unix seconds>" (RFC 9745), a date in the past or the
	// future. Required. Both dates are truncated to the second, the
	// resolution of their fields.
	Deprecated time.Time

	// Sunset is when the routes stop answering, sent as an HTTP-date in the
	// Sunset field (RFC 8594); zero sends none. It may not be before
	// Deprecated (RFC 9745 §3).
	Sunset time.Time

	// GoneAfterSunset answers every call from the Sunset instant on with a
	// 410 Gone problem instead of calling the handler. False (the default)
	// keeps serving and only announces; it needs a Sunset.
	GoneAfterSunset bool

	// Policy is the URL of a page about the deprecation, sent as a Link
	// with rel="deprecation"; empty sends none.
	Policy string

	// SunsetPolicy is the URL of a page about the sunset, sent as a Link
	// with rel="sunset"; empty sends none.
	SunsetPolicy string

	// Successor is the URL (absolute or relative, such as "/v1/products")
	// of what replaces the routes, sent as a Link with
	// rel="successor-version"; empty sends none.
	Successor string

	// Now is the clock deciding whether the sunset has passed; time.Now
	// when nil.
	Now func() time.Time

	// Hooks receives OnDeprecatedCall for every call.
	Hooks Hooks
}

// Hooks receives instrumentation callbacks. The zero value disables them
// at no cost. Callbacks run on the goroutine of the request and must be
// safe for concurrent use; observe/httpapiobserve turns them into
// OpenTelemetry metrics.
type Hooks struct {
	// OnDeprecatedCall is called for every request a [Deprecation] serves
	// or, past the sunset, refuses, so that a team sees who still calls
	// routes that are going away (a hook of its own can log the caller).
	OnDeprecatedCall func(r *http.Request, call DeprecatedCall)
}

// DeprecatedCall describes one call to a deprecated route.
type DeprecatedCall struct {
	Name string // DeprecationConfig.Name
	Gone bool   // past the sunset and answered 410 Gone
}

// Deprecation marks routes as deprecated: every answer carries the
// Deprecation field (RFC 9745), the Sunset field (RFC 8594) when a sunset
// is set, and Link fields to the deprecation policy, the sunset policy and
// the successor version. From the sunset on it can answer 410 Gone instead
// (GoneAfterSunset), with a problem document that still carries the links.
//
// Most callers want [Deprecation.Handler], around the routes of an old
// version; [Deprecation.Check] tells whether a request would be refused as
// gone. It is safe for concurrent use, and serving costs no allocation:
// the fields are built once.
type Deprecation struct {
	name       string
	sunset     time.Time
	gone       bool
	now        func() time.Time
	hooks      Hooks
	fields     []headerField
	goneAnswer *problem.Rendered
}

// NewDeprecation returns the middleware for cfg. An error wraps
// [ErrInvalidConfig].
func NewDeprecation(cfg DeprecationConfig) (*Deprecation, error) {
	if cfg.Name == "" {
		return nil, configError("DeprecationConfig.Name", "", "a name is required")
	}
	if cfg.Deprecated.IsZero() {
		return nil, configError("DeprecationConfig.Deprecated", "", "the deprecation date is required")
	}
	deprecated := cfg.Deprecated.Truncate(time.Second)
	sunset := cfg.Sunset.Truncate(time.Second)
	if !sunset.IsZero() && sunset.Before(deprecated) {
		return nil, configError("DeprecationConfig.Sunset", sunset.UTC().Format(time.RFC3339), "before the deprecation date")
	}
	if cfg.GoneAfterSunset && sunset.IsZero() {
		return nil, configError("DeprecationConfig.GoneAfterSunset", "", "needs a Sunset")
	}
	d := &Deprecation{name: cfg.Name, sunset: sunset, gone: cfg.GoneAfterSunset, now: cfg.Now, hooks: cfg.Hooks}
	if d.now == nil {
		d.now = time.Now
	}
	d.add("Deprecation", "@"+strconv.FormatInt(deprecated.Unix(), 10))
	if !sunset.IsZero() {
		d.add("Sunset", sunset.UTC().Format(http.TimeFormat))
	}
	var links []string
	for _, l := range []struct{ field, rel, url string }{
		{"Policy", "deprecation", cfg.Policy},
		{"SunsetPolicy", "sunset", cfg.SunsetPolicy},
		{"Successor", "successor-version", cfg.Successor},
	} {
		if l.url == "" {
			continue
		}
		if err := linkTarget(l.url); err != "" {
			return nil, configError("DeprecationConfig."+l.field, l.url, err)
		}
		links = append(links, "<"+l.url+`>; rel="`+l.rel+`"`)
	}
	if len(links) > 0 {
		d.add("Link", links...)
	}
	if d.gone {
		ext := map[string]any{"sunset": sunset.UTC().Format(time.RFC3339)}
		if cfg.Successor != "" {
			ext["successor"] = cfg.Successor
		}
		d.goneAnswer = problem.Render(problem.Details{Status: http.StatusGone,
			Detail:     "This endpoint reached its sunset and no longer answers; its successor is in the Link field.",
			Extensions: ext})
	}
	return d, nil
}

// headerField is a field built once and set on every answer. Its values
// are clipped, so that a later append by anyone copies instead of writing
// into the shared array.
type headerField struct {
	name   string
	values []string
	list   bool // appended to values already set (Link), instead of replacing them
}

func (d *Deprecation) add(name string, values ...string) {
	d.fields = append(d.fields, headerField{name: name, values: slices.Clip(values), list: name == "Link"})
}

// linkTarget returns why u cannot be a Link target, or "".
func linkTarget(u string) string {
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c == '>' || c == '<' || c == '"' || c >= 0x7f {
			return "a URL without spaces, quotes, angle brackets or non-ASCII bytes (percent-encode them)"
		}
	}
	if _, err := url.Parse(u); err != nil {
		return "not a URL"
	}
	return ""
}

// Check returns [ErrGone] when the routes are configured to answer 410
// and the sunset has passed, and nil otherwise.
func (d *Deprecation) Check(*http.Request) error {
	if d.gone && !d.now().Before(d.sunset) {
		return ErrGone
	}
	return nil
}

// Handler sets the deprecation fields on every answer of next, appending
// its links to any Link values already set (a Deprecation or Sunset set
// before is replaced: an inner Deprecation, nearer the route, wins), and
// answers 410 Gone in
// place of next once [Deprecation.Check] says the routes are gone.
func (d *Deprecation) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gone := d.Check(r) != nil
		d.setFields(w.Header())
		if d.hooks.OnDeprecatedCall != nil {
			d.hooks.OnDeprecatedCall(r, DeprecatedCall{Name: d.name, Gone: gone})
		}
		if gone {
			d.goneAnswer.Write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (d *Deprecation) setFields(h http.Header) {
	for _, f := range d.fields {
		if old := h[f.name]; f.list && len(old) > 0 {
			h[f.name] = append(old[:len(old):len(old)], f.values...)
		} else {
			h[f.name] = f.values
		}
	}
}
