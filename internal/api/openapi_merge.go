package api

import (
	"encoding/json"
	"fmt"
	"io/fs"
)

// mustMergeOpenAPI merges every JSON file of parts into base: each file
// holds {"paths": {...}, "components": {"schemas": {...}}}, and may add
// components.securitySchemes.
func mustMergeOpenAPI(base []byte, parts fs.FS) []byte {
	out, err := mergeOpenAPI(base, parts)
	if err != nil {
		panic(err)
	}
	return out
}

func mergeOpenAPI(base []byte, parts fs.FS) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi: base: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	schemes, _ := comps["securitySchemes"].(map[string]any)
	if paths == nil || schemas == nil {
		return nil, fmt.Errorf("openapi: base has no paths or component schemas")
	}
	names, err := fs.Glob(parts, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := fs.ReadFile(parts, name)
		if err != nil {
			return nil, err
		}
		var part struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas         map[string]any `json:"schemas"`
				SecuritySchemes map[string]any `json:"securitySchemes"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", name, err)
		}
		for k, v := range part.Paths {
			if _, dup := paths[k]; dup {
				return nil, fmt.Errorf("openapi: %s: path %s is defined twice", name, k)
			}
			paths[k] = v
		}
		for k, v := range part.Components.Schemas {
			if _, dup := schemas[k]; dup {
				return nil, fmt.Errorf("openapi: %s: schema %s is defined twice", name, k)
			}
			schemas[k] = v
		}
		for k, v := range part.Components.SecuritySchemes {
			if schemes == nil {
				return nil, fmt.Errorf("openapi: base has no security schemes")
			}
			if _, dup := schemes[k]; dup {
				return nil, fmt.Errorf("openapi: %s: security scheme %s is defined twice", name, k)
			}
			schemes[k] = v
		}
	}
	return json.Marshal(doc)
}
