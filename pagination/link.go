package pagination

import (
	"net/url"
	"strings"
)

// Link returns the value of an RFC 8288 Link header for the page, with
// rel="next" and rel="last" when HasNext, rel="prev" and rel="first" when
// HasPrev, or "" when the page is the only one. Each target is base (usually
// the request's URL, absolute or relative) with its cursor parameters
// replaced and every other parameter, such as limit, sort and filters, kept.
func (p Page[T]) Link(base *url.URL) string {
	var links []link
	if p.HasPrev {
		links = append(links, link{"first", ParamCursor, "", false}, link{"prev", ParamCursor, p.PrevCursor, true})
	}
	if p.HasNext {
		links = append(links, link{"next", ParamCursor, p.NextCursor, true}, link{"last", ParamBefore, "", true})
	}
	return writeLinks(base, links, ParamCursor, ParamAfter, ParamBefore)
}

type link struct {
	rel, param, value string
	set               bool // whether to set param at all
}

// writeLinks renders links to base, each with the drop parameters removed
// and its own parameter set.
func writeLinks(base *url.URL, links []link, drop ...string) string {
	if len(links) == 0 || base == nil {
		return ""
	}
	query := base.Query()
	for _, d := range drop {
		query.Del(d)
	}
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		u := *base
		q := cloneValues(query)
		if l.set {
			q.Set(l.param, l.value)
		}
		u.RawQuery = q.Encode()
		u.Fragment, u.RawFragment = "", ""
		b.WriteByte('<')
		b.WriteString(u.String())
		b.WriteString(`>; rel="`)
		b.WriteString(l.rel)
		b.WriteByte('"')
	}
	return b.String()
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v)+1)
	for k, vs := range v {
		c[k] = vs
	}
	return c
}
