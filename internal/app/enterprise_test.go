package app_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/enterprise"
	"unid/internal/enterprise/httpregistry/registrytest"
	esandbox "unid/internal/enterprise/sandbox"
	"unid/internal/problem"
)

// Enterprises of the sandbox registry (internal/enterprise/sandbox/enterprises.json, test data).
const (
	acmeUSCC     = "91310115000000000Q" // 示例科技, legal rep 张三
	acmeName     = "示例科技有限公司（测试数据）"
	tradeUSCC    = "91440300000000000E" // 样例贸易, legal rep 李四
	tradeName    = "样例贸易有限公司（测试数据）"
	diningUSCC   = "91370100000000000R" // 演示餐饮, deregistered, legal rep 王五
	materialUSCC = "91510100000000000E" // 虚构建材, revoked, legal rep 赵六
)

var (
	zhaoLiu = apptest.Person{Login: "zhao_liu", Password: apptest.GoodPassword, Phone: "15800000002", RealName: "赵六", IDNumber: "510107197506200045"}
	sunQi   = apptest.Person{Login: "sun_qi", Password: apptest.GoodPassword, Phone: "13600000007", RealName: "孙七", IDNumber: "110101199003070011"}
	qianBa  = apptest.Person{Login: "qian_ba", Password: apptest.GoodPassword, Phone: "13600000008"}
)

// citizen registers p, verifies level 1 when p has an ID number, and
// returns the browser and the user id.
func citizen(t *testing.T, srv *apptest.Server, p apptest.Person, verify bool) (*apptest.Browser, string) {
	t.Helper()
	b := srv.Browser(t)
	id := b.MustRegister(p)
	if verify {
		if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
			t.Fatalf("%s: level 1: %d %s", p.Login, r.Status, r.Body)
		}
	}
	return b, id
}

func bind(b *apptest.Browser, uscc, name string) apptest.Response {
	return b.PostJSON("/api/v1/enterprises", map[string]any{"uscc": uscc, "name": name})
}

// grantAndAccept grants p role in uscc by granter and p accepts.
func grantAndAccept(t *testing.T, granter, pb *apptest.Browser, uscc string, p apptest.Person, role string) {
	t.Helper()
	if r := granter.PostJSON("/api/v1/enterprises/"+uscc+"/grants", map[string]any{"phone": p.Phone, "real_name": p.RealName, "role": role}); r.Status != http.StatusAccepted {
		t.Fatalf("grant %s %s: %d %s", p.Login, role, r.Status, r.Body)
	}
	o := pb.Get("/api/v1/enterprises").JSON(t)
	for _, g := range o["grants"].([]any) {
		g := g.(map[string]any)
		if g["uscc"] == uscc {
			if r := pb.PostJSON("/api/v1/enterprise-grants/"+g["id"].(string)+"/accept", nil); r.Status != http.StatusOK {
				t.Fatalf("accept: %d %s", r.Status, r.Body)
			}
			return
		}
	}
	t.Fatalf("%s sees no grant of %s: %v", p.Login, uscc, o)
}

// state is what the enterprises hold, for "denied actions change nothing".
func state(t *testing.T, srv *apptest.Server) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, uscc := range []string{acmeUSCC, tradeUSCC} {
		ms, err := srv.App.Store.ListEnterpriseMembers(ctx, uscc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			fmt.Fprintf(&b, "m %s %s %s %v;", uscc, m.UserID, m.Role, m.Labels)
		}
		gs, _ := srv.App.Store.ListEnterpriseGrants(ctx, uscc, srv.Clock.Now())
		for _, g := range gs {
			fmt.Fprintf(&b, "g %s %s %s;", uscc, g.UserID, g.Role)
		}
		as, _ := srv.App.Store.ListPendingApplications(ctx, uscc, srv.Clock.Now())
		for _, a := range as {
			fmt.Fprintf(&b, "a %s %s;", uscc, a.UserID)
		}
	}
	if e, err := srv.App.Store.GetEnterprise(ctx, acmeUSCC); err == nil {
		fmt.Fprintf(&b, "e %s %s", e.Name, e.Status)
	}
	return b.String()
}

