package pagination_test

import (
	"errors"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/pagination"
)

// FuzzCursor feeds arbitrary text to the cursor decoder: it must never
// panic, everything it refuses must be a *CursorError, and ParseRequest
// never refuses a cursor Query would accept.
func FuzzCursor(f *testing.F) {
	p := newPager(f, pagination.Config{TTL: time.Hour})
	score := int64(-12)
	valid := nextCursor(f, p, pagination.Request{}, item{CreatedAt: when, Score: &score, ID: 7})
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(valid + "A")
	f.Add("")
	f.Add("AQEA")
	f.Add("AQ" + valid[2:])
	f.Add("Ag" + valid[2:])
	f.Add("____________________________________________")
	f.Fuzz(func(t *testing.T, s string) {
		_, parseErr := p.ParseRequest(url.Values{pagination.ParamCursor: {s}})
		q, err := p.Query(pagination.Request{Cursor: s})
		if err == nil {
			if parseErr != nil {
				t.Fatalf("cursor %q refused by ParseRequest (%v) but accepted by Query", s, parseErr)
			}
			if s != "" && len(q.Args) == 0 {
				t.Fatalf("cursor %q accepted without values", s)
			}
			return
		}
		if parseErr != nil && !errors.Is(parseErr, pagination.ErrCursorMalformed) {
			t.Fatalf("cursor %q: ParseRequest refused it for %v; it checks only the form", s, parseErr)
		}
		var ce *pagination.CursorError
		if !errors.As(err, &ce) || !errors.Is(err, pagination.ErrInvalidCursor) {
			t.Fatalf("cursor %q: error %v is not a CursorError", s, err)
		}
	})
}

// FuzzRequest parses arbitrary query strings as page requests.
func FuzzRequest(f *testing.F) {
	p := newPager(f, pagination.Config{})
	o, err := pagination.NewOffset(pagination.OffsetConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("limit=10&sort=id")
	f.Add("before=&limit=100")
	f.Add("after=x&cursor=y")
	f.Add("offset=10000&limit=1")
	f.Add("offset=-9223372036854775808")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if req, err := p.ParseRequest(v); err == nil {
			if _, err := p.Query(req); err != nil && !errors.Is(err, pagination.ErrInvalidCursor) {
				t.Fatalf("%q: parsed request refused by Query: %v", raw, err)
			}
		} else if !errors.Is(err, pagination.ErrInvalidRequest) && !errors.Is(err, pagination.ErrInvalidCursor) {
			t.Fatalf("%q: untyped error %v", raw, err)
		}
		if req, err := o.ParseRequest(v); err == nil {
			q, err := o.Query(req)
			if err != nil || q.Offset < 0 || q.Offset > pagination.DefaultMaxOffset || q.Size < 1 {
				t.Fatalf("%q: accepted %+v, then %+v, %v", raw, req, q, err)
			}
		} else if !errors.Is(err, pagination.ErrInvalidRequest) {
			t.Fatalf("%q: untyped error %v", raw, err)
		}
	})
}

// FuzzCursorRoundTrip checks that every value a cursor accepts comes back
// exactly.
func FuzzCursorRoundTrip(f *testing.F) {
	spec := pagination.MustSpec(
		pagination.Column{Name: "t", Nullable: true}, pagination.Column{Name: "s", Nullable: true},
		pagination.Column{Name: "f"}, pagination.Column{Name: "b"}, pagination.Column{Name: "id", Unique: true},
	)
	p := newPager(f, pagination.Config{Sorts: []pagination.Sort{{Name: "x", Spec: spec}}, MaxCursorLen: 1 << 16})
	f.Add(int64(0), "", 0.0, []byte{}, int64(0), true, "")
	f.Add(int64(math.MaxInt64/1000), "é\x00", math.Inf(-1), []byte{0xff}, int64(math.MinInt64), false, "status=open")
	f.Fuzz(func(t *testing.T, micros int64, s string, fl float64, b []byte, id int64, null bool, filter string) {
		tm := time.UnixMicro(micros).UTC()
		in := []any{tm, s, fl, b, id}
		if null {
			in[0], in[1] = nil, nil
		}
		q, err := p.Query(pagination.Request{Limit: 1, Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		page, err := pagination.NewPage(q, [][]any{in, in}, func(v []any) []any { return v })
		if err != nil {
			t.Fatal(err)
		}
		q2, err := p.Query(pagination.Request{Limit: 1, Cursor: page.NextCursor, Filter: filter})
		if err != nil {
			t.Fatalf("own cursor refused: %v", err)
		}
		want := in[2:]
		if !null {
			want = in
		}
		if len(q2.Args) != len(want) {
			t.Fatalf("args %v, want %v", q2.Args, want)
		}
		for i, w := range want {
			got := q2.Args[i]
			switch w := w.(type) {
			case float64:
				if math.Float64bits(got.(float64)) != math.Float64bits(w) {
					t.Fatalf("float %v came back as %v", w, got)
				}
			case []byte:
				if string(got.([]byte)) != string(w) {
					t.Fatalf("bytes %x came back as %x", w, got)
				}
			case time.Time:
				if !got.(time.Time).Equal(w) {
					t.Fatalf("time %v came back as %v", w, got)
				}
			default:
				if got != w {
					t.Fatalf("%v came back as %v", w, got)
				}
			}
		}
	})
}
