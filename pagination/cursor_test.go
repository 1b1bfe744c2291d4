package pagination_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/pagination"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func signer(t testing.TB, b byte) *pagination.SecretSigner {
	t.Helper()
	s, err := pagination.NewSecretSigner(secret(b))
	require.NoError(t, err)
	return s
}

// threeKeys is the typical sort: newest first, then score, then id.
var threeKeys = pagination.MustSpec(
	pagination.Column{Name: "created_at", Desc: true},
	pagination.Column{Name: "score", Nullable: true},
	pagination.Column{Name: "id", Unique: true, Desc: true},
)

var byID = pagination.MustSpec(pagination.Column{Name: "id", Unique: true})

func newPager(t testing.TB, cfg pagination.Config) *pagination.Pager {
	t.Helper()
	if cfg.Signer == nil {
		cfg.Signer = signer(t, 1)
	}
	if cfg.Sorts == nil {
		cfg.Sorts = []pagination.Sort{{Name: "recent", Spec: threeKeys}, {Name: "id", Spec: byID}}
	}
	p, err := pagination.New(cfg)
	require.NoError(t, err)
	return p
}

type item struct {
	CreatedAt time.Time
	Score     *int64
	ID        int64
}

func itemKeys(it item) []any { return []any{it.CreatedAt, it.Score, it.ID} }

var when = time.Date(2026, 11, 25, 9, 30, 15, 123456000, time.UTC)

// nextCursor returns the cursor after a full page ending in last.
func nextCursor(t testing.TB, p *pagination.Pager, req pagination.Request, last item) string {
	t.Helper()
	q, err := p.Query(req)
	require.NoError(t, err)
	rows := make([]item, q.Limit)
	for i := range rows {
		rows[i] = last
	}
	page, err := pagination.NewPage(q, rows, itemKeys)
	require.NoError(t, err)
	require.True(t, page.HasNext)
	return page.NextCursor
}

func TestCursor_ThreeKeysFitIn120Bytes(t *testing.T) {
	score := int64(987654)
	for _, ttl := range []time.Duration{0, 24 * time.Hour} {
		p := newPager(t, pagination.Config{TTL: ttl})
		cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, Score: &score, ID: 1 << 40})
		assert.LessOrEqual(t, len(cur), 120, "ttl %v: %q", ttl, cur)
	}
}

func TestCursor_IsURLSafe(t *testing.T) {
	p := newPager(t, pagination.Config{})
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 42})
	assert.Regexp(t, `^[A-Za-z0-9_-]+$`, cur)
}

func TestCursor_RejectsEveryAlteration(t *testing.T) {
	p := newPager(t, pagination.Config{})
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 42})
	raw, err := base64.RawURLEncoding.DecodeString(cur)
	require.NoError(t, err)
	// Flip each bit of the binary form in turn: every variant is refused.
	for i := range raw {
		for bit := range 8 {
			mut := bytes.Clone(raw)
			mut[i] ^= 1 << bit
			_, err := p.Query(pagination.Request{Cursor: base64.RawURLEncoding.EncodeToString(mut)})
			require.ErrorIs(t, err, pagination.ErrInvalidCursor, "byte %d bit %d", i, bit)
		}
	}
	// Every truncation and extension is refused too.
	for n := 1; n < len(cur); n++ {
		_, err := p.Query(pagination.Request{Cursor: cur[:n]})
		require.ErrorIs(t, err, pagination.ErrInvalidCursor, "truncated to %d", n)
	}
	_, err = p.Query(pagination.Request{Cursor: cur + "A"})
	require.ErrorIs(t, err, pagination.ErrInvalidCursor)
}

