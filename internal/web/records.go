package web

import (
	"net/http"

	"unid/internal/i18n"
	"unid/internal/records"
)

// RecordSystem is one choice of a records list's system filter.
type RecordSystem struct {
	ID   string // client id, or records.UnidSystem
	Name string
}

// recordsData is what the page of one kind of records (/me/cases,
// /me/consultations, /me/messages, /me/complaints, /me/favorites)
// receives; records.js loads the list from GET /api/v1/records/{kind}.
type recordsData struct {
	Me    *Me
	Kind  string // cases, consultations, …
	Title string
	Intro string
	Panel recordPanel
}

// recordPanel is one list of records with its filters, on a page of the
// personal space or on an enterprise's page. Its texts are in the page's
// language already: the same partial serves both pages.
type recordPanel struct {
	Prefix    string // element ids: <Prefix>-list, <Prefix>-more, …
	API       string // GET API lists; API/{id} is the detail
	Kind      string
	Personal  bool // the person's own: unread marks, mark read
	Removable bool // favorites: a remove button on each
	Statuses  []option
	Systems   []option
	L         map[string]string // labels, by the last part of page.records.panel.<name>
}

// option is one choice of a select.
type option struct {
	Value, Label string
}

// panelLabels are the texts of a panel (page.records.panel.<name>).
var panelLabels = []string{"status", "status_any", "system", "system_any", "from", "to", "search", "search_hint",
	"apply", "reset", "more", "read_all", "filters"}

// recordsKeys lists the messages the records pages build in Go.
func recordsKeys() []string {
	keys := records.StatusKeys()
	for _, k := range records.Kinds {
		keys = append(keys, "page.records."+k.Plural+".title", "page.records."+k.Plural+".intro", "page.records."+k.Plural+".empty")
	}
	for _, l := range panelLabels {
		keys = append(keys, "page.records.panel."+l)
	}
	return keys
}

// recordPanel builds the panel of kind for lang; systems are the choices
// of the system filter.
func (p *Pages) recordPanel(lang i18n.Lang, prefix, api string, k records.Kind, personal bool, systems []RecordSystem) recordPanel {
	pn := recordPanel{Prefix: prefix, API: api, Kind: k.Plural, Personal: personal,
		Removable: personal && k.Plural == "favorites", L: map[string]string{}}
	for _, st := range k.Statuses {
		pn.Statuses = append(pn.Statuses, option{Value: st, Label: p.cat.T(lang, records.StatusLabel(k.Kind, st))})
	}
	for _, s := range systems {
		pn.Systems = append(pn.Systems, option{Value: s.ID, Label: s.Name})
	}
	for _, l := range panelLabels {
		pn.L[l] = p.cat.T(lang, "page.records.panel."+l)
	}
	pn.L["empty"] = p.cat.T(lang, "page.records."+k.Plural+".empty")
	return pn
}

func (p *Pages) recordsData(lang i18n.Lang, me *Me, k records.Kind, systems []RecordSystem) recordsData {
	return recordsData{
		Me: me, Kind: k.Plural,
		Title: p.cat.T(lang, "page.records."+k.Plural+".title"),
		Intro: p.cat.T(lang, "page.records."+k.Plural+".intro"),
		Panel: p.recordPanel(lang, "records", "/api/v1/records/"+k.Plural, k, true, systems),
	}
}

// recordSystems returns the choices of the system filter of a kind; a
// failure is logged and leaves the filter out.
func (p *Pages) recordSystems(r *http.Request, lang i18n.Lang, plural string) []RecordSystem {
	if p.o.RecordSystems == nil {
		return nil
	}
	s, err := p.o.RecordSystems(r, lang, plural)
	if err != nil {
		p.log.ErrorContext(r.Context(), "record systems", "err", err)
		return nil
	}
	return s
}

// unread returns how many records of each kind the user has unread; a
// failure is logged and shows no counts.
func (p *Pages) unread(r *http.Request, userID string) map[string]int {
	if p.o.Unread == nil {
		return nil
	}
	n, err := p.o.Unread(r, userID)
	if err != nil {
		p.log.ErrorContext(r.Context(), "unread records", "err", err)
		return nil
	}
	return n
}

// Records returns the handler of the page of the kind plural (GET
// /me/{plural}); a visitor who is not signed in goes to the login page,
// to come back here afterwards.
func (p *Pages) Records(plural string) http.HandlerFunc {
	k, ok := records.ByPlural(plural)
	return func(w http.ResponseWriter, r *http.Request) {
		if !ok {
			p.NotFound(w, r)
			return
		}
		lang := p.lang(w, r)
		me, signed := p.me(r)
		if !signed {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, "/login?next=/me/"+k.Plural, http.StatusSeeOther)
			return
		}
		p.render(w, r, lang, 0, recordsPage(k.Plural), p.recordsData(lang, me, k, p.recordSystems(r, lang, k.Plural)))
	}
}

// recordsPage is the name of the page of a kind of records.
func recordsPage(plural string) string { return "records_" + plural }

// recordsPages are the pages of the kinds of records, one template.
func recordsPages() []page {
	var out []page
	for _, k := range records.Kinds {
		out = append(out, page{
			name: recordsPage(k.Plural), template: "records", title: "page.records." + k.Plural + ".title",
			script: "records.js", noEcho: true, keys: recordsKeys,
			sample: func(p *Pages, lang i18n.Lang) any {
				return p.recordsData(lang, sampleMe, k, []RecordSystem{{ID: records.UnidSystem, Name: "统一身份认证平台"}, {ID: "hall", Name: "网上办事大厅"}})
			},
		})
	}
	return out
}
