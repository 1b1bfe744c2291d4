package conformance

import (
	"go/ast"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/cors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

// rsCorsDefaultHeaders are the request headers rs/cors allows when its
// AllowedHeaders is empty (its Options doc); Bedrock's default list
// differs, so a case "configured alike" spells rs/cors's out.
var rsCorsDefaultHeaders = []string{"Accept", "Content-Type", "X-Requested-With"}

// corsDifference is a case of rs/cors's table where Bedrock answers
// differently on purpose, with the reason.
type corsDifference struct {
	kind   string // "not alike", "config refused" or "outcome"
	err    error  // for "config refused"
	reason string
}

var corsDifferences = map[string]corsDifference{
	"MatchAllOriginWithCredentials": {kind: "config refused", err: httpsec.ErrAnyOriginWithCredentials,
		reason: `"*" with credentials would let every site read answers made with the user's cookies; ` +
			`rs/cors sends ACAO "*" with ACAC "true", which browsers refuse for credentialed requests anyway ` +
			`(Fetch §4.9), so Bedrock refuses the configuration at start-up instead of shipping a policy that means something else than it says`},
	"AllowOriginRequestFuncMatch": {kind: "not alike",
		reason: "Bedrock's AllowOrigin decides on the origin alone: an answer that depends on the request's credentials " +
			"must vary on them and is easy to cache wrongly; authorisation belongs to the handler"},
	"AllowOriginRequestFuncNotMatch":  {kind: "not alike", reason: "as AllowOriginRequestFuncMatch"},
	"AllowOriginVaryRequestFuncMatch": {kind: "not alike", reason: "as AllowOriginRequestFuncMatch"},
	"MaxAgeNegative": {kind: "outcome",
		reason: "rs/cors turns a negative MaxAge into Access-Control-Max-Age: 0 (no caching); Bedrock's negative MaxAge " +
			"omits the field, leaving the browser's default of 5 seconds, and it has no way to send 0: " +
			"the page sees the same answer, only its preflight is cached 5 seconds"},
	"AllowedPrivateNetwork": {kind: "outcome",
		reason: "Bedrock does not implement Private Network Access preflights (a WICG draft that Chromium shelved in favour of " +
			"a permission prompt); a public service has no reason to answer them"},
}

// TestCORS_RSCorsSpecTable replays rs/cors's own specification table
// (TestSpec in its cors_test.go, read from the module cache at run time)
// against rs/cors itself and against Bedrock configured alike, and
// compares what a page would see.
func TestCORS_RSCorsSpecTable(t *testing.T) {
	var spec *sourceTable
	for _, tab := range sourceTables(goSourceFile(t, moduleFile(t, "github.com/rs/cors", "cors_test.go"))) {
		if tab.fn == "TestSpec" {
			spec = &tab
		}
	}
	require.NotNil(t, spec, "rs/cors's cors_test.go has no TestSpec table")
	require.GreaterOrEqual(t, len(spec.rows), 20, "rs/cors's TestSpec table was not read")
	var env srcEnv
	seen := map[string]bool{}
	for _, row := range spec.rows {
		name := env.str(t, row["name"])
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			opts := env.fields(t, row["options"])
			method, req := env.str(t, row["method"]), env.header(t, row["reqHeaders"])

			anchor := serveExchange(cors.New(rsCorsOptions(t, opts)).Handler, method, req)
			// The live library agrees with its table, so the options were
			// rebuilt as the table meant them.
			assertCORSFields(t, env.header(t, row["resHeaders"]), anchor.resp)

			diff, listed := corsDifferences[name]
			cfg, notAlike := bedrockLike(t, opts)
			if notAlike {
				require.True(t, listed && diff.kind == "not alike", "%s cannot be configured alike: list it with a reason", name)
				t.Log("not configurable alike:", diff.reason)
				return
			}
			c, err := httpsec.NewCORS(cfg)
			if listed && diff.kind == "config refused" {
				assert.ErrorIs(t, err, diff.err, diff.reason)
				return
			}
			require.NoError(t, err)
			got, want := pageOutcome(serveExchange(c.Handler, method, req)), pageOutcome(anchor)
			if listed && diff.kind == "outcome" {
				assert.NotEqual(t, want, got, "listed as a difference but answers alike now: drop it from corsDifferences")
				t.Logf("expected difference: rs/cors %v, Bedrock %v: %s", want, got, diff.reason)
				return
			}
			assert.Equal(t, want, got, "rs/cors %v\nBedrock %v", want, got)
		})
	}
	for name := range corsDifferences {
		assert.True(t, seen[name], "corsDifferences lists %q, which rs/cors's table no longer has", name)
	}
}

