package api

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"unicode/utf8"
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

// mergeOpenAPI decodes the documents only down to the entries it merges (a
// path, a schema, a security scheme) and keeps each entry's JSON as it is:
// decoding the whole document into maps allocated 3 MiB in 45,000 pieces
// at every start, memory the process then held until the kernel took it
// (docs/design-notes.md, "Scale"). Since the entries are copied as
// written, each file is checked to be UTF-8, as JSON must be.
func mergeOpenAPI(base []byte, parts fs.FS) ([]byte, error) {
	if !utf8.Valid(base) {
		return nil, fmt.Errorf("openapi: base: not UTF-8")
	}
	var doc, comps, paths, schemas, schemes map[string]json.RawMessage
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi: base: %w", err)
	}
	// decode decodes one level of the base, absent being no entries.
	decode := func(raw json.RawMessage, into *map[string]json.RawMessage, what string) error {
		if raw == nil {
			return nil
		}
		if err := json.Unmarshal(raw, into); err != nil {
			return fmt.Errorf("openapi: base: %s: %w", what, err)
		}
		return nil
	}
	if err := decode(doc["paths"], &paths, "paths"); err != nil {
		return nil, err
	}
	if err := decode(doc["components"], &comps, "components"); err != nil {
		return nil, err
	}
	if err := decode(comps["schemas"], &schemas, "component schemas"); err != nil {
		return nil, err
	}
	if err := decode(comps["securitySchemes"], &schemes, "security schemes"); err != nil {
		return nil, err
	}
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
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("openapi: %s: not UTF-8", name)
		}
		var part struct {
			Paths      map[string]json.RawMessage `json:"paths"`
			Components struct {
				Schemas         map[string]json.RawMessage `json:"schemas"`
				SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
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
	if doc["paths"], err = json.Marshal(paths); err != nil {
		return nil, err
	}
	if comps["schemas"], err = json.Marshal(schemas); err != nil {
		return nil, err
	}
	if schemes != nil {
		if comps["securitySchemes"], err = json.Marshal(schemes); err != nil {
			return nil, err
		}
	}
	if doc["components"], err = json.Marshal(comps); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
