package web

import (
	"embed"
	"strings"

	"unid/internal/i18n"
)

// Site is what the pages say about the platform that runs them: its name,
// where to get help, and the texts a person agrees to before registering.
// Every field is optional; an empty one takes the default shipped with unid.
type Site struct {
	// PlatformName is the name in the header, the footer and every page
	// title, per language (default: the catalog's page.site.name,
	// "统一身份认证平台" / "Unified Identity Authentication").
	PlatformName map[i18n.Lang]string
	// HelpURL is the help page the footer links to; none when empty.
	HelpURL string
	// Hotline is the service telephone number the footer shows; none when
	// empty.
	Hotline string
	// PrivacyNotice and UserAgreement are the texts of /privacy and
	// /terms, per language: paragraphs separated by blank lines, a line
	// starting with "## " a heading. Defaults: site/privacy.<lang>.txt and
	// site/terms.<lang>.txt.
	PrivacyNotice map[i18n.Lang]string
	UserAgreement map[i18n.Lang]string
}

//go:embed site
var siteFS embed.FS

// defaultText returns the embedded default site/<name>.<lang>.txt.
func defaultText(name string, lang i18n.Lang) string {
	b, err := siteFS.ReadFile("site/" + name + "." + string(lang) + ".txt")
	if err != nil {
		return ""
	}
	return string(b)
}

// platformName is the platform's name in lang.
func (p *Pages) platformName(lang i18n.Lang) string {
	if n := p.o.Site.PlatformName[lang]; n != "" {
		return n
	}
	return p.cat.T(lang, "page.site.name")
}

// siteText returns the configured text in lang, or the default.
func siteText(texts map[i18n.Lang]string, name string, lang i18n.Lang) string {
	if t := texts[lang]; strings.TrimSpace(t) != "" {
		return t
	}
	return defaultText(name, lang)
}

// block is one paragraph or heading of a document page.
type block struct {
	Heading bool
	Text    string
}

// blocks splits a site text into paragraphs and "## " headings.
func blocks(text string) []block {
	var out []block
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		if h, ok := strings.CutPrefix(para, "## "); ok && !strings.Contains(h, "\n") {
			out = append(out, block{Heading: true, Text: h})
			continue
		}
		out = append(out, block{Text: para})
	}
	return out
}
