package pagekit

import (
	"html/template"
	"strings"
	"testing"
	"text/template/parse"
)

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"gzip": true, "gzip, deflate, br": true, "br;q=1.0, GZIP;q=0.5": true,
		"": false, "identity": false, "gzip;q=0": false, "deflate, gzip; q=0.0": false, "x-gzip": false,
	}
	for h, want := range tests {
		if got := AcceptsGzip(h); got != want {
			t.Errorf("AcceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestKeysFindsEveryConstantKey checks the walk behind the start-up check
// that stops a template using a key the catalog lacks.
func TestKeysFindsEveryConstantKey(t *testing.T) {
	src := `{{define "x"}}{{.T "a.one"}}{{if .X}}{{$.T "a.two" "n" "1"}}{{else}}{{range .Y}}{{$.T "a.three"}}{{end}}{{end}}` +
		`{{with .Z}}{{template "y" ($.T "a.four")}}{{end}}{{.T .Dynamic}}{{.Other "not.a.key"}}{{end}}`
	trees, err := parse.Parse("x", src, "{{", "}}", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Keys(trees["x"].Root, func(k string) { got = append(got, k) })
	want := []string{"a.one", "a.two", "a.three", "a.four"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v, want %v", got, want)
	}
}

func TestMissingMessages(t *testing.T) {
	tpl := template.Must(template.New("page").Parse(`{{define "layout"}}{{.T "a.known"}}{{template "content" .}}{{end}}` +
		`{{define "content"}}{{range .X}}{{$.T "a.missing"}}{{end}}{{end}}`))
	has := func(k string) bool { return k == "a.known" }
	err := MissingMessages(tpl, has)
	if err == nil || !strings.Contains(err.Error(), `template "content" uses message "a.missing"`) || strings.Contains(err.Error(), "a.known") {
		t.Errorf("MissingMessages = %v, want only a.missing in content", err)
	}
	if err := MissingMessages(tpl, func(string) bool { return true }); err != nil {
		t.Errorf("MissingMessages with every key known = %v", err)
	}
}
