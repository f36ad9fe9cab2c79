package app_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/i18n"
)

// TestEveryProblemCodeHasAMessage finds every problem code written in the
// source — problem.New(kind, "code"), problem.Field("field", "code"),
// problem.Problem{Code: "code", Fields: {"field": "code"}} — and checks
// that the catalog explains it (i18n.Load already insists on both
// languages), so no user ever reads the generic "invalid request" for a
// refusal unid meant to explain.
func TestEveryProblemCodeHasAMessage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{} // code → where
	// Codes written as constants (problem.New(kind, CodeX), upstream.CodeX)
	// are resolved by package name once every constant is known.
	consts := map[string]string{}   // "package.Name" → value
	constUse := map[string]string{} // "package.Name" → where
	root := filepath.Join("..", "..", "internal")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkg := f.Name.Name
		add := func(e ast.Expr) {
			switch e := e.(type) {
			case *ast.BasicLit:
				if e.Kind == token.STRING {
					s, _ := strconv.Unquote(e.Value)
					codes[s] = fset.Position(e.Pos()).String()
				}
			case *ast.Ident:
				constUse[pkg+"."+e.Name] = fset.Position(e.Pos()).String()
			case *ast.SelectorExpr:
				if x, ok := e.X.(*ast.Ident); ok {
					constUse[x.Name+"."+e.Sel.Name] = fset.Position(e.Pos()).String()
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[pkg+"."+name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && isIdent(sel.X, "problem") && len(n.Args) == 2 &&
					(sel.Sel.Name == "New" || sel.Sel.Name == "Field") {
					add(n.Args[1])
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && isIdent(sel.X, "problem") && sel.Sel.Name == "Problem" {
					for _, el := range n.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						switch {
						case isIdent(kv.Key, "Code"):
							add(kv.Value)
						case isIdent(kv.Key, "Fields"):
							if m, ok := kv.Value.(*ast.CompositeLit); ok {
								for _, fe := range m.Elts {
									if fkv, ok := fe.(*ast.KeyValueExpr); ok {
										add(fkv.Value)
									}
								}
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, where := range constUse {
		if v, ok := consts[name]; ok {
			codes[v] = where + " (" + name + ")"
		}
	}
	if len(codes) < 30 {
		t.Fatalf("found only %d problem codes: is the walk right?", len(codes))
	}
	for code, where := range codes {
		if !cat.Has("error." + code) {
			t.Errorf("%s: problem code %q has no message error.%s in the catalog", where, code, code)
		}
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// TestAccessLogHidesRecoveryFlows: a password-recovery flow's ID lets its
// holder finish the recovery once proven, so the access log does not keep
// it whole.
func TestAccessLogHidesRecoveryFlows(t *testing.T) {
	srv := apptest.Start(t, nil)
	const id = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	srv.Browser(t).PostJSON("/api/v1/recovery/"+id+"/password", map[string]any{})
	if logs := srv.Logs.String(); strings.Contains(logs, id) || !strings.Contains(logs, "/api/v1/recovery/ABCD…/password") {
		t.Errorf("access log:\n%s", logs)
	}
}
