package hall

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// claim is one row of the claims table.
type claim struct {
	Name    string // the claim's name, e.g. preferred_username
	ZH, EN  string // its label
	Value   string
	Meaning string // what the value means, e.g. 初级 for realname_level 1
}

// shownClaims are the claims the home page shows, in order.
var shownClaims = []struct{ name, zh, en string }{
	{"sub", "用户标识", "Subject"},
	{"preferred_username", "登录名", "Login name"},
	{"name", "姓名", "Name"},
	{"realname_level", "实名认证等级", "Real-name level"},
	{"acr", "认证上下文", "Authentication context"},
	{"phone_number", "手机号码", "Phone number"},
	{"enterprise", "代表企业", "Acting for enterprise"},
	{"sid", "统一认证会话", "unid session"},
}

var realnameLevels = map[string]string{"0": "未实名 · none", "1": "初级 · basic", "2": "中级 · intermediate", "3": "高级 · advanced"}

// failure is an error page: what happened in Chinese and English, and a
// technical detail for whoever runs the system.
type failure struct {
	status int
	zh, en string
	detail string
}

func (h *Hall) fail(w http.ResponseWriter, r *http.Request, f failure) {
	if f.status >= 500 || f.detail != "" {
		h.cfg.Logger.WarnContext(r.Context(), "request failed", "path", r.URL.Path, "status", f.status, "detail", f.detail)
	}
	h.render(w, f.status, "error.html", map[string]any{"ZH": f.zh, "EN": f.en, "Detail": f.detail})
}

func (h *Hall) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := h.tmpl.ExecuteTemplate(w, name, data); err != nil {
		h.cfg.Logger.Error("render", "template", name, "err", err)
	}
}

// unreachable is the page for a unid that does not answer discovery.
func (h *Hall) unreachable(err error) failure {
	return failure{
		status: http.StatusBadGateway,
		zh:     "无法连接统一身份认证平台 " + h.cfg.Issuer + "。请确认它正在运行（开发时：go run ./cmd/unid serve --dev）。",
		en:     "Cannot reach unid at " + h.cfg.Issuer + ". Make sure it is running (for development: go run ./cmd/unid serve --dev).",
		detail: err.Error(),
	}
}

func (h *Hall) home(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{}
	if s := h.currentSession(r); s != nil {
		data["Claims"] = s.claims
		data["Application"] = viewOf(h.currentApplication(s.subject))
	}
	h.render(w, http.StatusOK, "home.html", data)
}

// login starts an authorization-code flow with PKCE.
func (h *Hall) login(w http.ResponseWriter, r *http.Request) {
	rp, err := h.discover(r.Context())
	if err != nil {
		h.fail(w, r, h.unreachable(err))
		return
	}
	p := pending{state: randomToken(), nonce: randomToken(), verifier: oauth2.GenerateVerifier(), expires: h.cfg.Now().Add(flowTTL)}
	id := randomToken()
	h.mu.Lock()
	prune(h.pending, h.cfg.Now(), func(p pending) time.Time { return p.expires })
	h.pending[id] = p
	h.mu.Unlock()
	h.setCookie(w, "_flow", id, flowTTL)
	http.Redirect(w, r, rp.oauth.AuthCodeURL(p.state, oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)), http.StatusSeeOther)
}

