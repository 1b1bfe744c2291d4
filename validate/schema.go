package validate

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"time"
)

// schema is what the strict scanner needs to know of a Go type: which JSON
// kind it takes and, for objects, the exact member names. It is built once
// per type by reflection and cached by the [Checker].
type schema struct {
	kind     schemaKind
	nullable bool    // null is a value of the type (pointer, slice, map, interface)
	goType   string  // for messages: "int8", "time.Time"
	bits     int     // size of int, uint and float kinds
	elem     *schema // slice, array and map elements
	keyKind  schemaKind
	arrayLen int
	fields   map[string]member // struct members by exact JSON name
	folded   map[string]string // lower-cased member name -> exact name
}

// member is a struct member: its name (kept so that a path segment needs
// no allocation) and its schema.
type member struct {
	name string
	s    *schema
}

type schemaKind uint8

const (
	kindAny    schemaKind = iota // anything: interface, json.Unmarshaler, RawMessage
	kindString                   // JSON string
	kindText                     // JSON string for an encoding.TextUnmarshaler
	kindTime                     // JSON string with an RFC 3339 date-time
	kindBytes                    // JSON string in base64
	kindBool
	kindInt
	kindUint
	kindFloat
	kindNumber // json.Number
	kindStruct
	kindMap
	kindSlice
	kindArray
	kindQuoted  // a ",string" member: a JSON string holding the elem literal
	kindPointer // elem, or null
	kindUnsupported
)

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
	numberType          = reflect.TypeFor[json.Number]()
)

// schemaCache maps reflect.Type to *schema. The zero value is ready.
type schemaCache struct{ m sync.Map }

func (c *schemaCache) get(t reflect.Type) *schema {
	if c != nil {
		if s, ok := c.m.Load(t); ok {
			return s.(*schema)
		}
	}
	s := buildSchema(t, map[reflect.Type]*schema{})
	if c != nil {
		c.m.Store(t, s)
	}
	return s
}

func buildSchema(t reflect.Type, building map[reflect.Type]*schema) *schema {
	if s, ok := building[t]; ok {
		return s // a recursive type: the schema being filled in
	}
	s := &schema{goType: t.String()}
	building[t] = s
	fillSchema(s, t, building)
	return s
}

func fillSchema(s *schema, t reflect.Type, building map[reflect.Type]*schema) {
	if t.Kind() == reflect.Pointer {
		// An indirection rather than a copy: the element may be a struct
		// still being filled in (type Node struct{ Next *Node }).
		s.kind, s.nullable, s.elem = kindPointer, true, buildSchema(t.Elem(), building)
		return
	}
	if t == timeType {
		s.kind = kindTime
		return
	}
	if t.Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		s.kind, s.nullable = kindAny, true
		return
	}
	if t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		s.kind = kindText
		return
	}
	if t == numberType {
		s.kind = kindNumber
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		s.kind, s.nullable = kindAny, true
	case reflect.String:
		s.kind = kindString
	case reflect.Bool:
		s.kind = kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.kind, s.bits = kindInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.kind, s.bits = kindUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		s.kind, s.bits = kindFloat, t.Bits()
	case reflect.Slice:
		s.nullable = true
		if t.Elem().Kind() == reflect.Uint8 && !implementsAny(t.Elem()) {
			s.kind = kindBytes
			return
		}
		s.kind, s.elem = kindSlice, buildSchema(t.Elem(), building)
	case reflect.Array:
		s.kind, s.arrayLen, s.elem = kindArray, t.Len(), buildSchema(t.Elem(), building)
	case reflect.Map:
		s.kind, s.nullable, s.elem = kindMap, true, buildSchema(t.Elem(), building)
		s.keyKind = mapKeyKind(t.Key())
	case reflect.Struct:
		s.kind = kindStruct
		fillFields(s, t, building)
	default:
		s.kind = kindUnsupported // chan, func, complex: encoding/json refuses them too
	}
}

func implementsAny(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || p.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}