func TestCursor_RejectionReasons(t *testing.T) {
	p := newPager(t, pagination.Config{Signer: signer(t, 1)})
	cur := nextCursor(t, p, pagination.Request{Filter: "status=open"}, item{CreatedAt: when, ID: 42})
	raw, _ := base64.RawURLEncoding.DecodeString(cur)
	lastTagByte := bytes.Clone(raw)
	lastTagByte[len(lastTagByte)-2] ^= 1
	tagLength := bytes.Clone(raw)
	tagLength[len(tagLength)-1] = 200
	resigned := nextCursor(t, newPager(t, pagination.Config{Signer: signer(t, 77)}), pagination.Request{Filter: "status=open"},
		item{CreatedAt: when, ID: 42})

	cases := []struct {
		name   string
		req    pagination.Request
		reason error
	}{
		{"not base64", pagination.Request{Cursor: strings.Repeat("*", 40), Filter: "status=open"}, pagination.ErrCursorMalformed},
		{"padding", pagination.Request{Cursor: cur + "==", Filter: "status=open"}, pagination.ErrCursorMalformed},
		{"too short", pagination.Request{Cursor: cur[:10], Filter: "status=open"}, pagination.ErrCursorMalformed},
		{"too long", pagination.Request{Cursor: strings.Repeat("A", 2000), Filter: "status=open"}, pagination.ErrCursorMalformed},
		{"tampered tag", pagination.Request{Cursor: base64.RawURLEncoding.EncodeToString(lastTagByte), Filter: "status=open"}, pagination.ErrCursorSignature},
		{"tag length beyond the cursor", pagination.Request{Cursor: base64.RawURLEncoding.EncodeToString(tagLength), Filter: "status=open"}, pagination.ErrCursorMalformed},
		{"re-signed with another secret", pagination.Request{Cursor: resigned, Filter: "status=open"}, pagination.ErrCursorSignature},
		{"other filter", pagination.Request{Cursor: cur, Filter: "status=closed"}, pagination.ErrCursorMismatch},
		{"no filter", pagination.Request{Cursor: cur}, pagination.ErrCursorMismatch},
		{"other sort", pagination.Request{Cursor: cur, Sort: "id", Filter: "status=open"}, pagination.ErrCursorMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := p.Query(tc.req)
			assert.Nil(t, q)
			require.ErrorIs(t, err, pagination.ErrInvalidCursor)
			assert.ErrorIs(t, err, tc.reason)
			var ce *pagination.CursorError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.reason, ce.Reason)
			assert.True(t, strings.HasPrefix(err.Error(), "pagination: "), err.Error())
		})
	}
	_, err := p.Query(pagination.Request{Cursor: cur, Filter: "status=open"})
	assert.NoError(t, err, "the untouched cursor is still accepted")
}

func TestCursor_SpecChangeUnderSameNameInvalidatesCursors(t *testing.T) {
	keys := signer(t, 1)
	before := newPager(t, pagination.Config{Signer: keys, Sorts: []pagination.Sort{{Name: "s", Spec: threeKeys}}})
	cur := nextCursor(t, before, pagination.Request{}, item{CreatedAt: when, ID: 1})
	changed := pagination.MustSpec(
		pagination.Column{Name: "created_at"}, // now ascending
		pagination.Column{Name: "score", Nullable: true},
		pagination.Column{Name: "id", Unique: true, Desc: true},
	)
	after := newPager(t, pagination.Config{Signer: keys, Sorts: []pagination.Sort{{Name: "s", Spec: changed}}})
	_, err := after.Query(pagination.Request{Cursor: cur})
	assert.ErrorIs(t, err, pagination.ErrCursorMismatch)
}

// refusingSigner signs as its SecretSigner does and, once err is set,
// refuses every tag with it, as a key ring refuses a tag of a removed key.
type refusingSigner struct {
	*pagination.SecretSigner
	err error
}

func (s *refusingSigner) Verify(msg, tag []byte) error {
	if s.err != nil {
		return s.err
	}
	return s.SecretSigner.Verify(msg, tag)
}

// The Signer's reason travels in the CursorError, for the service's logs
// and metrics, and never reaches the client.
func TestCursor_SignerErrorIsKept(t *testing.T) {
	errRemoved := errors.New("keyring: unknown key 7")
	s := &refusingSigner{SecretSigner: signer(t, 1)}
	p := newPager(t, pagination.Config{Signer: s})
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 7})
	s.err = errRemoved
	_, err := p.Query(pagination.Request{Cursor: cur})
	require.ErrorIs(t, err, pagination.ErrInvalidCursor)
	assert.ErrorIs(t, err, pagination.ErrCursorSignature)
	assert.ErrorIs(t, err, errRemoved)
	var ce *pagination.CursorError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, errRemoved, ce.Err)
	assert.Empty(t, ce.Detail, "the detail is for the client; the Signer's error is not")

	rec := httptest.NewRecorder()
	require.True(t, pagination.WriteError(rec, err))
	assert.NotContains(t, rec.Body.String(), "keyring")
}

// signerFunc is a Signer made of functions, for Signers that misbehave.
type signerFunc struct {
	sign   func(dst, msg []byte) ([]byte, error)
	verify func(msg, tag []byte) error
}

func (s signerFunc) SignTo(dst, msg []byte) ([]byte, error) { return s.sign(dst, msg) }
func (s signerFunc) Verify(msg, tag []byte) error           { return s.verify(msg, tag) }

