package web

import (
	"net/http"
	"net/url"
	"slices"

	"unid/internal/i18n"
)

// The user center (账号设置) is a set of sections, each at
// /settings/<name>: a page of the page table named settings_<name>, its
// template settings_<name>.html (which shows the "settings-nav" partial
// above its own content) and its script settings_<name>.js, with the
// messages page.settings.<name>.title and page.settings.<name>.desc. A
// section is listed here only once it works: the user center never shows
// one that does not, and with none the personal space's tile stays
// "coming soon".
var settingsSections = []string{"profile", "realname", "password", "phone", "email", "questions", "links", "addresses", "sessions", "closure"}

// hasSection says whether section is shown: 账号绑定 (links) only where
// some provider outside unid is configured.
func (p *Pages) hasSection(section string) bool {
	return slices.Contains(settingsSections, section) && (section != "links" || len(p.upstreams()) > 0)
}

// sampleMe is the signed-in user of the user-center pages' start-up dry run.
var sampleMe = &Me{LoginName: "sample", Phone: "138****0000", IDNumber: "3701**********0000", RealName: "*三", Email: "s***@example.com", Nickname: "sample", WorkUnit: "sample", RealnameLevel: 1}

// settingsData is what every user-center page receives: the signed-in
// user, the sections for the navigation, and the page's own data.
type settingsData struct {
	Me       *Me
	Sections []sectionLink
	Current  string // the section shown; "" on the index
}

// sectionLink is one entry of the user center's navigation.
type sectionLink struct {
	Name, Href, Title, Desc string
	Current                 bool
}

func settingsPage(section string) string { return "settings_" + section }

// settingsKeys lists the messages of the navigation.
func settingsKeys() []string {
	var keys []string
	for _, s := range settingsSections {
		keys = append(keys, "page.settings."+s+".title", "page.settings."+s+".desc")
	}
	return keys
}

func (p *Pages) settingsData(lang i18n.Lang, me *Me, current string) settingsData {
	d := settingsData{Me: me, Current: current}
	for _, s := range settingsSections {
		if !p.hasSection(s) {
			continue
		}
		d.Sections = append(d.Sections, sectionLink{
			Name: s, Href: "/settings/" + s, Current: s == current,
			Title: p.cat.T(lang, "page.settings."+s+".title"), Desc: p.cat.T(lang, "page.settings."+s+".desc"),
		})
	}
	return d
}

// Settings serves the user center's index (GET /settings), and
// SettingsSection one of its sections (GET /settings/{section}); a visitor
// who is not signed in goes to the login page and comes back.
func (p *Pages) Settings(w http.ResponseWriter, r *http.Request) {
	p.settings(w, r, "")
}

// SettingsSection serves GET /settings/{section}.
func (p *Pages) SettingsSection(w http.ResponseWriter, r *http.Request) {
	section := r.PathValue("section")
	if !p.hasSection(section) {
		p.NotFound(w, r)
		return
	}
	p.settings(w, r, section)
}

func (p *Pages) settings(w http.ResponseWriter, r *http.Request, section string) {
	if len(settingsSections) == 0 {
		p.NotFound(w, r)
		return
	}
	lang := p.lang(w, r)
	me, ok := p.me(r)
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		// The query comes along: /settings/realname?next=… is where a
		// service system sent the user for a higher level.
		next := r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			next = url.QueryEscape(next + "?" + r.URL.RawQuery)
		}
		http.Redirect(w, r, "/login?next="+next, http.StatusSeeOther)
		return
	}
	switch section {
	case "":
		p.render(w, r, lang, 0, pageSettings, p.settingsData(lang, me, section))
	case "links":
		p.render(w, r, lang, 0, settingsPage(section), p.linksData(lang, me, r.URL.Query()))
	case "realname":
		p.render(w, r, lang, 0, settingsPage(section), p.realnameData(lang, me, r.URL.Query().Get("next"), r.URL.Query().Get("level")))
	default:
		p.render(w, r, lang, 0, settingsPage(section), p.settingsData(lang, me, section))
	}
}
