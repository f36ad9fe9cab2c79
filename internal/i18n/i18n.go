package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a language unid speaks, as a BCP 47 tag.
type Lang string

// The languages of unid. ZH is the default.
const (
	ZH Lang = "zh-CN"
	EN Lang = "en"
)

// Langs lists every supported language, the default first.
var Langs = []Lang{ZH, EN}

// CookieName is the cookie that remembers the language a user chose. The
// pages set it; the pages and the JSON API read it through Negotiate.
const CookieName = "unid_lang"

// Parse returns the supported language named by the BCP 47 tag s: any
// Chinese ("zh-CN", "zh", "zh-Hans") is ZH, any English ("en", "en-US") is
// EN; anything else is not supported.
func Parse(s string) (Lang, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 35 {
		return "", false
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	switch base, conf := t.Base(); {
	case conf != language.Exact:
		return "", false
	case base.String() == "zh":
		return ZH, true
	case base.String() == "en":
		return EN, true
	}
	return "", false
}

//go:embed messages
var messagesFS embed.FS

// Catalog holds every message of every language. It is read-only after Load
// and safe for concurrent use.
type Catalog struct {
	msgs map[Lang]map[string]string
}

// Load reads the embedded catalog and checks that it is complete.
func Load() (*Catalog, error) {
	sub, err := fs.Sub(messagesFS, "messages")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	return load(sub)
}

// load reads <lang>/*.json from fsys for every supported language.
func load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{msgs: make(map[Lang]map[string]string, len(Langs))}
	var errs []error
	for _, lang := range Langs {
		files, err := fs.Glob(fsys, string(lang)+"/*.json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		if len(files) == 0 {
			errs = append(errs, fmt.Errorf("i18n: no message files for %s", lang))
		}
		m := make(map[string]string)
		from := make(map[string]string) // key → file, to name duplicates
		for _, name := range files {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			var file map[string]string
			if err := json.Unmarshal(data, &file); err != nil {
				errs = append(errs, fmt.Errorf("i18n: %s: %w", name, err))
				continue
			}
			for k, v := range file {
				if prev, dup := from[k]; dup {
					errs = append(errs, fmt.Errorf("i18n: key %q is in both %s and %s", k, prev, path.Base(name)))
					continue
				}
				from[k] = path.Base(name)
				m[k] = v
			}
		}
		c.msgs[lang] = m
	}
	// Every key must exist in every language.
	for _, lang := range Langs {
		for _, other := range Langs {
			if other == lang {
				continue
			}
			for _, k := range sortedKeys(c.msgs[lang]) {
				if _, ok := c.msgs[other][k]; !ok {
					errs = append(errs, fmt.Errorf("i18n: key %q is in %s but not in %s", k, lang, other))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// T returns the message key in lang with its {name} placeholders replaced
// from kv, given as name, value pairs. A message missing in lang falls back
// to Chinese, then to the key itself, so that a gap shows up as a visible key
// rather than as an empty page.
func (c *Catalog) T(lang Lang, key string, kv ...string) string {
	msg, ok := c.msgs[lang][key]
	if !ok {
		msg, ok = c.msgs[ZH][key]
	}
	if !ok {
		return key
	}
	if len(kv) < 2 || !strings.Contains(msg, "{") {
		return msg
	}
	pairs := make([]string, 0, len(kv)&^1)
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// With returns a copy of the catalog in which the messages of lang named
// in overrides (key → text) are replaced: the wording a deployment
// configures, such as its names of the real-name levels. A key the catalog
// does not hold is an error, so that a typo cannot go unnoticed.
func (c *Catalog) With(lang Lang, overrides map[string]string) (*Catalog, error) {
	out := &Catalog{msgs: make(map[Lang]map[string]string, len(c.msgs))}
	for l, m := range c.msgs {
		out.msgs[l] = m
	}
	m := maps.Clone(c.msgs[lang])
	if m == nil {
		return nil, fmt.Errorf("i18n: no language %q", lang)
	}
	for k, v := range overrides {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("i18n: no message %q to replace", k)
		}
		m[k] = v
	}
	out.msgs[lang] = m
	return out, nil
}

// Has reports whether key is in the catalog.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[ZH][key]
	return ok
}

// Keys returns every key of the catalog, sorted.
func (c *Catalog) Keys() []string { return sortedKeys(c.msgs[ZH]) }

// matcher maps Accept-Language tags onto the supported languages, in the
// order of Langs.
var matcher = language.NewMatcher([]language.Tag{
	language.SimplifiedChinese, // the first tag is the default
	language.English,
})

// Negotiate returns the language for r: the ?lang= query parameter, then the
// unid_lang cookie, then Accept-Language, then Chinese.
func Negotiate(r *http.Request) Lang {
	if l, ok := Parse(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if l, ok := Parse(c.Value); ok {
			return l
		}
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

func fromAcceptLanguage(header string) Lang {
	if header == "" {
		return ZH
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return ZH
	}
	// Chinese in any script or region counts as Simplified Chinese: left to
	// itself the matcher ranks zh-TW below a later "en" as a poor script
	// match, but a reader of Traditional Chinese reads Simplified Chinese far
	// better than English.
	for i, t := range tags {
		if base, _ := t.Base(); base.String() == "zh" {
			tags[i] = language.SimplifiedChinese
		}
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No || i < 0 {
		return ZH
	}
	return Langs[i]
}

type langKey struct{}

// NewContext returns ctx carrying lang, the language of the request that
// ctx serves, so that what the request causes away from the page (an email)
// speaks the same language.
func NewContext(ctx context.Context, lang Lang) context.Context {
	return context.WithValue(ctx, langKey{}, lang)
}

// FromContext returns the language NewContext put in ctx, or ZH.
func FromContext(ctx context.Context) Lang {
	if l, ok := ctx.Value(langKey{}).(Lang); ok {
		return l
	}
	return ZH
}
