package web

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRouterOpenAPIMergesTheDomainsParts(t *testing.T) {
	base := `{"openapi":"3.1.0","paths":{"/livez":{"get":{}}},"components":{"schemas":{"Problem":{}}}}`
	for _, tt := range []struct {
		name    string
		parts   []string
		paths   []string
		schemas []string
		wantErr string
	}{
		{"parts add paths and schemas",
			[]string{`{"paths":{"/v1/a":{"get":{}}},"components":{"schemas":{"A":{}}}}`, `{"paths":{"/v1/b":{"post":{}}}}`},
			[]string{"/livez", "/v1/a", "/v1/b"}, []string{"A", "Problem"}, ""},
		{"a path described twice", []string{`{"paths":{"/livez":{"post":{}}}}`}, nil, nil, "paths described twice: [/livez]"},
		{"a schema described twice", []string{`{"paths":{"/v1/a":{}},"components":{"schemas":{"Problem":{}}}}`}, nil, nil,
			"schemas described twice: [Problem]"},
		{"a part without paths", []string{`{"components":{"schemas":{"A":{}}}}`}, nil, nil, "describes no path"},
		{"not JSON", []string{`paths:`}, nil, nil, "part 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRouter()
			for _, p := range tt.parts {
				r.Describe([]byte(p))
			}
			out, err := r.OpenAPI([]byte(base))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			var doc struct {
				Paths      map[string]any `json:"paths"`
				Components struct {
					Schemas map[string]any `json:"schemas"`
				} `json:"components"`
			}
			require.NoError(t, json.Unmarshal(out, &doc))
			assert.ElementsMatch(t, tt.paths, keys(doc.Paths))
			assert.ElementsMatch(t, tt.schemas, keys(doc.Components.Schemas))
		})
	}
}

func keys(m map[string]any) []string { return sortedKeys(m) }
