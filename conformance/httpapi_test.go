package conformance

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
)

// The Deprecation field (RFC 9745 §2.1) is an RFC 9651 Item whose bare
// item is a Date ("@" and integer seconds since the epoch); it is parsed
// here with httpsfv, an independent RFC 9651 parser. The Sunset field
// (RFC 8594 §3) is an HTTP-date, parsed with net/http.ParseTime, which
// reads every form RFC 9110 §5.6.7 allows. The Link values (RFC 8288 §3)
// are checked against the link-value grammar, and Cache-Control is read
// as the Dictionary that structured-field retrofitting maps it to.

// linkValue is RFC 8288's link-value with one quoted rel parameter, as
// Deprecation writes it: a URI-reference in angle brackets.
var linkValue = regexp.MustCompile(`^<([^<>\x00-\x20\x7f-\xff]*)>; rel="(deprecation|sunset|successor-version)"$`)

func TestDeprecation_FieldsParseWithIndependentParsers(t *testing.T) {
	for _, tc := range []struct {
		name               string
		deprecated, sunset time.Time
		wantUnix           int64
	}{
		{"RFC 9745's example", time.Unix(1688169599, 0), time.Unix(1688169599, 0).AddDate(1, 0, 0), 1688169599},
		{"a date in the future", time.Date(2030, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(2031, 2, 28, 12, 0, 0, 0, time.UTC), 1898510400},
		{"sub-second dates are truncated", time.Unix(1700000000, 999999999), time.Unix(1700000001, 500000000), 1700000000},
		{"a zone other than UTC", time.Date(2026, 6, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600)), time.Date(2027, 6, 1, 0, 0, 0, 0, time.FixedZone("X", -5*3600)), 1780272000},
		{"before the epoch", time.Unix(-86400, 0), time.Unix(0, 0), -86400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{
				Name: "old", Deprecated: tc.deprecated, Sunset: tc.sunset,
				Policy: "https://developer.example.com/deprecation", SunsetPolicy: "https://developer.example.com/sunset?x=1",
				Successor: "/v1/products",
			})
			require.NoError(t, err)
			w := httptest.NewRecorder()
			d.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))

			item, err := httpsfv.UnmarshalItem(w.Header().Values("Deprecation"))
			require.NoError(t, err, "Deprecation %q", w.Header().Get("Deprecation"))
			date, ok := item.Value.(time.Time)
			require.Truef(t, ok, "Deprecation is a %T, not an RFC 9651 Date", item.Value)
			assert.Equal(t, tc.wantUnix, date.Unix())
			assert.Empty(t, item.Params.Names(), "no parameters")

			require.Len(t, w.Header().Values("Sunset"), 1)
			sunset, err := http.ParseTime(w.Header().Get("Sunset"))
			require.NoError(t, err)
			assert.True(t, sunset.Equal(tc.sunset.Truncate(time.Second)), "Sunset %v, want %v", sunset, tc.sunset)
			_, err = time.Parse(http.TimeFormat, w.Header().Get("Sunset"))
			assert.NoError(t, err, "sent as an IMF-fixdate, the form a sender must use")
			assert.False(t, sunset.Before(date), "a sunset never precedes the deprecation (RFC 9745 §3)")

			rels := map[string]string{}
			for _, l := range w.Header().Values("Link") {
				m := linkValue.FindStringSubmatch(l)
				require.NotNil(t, m, "link-value %q", l)
				rels[m[2]] = m[1]
			}
			assert.Equal(t, map[string]string{
				"deprecation":       "https://developer.example.com/deprecation",
				"sunset":            "https://developer.example.com/sunset?x=1",
				"successor-version": "/v1/products",
			}, rels)
		})
	}
}

func TestCachePolicy_CacheControlParsesAsADictionary(t *testing.T) {
	p, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{
		MaxAge: 5 * time.Minute, StaleWhileRevalidate: time.Minute, StaleIfError: 24 * time.Hour,
	})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		auth bool
		want map[string]any
	}{
		{"public", false, map[string]any{"public": true, "max-age": int64(300), "stale-while-revalidate": int64(60), "stale-if-error": int64(86400)}},
		{"authenticated", true, map[string]any{"private": true, "no-store": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.auth {
				r.Header.Set("Authorization", "Bearer x")
			}
			h := http.Header{}
			p.Apply(h, r)
			dict, err := httpsfv.UnmarshalDictionary(h.Values("Cache-Control"))
			require.NoError(t, err, h.Get("Cache-Control"))
			got := map[string]any{}
			for _, name := range dict.Names() {
				m, _ := dict.Get(name)
				item, ok := m.(httpsfv.Item)
				require.True(t, ok, name)
				got[name] = item.Value
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// httpapiCases are the problems httpapi answers with, for
// TestProblem_RFC9457.
func httpapiCases(t *testing.T) []problemCase {
	versions, err := httpapi.NewVersioning(httpapi.VersioningConfig{Versions: []string{"v1", "v2"}})
	require.NoError(t, err)
	sunset := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	gone, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{Name: "v0", Deprecated: sunset.AddDate(-1, 0, 0), Sunset: sunset,
		GoneAfterSunset: true, Successor: "/v1/products", Now: func() time.Time { return sunset }})
	require.NoError(t, err)
	writes, err := httpapi.NewConditionalWrites(httpapi.ConditionalWritesConfig{})
	require.NoError(t, err)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	conditional := func(v httpapi.Validators) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpapi.Conditional(w, r, v) })
	}
	req := func(method, path string, hdr ...string) *http.Request {
		r := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
	return []problemCase{
		{name: "httpapi/unknown version", status: 400, do: func(t *testing.T) *httptest.ResponseRecorder {
			return serve(versions.Handler(ok), req("GET", "/v9/products"))
		}},
		{name: "httpapi/past the sunset", status: 410, do: func(t *testing.T) *httptest.ResponseRecorder {
			return serve(gone.Handler(ok), req("GET", "/v0/products"))
		}},
		{name: "httpapi/precondition required", status: 428, do: func(t *testing.T) *httptest.ResponseRecorder {
			return serve(writes.Handler(ok), req("PUT", "/v1/products/1"))
		}},
		{name: "httpapi/precondition failed", status: 412, do: func(t *testing.T) *httptest.ResponseRecorder {
			return serve(conditional(httpapi.Validators{ETag: `"v3"`}), req("PUT", "/v1/products/1", "If-Match", `"v2"`))
		}},
		{name: "httpapi/malformed If-None-Match", status: 400, do: func(t *testing.T) *httptest.ResponseRecorder {
			return serve(conditional(httpapi.Validators{ETag: `"v3"`}), req("GET", "/v1/products/1", "If-None-Match", `v3`))
		}},
	}
}
