package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/problem"
	"unid/internal/realname/httpverifier/verifiertest"
	"unid/internal/review"
	"unid/internal/store"
)

// oidcToken is a refresh token of a grant, as a service system holds it.
type oidcToken struct {
	GrantID string
	Token   string
}

// oidcGrant gives the user an OpenID Connect grant of the public client
// "hall" with a refresh token, as a sign-in there would.
func oidcGrant(t *testing.T, srv *apptest.Server, userID string) oidcToken {
	t.Helper()
	ctx := context.Background()
	st := srv.App.Store
	now := srv.Clock.Now()
	if err := st.CreateClient(ctx, store.Client{ID: "hall", Name: "办事大厅", Type: store.ClientOIDCPublic,
		RedirectURIs: []string{"https://hall.example.gov.cn/cb"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	g := store.Grant{ID: "grant-" + userID, ClientID: "hall", UserID: userID, SID: "sid", Scopes: []string{"openid", "offline_access"},
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	token := "refresh-" + userID
	sum := sha256.Sum256([]byte(token))
	if err := st.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRefreshToken(ctx, store.RefreshToken{TokenHash: sum[:], GrantID: g.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// The token works: refreshed once, the service system holds the new one.
	r := refresh(t, srv, oidcToken{GrantID: g.ID, Token: token})
	defer r.Body.Close()
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if r.StatusCode != http.StatusOK || json.NewDecoder(r.Body).Decode(&out) != nil || out.RefreshToken == "" {
		t.Fatalf("refresh before: %d", r.StatusCode)
	}
	return oidcToken{GrantID: g.ID, Token: out.RefreshToken}
}

// refresh asks the token endpoint for new tokens with rt.
func refresh(t *testing.T, srv *apptest.Server, rt oidcToken) *http.Response {
	t.Helper()
	r, err := srv.Client().PostForm(srv.URL+"/oidc/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.Token}, "client_id": {"hall"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Body.Close() })
	return r
}

// TestRealnameAppealNeedsAConflict: an appeal stands on the appellant's
// own recent registry check that passed for the same name and ID number
// but found the number verified on another account. Without one it is
// refused before the body is read, and nothing is filed.
func TestRealnameAppealNeedsAConflict(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	holder := srv.Browser(t)
	holder.MustRegister(wangWu)
	if r := holder.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != 200 {
		t.Fatalf("holder level 1: %d %s", r.Status, r.Body)
	}
	zb := srv.Browser(t)
	zid := zb.MustRegister(apptest.Zhang)
	files := map[string][]byte{"id_photo": pngBytes, "handheld_photo": pdfBytes}

	// Level 0, no check at all: Wang Wu's number under any name.
	ct, body := multipartAppeal(t, map[string]string{"real_name": "王五", "id_number": wangWu.IDNumber}, files)
	if r := zb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body); r.Status != 400 || r.ErrCode(t) != "realname_appeal_without_conflict" ||
		!strings.Contains(r.JSON(t)["error"].(map[string]any)["message"].(string), "申诉") {
		t.Fatalf("an appeal without a check: %d %s", r.Status, r.Body)
	}
	// Refused before the body is read: not even its type is looked at.
	if r := zb.Do(http.MethodPost, "/api/v1/realname/appeals", "text/plain", strings.NewReader("x")); r.Status != 400 || r.ErrCode(t) != "realname_appeal_without_conflict" {
		t.Errorf("a refused appeal's body was read: %d %s", r.Status, r.Body)
	}

	// A failed check (wrong name) gives no grounds.
	if r := zb.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": "李四", "id_number": wangWu.IDNumber}); r.ErrCode(t) != "realname_mismatch" {
		t.Fatalf("wrong name: %d %s", r.Status, r.Body)
	}
	ct, body = multipartAppeal(t, map[string]string{"real_name": "李四", "id_number": wangWu.IDNumber}, files)
	if r := zb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body); r.Status != 400 || r.ErrCode(t) != "realname_appeal_without_conflict" {
		t.Fatalf("an appeal on a failed check: %d %s", r.Status, r.Body)
	}
	// A conflict found for Wang Wu's number allows an appeal for that
	// name and number only.
	if r := zb.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": "王五", "id_number": wangWu.IDNumber}); r.ErrCode(t) != "id_number_verified_elsewhere" {
		t.Fatalf("conflict: %d %s", r.Status, r.Body)
	}
	ct, body = multipartAppeal(t, map[string]string{"real_name": "王六", "id_number": wangWu.IDNumber}, files)
	if r := zb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body); r.Status != 400 || r.ErrCode(t) != "realname_appeal_without_conflict" {
		t.Fatalf("an appeal with another name than the check's: %d %s", r.Status, r.Body)
	}
	if items, _ := srv.App.Store.ListUserReviewItems(ctx, zid, review.StatePending); len(items) != 0 {
		t.Fatalf("refused appeals filed %d items", len(items))
	}
	ct, body = multipartAppeal(t, map[string]string{"real_name": "王五", "id_number": wangWu.IDNumber}, files)
	if r := zb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body); r.Status != http.StatusCreated {
		t.Fatalf("an appeal on its conflict: %d %s", r.Status, r.Body)
	}
	// The check keeps a MAC of the person, never the name or number.
	cs, _ := srv.App.Store.ListRealnameChecks(ctx, zid, 10)
	conflicts := 0
	for _, c := range cs {
		if strings.Contains(string(c.Subject), wangWu.IDNumber) || strings.Contains(string(c.Subject), "王五") {
			t.Errorf("check subject in the clear: %q", c.Subject)
		}
		if c.Result == "verified_elsewhere" && len(c.Subject) == 32 {
			conflicts++
		} else if len(c.Subject) != 0 {
			t.Errorf("a %s check keeps a subject", c.Result)
		}
	}
	if conflicts != 1 {
		t.Errorf("%d conflict checks with a subject in %+v", conflicts, cs)
	}

	// A verified account is refused before its body is read.
	if r := holder.Do(http.MethodPost, "/api/v1/realname/appeals", "text/plain", strings.NewReader("x")); r.Status != http.StatusConflict || r.ErrCode(t) != "realname_locked" {
		t.Errorf("a verified account's appeal: %d %s", r.Status, r.Body)
	}
}

// TestRealnameCorrectionRemovesEvidence: a reviewer's correction of the
// name or ID number removes the bindings above level 1 (proven for the
// previous identity), keeps level 1 and tells the citizen; an account
// below level 1 is refused and unchanged.
func TestRealnameCorrectionRemovesEvidence(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	ann := audit.Origin{Actor: audit.Operator("ann")}
	b := srv.Browser(t)
	id := b.MustRegister(apptest.Zhang)
	b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
	if r := b.PostJSON("/api/v1/realname/bank-card", map[string]any{"card_number": zhangCard, "phone": apptest.Zhang.Phone}); r.Status != 200 || realnameLevel(t, b) != 2 {
		t.Fatalf("level 2: %d %s", r.Status, r.Body)
	}
	if err := srv.App.Realname.Correct(ctx, id, "张叁", apptest.Zhang.IDNumber, "户籍信息更正", ann); err != nil {
		t.Fatal(err)
	}
	// The session carried the identity corrected: it ended.
	if r := b.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Errorf("the session after a correction: %d, want 401", r.Status)
	}
	b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	st := realnameStatus(t, b)
	if st["level"].(float64) != 1 || st["real_name"] != "*叁" || len(st["bindings"].([]any)) != 1 ||
		st["bindings"].([]any)[0].(map[string]any)["method"] != "registry" {
		t.Errorf("after the correction: %v", st)
	}
	if msgs := srv.Outbox(t); msgs[0].To != apptest.Zhang.Phone || !strings.Contains(msgs[0].Text, "已更正") {
		t.Errorf("last SMS: %+v", msgs[0])
	}
	r := b.Get("/api/v1/messages")
	if r.Status != 200 || !strings.Contains(string(r.Body), "实名信息已更正") {
		t.Errorf("messages: %d %s", r.Status, r.Body)
	}

	// Below level 1 nothing is locked: the owner changes it.
	wb := srv.Browser(t)
	wid := wb.MustRegister(wangWu)
	before, _ := srv.App.Store.GetUser(ctx, wid)
	err := srv.App.Realname.Correct(ctx, wid, "王午", wangWu.IDNumber, "户籍信息更正", ann)
	if err == nil || problem.As(err).Code != "realname_not_verified" {
		t.Errorf("correcting a level-0 account: %v", err)
	}
	after, _ := srv.App.Store.GetUser(ctx, wid)
	if string(before.RealName.Cipher) != string(after.RealName.Cipher) || !before.UpdatedAt.Equal(after.UpdatedAt) {
		t.Error("a refused correction changed the account")
	}
	events, _ := srv.App.Store.ListAudit(ctx, 0, 1000)
	n := 0
	for _, e := range events {
		if e.Action == "realname.corrected" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d realname.corrected events, want 1", n)
	}
}

