package api

import (
	"encoding/json"
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
	base, p := decodeAny(t, []byte(mergeBase)), decodeAny(t, []byte(part))
	want := base
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

func TestMergeOpenAPIRefusesANameDefinedTwice(t *testing.T) {
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
	if _, err := mergeOpenAPI([]byte(`{"openapi": "3.1.0"}`), fstest.MapFS{}); err == nil {
		t.Error("a base without paths or schemas was accepted")
	}
}

// The document unid serves: whole, and one that parses.
func TestOpenAPIMergesTheEmbeddedParts(t *testing.T) {
	out, err := mergeOpenAPI(openAPIBase, openAPIParts)
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeAny(t, out)
	paths := doc["paths"].(map[string]any)
	for _, name := range []string{"openapi/audit.json", "openapi/citizens.json"} {
		b, _ := openAPIParts.ReadFile(name)
		for p := range decodeAny(t, b)["paths"].(map[string]any) {
			if _, ok := paths[p]; !ok {
				t.Errorf("%s: path %s is not in the merged document", name, p)
			}
		}
	}
	if !reflect.DeepEqual(decodeAny(t, openAPI), doc) {
		t.Error("the served document is not the merge of the embedded files")
	}
}
