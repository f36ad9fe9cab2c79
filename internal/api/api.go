// Package api is the JSON API under /api/v1/ that the web pages and the
// mobile app use. Each handler decodes one request, calls one flow or domain
// service, and encodes its answer; problems become the one error shape in
// respond.go. The routes are listed in Routes and described by the OpenAPI
// document served at /api/openapi.json (a test keeps the two in step).
package api

import (
	"bytes"
	"context"
	"embed"
	"encoding/hex"
	"net/http"
	"time"

	"unid/internal/account"
	"unid/internal/address"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/enterprise"
	"unid/internal/export"
	"unid/internal/flow"
	"unid/internal/flow/emailbind"
	"unid/internal/flow/login"
	"unid/internal/flow/profile"
	"unid/internal/flow/recovery"
	"unid/internal/flow/registration"
	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/questions"
	"unid/internal/ratelimit"
	"unid/internal/realname"
	"unid/internal/records"
	"unid/internal/session"
	"unid/internal/store"
	"unid/internal/upstream"
)

//go:embed openapi.json
var openAPIBase []byte

// openAPIParts are further parts of the document, one file per area (the
// operator API's sections), merged into the base at start: their paths
// and component schemas join the base's, and a name defined twice is an
// error that stops unid from starting.
//
//go:embed openapi/*.json
var openAPIParts embed.FS

// openAPI is the whole document, as /api/openapi.json serves it.
var openAPI = mustMergeOpenAPI(openAPIBase, openAPIParts)

// Deps are the services the API adapts.
type Deps struct {
	Responder    *httpx.Responder
	Guard        *httpx.Guard
	TrustProxy   bool
	Captchas     *captcha.Service
	Limiter      *ratelimit.Limiter
	CaptchaRate  int // captchas per client address per minute
	Registration *registration.Service
	Login        *login.Service
	Sessions     *session.Manager
	Users        store.Users
	Protector    *account.Protector
	Audit        *audit.Log
	Consents     Consents
	AuditLog     store.AuditLog // read back for a person's own history
	Accounts     *account.Service
	Profile      *profile.Service // the user center's password and phone changes, re-authentication
	Addresses    *address.Service
	Recovery     *recovery.Service
	Questions    *questions.Service
	EmailBind    *emailbind.Service
	Export       *export.Service // the person's download of their data
	Realname     *realname.Service
	Enterprise   *enterprise.Service // the enterprise space
	Now          func() time.Time

	Records *records.Service // the person's and the enterprises' records (我的办件 … 我的收藏)

	// Upstream signs people in through Alipay and OpenID providers; nil:
	// none is configured and the endpoints are not served.
	Upstream *upstream.Service
	// SecureCookies marks cookies Secure with the __Host- prefix (HTTPS).
	SecureCookies bool

	Enterprises Enterprises // whom a session may act for in single sign-on; nil: nobody acts for any enterprise
}

// API serves the JSON API.
type API struct {
	Deps
	*httpx.Responder
}

// New returns the API over d.
func New(d Deps) *API {
	return &API{Deps: d, Responder: d.Responder}
}

