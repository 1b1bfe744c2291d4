package products

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChangedTags(t *testing.T) {
	cat := func(c int64) *int64 { return &c }
	kettle := Product{ID: 7, Name: "kettle", PriceCents: 3000, Stock: 5, CategoryID: cat(1)}
	with := func(edit func(*Product)) *Product {
		p := kettle
		edit(&p)
		return &p
	}
	tests := []struct {
		name          string
		before, after *Product
		want          []string
	}{
		{"nothing", nil, nil, nil},
		{"created in a category", nil, &kettle, []string{"list:all", "list:category:1"}},
		{"created without one", nil, with(func(p *Product) { p.CategoryID = nil }), []string{"list:all"}},
		{"deleted", &kettle, nil, []string{"product:7"}},
		{"stock", &kettle, with(func(p *Product) { p.Stock = 4 }), []string{"product:7"}},
		{"description", &kettle, with(func(p *Product) { p.Description = "steel" }), []string{"product:7"}},
		{"price", &kettle, with(func(p *Product) { p.PriceCents = 1 }), []string{"product:7", "list:all", "list:category:1"}},
		{"name", &kettle, with(func(p *Product) { p.Name = "pot" }), []string{"product:7", "list:all", "list:category:1"}},
		{"category", &kettle, with(func(p *Product) { p.CategoryID = cat(2) }), []string{"product:7", "list:all", "list:category:1", "list:category:2"}},
		{"category removed", &kettle, with(func(p *Product) { p.CategoryID = nil }), []string{"product:7", "list:all", "list:category:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ChangedTags(tt.before, tt.after))
		})
	}
}

func TestListKeyTellsPagesApart(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range []string{
		ListKey("newest", false, 20, 0, ""),
		ListKey("newest", true, 20, 0, ""),
		ListKey("price", false, 20, 0, ""),
		ListKey("newest", false, 21, 0, ""),
		ListKey("newest", false, 20, 1, ""),
		ListKey("newest", false, 20, 0, "c"),
	} {
		assert.False(t, keys[k], "%q twice", k)
		keys[k] = true
	}
}