// callback finishes the flow: it checks state, exchanges the code, verifies
// the ID token and its nonce, asks for userinfo, and signs the user in.
func (h *Hall) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// The flow is single use, whatever happens next.
	id := h.cookieValue(r, "_flow")
	h.setCookie(w, "_flow", "", 0)
	h.mu.Lock()
	p, ok := h.pending[id]
	delete(h.pending, id)
	h.mu.Unlock()

	if e := q.Get("error"); e != "" {
		h.fail(w, r, failure{
			status: http.StatusForbidden,
			zh:     "统一身份认证平台没有让您登录本系统。",
			en:     "unid did not sign you in to this system.",
			detail: e + ": " + q.Get("error_description"),
		})
		return
	}
	if !ok || id == "" || !h.cfg.Now().Before(p.expires) {
		h.fail(w, r, failure{
			status: http.StatusBadRequest,
			zh:     "登录请求已失效或不是从本浏览器发起的，请重新登录。",
			en:     "The sign-in request has expired or was not started in this browser; please sign in again.",
		})
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.state)) != 1 {
		h.fail(w, r, failure{
			status: http.StatusBadRequest,
			zh:     "登录请求的 state 参数不符，已拒绝。请重新登录。",
			en:     "The state of the sign-in answer does not match; it was refused. Please sign in again.",
			detail: "state mismatch",
		})
		return
	}
	rp, err := h.discover(r.Context())
	if err != nil {
		h.fail(w, r, h.unreachable(err))
		return
	}
	ctx := h.clientContext(r.Context())
	token, err := rp.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		f := failure{
			status: http.StatusBadGateway,
			zh:     "用授权码换取令牌失败。",
			en:     "Exchanging the authorization code for tokens failed.",
			detail: err.Error(),
		}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			f.detail = re.ErrorCode + ": " + re.ErrorDescription
			if re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" {
				f.zh = "统一身份认证平台不认可本系统的凭据：请检查 client id 和 client secret。"
				f.en = "unid refused this system's credentials: check the client id and client secret."
			}
		}
		h.fail(w, r, f)
		return
	}
	rawID, _ := token.Extra("id_token").(string)
	if rawID == "" {
		h.fail(w, r, failure{status: http.StatusBadGateway, zh: "令牌响应中没有 ID 令牌。", en: "The token response holds no ID token.", detail: "no id_token"})
		return
	}
	idToken, err := rp.idTokens.Verify(ctx, rawID)
	if err == nil && subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(p.nonce)) != 1 {
		err = errors.New("nonce does not match")
	}
	if err == nil && idToken.AccessTokenHash != "" {
		err = idToken.VerifyAccessToken(token.AccessToken)
	}
	if err != nil {
		h.fail(w, r, failure{status: http.StatusBadGateway, zh: "ID 令牌校验失败，已拒绝登录。", en: "The ID token did not verify; sign-in refused.", detail: err.Error()})
		return
	}
	claims := map[string]any{}
	if err := idToken.Claims(&claims); err != nil {
		h.fail(w, r, failure{status: http.StatusBadGateway, zh: "ID 令牌无法解析。", en: "The ID token cannot be read.", detail: err.Error()})
		return
	}
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err == nil && info.Subject != idToken.Subject {
		err = fmt.Errorf("userinfo is about %q, the ID token about %q", info.Subject, idToken.Subject)
	}
	var more map[string]any
	if err == nil {
		err = info.Claims(&more)
	}
	if err != nil {
		h.fail(w, r, failure{status: http.StatusBadGateway, zh: "读取用户信息（userinfo）失败。", en: "Reading userinfo failed.", detail: err.Error()})
		return
	}
	for k, v := range more {
		claims[k] = v
	}
	sid, _ := claims["sid"].(string)

	s := &session{subject: idToken.Subject, sid: sid, idToken: rawID, claims: tableOf(claims), expires: h.cfg.Now().Add(sessionTTL)}
	sessionID := randomToken()
	h.mu.Lock()
	delete(h.sessions, h.cookieValue(r, "_session")) // never keep a session across a sign-in
	prune(h.sessions, h.cfg.Now(), func(s *session) time.Time { return s.expires })
	h.sessions[sessionID] = s
	h.mu.Unlock()
	h.setCookie(w, "_session", sessionID, sessionTTL)
	h.cfg.Logger.InfoContext(r.Context(), "signed in", "sub", idToken.Subject, "sid", sid)
	http.Redirect(w, r, h.cfg.BaseURL+"/", http.StatusSeeOther)
}

