package cache

import (
	"fmt"
	"reflect"
	"strconv"
)

// defaultKeyFuncs returns the key encoding for key types whose underlying
// type is a string or an integer, and nil for others, which must configure
// Config.KeyString (and Config.ParseKey). Reflection is fine here: it runs
// only on the store path, which costs a network round trip anyway.
func defaultKeyFuncs[K comparable]() (func(K) string, func(string) (K, error)) {
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.String:
		return func(k K) string { return reflect.ValueOf(k).String() },
			func(s string) (K, error) {
				var k K
				reflect.ValueOf(&k).Elem().SetString(s)
				return k, nil
			}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(k K) string { return strconv.FormatInt(reflect.ValueOf(k).Int(), 10) },
			func(s string) (K, error) {
				var k K
				n, err := strconv.ParseInt(s, 10, t.Bits())
				if err != nil {
					return k, fmt.Errorf("cache: parse key %q: %w", s, err)
				}
				reflect.ValueOf(&k).Elem().SetInt(n)
				return k, nil
			}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(k K) string { return strconv.FormatUint(reflect.ValueOf(k).Uint(), 10) },
			func(s string) (K, error) {
				var k K
				n, err := strconv.ParseUint(s, 10, t.Bits())
				if err != nil {
					return k, fmt.Errorf("cache: parse key %q: %w", s, err)
				}
				reflect.ValueOf(&k).Elem().SetUint(n)
				return k, nil
			}
	}
	return nil, nil
}
