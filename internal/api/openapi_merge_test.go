package api

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

const mergeBase = `{
  "openapi": "3.1.0",
  "info": {"title": "unid", "version": "1"},
  "paths": {"/a": {"get": {"summary": "a", "responses": {"200": {"description": "ok"}}}}},
  "components": {
    "schemas": {"A": {"type": "object", "properties": {"z": {"type": "string"}, "b": {"type": "integer"}}}},
    "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "s"}}
  }
}`

func decodeAny(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func TestMergeOpenAPIKeepsEveryPartWhole(t *testing.T) {
	part := `{"paths": {"/b": {"post": {"summary": "b", "responses": {"204": {"description": "done"}}}}},
	  "components": {"schemas": {"B": {"type": "array", "items": {"$ref": "#/components/schemas/A"}}},
	                 "securitySchemes": {"operator": {"type": "http", "scheme": "bearer"}}}}`
	out, err := mergeOpenAPI([]byte(mergeBase), fstest.MapFS{"openapi/b.json": {Data: []byte(part)}})
	if err != nil {
		t.Fatal(err)
	}
	got := decodeAny(t, out)
	want, p := decodeAny(t, []byte(mergeBase)), decodeAny(t, []byte(part))
	paths := want["paths"].(map[string]any)
	comps := want["components"].(map[string]any)
	paths["/b"] = p["paths"].(map[string]any)["/b"]
	pc := p["components"].(map[string]any)
	comps["schemas"].(map[string]any)["B"] = pc["schemas"].(map[string]any)["B"]
	comps["securitySchemes"].(map[string]any)["operator"] = pc["securitySchemes"].(map[string]any)["operator"]
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged document:\n%s\nwant the base with the part's path, schema and scheme added", out)
	}
}

func TestMergeOpenAPIRefusesWhatItCannotServe(t *testing.T) {
	for name, part := range map[string]string{
		"path":            `{"paths": {"/a": {"get": {}}}}`,
		"schema":          `{"components": {"schemas": {"A": {"type": "string"}}}}`,
		"security scheme": `{"components": {"securitySchemes": {"session": {"type": "http"}}}}`,
	} {
		_, err := mergeOpenAPI([]byte(mergeBase), fstest.MapFS{"openapi/x.json": {Data: []byte(part)}})
		if err == nil || !strings.Contains(err.Error(), "openapi/x.json") || !strings.Contains(err.Error(), "defined twice") {
			t.Errorf("%s defined twice: error %v, want one naming openapi/x.json", name, err)
		}
	}
	if _, err := mergeOpenAPI([]byte(mergeBase), fstest.MapFS{"openapi/x.json": {Data: []byte(`{"paths": `)}}); err == nil || !strings.Contains(err.Error(), "openapi/x.json") {
		t.Errorf("a part that is not JSON: error %v, want one naming the file", err)
	}
	for _, base := range []string{`{"openapi": "3.1.0"}`, `{"paths": {}}`, `{"paths": {}, "components": {}}`} {
		if _, err := mergeOpenAPI([]byte(base), fstest.MapFS{}); err == nil || !strings.Contains(err.Error(), "base has no paths or component schemas") {
			t.Errorf("base %s: error %v, want one saying it has no paths or schemas", base, err)
		}
	}
	for _, notUTF8 := range []string{
		`{"paths": {"/b": {"get": {"summary": "` + "\xff" + `"}}}}`,
		`{"paths": {"/` + "\xff" + `": {"get": {}}}}`,
	} {
		if _, err := mergeOpenAPI([]byte(mergeBase), fstest.MapFS{"openapi/x.json": {Data: []byte(notUTF8)}}); err == nil || !strings.Contains(err.Error(), "openapi/x.json: not UTF-8") {
			t.Errorf("a part that is not UTF-8: error %v, want one naming it", err)
		}
	}
	if _, err := mergeOpenAPI([]byte(strings.Replace(mergeBase, `"ok"`, `"o`+"\xff"+`"`, 1)), fstest.MapFS{}); err == nil || !strings.Contains(err.Error(), "base: not UTF-8") {
		t.Errorf("a base that is not UTF-8: error %v, want one saying so", err)
	}
}

// The document unid serves (merged when the package initialized): every
// part's paths are in it, and no object of any file names a key twice.
// Each file's entries are served as written, and its top levels pass
// through maps, where a decoder keeps one of the two, silently.
func TestOpenAPIMergesTheEmbeddedParts(t *testing.T) {
	paths := decodeAny(t, openAPI)["paths"].(map[string]any)
	files := map[string][]byte{"openapi.json": openAPIBase, "served document": openAPI}
	names, err := fs.Glob(openAPIParts, "openapi/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no parts embedded: %v", err)
	}
	for _, name := range names {
		b, err := openAPIParts.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
		part := struct {
			Paths map[string]json.RawMessage `json:"paths"`
		}{}
		if err := json.Unmarshal(b, &part); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for p := range part.Paths {
			if _, ok := paths[p]; !ok {
				t.Errorf("%s: path %s is not in the served document", name, p)
			}
		}
	}
	for name, b := range files {
		if dups, err := duplicateKeys(b); err != nil || len(dups) > 0 {
			t.Errorf("%s: keys named twice in one object %v (%v)", name, dups, err)
		}
	}
}

func TestDuplicateKeysFindsEveryOne(t *testing.T) {
	for doc, want := range map[string][]string{
		`{"a": {"get": 1, "x": [{"k": 1}, {"k": 2}], "get": 2}}`:          {"get"},
		`{"a": {}, "b": [], "c": "}", "}": 1, "d": [[{"e": 1, "e": 2}]]}`: {"e"},
		`[{"k": 1, "k": {"k": 1}}, {"k": 1}]`:                             {"k"},
		`{"a": "]", "b": {"a": 1}, "c": [1, "a", {}]}`:                    nil,
	} {
		got, err := duplicateKeys([]byte(doc))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v (%v), want %v", doc, got, err, want)
		}
	}
	if _, err := duplicateKeys([]byte(`{"a": {"b": 1}`)); err == nil {
		t.Error("a document that stops inside an object passed")
	}
}

// duplicateKeys lists the keys that an object of the JSON document b
// names more than once.
func duplicateKeys(b []byte) ([]string, error) {
	type level struct {
		keys      map[string]bool // nil for an array
		expectKey bool
	}
	var dups []string
	var stack []*level
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return dups, io.ErrUnexpectedEOF
			}
			return dups, nil
		}
		if err != nil {
			return dups, err
		}
		if n := len(stack); n > 0 && stack[n-1].expectKey && tok != json.Delim('}') {
			top := stack[n-1]
			if key := tok.(string); top.keys[key] {
				dups = append(dups, key)
			} else {
				top.keys[key] = true
			}
			top.expectKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{keys: map[string]bool{}, expectKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the object around it expects its next key.
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].expectKey = true
		}
	}
}
