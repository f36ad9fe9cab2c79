package web

import (
	"net/http"

	"unid/internal/i18n"
)

// RecoverMethods are the ways of proof the recovery page offers, in order
// (recovery.Service.Methods); each has the messages
// page.recover.method.<name> and page.recover.method.<name>_hint.
type RecoverMethods func() []string

// recoverData is what the password recovery page shows.
type recoverData struct {
	Methods  []recoverMethod
	WithCode bool // questions need a code as well
	// Upstreams are the providers that can prove the person instead
	// (快捷方式找回); Unlinked says the one just used is bound to no
	// account, Error why using it failed.
	Upstreams []upstreamLink
	Unlinked  bool
	Error     string
}

type recoverMethod struct {
	Name, Label, Hint string
	First             bool
}

const pageRecover = "recover"

// recoverMethodNames lists the methods any recovery page may show, for the
// start-up check of their messages.
var recoverMethodNames = []string{"phone", "questions", "email"}

func recoverKeys() []string {
	var keys []string
	for _, m := range recoverMethodNames {
		keys = append(keys, "page.recover.method."+m, "page.recover.method."+m+"_hint")
	}
	return keys
}

func (p *Pages) recoverData(lang i18n.Lang, methods []string, withCode bool) recoverData {
	d := recoverData{WithCode: withCode}
	for i, m := range methods {
		d.Methods = append(d.Methods, recoverMethod{Name: m, First: i == 0,
			Label: p.cat.T(lang, "page.recover.method."+m), Hint: p.cat.T(lang, "page.recover.method."+m+"_hint")})
	}
	return d
}

// Recover serves the password recovery page (找回密码), which the login
// page's "忘记密码" and every message about a lock lead to.
func (p *Pages) Recover(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	var methods []string
	if p.o.RecoverMethods != nil {
		methods = p.o.RecoverMethods()
	}
	d := p.recoverData(lang, methods, p.o.RecoverWithCode)
	d.Upstreams = p.upstreamLinks(lang, "recover", "", "page.recover.upstream")
	d.Unlinked = r.URL.Query().Get("upstream") == "unlinked"
	d.Error = p.upstreamError(lang, r.URL.Query().Get("upstream_error"))
	p.render(w, r, lang, 0, pageRecover, d)
}
