package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// productPage is a page of GET /v1/products.
type productPage struct {
	Items []struct {
		ID         int64  `json:"id"`
		Name       string `json:"name"`
		CategoryID *int64 `json:"category_id"`
		Version    int64  `json:"version"`
		PriceCents int64  `json:"price_cents"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (s *service) listPage(path string) (productPage, response) {
	s.t.Helper()
	r := s.do("GET", path, nil)
	var p productPage
	if r.StatusCode == http.StatusOK {
		require.NoError(s.t, json.Unmarshal(r.body, &p), "%s", r.body)
	}
	return p, r
}

func (p productPage) names() []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.Name)
	}
	return out
}

// createInCategory creates a product in category (0: none) and returns its id.
func (s *service) createInCategory(admin, name string, price int, category int64) int64 {
	s.t.Helper()
	body := map[string]any{"name": name, "price_cents": price, "stock": 5}
	if category != 0 {
		body["category_id"] = category
	}
	r := s.do("POST", "/v1/products", body, bearer(admin)...)
	require.Equal(s.t, http.StatusCreated, r.StatusCode, "%s", r.body)
	var p struct {
		ID         int64  `json:"id"`
		CategoryID *int64 `json:"category_id"`
	}
	require.NoError(s.t, json.Unmarshal(r.body, &p))
	if category == 0 {
		assert.Nil(s.t, p.CategoryID)
	} else if assert.NotNil(s.t, p.CategoryID) {
		assert.Equal(s.t, category, *p.CategoryID)
	}
	return p.ID
}

func TestProductsListByCategory(t *testing.T) {
	s := startService(t)
	s.signup("cat-admin@example.test", "Admin")
	s.grant("cat-admin@example.test", "admin")
	admin := s.login("cat-admin@example.test").Access
	s.createInCategory(admin, "kettle", 3000, 1)
	s.createInCategory(admin, "teapot", 2000, 1)
	s.createInCategory(admin, "toaster", 4000, 2)
	s.createInCategory(admin, "spoon", 100, 0)

	all, _ := s.listPage("/v1/products?sort=name")
	assert.Equal(t, []string{"kettle", "spoon", "teapot", "toaster"}, all.names())
	one, _ := s.listPage("/v1/products?sort=name&category=1")
	assert.Equal(t, []string{"kettle", "teapot"}, one.names())
	two, _ := s.listPage("/v1/products?category=2")
	assert.Equal(t, []string{"toaster"}, two.names())

	// Pages of a category link to pages of the same category, and a
	// cursor of one category's list is refused by another's.
	first, r := s.listPage("/v1/products?sort=name&category=1&limit=1")
	require.Equal(t, []string{"kettle"}, first.names())
	require.NotEmpty(t, first.NextCursor)
	assert.Contains(t, r.Header.Get("Link"), "category=1")
	next, _ := s.listPage("/v1/products?sort=name&category=1&limit=1&cursor=" + url.QueryEscape(first.NextCursor))
	assert.Equal(t, []string{"teapot"}, next.names())
	_, r = s.listPage("/v1/products?sort=name&category=2&limit=1&cursor=" + url.QueryEscape(first.NextCursor))
	assert.Equal(t, http.StatusBadRequest, r.StatusCode, "%s", r.body)

	for _, bad := range []string{"category=0", "category=-1", "category=x", "category=1&category=2", "category=9007199254740993", "category=" + strings.Repeat("9", 400)} {
		t.Run(bad, func(t *testing.T) {
			_, r := s.listPage("/v1/products?" + bad)
			assert.Equal(t, http.StatusBadRequest, r.StatusCode, "%s", r.body)
			assert.Contains(t, string(r.body), "category")
		})
	}

	// A product changes category.
	id := s.createInCategory(admin, "mug", 500, 2)
	r = s.do("PUT", fmt.Sprintf("/v1/products/%d", id), map[string]any{"name": "mug", "price_cents": 500, "stock": 5, "category_id": 1},
		append(bearer(admin), "If-Match", `"v1"`)...)
	require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
	one, _ = s.listPage("/v1/products?sort=name&category=1")
	assert.Equal(t, []string{"kettle", "mug", "teapot"}, one.names())
	two, _ = s.listPage("/v1/products?sort=name&category=2")
	assert.Equal(t, []string{"toaster"}, two.names())

	r = s.do("POST", "/v1/products", map[string]any{"name": "x", "price_cents": 1, "stock": 1, "category_id": 0}, bearer(admin)...)
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "%s", r.body)
}
