package web

import (
	"net/http"
	"net/url"
	"strings"

	"unid/internal/i18n"
	"unid/internal/records"
)

// Membership is one enterprise the signed-in user holds a live role in,
// as the pages need it: the personal space shows 进入企业空间 when there is
// any, and an enterprise's page is shown to its members only.
type Membership struct {
	USCC string // unified social credit code, upper case
	Name string // the enterprise's name
	Role string // legal_rep, admin or handler
}

// The roles of internal/enterprise, as the pages show them. The API judges
// every action; the pages only leave out the areas a role cannot use.
const (
	roleLegalRep = "legal_rep"
	roleAdmin    = "admin"
	roleHandler  = "handler"
)

// enterpriseRoles are the roles the pages name, strongest first.
var enterpriseRoles = []string{roleLegalRep, roleAdmin, roleHandler}

// enterpriseKeys lists the role names the enterprise pages build in Go.
func enterpriseKeys() []string {
	var keys []string
	for _, r := range enterpriseRoles {
		keys = append(keys, "page.enterprise.role."+r)
	}
	keys = append(keys, "page.enterprise.one.records_all", "page.enterprise.one.records_own")
	for _, k := range records.Kinds {
		if k.Enterprise {
			keys = append(keys, "page.enterprise.one.records_"+k.Plural, "page.enterprise.one.records_"+k.Plural+"_empty")
		}
	}
	return append(keys, recordsKeys()...)
}

// enterprisesData is what the enterprise space (/enterprise) receives;
// enterprise.js loads the lists from GET /api/v1/enterprises.
type enterprisesData struct {
	Me *Me
}

// enterpriseData is what the page of one enterprise (/enterprise/{uscc})
// receives: the enterprise and the user's role in it, which decide the
// areas shown; enterprise_one.js loads members and pending items.
type enterpriseData struct {
	Me        *Me
	USCC      string
	Name      string
	Role      string
	RoleName  string
	Authorize bool // the authorization area: legal representative or administrator
	LegalRep  bool // unbinding the enterprise; a legal representative cannot leave
	// Labels are the deployment's permission labels (财务, 人事 …) a
	// handler may carry: checkboxes of the grant form and the decisions.
	Labels []string
	// Records are the enterprise's cases and consultations: all of them
	// for the legal representative and administrators, a handler's own
	// (RecordsIntro says which).
	Records      []recordPanel
	RecordsIntro string
}

func (p *Pages) enterpriseData(lang i18n.Lang, me *Me, m Membership, labels []string, systems func(plural string) []RecordSystem) enterpriseData {
	d := enterpriseData{
		Me: me, USCC: m.USCC, Name: m.Name, Role: m.Role,
		RoleName:  p.cat.T(lang, "page.enterprise.role."+m.Role),
		Authorize: m.Role == roleLegalRep || m.Role == roleAdmin,
		LegalRep:  m.Role == roleLegalRep,
		Labels:    labels,
	}
	d.RecordsIntro = p.cat.T(lang, "page.enterprise.one.records_all")
	if m.Role == roleHandler {
		d.RecordsIntro = p.cat.T(lang, "page.enterprise.one.records_own")
	}
	for _, k := range records.Kinds {
		if k.Enterprise {
			api := "/api/v1/enterprises/" + url.PathEscape(m.USCC) + "/records/" + k.Plural
			pn := p.recordPanel(lang, "ent-"+k.Plural, api, k, false, systems(k.Plural))
			pn.L["heading"] = p.cat.T(lang, "page.enterprise.one.records_"+k.Plural)
			pn.L["empty"] = p.cat.T(lang, "page.enterprise.one.records_"+k.Plural+"_empty")
			d.Records = append(d.Records, pn)
		}
	}
	return d
}

func (p *Pages) enterpriseLabels() []string {
	if p.o.EnterpriseLabels == nil {
		return nil
	}
	return p.o.EnterpriseLabels()
}

// memberships returns the signed-in user's live memberships; a failure is
// logged and reads as none.
func (p *Pages) memberships(r *http.Request, me *Me) []Membership {
	if p.o.Enterprises == nil {
		return nil
	}
	ms, err := p.o.Enterprises(r, me.ID)
	if err != nil {
		p.log.ErrorContext(r.Context(), "enterprise memberships", "err", err)
		return nil
	}
	return ms
}

// Enterprises serves the enterprise space (GET /enterprise), or sends a
// visitor who is not signed in to the login page.
func (p *Pages) Enterprises(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	me, ok := p.me(r)
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/login?next=/enterprise", http.StatusSeeOther)
		return
	}
	p.render(w, r, lang, 0, pageEnterprises, enterprisesData{Me: me})
}

// Enterprise serves the page of one enterprise (GET /enterprise/{uscc}) to
// its members. Anyone else gets the ordinary not-found page, the same for
// an enterprise that exists and one that does not.
func (p *Pages) Enterprise(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	uscc := strings.ToUpper(r.PathValue("uscc"))
	me, ok := p.me(r)
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/login?next="+url.QueryEscape("/enterprise/"+url.PathEscape(uscc)), http.StatusSeeOther)
		return
	}
	for _, m := range p.memberships(r, me) {
		if m.USCC == uscc {
			systems := func(plural string) []RecordSystem { return p.recordSystems(r, lang, plural) }
			p.render(w, r, lang, 0, pageEnterprise, p.enterpriseData(lang, me, m, p.enterpriseLabels(), systems))
			return
		}
	}
	p.NotFound(w, r)
}