// TestEnterpriseRoleMatrix: every role against every action in its own
// enterprise and another, through the HTTP API; denied actions change
// nothing.
func TestEnterpriseRoleMatrix(t *testing.T) {
	srv := apptest.Start(t, nil)
	zb, _ := citizen(t, srv, apptest.Zhang, true) // legal rep of acme
	lb, _ := citizen(t, srv, liSi, true)          // legal rep of trade
	wb, wangID := citizen(t, srv, wangWu, true)   // admin of acme
	hb, _ := citizen(t, srv, zhaoLiu, true)       // handler of acme
	nb, _ := citizen(t, srv, qianBa, false)       // no role
	sb, sunID := citizen(t, srv, sunQi, false)    // the person granted and applying
	if r := bind(lb, tradeUSCC, tradeName); r.Status != http.StatusCreated {
		t.Fatalf("li binds: %d %s", r.Status, r.Body)
	}
	zhangID := func() string {
		u, _ := srv.App.Store.GetUserByLoginName(context.Background(), "zhang_san")
		return u.ID
	}()
	ctx := context.Background()
	member := func(uscc, userID string) bool {
		_, err := srv.App.Store.GetEnterpriseMember(ctx, uscc, userID)
		return err == nil
	}
	// ensure brings acme back to: zhang legal rep, wang admin, zhao
	// handler, sun nothing and nothing pending.
	ensure := func(t *testing.T) {
		t.Helper()
		if !member(acmeUSCC, zhangID) {
			if r := bind(zb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
				t.Fatalf("zhang binds: %d %s", r.Status, r.Body)
			}
		}
		if !member(acmeUSCC, wangID) {
			grantAndAccept(t, zb, wb, acmeUSCC, wangWu, enterprise.RoleAdmin)
		}
		if m, err := srv.App.Store.GetEnterpriseMember(ctx, acmeUSCC, func() string {
			u, _ := srv.App.Store.GetUserByLoginName(ctx, "zhao_liu")
			return u.ID
		}()); err != nil || m.Role != enterprise.RoleHandler {
			grantAndAccept(t, zb, hb, acmeUSCC, zhaoLiu, enterprise.RoleHandler)
		}
		if member(acmeUSCC, sunID) {
			sb.Do(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC+"/members/me", "", nil)
		}
		for _, g := range sb.Get("/api/v1/enterprises").JSON(t)["grants"].([]any) {
			sb.PostJSON("/api/v1/enterprise-grants/"+g.(map[string]any)["id"].(string)+"/decline", nil)
		}
		for _, uscc := range []string{acmeUSCC, tradeUSCC} {
			if as, _ := srv.App.Store.ListPendingApplications(ctx, uscc, srv.Clock.Now()); len(as) == 0 {
				name := map[string]string{acmeUSCC: acmeName, tradeUSCC: tradeName}[uscc]
				if r := sb.PostJSON("/api/v1/enterprise-applications", map[string]any{"uscc": uscc, "name": name, "reason": "代办社保业务"}); r.Status != http.StatusCreated {
					t.Fatalf("sun applies: %d %s", r.Status, r.Body)
				}
			}
		}
	}
	pendingApp := func(uscc string) string {
		as, _ := srv.App.Store.ListPendingApplications(ctx, uscc, srv.Clock.Now())
		if len(as) == 0 {
			return "none"
		}
		return as[0].ID
	}
	roles := []struct {
		name string
		b    *apptest.Browser
		pw   string
	}{{"none", nb, qianBa.Password}, {"handler", hb, zhaoLiu.Password}, {"admin", wb, wangWu.Password}, {"legal_rep", zb, apptest.Zhang.Password}}
	type action struct {
		name string
		do   func(b *apptest.Browser, uscc string) apptest.Response
		// allowed: the status each role gets in its own enterprise; others get 403.
		allowed map[string]int
	}
	grant := func(role string) func(b *apptest.Browser, uscc string) apptest.Response {
		return func(b *apptest.Browser, uscc string) apptest.Response {
			return b.PostJSON("/api/v1/enterprises/"+uscc+"/grants", map[string]any{"phone": sunQi.Phone, "real_name": sunQi.RealName, "role": role})
		}
	}
	view := func(b *apptest.Browser, uscc string) apptest.Response { return b.Get("/api/v1/enterprises/" + uscc) }
	actions := []action{
		{"view members", view, map[string]int{"handler": 200, "admin": 200, "legal_rep": 200}},
		{"grant admin", grant(enterprise.RoleAdmin), map[string]int{"legal_rep": 202}},
		{"grant handler", grant(enterprise.RoleHandler), map[string]int{"admin": 202, "legal_rep": 202}},
		{"approve application", func(b *apptest.Browser, uscc string) apptest.Response {
			return b.PostJSON("/api/v1/enterprises/"+uscc+"/applications/"+pendingApp(uscc)+"/decision", map[string]any{"approve": true, "reason": "同意"})
		}, map[string]int{"admin": 200, "legal_rep": 200}},
		{"revoke admin", func(b *apptest.Browser, uscc string) apptest.Response {
			return b.Do(http.MethodDelete, "/api/v1/enterprises/"+uscc+"/members/"+wangID, "", nil)
		}, map[string]int{"legal_rep": 204}},
		{"revoke the legal rep", func(b *apptest.Browser, uscc string) apptest.Response {
			return b.Do(http.MethodDelete, "/api/v1/enterprises/"+uscc+"/members/"+zhangID, "", nil)
		}, map[string]int{}},
		{"unbind the enterprise", func(b *apptest.Browser, uscc string) apptest.Response {
			code := "000000"
			srv.Clock.Advance(61 * time.Second) // one code a minute per phone
			if r := b.PostJSON("/api/v1/enterprises/"+uscc+"/unbind-code", nil); r.Status == http.StatusAccepted {
				code = srv.LastCode(t, apptest.Zhang.Phone) // only the legal rep is sent one
			}
			return b.SendJSON(http.MethodDelete, "/api/v1/enterprises/"+uscc, map[string]any{"sms_code": code})
		}, map[string]int{"legal_rep": 204}},
		{"view enterprise cases", view, map[string]int{"handler": 200, "admin": 200, "legal_rep": 200}},
	}
	for _, a := range actions {
		for _, r := range roles {
			for _, own := range []bool{true, false} {
				uscc, where := acmeUSCC, "own"
				if !own {
					uscc, where = tradeUSCC, "another"
				}
				t.Run(a.name+"/"+r.name+"/"+where, func(t *testing.T) {
					ensure(t)
					if r := r.b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": r.pw}); r.Status/100 != 2 {
						t.Fatalf("reauth: %d %s", r.Status, r.Body)
					}
					before := state(t, srv)
					got := a.do(r.b, uscc)
					want, ok := a.allowed[r.name]
					switch {
					case !own || r.name == "none":
						// Not a member: the same answer as an unknown enterprise.
						if got.Status != http.StatusNotFound || got.ErrCode(t) != "enterprise_not_member" {
							t.Errorf("got %d %s, want 404 enterprise_not_member", got.Status, got.Body)
						}
					case ok:
						if got.Status != want {
							t.Errorf("got %d %s, want %d", got.Status, got.Body, want)
						}
					default:
						if got.Status != http.StatusForbidden || got.ErrCode(t) != "enterprise_forbidden" {
							t.Errorf("got %d %s, want 403 enterprise_forbidden", got.Status, got.Body)
						}
					}
					after := state(t, srv)
					changes := after != before
					if mutates := ok && own && r.name != "none" && a.name != "view members" && a.name != "view enterprise cases"; changes != mutates {
						t.Errorf("state changed %v, want %v:\nbefore %s\nafter  %s", changes, mutates, before, after)
					}
				})
			}
		}
	}
	// Unbinding asks for the SMS code as well as a recent password.
	t.Run("unbind without the right code changes nothing", func(t *testing.T) {
		ensure(t)
		before := state(t, srv)
		for _, code := range []string{"", "123456"} {
			if r := zb.SendJSON(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC, map[string]any{"sms_code": code}); r.Status/100 != 4 || r.ErrCode(t) == "enterprise_forbidden" {
				t.Errorf("code %q: %d %s", code, r.Status, r.Body)
			}
		}
		srv.Clock.Advance(6 * time.Minute)
		if r := zb.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/unbind-code", nil); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "reauthentication_required" {
			t.Errorf("an old password: %d %s", r.Status, r.Body)
		}
		if state(t, srv) != before {
			t.Error("a refused unbinding changed something")
		}
	})
	// The reviewer is an operator of the console: no citizen session,
	// so the enterprise API does not answer them at all.
	t.Run("reviewer (no citizen session)", func(t *testing.T) {
		anon := srv.Browser(t)
		if r := anon.Get("/api/v1/enterprises/" + acmeUSCC); r.Status != http.StatusUnauthorized {
			t.Errorf("got %d", r.Status)
		}
	})
}