// New signs once, so that a Signer that cannot sign, or makes tags too
// short to resist forgery, fails at start rather than on the first page.
func TestNew_ChecksTheSigner(t *testing.T) {
	errNoPrimary := errors.New("keyring: no primary key")
	fixed := func(n int) func(dst, msg []byte) ([]byte, error) {
		return func(dst, _ []byte) ([]byte, error) { return append(dst, make([]byte, n)...), nil }
	}
	ok := func([]byte, []byte) error { return nil }
	for name, s := range map[string]pagination.Signer{
		"cannot sign":         signerFunc{func(dst, _ []byte) ([]byte, error) { return dst, errNoPrimary }, ok},
		"short tag":           signerFunc{fixed(15), ok},
		"long tag":            signerFunc{fixed(256), ok},
		"refuses its own tag": signerFunc{fixed(16), func([]byte, []byte) error { return errNoPrimary }},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pagination.New(pagination.Config{Signer: s, Sorts: []pagination.Sort{{Name: "id", Spec: byID}}})
			assert.ErrorIs(t, err, pagination.ErrInvalidConfig)
		})
	}
	_, err := pagination.New(pagination.Config{Signer: signerFunc{fixed(255), ok}, Sorts: []pagination.Sort{{Name: "id", Spec: byID}}})
	assert.NoError(t, err, "255 bytes is the longest tag a cursor carries")
}

func TestCursor_ExpiresAfterTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rejected []*pagination.CursorError
		p := newPager(t, pagination.Config{TTL: time.Minute, Hooks: pagination.Hooks{
			OnCursorRejected: func(err *pagination.CursorError) { rejected = append(rejected, err) },
		}})
		cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 7})
		time.Sleep(59 * time.Second)
		_, err := p.Query(pagination.Request{Cursor: cur})
		require.NoError(t, err, "still valid just before the TTL")
		time.Sleep(2 * time.Second)
		_, err = p.Query(pagination.Request{Cursor: cur})
		require.ErrorIs(t, err, pagination.ErrCursorExpired)
		require.ErrorIs(t, err, pagination.ErrInvalidCursor)
		require.Len(t, rejected, 1, "the hook saw the rejection")
		assert.Equal(t, pagination.ErrCursorExpired, rejected[0].Reason)
	})
}

func TestCursor_WithoutTTLNeverExpires(t *testing.T) {
	now := when
	p := newPager(t, pagination.Config{Now: func() time.Time { return now }})
	cur := nextCursor(t, p, pagination.Request{}, item{CreatedAt: when, ID: 7})
	now = now.Add(100 * 365 * 24 * time.Hour)
	_, err := p.Query(pagination.Request{Cursor: cur})
	assert.NoError(t, err)
}

func TestCursor_ValuesRoundTripExactly(t *testing.T) {
	spec := pagination.MustSpec(
		pagination.Column{Name: "t", Nullable: true}, pagination.Column{Name: "s", Nullable: true},
		pagination.Column{Name: "f", Nullable: true}, pagination.Column{Name: "b", Nullable: true},
		pagination.Column{Name: "u", Nullable: true}, pagination.Column{Name: "bs", Nullable: true},
		pagination.Column{Name: "id", Unique: true},
	)
	p := newPager(t, pagination.Config{Sorts: []pagination.Sort{{Name: "all", Spec: spec}}})
	uuid := [16]byte{0xde, 0xad, 0xbe, 0xef, 15: 1}
	local := time.FixedZone("x", 3*3600)
	cases := []struct {
		name string
		in   []any
		want []any
	}{
		{"typical", []any{when, "naïve", 1.5, true, uuid, []byte{0, 1}, int64(-1 << 62)},
			[]any{when, "naïve", 1.5, true, uuid, []byte{0, 1}, int64(-1 << 62)}},
		{"NULLs", []any{nil, (*string)(nil), nil, nil, nil, []byte(nil), int64(0)},
			[]any{nil, nil, nil, nil, nil, nil, int64(0)}},
		{"pointers and narrow ints", []any{&when, ptr("x"), float32(0.25), ptr(false), &uuid, []byte{}, int32(-5)},
			[]any{when, "x", 0.25, false, uuid, []byte{}, int64(-5)}},
		{"times normalise to UTC, same instant", []any{when.In(local), "", math.Copysign(0, -1), false, uuid, []byte{}, uint32(7)},
			[]any{when, "", math.Copysign(0, -1), false, uuid, []byte{}, int64(7)}},
		{"named types", []any{when, status("open"), myFloat(2), myBool(true), uuid, []byte{}, myInt(-9)},
			[]any{when, "open", 2.0, true, uuid, []byte{}, int64(-9)}},
		{"pre-epoch microseconds", []any{time.Date(1901, 1, 1, 0, 0, 0, 1000, time.UTC), "", 0.0, false, uuid, []byte{}, 1},
			[]any{time.Date(1901, 1, 1, 0, 0, 0, 1000, time.UTC), "", 0.0, false, uuid, []byte{}, int64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := p.Query(pagination.Request{Limit: 1})
			require.NoError(t, err)
			page, err := pagination.NewPage(q, [][]any{tc.in, tc.in}, func(v []any) []any { return v })
			require.NoError(t, err)
			q2, err := p.Query(pagination.Request{Limit: 1, Cursor: page.NextCursor})
			require.NoError(t, err)
			got := q2.Args
			var want []any
			for _, w := range tc.want {
				if w != nil {
					want = append(want, w) // NULLs become IS NULL, not parameters
				}
			}
			assert.Equal(t, want, got)
		})
	}
}

