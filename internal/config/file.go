package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// node is one value of a configuration file, whatever its format: a
// scalar (kept as its text, which the setting's Value parses), a mapping or
// a sequence. A YAML null (a key with nothing after it) is a nil node and
// leaves its setting as it was.
type node struct {
	scalar *string
	fields []field // a mapping, in file order
	items  []*node // a sequence
	isMap  bool
}

type field struct {
	key string
	val *node
}

// document is a parsed configuration file.
type document struct {
	name string
	root *node
	// line returns the line of the key at path (strings are keys, ints
	// sequence indices), or 0 when the format does not tell.
	line func(path []any) int
}

// where prefixes a message about the key at path with the file and line.
func (d *document) where(path []any) string {
	if l := d.line(path); l > 0 {
		return fmt.Sprintf("%s:%d", d.name, l)
	}
	return d.name
}

// readDocument reads a YAML (.yaml, .yml) or TOML (.toml) file.
func readDocument(name string) (*document, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return readYAML(name, data)
	case ".toml":
		return readTOML(name, data)
	}
	return nil, fmt.Errorf("config: %s: the configuration file must end in .yaml, .yml or .toml", name)
}

func readYAML(name string, data []byte) (*document, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %s", name, yaml.FormatError(err, false, false))
	}
	var v any
	if err := yaml.UnmarshalWithOptions(data, &v, yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("config: %s: %s", name, yaml.FormatError(err, false, false))
	}
	root, err := fromValue(v)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	return &document{name: name, root: root, line: func(path []any) int { return yamlKeyLine(f, path) }}, nil
}

func readTOML(name string, data []byte) (*document, error) {
	var v map[string]any
	if _, err := toml.Decode(string(data), &v); err != nil {
		// The library's message quotes the text it could not read, which
		// may be a secret written without quotes: say where, not what.
		var pe toml.ParseError
		if errors.As(err, &pe) {
			where := ""
			if pe.LastKey != "" {
				where = fmt.Sprintf(" after key %q", pe.LastKey)
			}
			return nil, fmt.Errorf("config: %s:%d: TOML syntax error%s (is a string value missing its quotes?)", name, pe.Position.Line, where)
		}
		return nil, fmt.Errorf("config: %s: TOML syntax error", name)
	}
	root, err := fromValue(v)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	// BurntSushi/toml keeps the position of keys to itself.
	return &document{name: name, root: root, line: func([]any) int { return 0 }}, nil
}

// fromValue turns what the YAML or TOML decoder produced into a node.
func fromValue(v any) (*node, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case yaml.MapSlice:
		n := &node{isMap: true}
		for _, it := range v {
			val, err := fromValue(it.Value)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: fmt.Sprint(it.Key), val: val})
		}
		return n, nil
	case map[string]any:
		n := &node{isMap: true}
		for _, k := range slices.Sorted(mapKeys(v)) {
			val, err := fromValue(v[k])
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, val: val})
		}
		return n, nil
	case []map[string]any: // a TOML array of tables
		n := &node{}
		for _, m := range v {
			item, _ := fromValue(m)
			n.items = append(n.items, item)
		}
		return n, nil
	case []any:
		n := &node{}
		for _, x := range v {
			item, err := fromValue(x)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		}
		return n, nil
	case string, bool, int, int64, uint64, float64:
		s := fmt.Sprint(v)
		return &node{scalar: &s}, nil
	}
	return nil, fmt.Errorf("unsupported value of type %T (write it as a string)", v)
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// yamlKeyLine finds the line of the key at path in the YAML syntax tree.
func yamlKeyLine(f *ast.File, path []any) int {
	if len(f.Docs) == 0 || len(path) == 0 {
		return 0
	}
	parent := f.Docs[0].Body
	if len(path) > 1 {
		b := (&yaml.PathBuilder{}).Root()
		for _, p := range path[:len(path)-1] {
			switch p := p.(type) {
			case string:
				b = b.Child(p)
			case int:
				b = b.Index(uint(p))
			}
		}
		n, err := b.Build().FilterFile(f)
		if err != nil {
			return 0
		}
		parent = n
	}
	for {
		switch n := parent.(type) {
		case *ast.AnchorNode:
			parent = n.Value
			continue
		case *ast.TagNode:
			parent = n.Value
			continue
		}
		break
	}
	var pairs []*ast.MappingValueNode
	switch n := parent.(type) {
	case *ast.MappingNode:
		pairs = n.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{n}
	}
	key, _ := path[len(path)-1].(string)
	for _, p := range pairs {
		if p.Key != nil && p.Key.GetToken() != nil && p.Key.GetToken().Value == key {
			return p.Key.GetToken().Position.Line
		}
	}
	return 0
}
