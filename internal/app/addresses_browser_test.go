package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"unid/internal/app/apptest"
)

// selectValue picks the option with value in the select with id, as a
// person choosing from the list does (the page listens for change).
func (p *page) selectValue(id, value string) {
	p.t.Helper()
	eventually[bool](p, `!!document.querySelector('#`+id+` option[value="`+value+`"]') && !document.getElementById("`+id+`").disabled`)
	p.do(chromedp.SetValue(chromedp.ID(id), value))
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.getElementById("`+id+`").dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		p.t.Fatalf("change %s: %v", id, err)
	}
}

// retype replaces what the input named name holds with v, as a person
// selecting the text and typing over it does.
func (p *page) retype(name, v string) {
	p.t.Helper()
	sel := chromedp.CSS(`input[name="` + name + `"]`)
	p.do(chromedp.WaitVisible(sel))
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`(document.querySelector('input[name="`+name+`"]').value = "") === ""`)); err != nil {
		p.t.Fatalf("clear %s: %v", name, err)
	}
	p.do(chromedp.SendKeys(sel, v))
}

func TestBrowserAddAndEditAnEMSAddress(t *testing.T) {
	ctx := newTab(t)
	srv := apptest.Start(t, nil)
	p := &page{t: t, ctx: ctx, srv: srv}
	srv.Browser(t).MustRegister(apptest.Zhang)
	p.do(chromedp.Navigate(srv.URL + "/login"))
	p.login(apptest.Zhang.Login, apptest.Zhang.Password)

	// From the personal space to the user center's 我的EMS地址.
	p.click("tile-settings")
	p.waitPath("/settings")
	p.click("settings-addresses")
	p.waitPath("/settings/addresses")
	eventually[bool](p, `!document.getElementById("addresses-empty").hidden`)

	// Add: a postcode of another province is answered next to the field.
	p.click("address-add")
	p.fill("recipient", "张三")
	p.fill("phone", "0531-88886666")
	p.selectValue("province", "370000")
	p.selectValue("city", "370100")
	p.selectValue("county", "370102")
	p.fill("detail", "经十路88号3号楼2单元501室")
	p.fill("postcode", "100020")
	p.click("address-save")
	p.do(chromedp.WaitVisible(chromedp.ID("postcode-error")))
	if msg := p.text("#postcode-error"); !strings.Contains(msg, "省份不符") {
		t.Errorf("postcode error = %q", msg)
	}
	p.retype("postcode", "250014")
	p.click("address-save")
	eventually[bool](p, `document.querySelectorAll("#addresses-list .address").length === 1 && document.getElementById("address-editor").hidden`)
	item := p.text("#addresses-list .address")
	for _, want := range []string{"张三", "0531-****6666", "山东省", "济南市", "历下区", "经十路88号", "250014", "默认"} {
		if !strings.Contains(item, want) {
			t.Errorf("the list lacks %q: %s", want, item)
		}
	}
	if strings.Contains(item, "88886666") {
		t.Errorf("the list shows the phone unmasked: %s", item)
	}

	// Edit: move it to 青岛市市南区; the phone left empty stays.
	p.do(chromedp.Click(chromedp.CSS("#addresses-list .address-edit")))
	eventually[bool](p, `document.getElementById("county").value === "370102" && !document.getElementById("address-save").disabled`)
	p.retype("recipient", "李四")
	p.selectValue("city", "370200")
	p.selectValue("county", "370202")
	p.retype("detail", "香港中路10号")
	p.retype("postcode", "266001")
	p.click("address-save")
	eventually[bool](p, `document.getElementById("addresses-status").textContent.indexOf("已修改") >= 0`)
	item = p.text("#addresses-list .address")
	for _, want := range []string{"李四", "0531-****6666", "青岛市", "市南区", "香港中路10号", "266001"} {
		if !strings.Contains(item, want) {
			t.Errorf("after the edit, the list lacks %q: %s", want, item)
		}
	}
	// The page fits a phone: nothing wider than the screen.
	if wide := eventually[string](p, `String(document.documentElement.scrollWidth <= window.innerWidth ? "fits" : document.documentElement.scrollWidth)`); wide != "fits" {
		t.Errorf("the page is %s px wide on a 390 px screen", wide)
	}
}