func ptr[T any](v T) *T { return &v }

type (
	status  string
	myFloat float32
	myBool  bool
	myInt   int16
	myUint  uint64
)

func TestNewPage_RejectsValuesACursorCannotCarryExactly(t *testing.T) {
	p := newPager(t, pagination.Config{})
	cases := []struct {
		name string
		keys []any
	}{
		{"nanoseconds PostgreSQL cannot have stored", []any{when.Add(1), nil, int64(1)}},
		{"NULL in a NOT NULL column", []any{when, nil, nil}},
		{"too few values", []any{when, int64(1)}},
		{"too many values", []any{when, nil, int64(1), int64(2)}},
		{"unsupported type", []any{when, struct{}{}, int64(1)}},
		{"uint64 beyond int64", []any{when, uint64(1 << 63), int64(1)}},
		{"pointer to pointer", []any{when, ptr(ptr(1)), int64(1)}},
		{"named uint beyond int64", []any{when, myUint(1 << 63), int64(1)}},
		{"slice of strings", []any{when, []string{"a"}, int64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := p.Query(pagination.Request{Limit: 1})
			require.NoError(t, err)
			_, err = pagination.NewPage(q, [][]any{tc.keys, tc.keys}, func(v []any) []any { return v })
			require.ErrorIs(t, err, pagination.ErrInvalidValue)
			var ve *pagination.ValueError
			require.ErrorAs(t, err, &ve)
			assert.NotEmpty(t, ve.Reason)
		})
	}
}

func TestPager_ConcurrentUseIsSafe(t *testing.T) {
	p := newPager(t, pagination.Config{})
	score := int64(3)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				it := item{CreatedAt: when.Add(time.Duration(i) * time.Microsecond), Score: &score, ID: int64(g*1000 + i)}
				q, err := p.Query(pagination.Request{Limit: 1})
				if err != nil {
					errs <- err
					return
				}
				page, err := pagination.NewPage(q, []item{it, it}, itemKeys)
				if err != nil {
					errs <- err
					return
				}
				q2, err := p.Query(pagination.Request{Limit: 1, Cursor: page.NextCursor})
				if err != nil {
					errs <- err
					return
				}
				if q2.Args[2] != it.ID {
					errs <- errors.New("cursor decoded to another row")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCursor_AllocationBudget(t *testing.T) {
	p := newPager(t, pagination.Config{})
	score := int64(3)
	it := item{CreatedAt: when, Score: &score, ID: 99}
	cur := nextCursor(t, p, pagination.Request{}, it)
	q, err := p.Query(pagination.Request{})
	require.NoError(t, err)
	rows := []item{it, it}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := pagination.NewPage(q, rows[:2:2], itemKeys); err != nil {
			t.Fatal(err)
		}
	})
	// keys' []any and boxed time, the signed cursor string, and the page.
	assert.LessOrEqual(t, allocs, 5.0+pagination.RaceSlack, "NewPage with one cursor")
	allocs = testing.AllocsPerRun(200, func() {
		if _, err := p.Query(pagination.Request{Cursor: cur}); err != nil {
			t.Fatal(err)
		}
	})
	// the Query, the values and their boxes, args, predicate string.
	assert.LessOrEqual(t, allocs, 7.0+pagination.RaceSlack, "Query with a cursor")
}
