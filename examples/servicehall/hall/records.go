package hall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The records a service system keeps in unid for its users: the hall
// writes a case (办件) when the signed-in user submits an application, and
// a message (消息) with it; each "推进办理" moves the case one status on,
// the way a department working on it would. The writes go to unid's
// records API with the hall's own access token (client credentials, the
// scopes records.cases:write and records.messages:write), never with the
// user's: the user may have signed out of the hall long before the case
// is done.
//
//	POST /apply     PUT /api/records/v1/users/{sub}/cases/{id}     (status accepted)
//	                PUT /api/records/v1/users/{sub}/messages/{id}
//	POST /advance   PUT …/cases/{id} (processing, then completed; a message when done)

// RecordScopes are the scopes the hall's client-credentials token asks for.
var RecordScopes = []string{"records.cases:write", "records.messages:write"}

// caseFlow is the order of the statuses a demo case goes through.
var caseFlow = []struct{ status, zh, en string }{
	{"accepted", "已受理", "accepted"},
	{"processing", "办理中", "in progress"},
	{"completed", "已办结", "completed"},
}

// application is the signed-in user's demo case.
type application struct {
	id, number  string
	step        int // index into caseFlow
	submittedAt time.Time
	updatedAt   time.Time
}

// recordsClient writes records through unid's records API.
type recordsClient struct {
	mu     sync.Mutex
	tokens oauth2.TokenSource // nil until discovery gave the token endpoint
	apps   map[string]*application
}

// tokenSource returns the hall's own token source (cached tokens,
// refetched when they expire).
func (h *Hall) tokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	rp, err := h.discover(ctx)
	if err != nil {
		return nil, err
	}
	h.records.mu.Lock()
	defer h.records.mu.Unlock()
	if h.records.tokens == nil {
		cc := clientcredentials.Config{
			ClientID: h.cfg.ClientID, ClientSecret: h.cfg.ClientSecret, TokenURL: rp.oauth.Endpoint.TokenURL,
			Scopes: RecordScopes, AuthStyle: oauth2.AuthStyleInHeader,
		}
		// The token source outlives this request: it gets a context of its own.
		h.records.tokens = cc.TokenSource(h.clientContext(context.Background()))
	}
	return h.records.tokens, nil
}

// putRecord writes one record of the signed-in user: PUT
// /api/records/v1/users/{sub}/{kind}/{id} with the fields as JSON.
func (h *Hall) putRecord(ctx context.Context, sub, kind, id string, fields map[string]string) error {
	ts, err := h.tokenSource(ctx)
	if err != nil {
		return err
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	u := h.cfg.Issuer + "/api/records/v1/users/" + url.PathEscape(sub) + "/" + kind + "/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: h.cfg.HTTPClient.Timeout, Transport: &oauth2.Transport{Source: ts, Base: h.cfg.HTTPClient.Transport}}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT %s: %s: %s", u, res.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}

// stamp is the time of a write: never before the last write of the case,
// so that unid applies the writes in the order they were made.
func (h *Hall) stamp(last time.Time) time.Time {
	now := h.cfg.Now().UTC().Truncate(time.Millisecond)
	if !now.After(last) {
		now = last.Add(time.Millisecond)
	}
	return now
}

func rfc3339(t time.Time) string { return t.Format(time.RFC3339Nano) }

// caseFields are the fields of the records API for the case at its step.
func (h *Hall) caseFields(a *application) map[string]string {
	return map[string]string{
		"number": a.number, "item_name": "个体工商户设立登记（演示）", "item_code": "370100-DEMO-0001",
		"department": "示例市市场监督管理局", "status": caseFlow[a.step].status, "link": h.cfg.BaseURL + "/",
		"submitted_at": rfc3339(a.submittedAt), "updated_at": rfc3339(a.updatedAt),
	}
}

// message leaves the user a message about a.
func (h *Hall) message(ctx context.Context, sub string, a *application, title, body string) error {
	return h.putRecord(ctx, sub, "messages", a.id+"-"+caseFlow[a.step].status, map[string]string{
		"title": title, "body": body, "link": h.cfg.BaseURL + "/", "updated_at": rfc3339(a.updatedAt),
	})
}

// currentApplication returns the signed-in user's case, or nil.
func (h *Hall) currentApplication(sub string) *application {
	h.records.mu.Lock()
	defer h.records.mu.Unlock()
	if a := h.records.apps[sub]; a != nil {
		c := *a
		return &c
	}
	return nil
}

func (h *Hall) recordsFailed(w http.ResponseWriter, r *http.Request, err error) {
	h.fail(w, r, failure{
		status: http.StatusBadGateway,
		zh:     "无法把办件写入统一身份认证平台。本系统需要以下权限：" + strings.Join(RecordScopes, "、") + "。",
		en:     "The case could not be written to unid. This system needs the scopes " + strings.Join(RecordScopes, ", ") + ".",
		detail: err.Error(),
	})
}

// apply submits a new application for the signed-in user: a case, 已受理,
// and a message saying so.
func (h *Hall) apply(w http.ResponseWriter, r *http.Request) {
	s := h.currentSession(r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	now := h.stamp(time.Time{})
	a := &application{id: "demo-" + randomToken()[:16], number: "DEMO-" + now.Format("20060102-150405.000"), submittedAt: now, updatedAt: now}
	a.number = strings.ReplaceAll(a.number, ".", "")
	ctx := r.Context()
	if err := h.putRecord(ctx, s.subject, "cases", a.id, h.caseFields(a)); err != nil {
		h.recordsFailed(w, r, err)
		return
	}
	if err := h.message(ctx, s.subject, a, "您的申请已受理", "您提交的“个体工商户设立登记（演示）”已受理，办件编号 "+a.number+"。"); err != nil {
		h.recordsFailed(w, r, err)
		return
	}
	h.records.mu.Lock()
	h.records.apps[s.subject] = a
	h.records.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// advance moves the signed-in user's case one status on; when it is done,
// a message says so.
func (h *Hall) advance(w http.ResponseWriter, r *http.Request) {
	s := h.currentSession(r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a := h.currentApplication(s.subject)
	if a == nil || a.step == len(caseFlow)-1 {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.step++
	a.updatedAt = h.stamp(a.updatedAt)
	ctx := r.Context()
	if err := h.putRecord(ctx, s.subject, "cases", a.id, h.caseFields(a)); err != nil {
		h.recordsFailed(w, r, err)
		return
	}
	if a.step == len(caseFlow)-1 {
		if err := h.message(ctx, s.subject, a, "您的申请已办结", "办件编号 "+a.number+" 已办结。"); err != nil {
			h.recordsFailed(w, r, err)
			return
		}
	}
	h.records.mu.Lock()
	h.records.apps[s.subject] = a
	h.records.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// applicationView is the case as the home page shows it.
type applicationView struct {
	Number, StatusZH, StatusEN, Status string
	Done                               bool
}

func viewOf(a *application) *applicationView {
	if a == nil {
		return nil
	}
	f := caseFlow[a.step]
	return &applicationView{Number: a.number, Status: f.status, StatusZH: f.zh, StatusEN: f.en, Done: a.step == len(caseFlow)-1}
}