func mapKeyKind(k reflect.Type) schemaKind {
	if k.Kind() != reflect.String && (k.Implements(textUnmarshalerType) || reflect.PointerTo(k).Implements(textUnmarshalerType)) {
		return kindText
	}
	switch k.Kind() {
	case reflect.String:
		return kindString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kindUint
	}
	return kindUnsupported
}

// jsonField is a candidate member while embedded structs are flattened.
type jsonField struct {
	name   string
	tagged bool
	depth  int
	index  []int
	typ    reflect.Type
	quoted bool
}

// fillFields applies encoding/json's rules for the member names of a
// struct: json tags rename, "-" hides, embedded structs promote their
// members, and of several members with one name the shallowest wins, a
// tagged one over untagged ones at the same depth, and a tie hides them all.
func fillFields(s *schema, t reflect.Type, building map[reflect.Type]*schema) {
	s.fields = map[string]member{}
	s.folded = map[string]string{}
	byName := map[string][]jsonField{}
	var names []string
	type level struct {
		typ   reflect.Type
		index []int
	}
	current := []level{{typ: t}}
	visited := map[reflect.Type]bool{}
	for depth := 0; len(current) > 0; depth++ {
		var next []level
		for _, lv := range current {
			if visited[lv.typ] {
				continue
			}
			visited[lv.typ] = true
			for i := 0; i < lv.typ.NumField(); i++ {
				sf := lv.typ.Field(i)
				f, embed, ok := fieldOf(sf, depth, append(append([]int(nil), lv.index...), i))
				if embed != nil {
					next = append(next, level{typ: embed, index: f.index})
					continue
				}
				if !ok {
					continue
				}
				if _, seen := byName[f.name]; !seen {
					names = append(names, f.name)
				}
				byName[f.name] = append(byName[f.name], f)
			}
		}
		current = next
	}
	for _, name := range names {
		f, ok := dominant(byName[name])
		if !ok {
			continue
		}
		fs := buildSchema(f.typ, building)
		if f.quoted {
			fs = &schema{kind: kindQuoted, elem: fs, goType: fs.goType}
		}
		s.fields[name] = member{name: name, s: fs}
		s.folded[strings.ToLower(name)] = name
	}
}

// fieldOf classifies a struct field: a member (ok), an embedded struct to
// flatten (embed), or neither.
func fieldOf(sf reflect.StructField, depth int, index []int) (f jsonField, embed reflect.Type, ok bool) {
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return f, nil, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	ft := sf.Type
	if sf.Anonymous {
		et := ft
		if et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		if !sf.IsExported() && et.Kind() != reflect.Struct {
			return f, nil, false
		}
		if name == "" && et.Kind() == reflect.Struct {
			return jsonField{index: index}, et, false
		}
	} else if !sf.IsExported() {
		return f, nil, false
	}
	tagged := name != "" && validTagName(name)
	if !tagged {
		name = sf.Name
	}
	quoted := false
	for _, o := range strings.Split(opts, ",") {
		if o == "string" && quotable(ft) {
			quoted = true
		}
	}
	return jsonField{name: name, tagged: tagged, depth: depth, index: index, typ: ft, quoted: quoted}, nil, true
}

func quotable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// validTagName mirrors encoding/json: a tag name it would not use falls
// back to the Go field name.
func validTagName(s string) bool {
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c > 127):
			return false
		}
	}
	return true
}

func dominant(fs []jsonField) (jsonField, bool) {
	if len(fs) == 1 {
		return fs[0], true
	}
	minDepth := fs[0].depth
	for _, f := range fs {
		minDepth = min(minDepth, f.depth)
	}
	var best []jsonField
	for _, f := range fs {
		if f.depth == minDepth {
			best = append(best, f)
		}
	}
	if len(best) == 1 {
		return best[0], true
	}
	var tagged []jsonField
	for _, f := range best {
		if f.tagged {
			tagged = append(tagged, f)
		}
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return jsonField{}, false
}
