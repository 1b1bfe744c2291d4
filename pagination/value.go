package pagination

import (
	"database/sql/driver"
	"encoding/binary"
	"math"
	"reflect"
	"time"
)

// Value tags in the cursor's binary form. The set is closed: a cursor carries
// exactly the types PostgreSQL sorts on and that compare without loss.
const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagInt    // zigzag varint
	tagFloat  // 8 bytes, IEEE 754 bits, big endian
	tagString // uvarint length, bytes
	tagBytes  // uvarint length, bytes
	tagUUID   // 16 bytes
	tagTime   // zigzag varint of microseconds since the Unix epoch, UTC
)

// appendValue appends the cursor encoding of v, or returns a reason v cannot
// be carried exactly.
func appendValue(dst []byte, v any) ([]byte, string) {
	switch x := v.(type) {
	case nil:
		return append(dst, tagNull), ""
	case int64:
		return binary.AppendVarint(append(dst, tagInt), x), ""
	case string:
		return appendString(dst, tagString, x), ""
	case time.Time:
		return appendTime(dst, x)
	case [16]byte:
		return append(append(dst, tagUUID), x[:]...), ""
	case int:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case int32:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case int16:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case int8:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case uint8:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case uint16:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case uint32:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case uint64:
		if x > math.MaxInt64 {
			return dst, "unsigned value exceeds the int64 range PostgreSQL integers have"
		}
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case uint:
		if uint64(x) > math.MaxInt64 {
			return dst, "unsigned value exceeds the int64 range PostgreSQL integers have"
		}
		return binary.AppendVarint(append(dst, tagInt), int64(x)), ""
	case bool:
		if x {
			return append(dst, tagTrue), ""
		}
		return append(dst, tagFalse), ""
	case float64:
		return binary.BigEndian.AppendUint64(append(dst, tagFloat), math.Float64bits(x)), ""
	case float32:
		return binary.BigEndian.AppendUint64(append(dst, tagFloat), math.Float64bits(float64(x))), ""
	case []byte:
		if x == nil {
			return append(dst, tagNull), ""
		}
		return appendString(dst, tagBytes, string(x)), ""
	case driver.Valuer:
		return appendValuer(dst, x)
	}
	return appendIndirect(dst, v)
}

func appendString(dst []byte, tag byte, s string) []byte {
	dst = binary.AppendUvarint(append(dst, tag), uint64(len(s)))
	return append(dst, s...)
}

func appendTime(dst []byte, t time.Time) ([]byte, string) {
	// PostgreSQL keeps microseconds. A finer time was not read back from the
	// database, and rounding it would move the boundary past or before rows
	// that share the microsecond: refuse it rather than skip or repeat them.
	if t.Nanosecond()%1000 != 0 {
		return dst, "time has sub-microsecond precision; take sort-key values from rows read back from PostgreSQL"
	}
	return binary.AppendVarint(append(dst, tagTime), t.UnixMicro()), ""
}

func appendValuer(dst []byte, v driver.Valuer) ([]byte, string) {
	// A nil pointer that implements Valuer with a value receiver would panic
	// inside Value; it stands for NULL, as database/sql treats it.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return append(dst, tagNull), ""
	}
	dv, err := v.Value()
	if err != nil {
		return dst, "Value: " + err.Error()
	}
	if _, again := dv.(driver.Valuer); again {
		return dst, "Value returned another driver.Valuer"
	}
	return appendValue(dst, dv)
}

// appendIndirect handles pointers to supported types, which is how nullable
// columns are usually scanned (a nil pointer is NULL), and named types whose
// underlying type is supported, such as an enum declared as a string.
func appendIndirect(dst []byte, v any) ([]byte, string) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return append(dst, tagNull), ""
		}
		if rv.Elem().Kind() == reflect.Pointer {
			return dst, "unsupported type " + rv.Type().String() + " (pointer to pointer)"
		}
		return appendValue(dst, rv.Elem().Interface())
	case reflect.String:
		return appendString(dst, tagString, rv.String()), ""
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(append(dst, tagInt), rv.Int()), ""
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return appendValue(dst, rv.Uint())
	case reflect.Bool:
		return appendValue(dst, rv.Bool())
	case reflect.Float32, reflect.Float64:
		return appendValue(dst, rv.Float())
	}
	return dst, "unsupported type " + rv.Type().String() +
		"; use int64, string, time.Time, [16]byte (UUID), bool, float64, []byte, nil or a pointer to one"
}

// readValue decodes one value from the front of src. ok is false when src
// does not start with a complete, canonical value.
func readValue(src []byte) (v any, rest []byte, ok bool) {
	if len(src) == 0 {
		return nil, nil, false
	}
	tag, src := src[0], src[1:]
	switch tag {
	case tagNull:
		return nil, src, true
	case tagFalse:
		return false, src, true
	case tagTrue:
		return true, src, true
	case tagInt, tagTime:
		n, size := binary.Varint(src)
		if size <= 0 {
			return nil, nil, false
		}
		if tag == tagTime {
			return time.UnixMicro(n).UTC(), src[size:], true
		}
		return n, src[size:], true
	case tagFloat:
		if len(src) < 8 {
			return nil, nil, false
		}
		return math.Float64frombits(binary.BigEndian.Uint64(src)), src[8:], true
	case tagString, tagBytes:
		n, size := binary.Uvarint(src)
		if size <= 0 || n > uint64(len(src)-size) {
			return nil, nil, false
		}
		body := src[size : size+int(n)]
		if tag == tagString {
			return string(body), src[size+int(n):], true
		}
		return append([]byte{}, body...), src[size+int(n):], true
	case tagUUID:
		if len(src) < 16 {
			return nil, nil, false
		}
		return [16]byte(src[:16]), src[16:], true
	}
	return nil, nil, false
}