// TestEnterpriseBinding binds with the sandbox registry: match, mismatch,
// deregistered and revoked enterprises, one legal representative, and a
// legal representative changed at the registry.
func TestEnterpriseBinding(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		zb, zhangID := citizen(t, srv, apptest.Zhang, true)
		lb, _ := citizen(t, srv, liSi, true)
		wb, _ := citizen(t, srv, wangWu, true)
		hb, _ := citizen(t, srv, zhaoLiu, true)
		qb, _ := citizen(t, srv, qianBa, false)
		for _, tt := range []struct {
			name        string
			b           *apptest.Browser
			uscc, ename string
			status      int
			code        string
		}{
			{"level 0", qb, acmeUSCC, acmeName, 403, "realname_level_required"},
			{"a bad check character", zb, "91310115000000000R", acmeName, 400, "uscc_format"},
			{"unknown at the registry", zb, "91350100M000100Y43", acmeName, 400, "enterprise_unknown"},
			{"the registry names someone else", lb, acmeUSCC, acmeName, 400, "enterprise_not_legal_rep"},
			{"the name differs", zb, acmeUSCC, "别的公司", 400, "enterprise_not_legal_rep"},
			{"deregistered", wb, diningUSCC, "演示餐饮有限公司（测试数据）", 409, "enterprise_deregistered"},
			{"revoked", hb, materialUSCC, "虚构建材有限公司（测试数据）", 409, "enterprise_deregistered"},
			{"match", zb, acmeUSCC, acmeName, 201, ""},
			{"twice", zb, acmeUSCC, acmeName, 409, "enterprise_bound"},
		} {
			before := state(t, srv)
			r := bind(tt.b, tt.uscc, tt.ename)
			if r.Status != tt.status || tt.code != "" && r.ErrCode(t) != tt.code {
				t.Errorf("%s: %d %s, want %d %s", tt.name, r.Status, r.Body, tt.status, tt.code)
			}
			if tt.code != "" && state(t, srv) != before {
				t.Errorf("%s: a refused binding changed something", tt.name)
			}
		}
		if m := zb.Get("/api/v1/enterprises").JSON(t)["enterprises"].([]any); len(m) != 1 || m[0].(map[string]any)["role"] != "legal_rep" {
			t.Fatalf("zhang's enterprises %v", m)
		}
		// The registry now names 李四: the daily recheck takes the role
		// from 张三, who is told, and 李四 can bind.
		srv.App.EnterpriseRegistry().(*esandbox.Registry).SetLegalRep(acmeUSCC, liSi.RealName, liSi.IDNumber)
		if r := bind(lb, acmeUSCC, acmeName); r.Status != http.StatusConflict || r.ErrCode(t) != "enterprise_bound" {
			t.Fatalf("li before the recheck: %d %s", r.Status, r.Body)
		}
		if err := srv.App.Enterprise.RecheckAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r := zb.Get("/api/v1/enterprises/" + acmeUSCC); r.Status != http.StatusNotFound {
			t.Errorf("zhang after the change: %d %s", r.Status, r.Body)
		}
		if !hasMessage(t, zb, "您的企业角色已解除") {
			t.Error("zhang was not told")
		}
		if r := bind(lb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
			t.Fatalf("li after the recheck: %d %s", r.Status, r.Body)
		}
		// At sign-in for the enterprise (Acting), an old registry answer
		// is asked again: back to 张三, 李四 loses it.
		srv.App.EnterpriseRegistry().(*esandbox.Registry).SetLegalRep(acmeUSCC, apptest.Zhang.RealName, apptest.Zhang.IDNumber)
		u, _ := srv.App.Store.GetUserByLoginName(context.Background(), liSi.Login)
		if _, err := srv.App.Enterprise.Acting(context.Background(), u.ID, acmeUSCC); err != nil {
			t.Fatalf("acting within the hour: %v", err)
		}
		srv.Clock.Advance(2 * time.Hour)
		if _, err := srv.App.Enterprise.Acting(context.Background(), u.ID, acmeUSCC); err == nil {
			t.Error("li still acts for acme after the registry changed back")
		}
		if _, err := srv.App.Enterprise.Acting(context.Background(), zhangID, acmeUSCC); err == nil {
			t.Error("zhang acts for acme without binding again")
		}
	})
}

