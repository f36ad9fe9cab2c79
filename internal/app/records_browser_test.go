package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/examples/servicehall/hall"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/records"
	"unid/internal/store"
)

// TestBrowserCasesAndMessagesFromAServiceSystem: a person applies in the
// demo service hall, which writes a case and a message through the
// records API; 我的办件 shows the case with its status, then the hall's
// status update with its history; 我的消息 shows the hall's message
// unread, and reading it lowers the count, on the page and on the tile.
func TestBrowserCasesAndMessagesFromAServiceSystem(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	requireOpenIDProvider(t, srv)
	p := &page{t: t, ctx: ctx, srv: srv}
	srv.Browser(t).MustRegister(apptest.Zhang)
	h := startHallWith(t, srv, "hall-records", "网上办事大厅", true, append([]string{"openid", "profile", "phone"}, hall.RecordScopes...))

	// Sign in to the hall through unid, and apply.
	p.do(chromedp.Navigate(h.url + "/"))
	h.waitSignedOut(p)
	p.click("signin")
	p.waitAt(srv.URL, "/login")
	p.fill("identifier", apptest.Zhang.Login)
	p.fill("password", apptest.Zhang.Password)
	p.solveCaptcha()
	p.click("login-submit")
	h.waitSignedIn(p)
	p.click("apply")
	h.waitSignedIn(p)
	number := eventually[string](p, `(document.getElementById("case-number") || {}).textContent || ""`)
	if got := p.text("#case-status"); got != "已受理" {
		t.Fatalf("the hall's case: %q", got)
	}

	// The personal space: the tiles say what is unread.
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitAt(srv.URL, "/me")
	if got := p.text("#tile-cases-unread"); got != "1 条未读" {
		t.Errorf("cases tile badge = %q", got)
	}
	if got := p.text("#tile-messages-unread"); got != "1 条未读" {
		t.Errorf("messages tile badge = %q", got)
	}
	p.click("tile-cases")
	p.waitPath("/me/cases")
	eventually[bool](p, `document.querySelectorAll("#records-list .record").length === 1`)
	item := p.text("#records-list .record")
	for _, want := range []string{"个体工商户设立登记（演示）", "已受理", "网上办事大厅", number, "未读"} {
		if !strings.Contains(item, want) {
			t.Errorf("the case lacks %q:\n%s", want, item)
		}
	}
	link := eventually[string](p, `document.querySelector("#records-list .record-link").rel + " " + document.querySelector("#records-list .record-link").target`)
	if link != "noopener noreferrer _blank" {
		t.Errorf("the link to the hall: rel target = %q", link)
	}

	// The hall moves the case on: the list shows it, and the detail has
	// the history.
	p.do(chromedp.Navigate(h.url + "/"))
	h.waitSignedIn(p)
	p.click("advance")
	eventually[bool](p, `(document.getElementById("case-status") || {}).textContent === "办理中"`)
	p.do(chromedp.Navigate(srv.URL + "/me/cases"))
	eventually[bool](p, `document.querySelectorAll("#records-list .record").length === 1`)
	if got := p.text("#records-list .record-status"); got != "办理中" {
		t.Errorf("status after the update = %q", got)
	}
	p.do(chromedp.Click(chromedp.CSS("#records-list .record-expand")))
	eventually[bool](p, `document.querySelectorAll("#records-list .record-step").length === 2`)
	if got := p.text("#records-list .record-history"); !strings.Contains(got, "已受理") || !strings.Contains(got, "办理中") || strings.Index(got, "已受理") > strings.Index(got, "办理中") {
		t.Errorf("history = %q", got)
	}
	// Filters: a status the case does not have lists nothing.
	p.do(chromedp.SetValue(chromedp.ID("records-status"), "completed"))
	p.click("records-apply")
	eventually[bool](p, `!document.getElementById("records-empty").hidden && document.querySelectorAll("#records-list .record").length === 0`)
	p.do(chromedp.SetValue(chromedp.ID("records-status"), "processing"))
	p.click("records-apply")
	eventually[bool](p, `document.querySelectorAll("#records-list .record").length === 1`)
	if wide := eventually[string](p, `String(document.documentElement.scrollWidth <= window.innerWidth ? "fits" : document.documentElement.scrollWidth)`); wide != "fits" {
		t.Errorf("我的办件 is %s px wide on a phone", wide)
	}

	// 我的消息: the hall's message, unread; reading it lowers the count.
	p.do(chromedp.Navigate(srv.URL + "/me/messages"))
	eventually[bool](p, `document.querySelectorAll("#records-list .record").length === 1`)
	if got := p.text("#records-unread"); !strings.Contains(got, "1 条未读") {
		t.Errorf("unread = %q", got)
	}
	if msg := p.text("#records-list .record"); !strings.Contains(msg, "您的申请已受理") || !strings.Contains(msg, number) || !strings.Contains(msg, "网上办事大厅") {
		t.Errorf("the message: %s", msg)
	}
	p.do(chromedp.Click(chromedp.CSS("#records-list .record-read")))
	eventually[bool](p, `document.getElementById("records-unread").textContent.indexOf("没有未读") >= 0 && !document.querySelector("#records-list .record-unread")`)
	p.do(chromedp.Navigate(srv.URL + "/me"))
	p.waitAt(srv.URL, "/me")
	if n := eventually[string](p, `String(document.querySelectorAll("#tile-messages-unread").length)`); n != "0" {
		t.Errorf("the messages tile still has a badge after reading")
	}
	if wide := eventually[string](p, `String(document.documentElement.scrollWidth <= window.innerWidth ? "fits" : document.documentElement.scrollWidth)`); wide != "fits" {
		t.Errorf("the personal space is %s px wide on a phone", wide)
	}
}

