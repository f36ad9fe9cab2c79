package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// TestBrowserConsoleUnlockCitizen: a citizen locks themselves out with
// wrong passwords and calls the hotline; the security administrator
// finds them by phone on the citizens page (which says that only exact
// values are found), opens the account, sees it locked, gives a reason
// and unlocks it; the citizen then signs in.
func TestBrowserConsoleUnlockCitizen(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, lockSoon)
	p := &page{t: t, ctx: ctx, srv: srv}
	citizen := srv.Browser(t)
	zhang := citizen.MustRegister(apptest.Zhang)
	for range 5 {
		citizen.Login("13812345678", "Wrong#Password1")
	}
	if r := citizen.Login("13812345678", apptest.GoodPassword); r.Status != http.StatusUnauthorized {
		t.Fatalf("not locked: %d", r.Status)
	}

	srv.ConsoleOperatorInBrowser(ctx, t, "an_quan", "secadmin")
	p.do(chromedp.Navigate(srv.URL + "/console/citizens"))
	p.do(chromedp.WaitVisible(chromedp.ID("citizen-" + zhang))) // the newest accounts
	if note := p.text("#citizen-note"); !strings.Contains(note, "精确查找") {
		t.Errorf("the page does not say lookups are exact: %q", note)
	}
	// The newest accounts already show the one row the search finds: mark
	// it, so that the wait below sees the search's own row, not the list's
	// one about to be replaced.
	if !eventually[bool](p, `(document.getElementById("citizen-`+zhang+`").dataset.listed = "1") === "1"`) {
		t.Fatal("the newest accounts do not list the citizen")
	}
	p.fill("q", "138 1234 5678")
	p.click("citizen-search-submit")
	if got := eventually[string](p, `document.querySelectorAll("#citizens-body tr").length === 1 && !document.querySelector("#citizens-body tr").dataset.listed ? document.getElementById("citizens-body").textContent : ""`); !strings.Contains(got, "138****5678") || strings.Contains(got, "13812345678") {
		t.Errorf("found row = %q", got)
	}
	p.do(chromedp.Click(chromedp.CSS("#citizen-" + zhang + " a")))
	if !eventually[bool](p, `document.getElementById("citizen-lock").className === "locked"`) {
		t.Fatal("the lock is not shown")
	}
	// No reason, no action.
	p.click("action-unlock")
	p.do(chromedp.WaitVisible(chromedp.ID("citizen-error")))
	p.fill("reason", "本人来电，已核实身份")
	p.click("action-unlock")
	p.do(chromedp.WaitVisible(chromedp.ID("citizen-confirm")))
	p.click("citizen-confirm-yes")
	if !eventually[bool](p, `document.getElementById("citizen-result").textContent.indexOf("已解除") >= 0 && document.getElementById("citizen-lock").className === "unlocked"`) {
		t.Fatal("no result shown")
	}
	citizen.MustLogin("13812345678", apptest.GoodPassword)
}