// hasMessage reports whether the signed-in user has a message titled title.
func hasMessage(t *testing.T, b *apptest.Browser, title string) bool {
	t.Helper()
	r := b.Get("/api/v1/messages")
	return r.Status == http.StatusOK && strings.Contains(string(r.Body), `"title":"`+title+`"`)
}

// TestEnterpriseRegistryDown: the http provider at a closed port, and no
// registry at all, answer registry_unavailable and change nothing.
func TestEnterpriseRegistryDown(t *testing.T) {
	closed := httptest.NewServer(nil)
	url := closed.URL
	closed.Close()
	for _, tt := range []struct {
		name string
		edit func(*config.Config)
	}{
		{"http at a closed port", func(c *config.Config) {
			c.EnterpriseRegistry.Provider, c.EnterpriseRegistry.URL, c.EnterpriseRegistry.Secret.Value = config.ProviderHTTP, url, "s"
			c.EnterpriseRegistry.Timeout = 200 * time.Millisecond
		}},
		{"none", func(c *config.Config) { c.EnterpriseRegistry.Provider = config.ProviderNone }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := apptest.Start(t, tt.edit)
			zb, _ := citizen(t, srv, apptest.Zhang, true)
			r := bind(zb, acmeUSCC, acmeName)
			if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "registry_unavailable" {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			if !strings.Contains(string(zb.Do(http.MethodPost, "/api/v1/enterprises", "application/json",
				strings.NewReader(`{"uscc":"`+acmeUSCC+`","name":"`+acmeName+`"}`), "Accept-Language", "zh-CN").Body), "企业登记信息服务暂不可用") {
				t.Error("the Chinese message is not the registry's")
			}
			if s := state(t, srv); s != "" {
				t.Errorf("state %q", s)
			}
		})
	}
}