// tableOf picks the shown claims out of claims.
func tableOf(claims map[string]any) []claim {
	var out []claim
	for _, c := range shownClaims {
		v, ok := claims[c.name]
		if !ok || v == nil {
			continue
		}
		row := claim{Name: c.name, ZH: c.zh, EN: c.en}
		switch v := v.(type) {
		case string:
			row.Value = v
		case float64:
			row.Value = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			b, _ := json.Marshal(v)
			row.Value = string(b)
		}
		if c.name == "realname_level" {
			row.Meaning = realnameLevels[row.Value]
		}
		out = append(out, row)
	}
	return out
}

// logout ends the local session and sends the browser to unid's
// end_session_endpoint, which ends the unid session (and with it every other
// system's, by back-channel) and comes back to the home page.
func (h *Hall) logout(w http.ResponseWriter, r *http.Request) {
	s := h.currentSession(r)
	h.mu.Lock()
	delete(h.sessions, h.cookieValue(r, "_session"))
	h.mu.Unlock()
	h.setCookie(w, "_session", "", 0)
	rp, err := h.discover(r.Context())
	if s == nil || err != nil || rp.endSession == "" {
		http.Redirect(w, r, h.cfg.BaseURL+"/", http.StatusSeeOther)
		return
	}
	u, err := url.Parse(rp.endSession)
	if err != nil {
		http.Redirect(w, r, h.cfg.BaseURL+"/", http.StatusSeeOther)
		return
	}
	q := u.Query()
	q.Set("id_token_hint", s.idToken)
	q.Set("client_id", h.cfg.ClientID)
	q.Set("post_logout_redirect_uri", h.cfg.BaseURL+"/")
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// backchannelLogout receives unid's logout token (OpenID Connect
// Back-Channel Logout 1.0) and drops the local sessions it names. Replays
// are not tracked: dropping sessions twice changes nothing.
func (h *Hall) backchannelLogout(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, code, why string) {
		h.cfg.Logger.WarnContext(r.Context(), "back-channel logout refused", "reason", why)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": why})
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
	raw := r.PostFormValue("logout_token")
	if raw == "" {
		refuse(http.StatusBadRequest, "invalid_request", "logout_token is missing")
		return
	}
	rp, err := h.discover(r.Context())
	if err != nil {
		refuse(http.StatusServiceUnavailable, "temporarily_unavailable", "discovery failed: "+err.Error())
		return
	}
	// VerifyLogout checks the signature against unid's JWKS, iss, aud, the
	// events claim, jti, exp present, sid or sub present, and no nonce.
	lt, err := rp.logouts.VerifyLogout(h.clientContext(r.Context()), raw)
	if err != nil {
		refuse(http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	var extra struct {
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := lt.Claims(&extra); err != nil {
		refuse(http.StatusBadRequest, "invalid_request", "events claim is not an object")
		return
	}
	if ev := extra.Events[backchannelEvent]; len(ev) == 0 || ev[0] != '{' {
		refuse(http.StatusBadRequest, "invalid_request", "the back-channel logout event is not an object")
		return
	}
	if now := h.cfg.Now(); lt.Expiry.Add(clockSkew).Before(now) {
		refuse(http.StatusBadRequest, "invalid_request", "logout token expired")
		return
	}
	n := 0
	h.mu.Lock()
	for id, s := range h.sessions {
		match := lt.SessionID != "" && s.sid == lt.SessionID
		if lt.SessionID == "" {
			match = s.subject == lt.Subject
		}
		if match && (lt.Subject == "" || s.subject == lt.Subject) {
			delete(h.sessions, id)
			n++
		}
	}
	h.mu.Unlock()
	h.cfg.Logger.InfoContext(r.Context(), "back-channel logout", "sid", lt.SessionID, "sub", lt.Subject, "sessions_ended", n)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
