package pgxobserve

import (
	"strings"
)

// Fingerprint returns the shape of a SQL statement: every literal (string,
// escape string, bit string, dollar-quoted string, number) replaced by ?,
// every IN list and every multi-row VALUES list of literals and
// placeholders collapsed to (...), every ARRAY[...] of them to ARRAY[...], comments dropped and runs of white space
// reduced to one space. Identifiers, keywords, operators and placeholders
// ($1) are kept as written.
//
// Two statements that differ only in their literal values or in the length
// of their IN or VALUES lists have the same fingerprint, so a fingerprint
// is a low-cardinality label for metrics and a key for "the same query"
// that never carries a value. Fingerprint is idempotent:
// Fingerprint(Fingerprint(s)) == Fingerprint(s).
//
// It is a lexer, not a parser: it accepts any input, never fails, and on
// text that is not valid SQL still strips whatever lexes as a literal. An
// unterminated literal or comment runs to the end of the input.
func Fingerprint(sql string) string {
	toks := lex(sql)
	var b strings.Builder
	b.Grow(len(sql))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch {
		case t.kind == tokLiteral:
			b.WriteByte('?')
			continue
		case t.is("ARRAY"):
			b.WriteString(t.text)
			if end, ok := list(toks, i+1, "[", "]"); ok {
				if toks[i+1].space {
					b.WriteByte(' ')
				}
				b.WriteString("[...]")
				i = end
			}
			continue
		case t.kind == tokIdent && (t.is("IN") || t.is("VALUES")):
			b.WriteString(t.text)
			if end, ok := valueLists(toks, i+1, t.is("VALUES")); ok {
				if toks[i+1].space {
					b.WriteByte(' ')
				}
				b.WriteString("(...)")
				i = end
			}
			continue
		}
		b.WriteString(t.text)
	}
	return b.String()
}

type tokKind uint8

const (
	tokIdent       tokKind = iota // keyword or unquoted identifier
	tokQuoted                     // "quoted identifier"
	tokLiteral                    // string or number literal
	tokPlaceholder                // $1
	tokPunct                      // one character of an operator or punctuation
)

// A token is one lexical element; space says whether white space or a
// comment came before it.
type token struct {
	kind  tokKind
	text  string
	space bool
}

// is reports whether t is the unquoted keyword kw (upper case).
func (t token) is(kw string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, kw) }

// valueLists reports whether the tokens from i on are one parenthesised
// list of values (more than one, separated by commas, when multi), and the
// index of its last token.
func valueLists(toks []token, i int, multi bool) (int, bool) {
	end, ok := valueList(toks, i)
	if !ok {
		return 0, false
	}
	for multi && end+2 < len(toks) && toks[end+1].kind == tokPunct && toks[end+1].text == "," {
		next, ok := valueList(toks, end+2)
		if !ok {
			break
		}
		end = next
	}
	return end, true
}

// valueList reports whether toks[i] opens a parenthesised list made only of
// literals, placeholders, NULL, DEFAULT, TRUE, FALSE, signs, casts and
// commas (or the dots of a list already collapsed), and where it closes.
func valueList(toks []token, i int) (int, bool) { return list(toks, i, "(", ")") }

// list reports whether toks[i] is open and starts a list of values that
// close ends, and the index of close.
func list(toks []token, i int, open, close string) (int, bool) {
	if i >= len(toks) || toks[i].kind != tokPunct || toks[i].text != open {
		return 0, false
	}
	for j := i + 1; j < len(toks); j++ {
		t := toks[j]
		switch t.kind {
		case tokLiteral, tokPlaceholder:
			continue
		case tokPunct:
			switch t.text {
			case close:
				return j, j > i+1
			case ",", "-", "+", ".", ":", "?":
				continue
			case "[", "]":
				if open == "(" { // an array type in a cast: $1::int[]
					continue
				}
			}
		case tokIdent:
			if t.is("NULL") || t.is("DEFAULT") || t.is("TRUE") || t.is("FALSE") {
				continue
			}
			// A type name after ::.
			if j >= 2 && toks[j-1].text == ":" && toks[j-2].text == ":" {
				continue
			}
		}
		return 0, false
	}
	return 0, false
}

