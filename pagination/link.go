package pagination

import (
	"net/url"
	"strconv"
	"strings"
)

// MaxLinkBytes bounds a Link header value. [Page.Link] and
// [OffsetPage.Link] return "" rather than anything longer: common clients
// and proxies refuse responses whose headers pass 8 to 16 KB, and a page's
// body carries its cursors anyway.
const MaxLinkBytes = 4096

// Link returns the value of an RFC 8288 Link header for the page, with
// rel="next" and rel="last" when HasNext, rel="prev" and rel="first" when
// HasPrev, or "" when the page is the only one. Each target is base
// (usually the request's URL, absolute or relative) with a query of the
// pager's parameters only: the cursor, the sort and page size the query
// was checked with, and the filter parameters of base that
// Config.FilterParams declares. Any other parameter of base, and its
// fragment, are left out, so a client cannot make the header repeat a
// query of its own. Link returns "" for a value over [MaxLinkBytes] (a
// declared filter longer than a header can carry), and carries only the
// cursor for a Page not built by [NewPage].
func (p Page[T]) Link(base *url.URL) string {
	var links []link
	if p.HasPrev {
		links = append(links, link{"first", ParamCursor, "", false}, link{"prev", ParamCursor, p.PrevCursor, true})
	}
	if p.HasNext {
		links = append(links, link{"next", ParamCursor, p.NextCursor, true}, link{"last", ParamBefore, "", true})
	}
	if len(links) == 0 || base == nil {
		return ""
	}
	var keep url.Values
	if p.q != nil {
		keep = carried(base, p.q.pager.cfg.FilterParams)
		keep.Set(ParamSort, p.q.sort.name)
		keep.Set(ParamLimit, strconv.Itoa(p.q.size))
	}
	return writeLinks(base, links, keep)
}

type link struct {
	rel, param, value string
	set               bool // whether to set param at all
}

// carried returns the parameters of base named in filters.
func carried(base *url.URL, filters []string) url.Values {
	out := make(url.Values, len(filters)+3)
	if len(filters) == 0 || base.RawQuery == "" {
		return out
	}
	all := base.Query()
	for _, name := range filters {
		if vs, ok := all[name]; ok {
			out[name] = vs
		}
	}
	return out
}

// writeLinks renders links to base, each with the query keep plus its own
// parameter, or "" when the result would pass MaxLinkBytes.
func writeLinks(base *url.URL, links []link, keep url.Values) string {
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		u := *base
		q := cloneValues(keep)
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
		if b.Len() > MaxLinkBytes {
			return ""
		}
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
