package app_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// adapters are the packages that speak a protocol to the outside. Each
// builds on the HTTP layer (internal/httpx) and the domain packages; none
// may import another, so a rule written in one adapter cannot be borrowed
// by the rest instead of living in the core.
var adapters = []string{
	"internal/api",
	"internal/admin",
	"internal/web",
	"internal/sso/oidc",
	"internal/sso/cas",
	"internal/devmode",
	"internal/console",
}

func TestAdaptersDoNotImportEachOther(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	for _, dir := range adapters {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, other := range adapters {
					if other != dir && (path == "unid/"+other || strings.HasPrefix(path, "unid/"+other+"/")) {
						t.Errorf("%s imports %s: adapters share only internal/httpx and the core", filepath.ToSlash(f[len(root)+1:]), path)
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d files: are the adapter paths right?", checked)
	}
}
