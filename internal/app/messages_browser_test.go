package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

func TestBrowserReadMyMessages(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	id := srv.Browser(t).MustRegister(apptest.Zhang)
	tell := func(event string, params map[string]string, link string) {
		t.Helper()
		if err := srv.App.Records.Post(context.Background(), id, event, params, link); err != nil {
			t.Fatal(err)
		}
		srv.Clock.Advance(time.Minute)
	}
	tell("realname.rejected", map[string]string{"kind": "realname.counter", "reference": "K7Q2M9"}, "")
	tell("realname.approved", map[string]string{"kind": "realname.counter", "reference": "P3X8D2"}, "/settings/realname")

	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)
	p.click("tile-messages")
	p.waitPath("/me/messages")
	eventually[bool](p, `document.querySelectorAll("#records-list .record").length === 2`)
	if got := p.text("#records-unread"); !strings.Contains(got, "2 条未读") {
		t.Errorf("unread = %q", got)
	}
	list := p.text("#records-list")
	newest, oldest := strings.Index(list, "实名认证审核已通过"), strings.Index(list, "实名认证审核未通过")
	if newest < 0 || oldest < 0 || newest > oldest || !strings.Contains(list, "P3X8D2") || !strings.Contains(list, "K7Q2M9") {
		t.Errorf("the list is not the two messages, newest first:\n%s", list)
	}

	// Marking the older one read: one left unread, also after a reload.
	p.do(chromedp.Click(chromedp.CSS("#records-list .record:nth-child(2) .record-read")))
	eventually[bool](p, `document.getElementById("records-unread").textContent.indexOf("1 条未读") >= 0`)
	p.do(chromedp.Reload())
	eventually[bool](p, `document.querySelectorAll("#records-list .record-unread").length === 1`)

	// Following the newer one's link reads it and leads to its page.
	p.do(chromedp.Click(chromedp.CSS("#records-list .record-unread .record-link")))
	p.waitPath("/settings/realname")
	p.do(chromedp.Navigate(srv.URL + "/me/messages"))
	eventually[bool](p, `document.querySelectorAll("#records-list .record").length === 2 && document.getElementById("records-unread").textContent.indexOf("没有未读") >= 0`)
	if wide := eventually[string](p, `String(document.documentElement.scrollWidth <= window.innerWidth ? "fits" : document.documentElement.scrollWidth)`); wide != "fits" {
		t.Errorf("the page is %s px wide on a phone", wide)
	}
}