// TestBrowserEnterpriseCasesByRole: a handler sees the enterprise's case
// they handled on the enterprise's page; another handler of the same
// enterprise does not.
func TestBrowserEnterpriseCasesByRole(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	bg := context.Background()
	_, sunID := citizen(t, srv, sunQi, false)
	_, qianID := citizen(t, srv, qianBa, false)
	for _, id := range []string{sunID, qianID} {
		if err := srv.App.Enterprise.ImportHandler(bg, id, tradeUSCC, tradeName, audit.Origin{Actor: audit.Operator("import")}); err != nil {
			t.Fatal(err)
		}
	}
	now := srv.Clock.Now().UTC().Truncate(time.Millisecond)
	if _, err := srv.App.Store.UpsertRecords(bg, []store.Record{{
		ID: "ent-case-1", Kind: store.RecordCase, USCC: tradeUSCC, HandlerID: sunID, ClientID: "tax", ExternalID: "T-1",
		Number: "SW-2026-0001", Title: "增值税一般纳税人登记", Status: records.StatusProcessing,
		SubmittedAt: now, UpdatedAt: now, CreatedAt: now,
	}}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		who   string
		login string
		sees  bool
	}{
		{"sun", sunQi.Login, true},
		{"qian", qianBa.Login, false},
	} {
		p.do(chromedp.Navigate(srv.URL + "/login"))
		p.login(c.login, apptest.GoodPassword)
		p.do(chromedp.Navigate(srv.URL + "/enterprise/" + tradeUSCC))
		p.waitPath("/enterprise/" + tradeUSCC)
		eventually[bool](p, `document.getElementById("ent-cases").getAttribute("data-loaded") === "true"`)
		list := p.text("#ent-cases")
		if got := strings.Contains(list, "增值税一般纳税人登记"); got != c.sees {
			t.Errorf("%s sees the case: %v, want %v\n%s", c.who, got, c.sees, list)
		}
		if c.sees && (!strings.Contains(list, "办理中") || !strings.Contains(list, "我经办的")) {
			t.Errorf("%s: the case lacks its status or mark:\n%s", c.who, list)
		}
		if !c.sees && eventually[string](p, `String(document.getElementById("ent-cases-empty").hidden)`) != "false" {
			t.Errorf("%s: no empty state", c.who)
		}
		p.do(chromedp.Navigate(srv.URL + "/me"))
		p.logout()
	}
}
