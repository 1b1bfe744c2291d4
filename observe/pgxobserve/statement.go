package pgxobserve

import (
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// A statement is what the tracer knows of one SQL text: its fingerprint,
// operation and collection, computed once and cached.
type statement struct {
	sql         string
	fingerprint string
	text        string // db.query.text: the fingerprint, or sql when raw
	operation   string // db.operation.name, "" when not a known command
	collection  string // db.collection.name, "" when not one table
	spanName    string
	// explainable says whether EXPLAIN accepts the statement.
	explainable bool
	// attrs are the span attributes every execution of the statement has.
	attrs []attribute.KeyValue
	// startOpts start the span of an execution.
	startOpts []trace.SpanStartOption
}

// operations are the commands whose name becomes db.operation.name; any
// other first word leaves it unset, so that the label stays bounded.
var operations = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true,
	"VALUES": true, "TABLE": true, "WITH": true, "CALL": true, "DO": true,
	"BEGIN": true, "START": true, "COMMIT": true, "END": true, "ROLLBACK": true, "ABORT": true,
	"SAVEPOINT": true, "RELEASE": true, "PREPARE": true, "EXECUTE": true, "DEALLOCATE": true,
	"DECLARE": true, "FETCH": true, "MOVE": true, "CLOSE": true,
	"CREATE": true, "ALTER": true, "DROP": true, "TRUNCATE": true, "COMMENT": true,
	"GRANT": true, "REVOKE": true, "COPY": true, "LOCK": true, "SET": true, "RESET": true,
	"SHOW": true, "DISCARD": true, "EXPLAIN": true, "ANALYZE": true, "VACUUM": true,
	"REINDEX": true, "CLUSTER": true, "REFRESH": true, "LISTEN": true, "NOTIFY": true,
	"UNLISTEN": true, "CHECKPOINT": true,
}

// explainable are the operations EXPLAIN accepts.
var explainable = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true,
	"VALUES": true, "TABLE": true,
}

// analyze computes the statement of sql; rawText puts sql itself, rather
// than its fingerprint, in db.query.text.
func analyze(sql string, rawText bool) *statement {
	toks := lex(sql)
	st := &statement{sql: sql, fingerprint: Fingerprint(sql)}
	main := mainCommand(toks)
	if main >= 0 {
		st.operation = strings.ToUpper(toks[main].text)
		if !multiStatement(toks) {
			st.collection = collection(toks, main)
			st.explainable = explainable[st.operation]
		}
	}
	st.spanName = spanName(st.operation, st.collection)
	st.text = st.fingerprint
	if rawText {
		st.text = sql
	}
	st.attrs = append(st.attrs, attrSystemPostgres, attrQueryText.String(st.text))
	if st.operation != "" {
		st.attrs = append(st.attrs, attrOperation.String(st.operation))
	}
	if st.collection != "" {
		st.attrs = append(st.attrs, attrCollection.String(st.collection))
	}
	st.startOpts = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(st.attrs...)}
	return st
}

// multiStatement reports whether toks hold more than one statement: such
// a text is never explained, since under the simple protocol the
// statements after the first would run.
func multiStatement(toks []token) bool {
	for i, t := range toks {
		if t.kind == tokPunct && t.text == ";" && i+1 < len(toks) {
			return true
		}
	}
	return false
}

// spanName follows the database conventions: "{operation} {collection}",
// or the operation alone, or the system.
func spanName(op, coll string) string {
	switch {
	case op != "" && coll != "":
		return op + " " + coll
	case op != "":
		return op
	}
	return "postgresql"
}