// TestRealnameConcurrentIdentity: two level-1 checks sent at once bind
// once; the other is refused as locked.
func TestRealnameConcurrentIdentity(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		svc := verifiertest.Start(t, map[string]string{apptest.Zhang.IDNumber: apptest.Zhang.RealName})
		srv := start(func(c *config.Config) {
			c.Realname.Provider = config.ProviderHTTP
			c.Realname.URL = svc.URL
			c.Realname.AppID = svc.AppID
			c.Realname.Secret = config.Secret{Value: string(svc.Secret)}
			c.Realname.Timeout = 5 * time.Second
		})
		b := srv.Browser(t)
		b.MustRegister(apptest.Zhang)
		// Both answers wait at the verifier: both requests are past the
		// first look at the level before either binds.
		svc.Next(verifiertest.Slow, verifiertest.Slow)
		statuses := concurrently(2, func() apptest.Response {
			return b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
		})
		if statuses[200] != 1 || statuses[409] != 1 {
			t.Errorf("two concurrent checks answered %v, want one 200 and one 409", statuses)
		}
		events, _ := srv.App.Store.ListAudit(context.Background(), 0, 1000)
		bound := 0
		for _, e := range events {
			if e.Action == "realname.bound" {
				bound++
			}
		}
		if bound != 1 || realnameLevel(t, b) != 1 {
			t.Errorf("%d bindings audited, level %d", bound, realnameLevel(t, b))
		}
	})
}

