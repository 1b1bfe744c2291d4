package pgxobserve

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFingerprint(t *testing.T) {
	tests := []struct{ name, sql, want string }{
		{"string literal", "SELECT * FROM users WHERE email = 'a@b.example'", "SELECT * FROM users WHERE email = ?"},
		{"doubled quote", "SELECT 'it''s'", "SELECT ?"},
		{"escape string", `SELECT E'a\'b' , 1`, "SELECT ? , ?"},
		{"bit, hex and national strings", "SELECT B'101', X'1F', N'x', U&'d\\0061t'", "SELECT ?, ?, ?, ?"},
		{"dollar quoted", "SELECT $$a 'b' $$, $tag$x$tag$", "SELECT ?, ?"},
		{"numbers", "SELECT 1, -2.5, 1e10, 3.e-4, 0x1F, 1_000, .5", "SELECT ?, -?, ?, ?, ?, ?, ?"},
		{"placeholders kept", "SELECT * FROM t WHERE a = $1 AND b = $12", "SELECT * FROM t WHERE a = $1 AND b = $12"},
		{"identifiers with digits and dollars kept", "SELECT t1.a$b FROM t1", "SELECT t1.a$b FROM t1"},
		{"quoted identifier kept", `SELECT "it's" FROM "T 1"`, `SELECT "it's" FROM "T 1"`},
		{"line comment dropped", "SELECT 1 -- the answer 'x'\nFROM t", "SELECT ? FROM t"},
		{"nested block comment dropped", "SELECT /* a /* b */ 'c' */ 1", "SELECT ?"},
		{"white space collapsed", "  SELECT\n\t a ,\r\n b  ", "SELECT a , b"},
		{"IN list collapsed", "SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (...)"},
		{"IN list of placeholders collapsed", "SELECT * FROM t WHERE id in ($1,$2::int,$3)", "SELECT * FROM t WHERE id in (...)"},
		{"IN subquery kept", "SELECT * FROM t WHERE id IN (SELECT id FROM u)", "SELECT * FROM t WHERE id IN (SELECT id FROM u)"},
		{"NOT IN collapsed", "DELETE FROM t WHERE s NOT IN ('a','b')", "DELETE FROM t WHERE s NOT IN (...)"},
		{"VALUES rows collapsed", "INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL), ($1, DEFAULT)", "INSERT INTO t (a, b) VALUES (...)"},
		{"ARRAY of literals collapsed", "SELECT * FROM t WHERE id = ANY(ARRAY[1, 2, $1::int])", "SELECT * FROM t WHERE id = ANY(ARRAY[...])"},
		{"ARRAY of columns kept", "SELECT ARRAY[a, b] FROM t", "SELECT ARRAY[a, b] FROM t"},
		{"VALUES with an expression kept", "INSERT INTO t VALUES (now())", "INSERT INTO t VALUES (now())"},
		{"operators kept", "SELECT a->>'k', b ? 'x', c || 'y'", "SELECT a->>?, b ? ?, c || ?"},
		{"unterminated string runs to the end", "SELECT 'abc", "SELECT ?"},
		{"unterminated comment runs to the end", "SELECT 1 /* x", "SELECT ?"},
		{"lone dollar kept", "SELECT $ a", "SELECT $ a"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Fingerprint(tt.sql)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, Fingerprint(got), "idempotent")
		})
	}
}