// TestEnterpriseHTTPRegistry binds through the http provider against a
// loopback service that checks signatures.
func TestEnterpriseHTTPRegistry(t *testing.T) {
	svc := registrytest.Start(t, enterprise.Record{USCC: acmeUSCC, Name: acmeName, LegalRepName: apptest.Zhang.RealName,
		LegalRepID: apptest.Zhang.IDNumber, Status: enterprise.StatusActive})
	srv := apptest.Start(t, func(c *config.Config) {
		c.EnterpriseRegistry.Provider, c.EnterpriseRegistry.URL, c.EnterpriseRegistry.Secret.Value = config.ProviderHTTP, svc.URL, string(svc.Secret)
	})
	zb, _ := citizen(t, srv, apptest.Zhang, true)
	lb, _ := citizen(t, srv, liSi, true)
	if r := bind(lb, acmeUSCC, acmeName); r.Status != http.StatusBadRequest || r.ErrCode(t) != "enterprise_not_legal_rep" {
		t.Fatalf("li: %d %s", r.Status, r.Body)
	}
	if r := bind(zb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
		t.Fatalf("zhang: %d %s", r.Status, r.Body)
	}
	if svc.Lookups("lookup") != 2 || svc.Refused() != 0 {
		t.Errorf("lookups %d refused %d", svc.Lookups("lookup"), svc.Refused())
	}
}