// TestRealnameConcurrentCounter: counter requests sent at once file one
// item; the others are told one is pending.
func TestRealnameConcurrentCounter(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		b := srv.Browser(t)
		id := b.MustRegister(apptest.Zhang)
		b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
		statuses := concurrently(6, func() apptest.Response {
			return b.PostJSON("/api/v1/realname/counter", map[string]any{})
		})
		if statuses[201] != 1 || statuses[409] != 5 {
			t.Errorf("concurrent counter requests answered %v, want one 201 and five 409", statuses)
		}
		if items, _ := srv.App.Store.ListUserReviewItems(context.Background(), id, review.StatePending); len(items) != 1 {
			t.Errorf("%d pending items, want 1", len(items))
		}
	})
}

// concurrently runs f n times at once and counts the answers by status;
// a 409 must be realname_locked or realname_pending.
func concurrently(n int, f func() apptest.Response) map[int]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[int]int{}
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := f()
			status := r.Status
			if status == http.StatusConflict && !strings.Contains(string(r.Body), "realname_locked") && !strings.Contains(string(r.Body), "realname_pending") {
				status = -status
			}
			mu.Lock()
			out[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// TestRealnameVerificationOutlivedByACorrection: a face verification of
// 张三 started before a reviewer corrected the account to 王五 passes at
// the verifier afterwards; it was about the identity the account no
// longer holds, so it binds nothing, the level stays, and the check is
// recorded as about someone else.
func TestRealnameVerificationOutlivedByACorrection(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	id := b.MustRegister(apptest.Zhang)
	if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("level 1: %d %s", r.Status, r.Body)
	}
	back := atSandbox(t, b, startRedirect(t, b, "face", ""), "pass")
	if err := srv.App.Realname.Correct(context.Background(), id, "王五", wangWu.IDNumber, "户籍信息更正", audit.Origin{Actor: audit.Operator("reviewer1")}); err != nil {
		t.Fatal(err)
	}
	b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password) // the correction signed the account out
	if q := callback(t, b, back); q.Get("result") != "failed" {
		t.Errorf("callback result = %q, want failed", q.Get("result"))
	}
	if level := realnameLevel(t, b); level != 1 {
		t.Errorf("level = %d after a face check of the former identity, want 1", level)
	}
	cs, err := srv.App.Store.ListRealnameChecks(context.Background(), id, 10)
	if err != nil {
		t.Fatal(err)
	}
	var face []string
	for _, c := range cs {
		if c.Method == "face" {
			face = append(face, c.Result)
		}
	}
	if len(face) != 1 || face[0] != "subject_mismatch" {
		t.Errorf("face checks %v, want one, recorded as subject_mismatch", face)
	}
}

// TestRealnameLimitAuditedOnce: a caller who keeps hitting the daily
// check limit is refused every time, and the audit trail says so once a
// day rather than once a request.
func TestRealnameLimitAuditedOnce(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) { c.Realname.ChecksPerUserDay = 1 })
	b := srv.Browser(t)
	id := b.MustRegister(apptest.Zhang)
	b.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": "李四", "id_number": apptest.Zhang.IDNumber})
	for range 5 {
		if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusTooManyRequests {
			t.Fatalf("past the limit: %d %s", r.Status, r.Body)
		}
	}
	events, err := srv.App.Store.ListActorAudit(context.Background(), audit.User(id).String(), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == "realname.checked" && e.Result == audit.ResultRateLimited {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d rate_limited events for 5 refusals, want 1", n)
	}
	if realnameLevel(t, b) != 0 {
		t.Error("a refused check changed the level")
	}
}

// TestRealnameRedirectCarriesTheWayBack: the level a service needs goes
// with the user through a verification service's page and comes back to
// the upgrade page with next; a level without a local next, or out of
// range, is dropped.
func TestRealnameRedirectCarriesTheWayBack(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
	const next = "/oidc/authorize/callback?id=R1"
	tests := []struct {
		name      string
		body      map[string]any
		wantNext  string
		wantLevel string
	}{
		{"next and level", map[string]any{"method": "face", "next": next, "level": 3}, next, "3"},
		{"level out of range", map[string]any{"method": "face", "next": next, "level": 9}, next, ""},
		{"level without next", map[string]any{"method": "face", "level": 2}, "", ""},
		{"next elsewhere", map[string]any{"method": "face", "next": "https://evil.example/", "level": 2}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.PostJSON("/api/v1/realname/redirects", tt.body)
			if r.Status != http.StatusOK {
				t.Fatalf("start: %d %s", r.Status, r.Body)
			}
			q := callback(t, b, atSandbox(t, b, r.JSON(t)["url"].(string), "cancel"))
			if q.Get("next") != tt.wantNext || q.Get("level") != tt.wantLevel {
				t.Errorf("back to next=%q level=%q, want %q %q", q.Get("next"), q.Get("level"), tt.wantNext, tt.wantLevel)
			}
		})
	}
}