// TestCORS_OwnCases adds what rs/cors's table lacks, judged the same way
// against rs/cors configured alike. Item 21.5: under "*" without
// credentials Fetch lets every origin read, "null" included (sandboxed
// iframes, file: pages, redirected requests).
func TestCORS_OwnCases(t *testing.T) {
	null := http.Header{"Origin": {"null"}}
	nullPreflight := http.Header{"Origin": {"null"}, "Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"content-type"}}
	cases := []struct {
		name    string
		bedrock httpsec.CORSConfig
		rs      cors.Options
		method  string
		req     http.Header
	}{
		{"* lets Origin null read (item 21.5)",
			httpsec.CORSConfig{AllowedOrigins: []string{"*"}}, cors.Options{AllowedOrigins: []string{"*"}}, "GET", null},
		{"* lets Origin null preflight (item 21.5)",
			httpsec.CORSConfig{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}, MaxAge: time.Minute},
			cors.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}, MaxAge: 60}, "OPTIONS", nullPreflight},
		{"an exact origin does not let null read",
			httpsec.CORSConfig{AllowedOrigins: []string{"https://app.example"}}, cors.Options{AllowedOrigins: []string{"https://app.example"}}, "GET", null},
		{"a pattern does not let null read",
			httpsec.CORSConfig{AllowedOrigins: []string{"https://*.example.com"}}, cors.Options{AllowedOrigins: []string{"https://*.example.com"}}, "GET", null},
		{"a pattern matches a subdomain",
			httpsec.CORSConfig{AllowedOrigins: []string{"https://*.example.com"}}, cors.Options{AllowedOrigins: []string{"https://*.example.com"}}, "GET",
			http.Header{"Origin": {"https://a.b.example.com"}}},
		{"credentials preflight with a header",
			httpsec.CORSConfig{AllowedOrigins: []string{"https://app.example"}, AllowCredentials: true, AllowedMethods: []string{"DELETE"}, AllowedHeaders: []string{"Authorization"}, MaxAge: 10 * time.Second},
			cors.Options{AllowedOrigins: []string{"https://app.example"}, AllowCredentials: true, AllowedMethods: []string{"DELETE"}, AllowedHeaders: []string{"Authorization"}, MaxAge: 10},
			"OPTIONS", http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"DELETE"}, "Access-Control-Request-Headers": {"authorization"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := httpsec.NewCORS(c.bedrock)
			require.NoError(t, err)
			got := pageOutcome(serveExchange(b.Handler, c.method, c.req))
			want := pageOutcome(serveExchange(cors.New(c.rs).Handler, c.method, c.req))
			assert.Equal(t, want, got, "rs/cors %v\nBedrock %v", want, got)
		})
	}
	t.Run("a listed null stays refused", func(t *testing.T) {
		// rs/cors lets "null" be listed; Bedrock refuses it on purpose:
		// every sandboxed iframe and file: page shares that origin, so
		// listing it allows anyone while looking like a restriction.
		_, err := httpsec.NewCORS(httpsec.CORSConfig{AllowedOrigins: []string{"null"}})
		assert.ErrorIs(t, err, httpsec.ErrNullOrigin)
	})
}

// serveExchange sends one request through middleware in front of a handler
// that answers 200 "bar", as rs/cors's tests do.
func serveExchange(mw func(http.Handler) http.Handler, method string, req http.Header) exchange {
	ran := false
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ran = true
		_, _ = w.Write([]byte("bar"))
	})
	r := httptest.NewRequest(method, "http://example.com/foo", nil)
	for k, vs := range req {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	mw(next).ServeHTTP(rec, r)
	return exchange{method: method, req: r.Header, status: rec.Code, resp: rec.Header(), handlerRan: ran}
}