// TestEnterpriseGrantAnswersAlike: a grant to a matching person and to a
// phone with another name or no account answer the same; only the match
// sees a grant.
func TestEnterpriseGrantAnswersAlike(t *testing.T) {
	srv := apptest.Start(t, nil)
	zb, _ := citizen(t, srv, apptest.Zhang, true)
	sb, _ := citizen(t, srv, sunQi, false)
	if r := bind(zb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
		t.Fatal(r.Status)
	}
	var answers []string
	for _, who := range []map[string]any{
		{"phone": sunQi.Phone, "real_name": "孙八"},             // the phone's account, another name
		{"phone": "13600000099", "real_name": sunQi.RealName}, // no account
		{"phone": sunQi.Phone, "real_name": sunQi.RealName},   // the match
	} {
		who["role"] = enterprise.RoleHandler
		who["labels"] = []string{"财务"}
		r := zb.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/grants", who)
		answers = append(answers, fmt.Sprintf("%d %s", r.Status, r.Body))
		if len(answers) == 2 {
			if gs := sb.Get("/api/v1/enterprises").JSON(t)["grants"].([]any); len(gs) != 0 {
				t.Errorf("a grant without a match: %v", gs)
			}
		}
	}
	if answers[0] != answers[2] || answers[1] != answers[2] || !strings.HasPrefix(answers[2], "202 ") {
		t.Errorf("answers differ: %q", answers)
	}
	o := sb.Get("/api/v1/enterprises").JSON(t)
	gs := o["grants"].([]any)
	if len(gs) != 1 || gs[0].(map[string]any)["granted_by_name"] != "*三" {
		t.Fatalf("grants %v", gs)
	}
	if r := zb.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/grants", map[string]any{"phone": sunQi.Phone, "real_name": sunQi.RealName, "role": "handler", "labels": []string{"保密"}}); r.Status != http.StatusBadRequest {
		t.Errorf("an unknown label: %d %s", r.Status, r.Body)
	}
	if r := sb.PostJSON("/api/v1/enterprise-grants/"+gs[0].(map[string]any)["id"].(string)+"/accept", nil); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `"labels":["财务"]`) {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	// A grant expires unanswered.
	srv2 := apptest.Start(t, func(c *config.Config) { c.Enterprise.GrantTTL = time.Minute })
	zb2, _ := citizen(t, srv2, apptest.Zhang, true)
	sb2, _ := citizen(t, srv2, sunQi, false)
	bind(zb2, acmeUSCC, acmeName)
	zb2.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/grants", map[string]any{"phone": sunQi.Phone, "real_name": sunQi.RealName, "role": "admin"})
	srv2.Clock.Advance(2 * time.Minute)
	if gs := sb2.Get("/api/v1/enterprises").JSON(t)["grants"].([]any); len(gs) != 0 {
		t.Errorf("an expired grant is shown: %v", gs)
	}
}

