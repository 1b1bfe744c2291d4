package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Describe adds a domain's part of the OpenAPI document: a JSON object with
// "paths" and, optionally, "components" (schemas and the like). A domain
// describes its routes next to them, in the same package, so that an
// endpoint and its documentation live together.
func (r *Router) Describe(fragment []byte) { r.docs = append(r.docs, fragment) }

// OpenAPI returns base, an OpenAPI document, with the paths and components
// of every fragment given to Describe merged in. A path, or a component,
// that two parts define is an error, as is a fragment that is not a JSON
// object of that shape.
func (r *Router) OpenAPI(base []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi: base document: %w", err)
	}
	for i, frag := range r.docs {
		var part struct {
			Paths      map[string]any            `json:"paths"`
			Components map[string]map[string]any `json:"components"`
		}
		if err := json.Unmarshal(frag, &part); err != nil {
			return nil, fmt.Errorf("openapi: part %d: %w", i+1, err)
		}
		if len(part.Paths) == 0 {
			return nil, fmt.Errorf("openapi: part %d describes no path", i+1)
		}
		if err := merge(doc, "paths", part.Paths); err != nil {
			return nil, err
		}
		for _, kind := range sortedKeys(part.Components) {
			comps, _ := doc["components"].(map[string]any)
			if comps == nil {
				comps = map[string]any{}
				doc["components"] = comps
			}
			if err := merge(comps, kind, part.Components[kind]); err != nil {
				return nil, fmt.Errorf("openapi: components: %w", err)
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// merge adds the members of add to the object at into[key], refusing a
// member that is already there.
func merge[V any](into map[string]any, key string, add map[string]V) error {
	obj, ok := into[key].(map[string]any)
	if !ok {
		if into[key] != nil {
			return fmt.Errorf("openapi: %s is not an object", key)
		}
		obj = map[string]any{}
		into[key] = obj
	}
	var dup []string
	for _, name := range sortedKeys(add) {
		if _, taken := obj[name]; taken {
			dup = append(dup, name)
			continue
		}
		obj[name] = add[name]
	}
	if len(dup) > 0 {
		return errors.New("openapi: " + key + " described twice: " + fmt.Sprint(dup))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