// lex splits sql into tokens, dropping white space and comments.
func lex(sql string) []token {
	toks := make([]token, 0, len(sql)/4+1)
	space := false
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			space = true
			i++
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			space = true
			i = lineCommentEnd(sql, i)
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			space = true
			i = blockCommentEnd(sql, i)
			continue
		}
		kind, end := tokPunct, i+1
		switch {
		case c == '\'':
			kind, end = tokLiteral, quotedEnd(sql, i, false)
		case c == '"':
			kind, end = tokQuoted, quotedEnd(sql, i, false)
		case c == '$':
			kind, end = dollar(sql, i)
		case isDigit(c) || (c == '.' && i+1 < len(sql) && isDigit(sql[i+1])):
			kind, end = tokLiteral, numberEnd(sql, i)
		case isIdentStart(c):
			kind, end = tokIdent, identEnd(sql, i)
			if lit, litEnd := prefixedString(sql, i, end); lit {
				kind, end = tokLiteral, litEnd
			}
		}
		toks = append(toks, token{kind: kind, text: sql[i:end], space: space})
		space = false
		i = end
	}
	return toks
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIdentStart reports whether c may start an identifier; bytes of
// multi-byte UTF-8 sequences count as letters, as PostgreSQL counts them.
func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

func lineCommentEnd(sql string, i int) int {
	if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(sql)
}

// blockCommentEnd returns the end of the comment at i; PostgreSQL's block
// comments nest.
func blockCommentEnd(sql string, i int) int {
	depth := 0
	for i < len(sql) {
		switch {
		case sql[i] == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth++
			i += 2
		case sql[i] == '*' && i+1 < len(sql) && sql[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(sql)
}

// quotedEnd returns the end of the quoted text opening at i, where a
// doubled quote stands for itself and, in an escape string, a backslash
// escapes the next byte.
func quotedEnd(sql string, i int, backslash bool) int {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

// dollar lexes what starts with $ at i: a placeholder ($1), a
// dollar-quoted string ($$...$$, $tag$...$tag$) or a lone $.
func dollar(sql string, i int) (tokKind, int) {
	j := i + 1
	if j < len(sql) && isDigit(sql[j]) {
		for j < len(sql) && isDigit(sql[j]) {
			j++
		}
		return tokPlaceholder, j
	}
	if j < len(sql) && isIdentStart(sql[j]) {
		for j < len(sql) && (isIdentStart(sql[j]) || isDigit(sql[j])) {
			j++
		}
	}
	if j >= len(sql) || sql[j] != '$' {
		return tokPunct, i + 1
	}
	tag := sql[i : j+1]
	if k := strings.Index(sql[j+1:], tag); k >= 0 {
		return tokLiteral, j + 1 + k + len(tag)
	}
	return tokLiteral, len(sql)
}

// numberEnd returns the end of the numeric literal at i: digits with
// underscores, a fraction, an exponent, or a 0x, 0o or 0b prefix; trailing
// letters are taken too, since no identifier starts with a digit.
func numberEnd(sql string, i int) int {
	j, dot := i, false
	for j < len(sql) {
		c := sql[j]
		switch {
		case isDigit(c) || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j++
		case c == '.' && !dot && !(j+1 < len(sql) && sql[j+1] == '.'):
			dot = true
			j++
		case (c == '+' || c == '-') && (sql[j-1] == 'e' || sql[j-1] == 'E') &&
			j+1 < len(sql) && isDigit(sql[j+1]) && !strings.HasPrefix(strings.ToLower(sql[i:j]), "0x"):
			j++
		default:
			return j
		}
	}
	return j
}

func identEnd(sql string, i int) int {
	j := i + 1
	for j < len(sql) && isIdentPart(sql[j]) {
		j++
	}
	return j
}

// prefixedString reports whether the identifier sql[i:end] is the prefix of
// a string literal (E'...', B'...', X'...', N'...', U&'...'), and where the
// literal ends.
func prefixedString(sql string, i, end int) (bool, int) {
	if end-i != 1 || end >= len(sql) {
		return false, 0
	}
	switch sql[i] | 0x20 {
	case 'e':
		if sql[end] == '\'' {
			return true, quotedEnd(sql, end, true)
		}
	case 'b', 'x', 'n':
		if sql[end] == '\'' {
			return true, quotedEnd(sql, end, false)
		}
	case 'u':
		if sql[end] == '&' && end+1 < len(sql) && sql[end+1] == '\'' {
			return true, quotedEnd(sql, end+1, false)
		}
	}
	return false, 0
}