// TestEnterpriseApplication: a handler application approved by the legal
// representative becomes a membership and a message with an SMS; a
// rejection needs a reason.
func TestEnterpriseApplication(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		zb, _ := citizen(t, srv, apptest.Zhang, true)
		sb, _ := citizen(t, srv, sunQi, false)
		if r := bind(zb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
			t.Fatal(r.Status)
		}
		if r := sb.PostJSON("/api/v1/enterprise-applications", map[string]any{"uscc": acmeUSCC, "name": "别的公司", "reason": "x"}); r.Status != http.StatusBadRequest {
			t.Errorf("a wrong name: %d %s", r.Status, r.Body)
		}
		r := sb.PostJSON("/api/v1/enterprise-applications", map[string]any{"uscc": acmeUSCC, "name": acmeName, "reason": "代办社保业务"})
		if r.Status != http.StatusCreated {
			t.Fatalf("apply: %d %s", r.Status, r.Body)
		}
		id := r.JSON(t)["id"].(string)
		d := zb.Get("/api/v1/enterprises/" + acmeUSCC).JSON(t)
		if apps := d["applications"].([]any); len(apps) != 1 || apps[0].(map[string]any)["name"] != "*七" {
			t.Fatalf("authorization area %v", d)
		}
		if r := zb.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/applications/"+id+"/decision", map[string]any{"approve": false}); r.Status != http.StatusBadRequest {
			t.Errorf("a rejection without a reason: %d %s", r.Status, r.Body)
		}
		sms := len(srv.Outbox(t))
		if r := zb.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/applications/"+id+"/decision", map[string]any{"approve": true, "reason": "同意", "labels": []string{"业务"}}); r.Status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
		o := sb.Get("/api/v1/enterprises").JSON(t)
		ms := o["enterprises"].([]any)
		if len(ms) != 1 || ms[0].(map[string]any)["role"] != "handler" || ms[0].(map[string]any)["name"] != acmeName {
			t.Fatalf("sun's enterprises %v", o)
		}
		if apps := o["applications"].([]any); len(apps) != 1 || apps[0].(map[string]any)["state"] != "approved" {
			t.Errorf("sun's applications %v", apps)
		}
		if !hasMessage(t, sb, "企业办事授权申请已通过") {
			t.Error("no message")
		}
		if out := srv.Outbox(t); len(out) != sms+1 || out[0].To != sunQi.Phone || !strings.Contains(out[0].Text, "企业办事授权申请已通过") {
			t.Errorf("SMS %v", out)
		}
		if r := zb.PostJSON("/api/v1/enterprises/"+acmeUSCC+"/applications/"+id+"/decision", map[string]any{"approve": false, "reason": "no"}); r.Status != http.StatusConflict {
			t.Errorf("deciding twice: %d %s", r.Status, r.Body)
		}
		// Default, then leaving.
		if r := sb.SendJSON(http.MethodPut, "/api/v1/enterprises/default", map[string]any{"uscc": acmeUSCC}); r.Status != http.StatusNoContent {
			t.Errorf("default: %d %s", r.Status, r.Body)
		}
		if r := sb.Do(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC+"/members/me", "", nil); r.Status != http.StatusNoContent {
			t.Errorf("leave: %d %s", r.Status, r.Body)
		}
		if r := zb.Do(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC+"/members/me", "", nil); r.Status != http.StatusConflict {
			t.Errorf("the legal rep leaves: %d %s", r.Status, r.Body)
		}
	})
}

// TestEnterpriseAppeal: the registry names someone else; an appeal with
// the licence goes to the console's review queue, and approving makes the
// appellant legal representative.
func TestEnterpriseAppeal(t *testing.T) {
	srv := apptest.Start(t, nil)
	lb, liID := citizen(t, srv, liSi, true)
	send := func(data []byte) apptest.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("uscc", acmeUSCC)
		mw.WriteField("name", acmeName)
		fw, _ := mw.CreateFormFile("licence", "licence.pdf")
		fw.Write(data)
		mw.Close()
		return lb.Do(http.MethodPost, "/api/v1/enterprises/appeals", mw.FormDataContentType(), &body)
	}
	if r := send([]byte("just text")); r.Status != http.StatusBadRequest {
		t.Errorf("a text licence: %d %s", r.Status, r.Body)
	}
	if r := send(append([]byte("%PDF-1.4\n"), make([]byte, enterprise.MaxUpload)...)); r.Status != http.StatusBadRequest {
		t.Errorf("a licence over 5 MiB: %d", r.Status)
	}
	r := send([]byte("%PDF-1.4\n1 0 obj<<>>endobj\n"))
	if r.Status != http.StatusCreated || r.JSON(t)["kind"] != enterprise.KindAppealItem {
		t.Fatalf("appeal: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	if r := send([]byte("%PDF-1.4\n")); r.Status != http.StatusConflict {
		t.Errorf("a second appeal: %d %s", r.Status, r.Body)
	}
	by := audit.Origin{Actor: audit.Operator("ann")}
	d, err := srv.App.Enterprise.Open(context.Background(), id, by)
	if err != nil || len(d.Files) != 1 || d.Fields[2].Value != acmeUSCC {
		t.Fatalf("open %+v %v", d, err)
	}
	if f, err := srv.App.Enterprise.File(context.Background(), id, d.Files[0].ID, by); err != nil ||
		string(f.Data) != "%PDF-1.4\n1 0 obj<<>>endobj\n" || f.ContentType != "application/pdf" || f.Label != "review.file.licence" {
		t.Errorf("the licence: %s %q %v", f.ContentType, f.Data, err)
	}
	if _, err := srv.App.Enterprise.File(context.Background(), id, "no-such-file", by); problem.As(err) == nil || problem.As(err).Code != "review_file_not_found" {
		t.Errorf("a file the appeal does not have: %v", err)
	}
	if _, err := srv.App.Enterprise.Decide(context.Background(), id, true, "营业执照核验无误", by); err != nil {
		t.Fatal(err)
	}
	if e, err := srv.App.Store.GetEnterprise(context.Background(), acmeUSCC); err != nil || !e.CheckedAt.IsZero() {
		t.Errorf("an enterprise created by an appeal counts as checked in the registry: %+v %v", e, err)
	}
	if m, err := srv.App.Enterprise.Acting(context.Background(), liID, acmeUSCC); err != nil || m.Role != enterprise.RoleLegalRep {
		t.Fatalf("li after the appeal: %+v %v", m, err)
	}
	if !hasMessage(t, lb, "企业法定代表人申诉已通过") {
		t.Error("no message")
	}
}