// assertCORSFields compares the CORS fields as rs/cors's own test does:
// singletons exactly, list-based fields element by element.
func assertCORSFields(t *testing.T, want, got http.Header) {
	t.Helper()
	lists := map[string]bool{
		"Vary": true, "Access-Control-Allow-Origin": false, "Access-Control-Allow-Credentials": false,
		"Access-Control-Allow-Methods": true, "Access-Control-Allow-Headers": true, "Access-Control-Max-Age": false,
		"Access-Control-Expose-Headers": true, "Access-Control-Allow-Private-Network": false,
	}
	norm := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			for _, e := range strings.Split(v, ",") {
				out = append(out, strings.Trim(e, " \t"))
			}
		}
		return out
	}
	for name, list := range lists {
		w, g := want[name], got[name]
		if list {
			w, g = norm(w), norm(g)
		}
		assert.Equal(t, w, g, "rs/cors's %s differs from its own table", name)
	}
}

// rsCorsOptions builds rs/cors Options from the table's literal.
func rsCorsOptions(t *testing.T, fields map[string]ast.Expr) cors.Options {
	t.Helper()
	var env srcEnv
	var o cors.Options
	v := reflect.ValueOf(&o).Elem()
	for name, e := range fields {
		f := v.FieldByName(name)
		require.True(t, f.IsValid(), "rs/cors Options has no field %s", name)
		switch name {
		case "AllowOriginFunc":
			pred, _ := originPredicate(t, e)
			o.AllowOriginFunc = func(origin string) bool { return pred(nil, origin) }
		case "AllowOriginRequestFunc":
			pred, _ := originPredicate(t, e)
			//lint:ignore SA1019 rs/cors's own table still uses it, so the replay must.
			o.AllowOriginRequestFunc = pred
		case "AllowOriginVaryRequestFunc":
			pred, _ := originPredicate(t, e)
			vary := env.strings(t, e.(*ast.FuncLit).Body.List[0].(*ast.ReturnStmt).Results[1])
			o.AllowOriginVaryRequestFunc = func(r *http.Request, origin string) (bool, []string) { return pred(r, origin), vary }
		default:
			switch f.Kind() {
			case reflect.Slice:
				f.Set(reflect.ValueOf(env.strings(t, e)))
			case reflect.Bool:
				f.SetBool(env.boolean(t, e))
			case reflect.Int:
				f.SetInt(int64(env.integer(t, e)))
			default:
				t.Fatalf("rs/cors option %s of kind %s is not understood", name, f.Kind())
			}
		}
	}
	return o
}

// bedrockLike returns the CORSConfig that means what the rs/cors options
// mean, or notAlike when Bedrock has no such setting.
func bedrockLike(t *testing.T, fields map[string]ast.Expr) (cfg httpsec.CORSConfig, notAlike bool) {
	t.Helper()
	var env srcEnv
	funcSet := false
	for name, e := range fields {
		switch name {
		case "AllowedOrigins":
			cfg.AllowedOrigins = env.strings(t, e)
		case "AllowedMethods":
			cfg.AllowedMethods = env.strings(t, e)
		case "AllowedHeaders":
			cfg.AllowedHeaders = env.strings(t, e)
		case "ExposedHeaders":
			cfg.ExposedHeaders = env.strings(t, e)
		case "AllowCredentials":
			cfg.AllowCredentials = env.boolean(t, e)
		case "MaxAge":
			// rs/cors: 0 sends nothing, n > 0 sends n, n < 0 sends 0.
			// Bedrock: negative sends nothing, zero its default.
			if n := env.integer(t, e); n > 0 {
				cfg.MaxAge = time.Duration(n) * time.Second
			}
		case "AllowOriginFunc":
			pred, _ := originPredicate(t, e)
			cfg.AllowOrigin = func(origin string) bool { return pred(nil, origin) }
			funcSet = true
		case "AllowOriginRequestFunc", "AllowOriginVaryRequestFunc":
			return cfg, true
		case "AllowPrivateNetwork", "OptionsPassthrough":
			// No such setting: the differences, if a page can see them,
			// are listed in corsDifferences.
		default:
			t.Fatalf("rs/cors option %s has no mapping to Bedrock", name)
		}
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = -1
	}
	if funcSet {
		cfg.AllowedOrigins = nil // rs/cors ignores AllowedOrigins when a func is set
	} else if len(cfg.AllowedOrigins) == 0 {
		cfg.AllowedOrigins = []string{"*"} // rs/cors allows every origin by default
	}
	if len(cfg.AllowedHeaders) == 0 {
		cfg.AllowedHeaders = rsCorsDefaultHeaders
	}
	return cfg, false
}
