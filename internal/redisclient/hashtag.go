package redisclient

import "strings"

// HashTag returns key as the content of a Redis Cluster hash tag, so that
// every Redis key built as prefix + "{" + HashTag(key) + "}" + suffix lands
// in the slot of key, whatever key holds, and distinct keys never share a
// tag.
//
// Redis hashes what lies between the first '{' and the first '}' after it,
// unless that is empty. So '{', '}' and '%' are percent-escaped (a '}' in
// key would end the tag early, and a leading one would leave "{}", which
// Redis ignores: the keys of one operation then hash apart and a cluster
// refuses the operation with CROSSSLOT), and an empty key becomes "%",
// which no escaped key can be. Other keys are returned as they are, without
// allocating.
func HashTag(key string) string {
	if key == "" {
		return "%"
	}
	if !strings.ContainsAny(key, "{}%") {
		return key
	}
	var b strings.Builder
	b.Grow(len(key) + 8)
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '%':
			b.WriteString("%25")
		case '{':
			b.WriteString("%7B")
		case '}':
			b.WriteString("%7D")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