// mainCommand returns the index of the statement's command keyword: the
// first word, or for WITH the command after the common table
// expressions; -1 when it is not a known command.
func mainCommand(toks []token) int {
	if len(toks) == 0 || toks[0].kind != tokIdent || !operations[strings.ToUpper(toks[0].text)] {
		return -1
	}
	if !toks[0].is("WITH") {
		return 0
	}
	depth := 0
	for i := 1; i < len(toks); i++ {
		switch t := toks[i]; {
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
		case depth == 0 && (t.is("SELECT") || t.is("INSERT") || t.is("UPDATE") || t.is("DELETE") ||
			t.is("MERGE") || t.is("VALUES") || t.is("TABLE")):
			return i
		}
	}
	return 0
}

// collection returns the one table the command at toks[i] acts on, as
// written, or "" when there is none or more than one.
func collection(toks []token, i int) string {
	next := func(j int, kws ...string) int {
		for _, kw := range kws {
			if j < len(toks) && toks[j].is(kw) {
				j++
			}
		}
		return j
	}
	switch {
	case toks[i].is("INSERT") || toks[i].is("MERGE"):
		name, _ := tableName(toks, next(i+1, "INTO"))
		return name
	case toks[i].is("UPDATE"):
		name, _ := tableName(toks, next(i+1, "ONLY"))
		return name
	case toks[i].is("DELETE"):
		name, _ := tableName(toks, next(i+1, "FROM", "ONLY"))
		return name
	case toks[i].is("COPY"), toks[i].is("TRUNCATE"):
		name, end := tableName(toks, next(i+1, "TABLE", "ONLY"))
		if end < len(toks) && toks[end].text == "," {
			return ""
		}
		return name
	case toks[i].is("SELECT"):
		return selectCollection(toks, i)
	}
	return ""
}

// selectCollection returns the table of a SELECT that reads exactly one
// (no join, no list of tables, no set operation), or "".
func selectCollection(toks []token, i int) string {
	depth, from, clauses := 0, -1, false
	for j := i + 1; j < len(toks); j++ {
		t := toks[j]
		switch {
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
		case depth != 0:
		case t.is("FROM") && from < 0:
			from = j
		case t.is("JOIN") || t.is("UNION") || t.is("INTERSECT") || t.is("EXCEPT"):
			return ""
		case from >= 0 && (t.is("WHERE") || t.is("GROUP") || t.is("ORDER") || t.is("LIMIT") ||
			t.is("HAVING") || t.is("WINDOW") || t.is("OFFSET") || t.is("FETCH") || t.is("FOR")):
			clauses = true
		case from >= 0 && !clauses && t.text == ",":
			return ""
		}
	}
	if from < 0 {
		return ""
	}
	start := from + 1
	if start < len(toks) && toks[start].is("ONLY") {
		start++
	}
	name, end := tableName(toks, start)
	if end < len(toks) && toks[end].text == "(" {
		return "" // a function
	}
	return name
}

// tableName reads a possibly qualified name (a.b, "A".b) at toks[i] and
// returns it as written and the index after it.
func tableName(toks []token, i int) (string, int) {
	start := i
	for {
		if i >= len(toks) || (toks[i].kind != tokIdent && toks[i].kind != tokQuoted) {
			return "", start
		}
		i++
		if i+1 < len(toks) && toks[i].text == "." && !toks[i].space {
			i++
			continue
		}
		break
	}
	var b strings.Builder
	for _, t := range toks[start:i] {
		b.WriteString(t.text)
	}
	return b.String(), i
}

// maxCachedStatements bounds the statement cache: statements are usually
// constants in code, far fewer than this; SQL built with inlined values
// would otherwise grow it without end, and is analysed on every call past
// the bound instead.
const maxCachedStatements = 4096

// statements caches the analysis of SQL texts.
type statements struct {
	m       sync.Map // string -> *statement
	n       atomic.Int64
	rawText bool
}

func (s *statements) get(sql string) *statement {
	if v, ok := s.m.Load(sql); ok {
		return v.(*statement)
	}
	st := analyze(sql, s.rawText)
	if s.n.Load() < maxCachedStatements {
		if v, loaded := s.m.LoadOrStore(sql, st); loaded {
			return v.(*statement)
		}
		s.n.Add(1)
	}
	return st
}
