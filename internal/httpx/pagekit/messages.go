package pagekit

import (
	"errors"
	"fmt"
	"html/template"
	"strings"
	"text/template/parse"

	"unid/internal/i18n"
)

// MissingMessages returns an error for every constant key that a template
// of t passes to T and has does not know, so that a page which would show
// a raw key stops the server at start-up instead.
func MissingMessages(t *template.Template, has func(string) bool) error {
	var errs []error
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		Keys(tt.Tree.Root, func(key string) {
			if !has(key) {
				errs = append(errs, fmt.Errorf("template %q uses message %q, which is missing from the catalog", tt.Name(), key))
			}
		})
	}
	return errors.Join(errs...)
}

// Keys calls f with the constant key of every call of T in the tree. A key
// built at run time ({{.T .Name}}) is not seen: the page's Go code lists
// those itself.
func Keys(n parse.Node, f func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			Keys(c, f)
		}
	case *parse.ActionNode:
		Keys(n.Pipe, f)
	case *parse.IfNode:
		Keys(n.Pipe, f)
		Keys(n.List, f)
		Keys(n.ElseList, f)
	case *parse.RangeNode:
		Keys(n.Pipe, f)
		Keys(n.List, f)
		Keys(n.ElseList, f)
	case *parse.WithNode:
		Keys(n.Pipe, f)
		Keys(n.List, f)
		Keys(n.ElseList, f)
	case *parse.TemplateNode:
		Keys(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			Keys(c, f)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 && isT(n.Args[0]) {
			if s, ok := n.Args[1].(*parse.StringNode); ok {
				f(s.Text)
			}
		}
		for _, a := range n.Args {
			Keys(a, f)
		}
	}
}

// isT reports whether n is .T or $.T.
func isT(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return len(n.Ident) == 1 && n.Ident[0] == "T"
	case *parse.VariableNode:
		return len(n.Ident) == 2 && n.Ident[0] == "$" && n.Ident[1] == "T"
	}
	return false
}

// JSMessages returns, for every language, the messages whose key starts
// with prefix, under the key without it: what a page hands its scripts in
// a JSON block, already in the page's language.
func JSMessages(cat *i18n.Catalog, prefix string) map[i18n.Lang]map[string]string {
	js := make(map[i18n.Lang]map[string]string, len(i18n.Langs))
	for _, lang := range i18n.Langs {
		m := make(map[string]string)
		for _, k := range cat.Keys() {
			if name, ok := strings.CutPrefix(k, prefix); ok {
				m[name] = cat.T(lang, k)
			}
		}
		js[lang] = m
	}
	return js
}
