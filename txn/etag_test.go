package txn_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bedrock-go/bedrock/txn"
	"github.com/stretchr/testify/assert"
)

func TestETag(t *testing.T) {
	assert.Equal(t, `"v0"`, txn.ETag(0))
	assert.Equal(t, `"v42"`, txn.ETag(42))
	assert.Equal(t, `"v9223372036854775807"`, txn.ETag(math.MaxInt64))
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = txn.ETag(123456) }), 1.0, "only the string itself")
}

func TestParseIfMatch(t *testing.T) {
	cases := []struct {
		name    string
		header  string
		want    int64
		wantErr error
	}{
		{"our tag", `"v7"`, 7, nil},
		{"zero", `"v0"`, 0, nil},
		{"max", `"v9223372036854775807"`, math.MaxInt64, nil},
		{"surrounding whitespace", " \t\"v7\" ", 7, nil},
		{"star", "*", txn.AnyVersion, nil},
		{"star with spaces", "  * ", txn.AnyVersion, nil},
		{"list with foreign tags", `"abc", "v7", W/"v8"`, 7, nil},
		{"same version twice", `"v7","v7"`, 7, nil},
		{"empty list elements", `, ,"v7",,`, 7, nil},
		{"empty", "", 0, txn.ErrPreconditionRequired},
		{"blank", "   ", 0, txn.ErrPreconditionRequired},
		{"weak only", `W/"v7"`, 0, txn.ErrPreconditionFailed},
		{"foreign only", `"xyz"`, 0, txn.ErrPreconditionFailed},
		{"two versions", `"v7", "v8"`, 0, txn.ErrPreconditionFailed},
		{"overflow", `"v9223372036854775808"`, 0, txn.ErrPreconditionFailed},
		{"leading zero", `"v07"`, 0, txn.ErrPreconditionFailed},
		{"sign", `"v+7"`, 0, txn.ErrPreconditionFailed},
		{"negative", `"v-7"`, 0, txn.ErrPreconditionFailed},
		{"bare v", `"v"`, 0, txn.ErrPreconditionFailed},
		{"unquoted", `v7`, 0, txn.ErrInvalidIfMatch},
		{"unterminated", `"v7`, 0, txn.ErrInvalidIfMatch},
		{"missing comma", `"v7" "v8"`, 0, txn.ErrInvalidIfMatch},
		{"space inside", `"v 7"`, 0, txn.ErrInvalidIfMatch},
		{"control char", "\"v7\x01\"", 0, txn.ErrInvalidIfMatch},
		{"star in a list", `*, "v7"`, 0, txn.ErrInvalidIfMatch},
		{"lowercase weak", `w/"v7"`, 0, txn.ErrInvalidIfMatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := txn.ParseIfMatch(tc.header)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseIfMatch(f *testing.F) {
	for _, seed := range []string{`"v7"`, "*", `W/"v1", "v2"`, `"a","v9223372036854775807"`, `"v`, ",,", "\"\xff\"", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		v, err := txn.ParseIfMatch(header)
		if err != nil {
			if !errors.Is(err, txn.ErrPreconditionRequired) && !errors.Is(err, txn.ErrPreconditionFailed) &&
				!errors.Is(err, txn.ErrInvalidIfMatch) {
				t.Fatalf("untyped error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "txn: ") {
				t.Fatalf("unprefixed error %q", err)
			}
			return
		}
		if v == txn.AnyVersion {
			return
		}
		if v < 0 {
			t.Fatalf("negative version %d from %q", v, header)
		}
		// A version we accept must be one the header names in our format.
		if !strings.Contains(header, txn.ETag(v)) {
			t.Fatalf("version %d not named in %q", v, header)
		}
		if back, err := txn.ParseIfMatch(txn.ETag(v)); err != nil || back != v {
			t.Fatalf("round trip of %d: %d, %v", v, back, err)
		}
	})
}