// Routes lists every endpoint of the API.
func (a *API) Routes() []httpx.Route {
	routes := []httpx.Route{
		{Pattern: "GET /api/openapi.json", Handler: a.openAPI},
		{Pattern: "POST /api/v1/captchas", Handler: a.createCaptcha},
		{Pattern: "GET /api/v1/captchas/{id}/image", Handler: a.captchaImage},
		{Pattern: "GET /api/v1/captchas/{id}/audio", Handler: a.captchaAudio},
		{Pattern: "POST /api/v1/sms-codes", Handler: a.sendSMSCode},
		{Pattern: "POST /api/v1/users", Handler: a.register},
		{Pattern: "POST /api/v1/sessions", Handler: a.createSession},
		{Pattern: "DELETE /api/v1/sessions/current", Handler: a.deleteSession},
		{Pattern: "GET /api/v1/me", Handler: a.Guard.SignedIn(a.me)},
		{Pattern: "GET /api/v1/consents", Handler: a.Guard.SignedIn(a.listConsents)},
		{Pattern: "POST /api/v1/consents", Handler: a.Guard.SignedIn(a.answerConsent)},
		{Pattern: "DELETE /api/v1/consents/{client_id}", Handler: a.Guard.SignedIn(a.revokeConsent)},
	}
	routes = append(routes, a.sessionRoutes()...)
	routes = append(routes, a.profileRoutes()...)
	routes = append(routes, a.addressRoutes()...)
	routes = append(routes, a.questionsRoutes()...)
	routes = append(routes, a.recoveryRoutes()...)
	routes = append(routes, a.emailRoutes()...)
	routes = append(routes, a.closureRoutes()...)
	routes = append(routes, a.messageRoutes()...)
	routes = append(routes, a.recordRoutes()...)
	routes = append(routes, a.realnameRoutes()...)
	routes = append(routes, a.enterpriseRoutes()...)
	routes = append(routes, a.actingRoutes()...)
	routes = append(routes, a.upstreamRoutes()...)
	return routes
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

type captchaJSON struct {
	ID        string    `json:"id"`
	ImageURL  string    `json:"image_url"`
	AudioURL  string    `json:"audio_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// captchaAllowed counts one captcha of kind ("image" to create one,
// "audio" to hear one) against the client address's per-minute limit, and
// answers the request when the limit is reached. Audio is counted apart: it
// costs more to make than an image, and is what an attacker would fetch
// instead once images are limited.
func (a *API) captchaAllowed(w http.ResponseWriter, r *http.Request, kind string) bool {
	ip := a.client(r).IP
	rule := ratelimit.Rule{Key: "captcha-" + kind + "-ip:" + hex.EncodeToString(a.Protector.MAC("captcha-ip", []byte(ratelimit.Address(ip)))), Limit: int64(a.CaptchaRate), Window: time.Minute}
	wait, err := a.Limiter.Allow(r.Context(), a.Now(), rule)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return false
	}
	if wait > 0 {
		a.Fail(w, r, &problem.Problem{Kind: problem.TooMany, Code: "captcha_rate_limited", RetryAfter: wait})
		return false
	}
	return true
}

func (a *API) createCaptcha(w http.ResponseWriter, r *http.Request) {
	if !a.captchaAllowed(w, r, "image") {
		return
	}
	c, err := a.Captchas.Create(r.Context())
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	lang := "zh"
	if i18n.Negotiate(r) == i18n.EN {
		lang = "en"
	}
	httpx.WriteJSON(w, http.StatusCreated, captchaJSON{
		ID: c.ID, ImageURL: "/api/v1/captchas/" + c.ID + "/image",
		AudioURL: "/api/v1/captchas/" + c.ID + "/audio?lang=" + lang, ExpiresAt: c.ExpiresAt,
	})
}

func (a *API) captchaImage(w http.ResponseWriter, r *http.Request) {
	a.captchaMedia(w, r, "image/png", func(ctx context.Context, buf *bytes.Buffer) error {
		return a.Captchas.WriteImage(ctx, buf, r.PathValue("id"))
	})
}

func (a *API) captchaAudio(w http.ResponseWriter, r *http.Request) {
	if !a.captchaAllowed(w, r, "audio") {
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang != "en" {
		lang = "zh"
	}
	a.captchaMedia(w, r, "audio/wav", func(ctx context.Context, buf *bytes.Buffer) error {
		return a.Captchas.WriteAudio(ctx, buf, r.PathValue("id"), lang)
	})
}

// captchaMedia renders into memory first so that a failure still gets the
// JSON error shape instead of half an image.
func (a *API) captchaMedia(w http.ResponseWriter, r *http.Request, contentType string, render func(context.Context, *bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := render(r.Context(), &buf); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

type sendCodeRequest struct {
	Phone         string `json:"phone"`
	Purpose       string `json:"purpose"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

type sendCodeResponse struct {
	ExpiresIn   int64 `json:"expires_in"`
	ResendAfter int64 `json:"resend_after"`
}

func (a *API) sendSMSCode(w http.ResponseWriter, r *http.Request) {
	var req sendCodeRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	if req.Purpose != registration.Purpose {
		a.Fail(w, r, problem.Field("purpose", "purpose_invalid"))
		return
	}
	sent, err := a.Registration.SendCode(r.Context(), req.Phone, req.CaptchaID, req.CaptchaAnswer, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, sendCodeResponse{ExpiresIn: int64(sent.ExpiresIn / time.Second), ResendAfter: int64(sent.ResendAfter / time.Second)})
}

type registerRequest struct {
	LoginName       string `json:"login_name"`
	Password        string `json:"password"`
	PasswordConfirm string `json:"password_confirm"`
	Phone           string `json:"phone"`
	SMSCode         string `json:"sms_code"`
	RealName        string `json:"real_name"`
	IDNumber        string `json:"id_number"`
	Nickname        string `json:"nickname"`
	// Agreed is the explicit agreement to the user agreement and the
	// privacy notice, which the Personal Information Protection Law asks
	// for before personal data is collected.
	Agreed bool `json:"agreed"`
}

// register creates an account and signs it in. Without the agreement
// nothing is looked at: no code is used up, no account made.
func (a *API) register(w http.ResponseWriter, r *http.Request) {
	req, ok := a.decodeRegistration(w, r)
	if !ok {
		return
	}
	u, err := a.Registration.Register(r.Context(), req, a.client(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.signIn(w, r, u, http.StatusCreated)
}

// decodeRegistration reads a registration form (ordinary, or through an
// identity provider); without the agreement it answers and gives false.
func (a *API) decodeRegistration(w http.ResponseWriter, r *http.Request) (registration.Request, bool) {
	var req registerRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return registration.Request{}, false
	}
	if !req.Agreed {
		a.Fail(w, r, problem.Field("agreed", "agreement_required"))
		return registration.Request{}, false
	}
	return registration.Request{
		LoginName: req.LoginName, Password: req.Password, PasswordConfirm: req.PasswordConfirm,
		Phone: req.Phone, SMSCode: req.SMSCode, RealName: req.RealName, IDNumber: req.IDNumber, Nickname: req.Nickname,
	}, true
}

type loginRequest struct {
	Identifier    string `json:"identifier"`
	Password      string `json:"password"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

func (a *API) createSession(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := a.Decode(w, r, &req); err != nil {
		a.Fail(w, r, err)
		return
	}
	c := a.client(r)
	u, err := a.Login.Login(r.Context(), login.Request(req), c)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	a.signIn(w, r, u, http.StatusCreated)
}

// signIn gives the browser a new session for u (see session.Manager.SignIn)
// and answers u's profile.
func (a *API) signIn(w http.ResponseWriter, r *http.Request, u store.User, status int) {
	a.signInAs(w, r, u, []string{store.AMRPassword}, status)
}

// signInAs is signIn for credentials amr names (store.AMR*).
func (a *API) signInAs(w http.ResponseWriter, r *http.Request, u store.User, amr []string, status int) {
	if !a.signInVerified(w, r, u, amr) {
		return
	}
	p, err := account.NewProfile(a.Protector, u)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	httpx.WriteJSON(w, status, p)
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) {
	if err := a.Sessions.End(r.Context(), w, r, session.Logout{Via: session.ViaAPI, Client: a.client(r)}); err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) me(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	p, err := account.NewProfile(a.Protector, s.User)
	if err != nil {
		a.Fail(w, r, problem.Wrap(err))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// client is the caller's address and user agent.
func (a *API) client(r *http.Request) flow.Client {
	return httpx.Client(r, a.TrustProxy)
}

// NotFound answers unknown API paths in the API's error shape.
func (a *API) NotFound(w http.ResponseWriter, r *http.Request) {
	a.Fail(w, r, problem.New(problem.NotFound, "not_found"))
}
