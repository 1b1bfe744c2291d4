package httpapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/httpapi"
)

var refETag = regexp.MustCompile(`^(?:W/)?"[\x21\x23-\x7e\x{80}-\x{10FFFF}]*"$`)

func FuzzParseETag(f *testing.F) {
	for _, seed := range []string{`"xyzzy"`, `W/"xyzzy"`, `""`, `W/""`, `"a"b`, `w/"a"`, "\"\xff\"", `"a b"`, `*`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := httpapi.ParseETag(s)
		if (err == nil) != refETag.MatchString(s) {
			t.Fatalf("%q: error %v, reference valid %v", s, err, refETag.MatchString(s))
		}
		if err != nil {
			if !errors.Is(err, httpapi.ErrInvalidETag) || !strings.HasPrefix(err.Error(), "httpapi: ") {
				t.Fatalf("%q: error %v", s, err)
			}
			return
		}
		if e.String() != s {
			t.Fatalf("%q: written back as %q", s, e.String())
		}
	})
}

// The reference of VersionFromIfMatch: the list grammar as a regular
// expression (as in fuzz_internal_test.go), and our tags as another.
var (
	refETagIn  = `(?:W/)?"[\x21\x23-\x7e\x{80}-\x{10FFFF}]*"`
	refIfMatch = regexp.MustCompile(`^[ \t,]*(?:` + refETagIn + `(?:[ \t]*,[ \t,]*` + refETagIn + `)*)?[ \t,]*$`)
	refTags    = regexp.MustCompile(`(W/)?"([\x21\x23-\x7e\x{80}-\x{10FFFF}]*)"`)
	refOurTag  = regexp.MustCompile(`^v(0|[1-9][0-9]{0,18})$`)
)

// refVersionFromIfMatch reads an If-Match field as RFC 9110 and
// ETagFromVersion define it, by other means than the code under test.
func refVersionFromIfMatch(field string) (version int64, anyVersion bool, err error) {
	s := strings.Trim(field, " \t")
	switch {
	case s == "":
		return 0, false, httpapi.ErrPreconditionRequired
	case s == "*":
		return 0, true, nil
	case !refIfMatch.MatchString(s):
		return 0, false, httpapi.ErrInvalidPrecondition
	}
	versions := map[int64]bool{}
	for _, m := range refTags.FindAllStringSubmatch(s, -1) {
		if m[1] != "" || !refOurTag.MatchString(m[2]) {
			continue
		}
		v, err := strconv.ParseInt(m[2][1:], 10, 64)
		if err != nil {
			continue // past MaxInt64
		}
		versions[v] = true
		version = v
	}
	if len(versions) != 1 {
		return 0, false, httpapi.ErrPreconditionFailed
	}
	return version, false, nil
}

func FuzzVersionFromIfMatch(f *testing.F) {
	for _, seed := range []string{`"v7"`, "*", `W/"v1", "v2"`, `"a","v9223372036854775807"`, `"v`, ",,", "\"\xff\"", "",
		`"v9223372036854775808"`, `"v7", "v7"`, `"v7", "v8"`, ` * `, `*,*`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, field string) {
		v, anyVersion, err := httpapi.VersionFromIfMatch(field)
		rv, rany, rerr := refVersionFromIfMatch(field)
		if rerr != nil {
			if !errors.Is(err, rerr) || !strings.HasPrefix(err.Error(), "httpapi: ") {
				t.Fatalf("%q: error %v, reference %v", field, err, rerr)
			}
			return
		}
		if err != nil || v != rv || anyVersion != rany {
			t.Fatalf("%q: %d %v %v, reference %d %v", field, v, anyVersion, err, rv, rany)
		}
	})
}

// FuzzEvaluatePreconditions holds the evaluation to net/http's own, in
// http.ServeContent, wherever both read the request the same way. They
// differ, deliberately, where httpapi is stricter: a malformed list is a
// 400 here (net/http reads up to the first error), and a field sent empty
// is an empty list here (net/http cannot tell it from an absent one).
func FuzzEvaluatePreconditions(f *testing.F) {
	f.Add("GET", `"xyzzy"`, ``, ``, ``, `"xyzzy"`, int64(783459811))
	f.Add("GET", ``, `"xyzzy", W/"r2d2xxxx"`, ``, ``, `"xyzzy"`, int64(783459811))
	f.Add("HEAD", ``, ``, "Sat, 29 Oct 1994 19:43:31 GMT", ``, `W/"1"`, int64(783459811))
	f.Add("PUT", ``, `*`, ``, "Sat, 29 Oct 1994 19:43:30 GMT", `"1"`, int64(783459811))
	f.Add("DELETE", `*`, ``, ``, "Saturday, 29-Oct-94 19:43:31 GMT", ``, int64(0))
	f.Fuzz(func(t *testing.T, method, im, inm, ims, ius, etag string, mod int64) {
		switch method {
		case "GET", "HEAD", "PUT", "POST", "DELETE", "PATCH":
		default:
			return
		}
		r := httptest.NewRequest(method, "/", nil)
		for k, v := range map[string]string{"If-Match": im, "If-None-Match": inm, "If-Modified-Since": ims, "If-Unmodified-Since": ius} {
			if v != "" {
				r.Header[k] = []string{v}
			}
		}
		var modtime time.Time
		if mod > 0 && mod < 1<<40 {
			modtime = time.Unix(mod, 0)
		}
		v := httpapi.Validators{ETag: etag, LastModified: modtime}
		res, err := httpapi.EvaluatePreconditions(r, v)
		if err != nil {
			if !errors.Is(err, httpapi.ErrInvalidPrecondition) && !errors.Is(err, httpapi.ErrInvalidETag) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if etag == "" || strings.ContainsAny(im+inm+ims+ius+etag, "\r\n") ||
			blank(im) || blank(inm) || blank(ims) || blank(ius) {
			return
		}
		w := httptest.NewRecorder()
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "", modtime, strings.NewReader("body"))
		want := map[int]httpapi.Result{http.StatusOK: httpapi.Proceed, http.StatusNotModified: httpapi.NotModified,
			http.StatusPreconditionFailed: httpapi.PreconditionFailed}[w.Code]
		if res != want {
			t.Fatalf("%s If-Match=%q If-None-Match=%q IMS=%q IUS=%q ETag=%q mod=%v: %v, net/http %d",
				method, im, inm, ims, ius, etag, modtime, res, w.Code)
		}
	})
}

func blank(s string) bool { return s != "" && strings.Trim(s, " \t") == "" }

func FuzzVersioningSelect(f *testing.F) {
	f.Add("/v1/products", "v2", `application/json; version="v1"`)
	f.Add("/v9", "", `text/html;q=0.9, */*;Version=v2`)
	f.Add("/products", " ", `a/b; x="\"; version=v3, c/d; version=v1`)
	vs, err := httpapi.NewVersioning(httpapi.VersioningConfig{Versions: []string{"v1", "v2"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, header, accept string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = path
		r.Header["Api-Version"] = []string{header}
		r.Header["Accept"] = []string{accept}
		v, err := vs.Select(r)
		if err != nil {
			var ve *httpapi.VersionError
			if !errors.As(err, &ve) || !errors.Is(err, httpapi.ErrUnknownVersion) || len(ve.Version) > 2*httpapi.ExcerptBytes {
				t.Fatalf("error %v", err)
			}
			return
		}
		if v != "v1" && v != "v2" {
			t.Fatalf("selected %q", v)
		}
		if v == "v2" && !strings.Contains(path+header+accept, "v2") {
			t.Fatalf("v2 selected from %q %q %q", path, header, accept)
		}
	})
}