// TestEnterpriseImportHandlerAndAudit: the legacy import's handler is
// idempotent and leaves a stronger role as it is; every enterprise
// happening is audited naming who did it, without personal data.
func TestEnterpriseImportHandlerAndAudit(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	zb, zhangID := citizen(t, srv, apptest.Zhang, true)
	sb, sunID := citizen(t, srv, sunQi, false)
	imp := audit.Origin{Actor: audit.Operator("import")}
	for range 2 {
		if err := srv.App.Enterprise.ImportHandler(ctx, sunID, tradeUSCC, tradeName, imp); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.App.Enterprise.ImportHandler(ctx, sunID, "91440300000000000X", tradeName, imp); err == nil {
		t.Error("a bad credit code was imported")
	}
	if m := sb.Get("/api/v1/enterprises").JSON(t)["enterprises"].([]any); len(m) != 1 || m[0].(map[string]any)["role"] != "handler" {
		t.Fatalf("sun after the import: %v", m)
	}
	if r := bind(zb, acmeUSCC, acmeName); r.Status != http.StatusCreated {
		t.Fatal(r.Status)
	}
	if err := srv.App.Enterprise.ImportHandler(ctx, zhangID, acmeUSCC, "旧名称", imp); err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.App.Enterprise.Acting(ctx, zhangID, acmeUSCC); m.Role != enterprise.RoleLegalRep || m.Name != acmeName {
		t.Errorf("the import changed the legal rep: %+v", m)
	}
	grantAndAccept(t, zb, sb, acmeUSCC, sunQi, enterprise.RoleAdmin)
	if r := zb.Do(http.MethodDelete, "/api/v1/enterprises/"+acmeUSCC+"/members/"+sunID, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	events, err := srv.App.Store.ListAudit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		enterprise.ActionImported: "operator:import", enterprise.ActionBound: zhangID,
		enterprise.ActionGranted: zhangID, enterprise.ActionGrantAccepted: sunID, enterprise.ActionRevoked: zhangID,
	}
	seen := map[string]int{}
	for _, e := range events {
		if !strings.HasPrefix(e.Action, "enterprise.") {
			continue
		}
		seen[e.Action]++
		if a, ok := want[e.Action]; ok && e.Actor != a {
			t.Errorf("%s by %q, want %q", e.Action, e.Actor, a)
		}
		row := strings.Join([]string{e.Subject, e.Detail}, " ")
		for _, secret := range []string{apptest.Zhang.IDNumber, apptest.Zhang.RealName, sunQi.RealName, sunQi.Phone, sunQi.IDNumber} {
			if strings.Contains(row, secret) {
				t.Errorf("%s holds %q unmasked: %s", e.Action, secret, row)
			}
		}
	}
	for a := range want {
		if seen[a] == 0 {
			t.Errorf("no %s event", a)
		}
	}
	if seen[enterprise.ActionImported] != 1 {
		t.Errorf("%d import events, want 1 (the second import changes nothing)", seen[enterprise.ActionImported])
	}
}