func TestFingerprint_ListsOfAnyLengthShareOneShape(t *testing.T) {
	shape := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = "$" + strconv.Itoa(i+1)
		}
		return Fingerprint("SELECT * FROM t WHERE id IN (" + strings.Join(ids, ", ") + ")")
	}
	assert.Equal(t, shape(1), shape(100))
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		sql, operation, collection, span string
		explainable                      bool
	}{
		{"SELECT * FROM users WHERE id = $1", "SELECT", "users", "SELECT users", true},
		{"select a, b from app.users u where id = 1 order by a, b", "SELECT", "app.users", "SELECT app.users", true},
		{`SELECT * FROM ONLY "Orders"`, "SELECT", `"Orders"`, `SELECT "Orders"`, true},
		{"SELECT * FROM a JOIN b ON a.id = b.id", "SELECT", "", "SELECT", true},
		{"SELECT * FROM a, b", "SELECT", "", "SELECT", true},
		{"SELECT 1 FROM a UNION SELECT 1 FROM b", "SELECT", "", "SELECT", true},
		{"SELECT * FROM generate_series(1, 3)", "SELECT", "", "SELECT", true},
		{"SELECT 1", "SELECT", "", "SELECT", true},
		{"SELECT x FROM t WHERE y IN (SELECT y FROM u)", "SELECT", "t", "SELECT t", true},
		{"INSERT INTO orders (id) VALUES ($1)", "INSERT", "orders", "INSERT orders", true},
		{"UPDATE ONLY orders SET a = 1", "UPDATE", "orders", "UPDATE orders", true},
		{"DELETE FROM orders WHERE id = $1", "DELETE", "orders", "DELETE orders", true},
		{"WITH x AS (SELECT 1 FROM a) UPDATE b SET c = 1", "UPDATE", "b", "UPDATE b", true},
		{"TRUNCATE TABLE a, b", "TRUNCATE", "", "TRUNCATE", false},
		{"COPY items FROM STDIN", "COPY", "items", "COPY items", false},
		{"BEGIN", "BEGIN", "", "BEGIN", false},
		{"SELECT 1; DELETE FROM t", "SELECT", "", "SELECT", false},
		{"frobnicate the table", "", "", "postgresql", false},
		{"", "", "", "postgresql", false},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			st := analyze(tt.sql, false)
			assert.Equal(t, tt.operation, st.operation, "operation")
			assert.Equal(t, tt.collection, st.collection, "collection")
			assert.Equal(t, tt.span, st.spanName, "span name")
			assert.Equal(t, tt.explainable, st.explainable, "explainable")
		})
	}
}

// FuzzFingerprint checks, on any text, that Fingerprint never panics, is
// idempotent and leaves no literal.
func FuzzFingerprint(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE a = 'x' AND b IN (1, 2)",
		"INSERT INTO t VALUES (1, 'a'), ($1, E'\\'')",
		"SELECT $$x$$, $a$y$a$, 1e-5, .5, 0x1f -- c\n/* d /* e */ */",
		`SELECT "q""x", U&'\0041', B'1'`, "SELECT 'unterminated", "$1$", "e'", "IN (...)", "ARRAY[1,[2]]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		got := Fingerprint(sql)
		if again := Fingerprint(got); again != got {
			t.Fatalf("not idempotent:\n in:  %q\n 1st: %q\n 2nd: %q", sql, got, again)
		}
		for _, tok := range lex(got) {
			if tok.kind == tokLiteral {
				t.Fatalf("literal %q survives in %q (from %q)", tok.text, got, sql)
			}
		}
	})
}

// FuzzFingerprint_LiteralValuesDoNotMatter checks that the value of a
// string or number literal never changes the fingerprint.
func FuzzFingerprint_LiteralValuesDoNotMatter(f *testing.F) {
	f.Add("a@b.example", uint64(42), 3.5)
	f.Add("it's\\", uint64(1<<63), 1e300)
	f.Fuzz(func(t *testing.T, s string, n uint64, x float64) {
		// A sign is an operator, not part of the literal; NaN and Inf are
		// spelt as identifiers.
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		x = math.Abs(x)
		build := func(s string, n uint64, x float64) string {
			return "SELECT * FROM t WHERE a = '" + strings.ReplaceAll(s, "'", "''") + "' AND b = " +
				strconv.FormatUint(n, 10) + " AND c = " + strconv.FormatFloat(x, 'g', -1, 64) +
				// No '$' inside: "…$q" + "$q$" would close the string early
				// and leave "q$" behind, another statement's shape (the
				// fuzzer found that the builder, not Fingerprint, was wrong).
				" AND d = $q$" + strings.ReplaceAll(s, "$", "") + "$q$"
		}
		want := Fingerprint(build("x", 1, 1))
		if got := Fingerprint(build(s, n, x)); got != want {
			t.Fatalf("literal values changed the fingerprint: %q, want %q", got, want)
		}
	})
}

func BenchmarkFingerprint(b *testing.B) {
	sql := "SELECT id, email FROM users WHERE tenant = $1 AND status IN ('a', 'b', 'c') /* hint */ ORDER BY id LIMIT 50"
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint(sql)
	}
}
