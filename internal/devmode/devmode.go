package devmode

import (
	"bytes"
	_ "embed"
	"html/template"
	"net"
	"net/http"
	"strings"

	"unid/internal/captcha"
	esandbox "unid/internal/enterprise/sandbox"
	"unid/internal/httpx"
	"unid/internal/notify"
	"unid/internal/realname/sandbox"
	"unid/internal/upstream/alipay/alipaydev"
)

//go:embed index.html
var indexHTML string

// Deps are what the dev pages show and how they answer.
type Deps struct {
	Outbox   *notify.Outbox
	Captchas *captcha.Service // created with captcha.Options.Recent for the index
	// Fail answers an error in the JSON API's shape (httpx.Responder.Fail).
	Fail func(http.ResponseWriter, *http.Request, error)
	// NotFound is the site's 404, given to requests from elsewhere.
	NotFound http.HandlerFunc
	// TestPeople are the sandbox verifier's fictitious people, listed so
	// that a developer can reach each real-name level; nil when the
	// sandbox is not the verifier.
	TestPeople []sandbox.Person
	// TestEnterprises are the sandbox registry's fictitious enterprises;
	// nil when the sandbox is not the registry.
	TestEnterprises []esandbox.Enterprise
	// AlipayUsers are the fake Alipay's fictitious users; nil when a real
	// Alipay application is configured.
	AlipayUsers []alipaydev.User
}

// Pages serves everything under /dev/.
type Pages struct {
	d     Deps
	mux   *http.ServeMux
	index *template.Template
}

// New returns the dev pages; it fails if the index template does not parse.
func New(d Deps) (*Pages, error) {
	index, err := template.New("index").Parse(indexHTML)
	if err != nil {
		return nil, err
	}
	p := &Pages{d: d, mux: http.NewServeMux(), index: index}
	p.mux.HandleFunc("GET /dev/{$}", p.serveIndex)
	p.mux.HandleFunc("GET /dev/outbox.json", p.outbox)
	p.mux.HandleFunc("GET /dev/captchas/{id}", p.captcha)
	p.mux.HandleFunc("/", d.NotFound)
	return p, nil
}

// ServeHTTP answers requests made on this machine, and 404 to all others.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !Local(r) {
		p.d.NotFound(w, r)
		return
	}
	p.mux.ServeHTTP(w, r)
}

// forwarding are the headers a reverse proxy adds; their presence means the
// request came from elsewhere, whatever its Host says.
var forwarding = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP"}

// Local reports whether r was made on this machine: from a loopback
// address, to a loopback Host, not through a proxy.
func Local(r *http.Request) bool {
	for _, h := range forwarding {
		if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			return false
		}
	}
	return loopback(r.Host) && loopback(r.RemoteAddr)
}

// loopback reports whether hostport (a Host header or an address, with or
// without a port) names this machine.
func loopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *Pages) serveIndex(w http.ResponseWriter, r *http.Request) {
	captchas, err := p.d.Captchas.Recent(r.Context())
	if err != nil {
		p.d.Fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := p.index.Execute(&buf, map[string]any{"Messages": p.d.Outbox.List(), "Captchas": captchas, "People": p.d.TestPeople, "Enterprises": p.d.TestEnterprises, "AlipayUsers": p.d.AlipayUsers}); err != nil {
		p.d.Fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	_, _ = buf.WriteTo(w)
}

func (p *Pages) outbox(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"messages": p.d.Outbox.List()})
}

func (p *Pages) captcha(w http.ResponseWriter, r *http.Request) {
	answer, err := p.d.Captchas.Answer(r.Context(), r.PathValue("id"))
	if err != nil {
		p.d.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id"), "answer": answer})
}
