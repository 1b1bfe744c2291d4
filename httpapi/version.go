package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/bedrock-go/bedrock/internal/httpfield"
	"github.com/bedrock-go/bedrock/internal/problem"
)

// VersioningConfig configures [NewVersioning]. Only Versions is required.
type VersioningConfig struct {
	// Versions are the API versions the service offers, such as "v1" and
	// "v2", or dates such as "2025-06-01". Each is made of ASCII letters,
	// digits, '.', '-' and '_', so that it can be a path segment, a field
	// value and a media-type parameter alike. Required.
	Versions []string

	// Default is the version of a request that names none: the first of
	// Versions when empty. Listing versions oldest first keeps the default
	// stable as new versions are added, so a client that never chose a
	// version is never moved to one it has not seen.
	Default string

	// RequireVersion refuses (400) a request that names no version,
	// instead of giving it Default.
	RequireVersion bool

	// Header is the request field that names a version; "API-Version"
	// when empty.
	Header string

	// MediaTypeParameter is the parameter of an Accept media range that
	// names a version (Accept: application/json; version=v2); "version"
	// when empty.
	MediaTypeParameter string

	// StripPrefix removes a version's path prefix ("/v1") from the request
	// passed on, so that one set of routes serves every version and
	// handlers tell them apart by [VersionFrom]. When false (the default)
	// the path is passed on unchanged, for routes registered with their
	// prefix ("GET /v1/products").
	StripPrefix bool
}

// VersionError reports a request naming a version the service does not
// offer, or different versions in different places. It wraps
// [ErrUnknownVersion]: 400 Bad Request.
type VersionError struct {
	Source  string // where the version was named: "path", the header's name, or "Accept"
	Version string // what the request named, cut with [Excerpt]
	Other   string // the version named elsewhere, when two disagree
}

// Error implements error.
func (e *VersionError) Error() string {
	if e.Version == "" && e.Other == "" {
		return "httpapi: the request names no API version"
	}
	if e.Other != "" {
		return fmt.Sprintf("httpapi: %s names API version %q, but the request also names %q", e.Source, e.Version, e.Other)
	}
	return fmt.Sprintf("httpapi: %s names unknown API version %q", e.Source, e.Version)
}

// Unwrap returns [ErrUnknownVersion].
func (e *VersionError) Unwrap() error { return ErrUnknownVersion }

// Versioning selects the API version of each request: from the path
// prefix ("/v1/products"), the API-Version field, or a media-type
// parameter of Accept, in that order of precedence; a request that names
// two different versions, or one the service does not offer, is refused
// with a 400 problem listing the versions offered; a request that names
// none gets the configured default. The version is then available to
// handlers from [VersionFrom].
//
// A first path segment counts as a version when it is one of the versions
// offered, or when it looks like one: 'v' followed by a digit ("/v9/...",
// refused when v9 is not offered). Other paths ("/health", "/vendors")
// name no version.
//
// Most callers want [Versioning.Handler]; [Versioning.Select] makes the
// same decision without serving. It is safe for concurrent use.
type Versioning struct {
	versions    []string
	def         string
	require     bool
	header      string
	param       string
	stripPrefix bool
	unknown     *problem.Rendered
}

// NewVersioning returns the versioning middleware for cfg. An error wraps
// [ErrInvalidConfig].
func NewVersioning(cfg VersioningConfig) (*Versioning, error) {
	if len(cfg.Versions) == 0 {
		return nil, configError("VersioningConfig.Versions", "", "at least one version is required")
	}
	for i, v := range cfg.Versions {
		if !versionName(v) {
			return nil, configError("VersioningConfig.Versions", v, "a version is ASCII letters, digits, '.', '-' and '_'")
		}
		if slices.Contains(cfg.Versions[:i], v) {
			return nil, configError("VersioningConfig.Versions", v, "listed twice")
		}
	}
	def := cfg.Default
	if def == "" {
		def = cfg.Versions[0]
	} else if !slices.Contains(cfg.Versions, def) {
		return nil, configError("VersioningConfig.Default", def, "not one of Versions")
	}
	header := cfg.Header
	if header == "" {
		header = "API-Version"
	}
	if !token(header) {
		return nil, configError("VersioningConfig.Header", header, "not a field name")
	}
	param := cfg.MediaTypeParameter
	if param == "" {
		param = "version"
	}
	if !token(param) {
		return nil, configError("VersioningConfig.MediaTypeParameter", param, "not a parameter name")
	}
	versions := slices.Clone(cfg.Versions)
	return &Versioning{
		versions: versions, def: def, require: cfg.RequireVersion,
		header: textproto.CanonicalMIMEHeaderKey(header), param: strings.ToLower(param),
		stripPrefix: cfg.StripPrefix,
		unknown: problem.Render(problem.Details{Status: http.StatusBadRequest,
			Detail:     "Name one of the API versions this service offers, once: in the path, the " + header + " field or the Accept field.",
			Extensions: map[string]any{"versions": versions}}),
	}, nil
}

