package claims_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNoAdapter: the rules live below the protocols and pages that
// use them, so claims imports only the domain packages under it.
func TestImportsNoAdapter(t *testing.T) {
	allowed := map[string]bool{"unid/internal/store": true, "unid/internal/account": true, "unid/internal/problem": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "unid/") && !allowed[path] {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