// Select returns the version r names, or the default when it names none.
// The string returned is one of the configured versions. An error is a
// [*VersionError] (wrapping [ErrUnknownVersion]).
func (v *Versioning) Select(r *http.Request) (string, error) {
	version, _, err := v.selectVersion(r)
	return version, err
}

// selectVersion also reports whether the version came from the path.
func (v *Versioning) selectVersion(r *http.Request) (string, bool, error) {
	chosen, source := "", ""
	agree := func(name, src string) error {
		known := v.known(name)
		switch {
		case known == "":
			ex, _ := problem.Excerpt(name, problem.ExcerptBytes)
			return &VersionError{Source: src, Version: ex}
		case chosen != "" && known != chosen:
			return &VersionError{Source: src, Version: known, Other: chosen}
		}
		chosen, source = known, src
		return nil
	}
	if seg := firstSegment(r.URL.Path); seg != "" && (v.known(seg) != "" || versionShaped(seg)) {
		if err := agree(seg, "path"); err != nil {
			return "", false, err
		}
	}
	if hv := field(r.Header, v.header); hv != "" {
		if err := agree(hv, v.header); err != nil {
			return "", false, err
		}
	}
	for _, accept := range r.Header["Accept"] {
		if err := eachParam(accept, v.param, func(val string) error { return agree(val, "Accept") }); err != nil {
			return "", false, err
		}
	}
	if chosen == "" {
		if v.require {
			return "", false, &VersionError{Source: "request", Version: ""}
		}
		return v.def, false, nil
	}
	return chosen, source == "path", nil
}

// Handler selects the version of each request and passes it on to next
// with the version in its context, or answers a 400 problem listing the
// versions offered.
func (v *Versioning) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version, fromPath, err := v.selectVersion(r)
		if err != nil {
			v.unknown.Write(w)
			return
		}
		r = r.WithContext(WithVersion(r.Context(), version))
		if v.stripPrefix && fromPath {
			stripVersion(r, version)
		}
		next.ServeHTTP(w, r)
	})
}

func (v *Versioning) known(name string) string {
	for _, k := range v.versions {
		if k == name {
			return k
		}
	}
	return ""
}

// stripVersion removes "/"+version from the front of r's path; r is
// already a copy (WithContext), but its URL is shared with the caller's.
func stripVersion(r *http.Request, version string) {
	u := *r.URL
	u.Path = strings.TrimPrefix(u.Path, "/"+version)
	if u.RawPath != "" {
		u.RawPath = strings.TrimPrefix(u.RawPath, "/"+version)
	}
	if u.Path == "" {
		u.Path = "/"
		if u.RawPath != "" {
			u.RawPath = "/"
		}
	}
	r.URL = &u
}

type versionKey struct{}

// WithVersion returns a copy of ctx carrying an API version, as
// [Versioning.Handler] does; tests of a handler use it to stand in for the
// middleware.
func WithVersion(ctx context.Context, version string) context.Context {
	return context.WithValue(ctx, versionKey{}, version)
}

// VersionFrom returns the API version [Versioning.Handler] selected for
// the request whose context is ctx, and false outside the middleware.
func VersionFrom(ctx context.Context) (string, bool) {
	v, ok := ctx.Value(versionKey{}).(string)
	return v, ok
}

func firstSegment(path string) string {
	if path == "" || path[0] != '/' {
		return ""
	}
	path = path[1:]
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[:i]
	}
	return path
}

func versionShaped(seg string) bool {
	return len(seg) >= 2 && seg[0] == 'v' && seg[1] >= '0' && seg[1] <= '9'
}

func versionName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// token reports whether s is an RFC 9110 token.
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// eachParam calls fn with the value of every parameter named name (case
// insensitively) of the media ranges in one Accept field value. Quoted
// values are unquoted; commas and semicolons inside quotes do not split.
// Elements it cannot read as media ranges are skipped: content
// negotiation, not this middleware, decides what an Accept field means.
func eachParam(accept, name string, fn func(string) error) error {
	for accept != "" {
		elem, rest := cutUnquoted(accept, ',')
		accept = rest
		_, params := cutUnquoted(elem, ';') // the media range itself
		for params != "" {
			var p string
			p, params = cutUnquoted(params, ';')
			k, val, ok := strings.Cut(p, "=")
			if !ok || !strings.EqualFold(httpfield.TrimOWS(k), name) {
				continue
			}
			val = httpfield.TrimOWS(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = unquote(val[1 : len(val)-1])
			}
			if err := fn(val); err != nil {
				return err
			}
		}
	}
	return nil
}

// cutUnquoted splits s at the first sep outside a quoted string.
func cutUnquoted(s string, sep byte) (before, after string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// unquote removes the backslashes of quoted-pairs.
func unquote(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
