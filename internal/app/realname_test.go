package app_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/realname/httpverifier/verifiertest"
	"unid/internal/review"
)

// People of the sandbox fixture (internal/realname/sandbox/people.json,
// test data) besides apptest.Zhang.
var (
	zhangCard        = "6222020200112233446" // Zhang's card, reserved phone 13812345678
	liSi             = apptest.Person{Login: "li_si", Password: apptest.GoodPassword, Phone: "13912345670", RealName: "李四", IDNumber: "44030519880415001X"}
	wangWu           = apptest.Person{Login: "wang_wu", Password: apptest.GoodPassword, Phone: "13700000001", RealName: "王五", IDNumber: "370102199001010036"}
	notInTheRegistry = "110101198001010010" // a well-formed number the fixture does not hold
)

// realnameStatus returns the signed-in user's status.
func realnameStatus(t *testing.T, b *apptest.Browser) map[string]any {
	t.Helper()
	r := b.Get("/api/v1/realname")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/realname: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func realnameLevel(t *testing.T, b *apptest.Browser) int {
	t.Helper()
	return int(realnameStatus(t, b)["level"].(float64))
}

// checks returns how many checks the account's record holds.
func checks(t *testing.T, srv *apptest.Server, login string) int {
	t.Helper()
	ctx := context.Background()
	u, err := srv.App.Store.GetUserByLoginName(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := srv.App.Store.ListRealnameChecks(ctx, u.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// startRedirect starts a redirect verification and returns the sandbox
// page's URL.
func startRedirect(t *testing.T, b *apptest.Browser, method, next string) string {
	t.Helper()
	r := b.PostJSON("/api/v1/realname/redirects", map[string]any{"method": method, "next": next})
	if r.Status != http.StatusOK {
		t.Fatalf("start %s: %d %s", method, r.Status, r.Body)
	}
	return r.JSON(t)["url"].(string)
}

// atSandbox presses choice on the sandbox page and returns the callback
// URL the page sends the browser to.
func atSandbox(t *testing.T, b *apptest.Browser, page, choice string) string {
	t.Helper()
	if r := b.Get(page); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "通过") {
		t.Fatalf("sandbox page: %d %s", r.Status, r.Body)
	}
	r := b.Do(http.MethodPost, page, "application/x-www-form-urlencoded", strings.NewReader("outcome="+choice))
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "/realname/callback?flow=") {
		t.Fatalf("sandbox %s: %d %q", choice, r.Status, r.Location())
	}
	return r.Location()
}

// callback follows the verifier's redirect back and returns the query of
// where unid sends the browser on.
func callback(t *testing.T, b *apptest.Browser, u string) url.Values {
	t.Helper()
	r := b.Get(u)
	loc, err := url.Parse(r.Location())
	if r.Status != http.StatusSeeOther || err != nil || loc.Path != "/settings/realname" {
		t.Fatalf("callback: %d %q", r.Status, r.Location())
	}
	return loc.Query()
}

// TestRealnameLevels walks every level path through the JSON API with the
// sandbox verifier, and every failure on the way, which leaves the level
// as it was and is counted.
func TestRealnameLevels(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		b := srv.Browser(t)
		b.MustRegister(apptest.Zhang)

		st := realnameStatus(t, b)
		if st["level"].(float64) != 0 || st["locked"] != false || st["bound_phone"] != "138****5678" {
			t.Fatalf("new account: %v", st)
		}
		if reg, _ := st["registered"].(map[string]any); reg["real_name"] != "*三" || reg["id_number"] != "1101**********002X" {
			t.Fatalf("registered: %v", st["registered"])
		}

		steps := []struct {
			name   string
			path   string
			body   map[string]any
			status int
			code   string
			level  int
			checks int
		}{
			{"level 2 before level 1", "/api/v1/realname/bank-card", map[string]any{"card_number": zhangCard, "phone": apptest.Zhang.Phone}, 400, "realname_level_required", 0, 0},
			{"a malformed ID number is not checked", "/api/v1/realname/identity", map[string]any{"real_name": "张三", "id_number": "110105194912310021"}, 400, "invalid_fields", 0, 0},
			{"wrong name", "/api/v1/realname/identity", map[string]any{"real_name": "李四", "id_number": apptest.Zhang.IDNumber}, 400, "realname_mismatch", 0, 1},
			{"ID not in the registry", "/api/v1/realname/identity", map[string]any{"real_name": "张三", "id_number": notInTheRegistry}, 400, "realname_mismatch", 0, 2},
			{"level 1 with the registered name and ID", "/api/v1/realname/identity", map[string]any{"use_registered": true}, 200, "", 1, 3},
			{"level 1 again", "/api/v1/realname/identity", map[string]any{"use_registered": true}, 409, "realname_locked", 1, 3},
			{"card not matching", "/api/v1/realname/bank-card", map[string]any{"card_number": "6222020200112233008", "phone": apptest.Zhang.Phone}, 400, "bank_card_mismatch", 1, 4},
			{"carrier mismatch", "/api/v1/realname/carrier", map[string]any{"phone": "13900000000"}, 400, "carrier_mismatch", 1, 5},
			{"the day's checks are used up", "/api/v1/realname/carrier", map[string]any{"phone": ""}, 429, "realname_check_limit", 1, 5},
		}
		for _, s := range steps {
			r := b.PostJSON(s.path, s.body)
			if r.Status != s.status || s.code != "" && r.ErrCode(t) != s.code {
				t.Fatalf("%s: %d %s; want %d %s", s.name, r.Status, r.Body, s.status, s.code)
			}
			if s.status == 429 && r.Header.Get("Retry-After") == "" {
				t.Errorf("%s: no Retry-After", s.name)
			}
			if s.status == 400 && s.code == "realname_mismatch" {
				if e := r.JSON(t)["error"].(map[string]any); e["fields"].(map[string]any)["id_number"] == nil || !strings.Contains(e["message"].(string), "不一致") {
					t.Errorf("%s: %s", s.name, r.Body)
				}
			}
			if l := realnameLevel(t, b); l != s.level {
				t.Errorf("%s: level %d, want %d", s.name, l, s.level)
			}
			if n := checks(t, srv, "zhang_san"); n != s.checks {
				t.Errorf("%s: %d checks recorded, want %d", s.name, n, s.checks)
			}
		}
		if st := realnameStatus(t, b); st["checks_left_today"].(float64) != 0 || st["real_name"] != "*三" || st["locked"] != true || st["registered"] != nil {
			t.Errorf("status at level 1: %v", st)
		}

		srv.Clock.Advance(24 * time.Hour)
		b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
		if r := b.PostJSON("/api/v1/realname/bank-card", map[string]any{"card_number": "6222 0202 0011 2233 446", "phone": apptest.Zhang.Phone}); r.Status != 200 || r.JSON(t)["level"].(float64) != 2 {
			t.Fatalf("bank card: %d %s", r.Status, r.Body)
		}
		if r := b.PostJSON("/api/v1/realname/carrier", map[string]any{"phone": ""}); r.Status != 200 || r.JSON(t)["level"].(float64) != 2 {
			t.Fatalf("carrier with the bound phone: %d %s", r.Status, r.Body)
		}

		// Face: cancelled, failed, then passed; the callback carries next.
		next := "/oidc/authorize/callback?id=abc"
		for _, c := range []struct{ choice, result string }{{"cancel", "cancelled"}, {"fail", "failed"}} {
			q := callback(t, b, atSandbox(t, b, startRedirect(t, b, "face", next), c.choice))
			if q.Get("result") != c.result || q.Get("method") != "face" || q.Get("next") != next {
				t.Errorf("face %s: %v", c.choice, q)
			}
			if l := realnameLevel(t, b); l != 2 {
				t.Errorf("after face %s: level %d", c.choice, l)
			}
		}
		back := atSandbox(t, b, startRedirect(t, b, "face", "//evil.example/"), "pass")
		if q := callback(t, b, back); q.Get("result") != "ok" || q.Has("next") {
			t.Errorf("face pass: %v", q)
		}
		if l := realnameLevel(t, b); l != 3 {
			t.Fatalf("after face: level %d, want 3", l)
		}
		n := checks(t, srv, "zhang_san")
		if q := callback(t, b, back); q.Get("result") != "expired" {
			t.Errorf("replayed callback: %v", q)
		}
		if q := callback(t, b, srv.URL+"/realname/callback?flow=FORGEDFLOWIDFORGEDFLOWID00"); q.Get("result") != "expired" {
			t.Errorf("forged flow: %v", q)
		}
		if m := checks(t, srv, "zhang_san"); m != n {
			t.Errorf("a replayed or forged callback recorded %d checks", m-n)
		}

		// Another user's flow, called back in Zhang's browser, is refused
		// and stays the owner's to finish.
		wb := srv.Browser(t)
		wb.MustRegister(wangWu)
		if r := wb.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != 200 {
			t.Fatalf("wang wu level 1: %d %s", r.Status, r.Body)
		}
		wangBack := atSandbox(t, wb, startRedirect(t, wb, "netid", ""), "pass")
		if q := callback(t, b, wangBack); q.Get("result") != "expired" {
			t.Errorf("another user's callback: %v", q)
		}
		if l := realnameLevel(t, wb); l != 1 {
			t.Errorf("wang wu's level after Zhang took his callback: %d", l)
		}
		if q := callback(t, wb, wangBack); q.Get("result") != "ok" || realnameLevel(t, wb) != 2 {
			t.Errorf("wang wu's own callback: %v", q)
		}

		// Someone whose face the registry photo does not match fails.
		lb := srv.Browser(t)
		lb.MustRegister(liSi)
		lb.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
		if q := callback(t, lb, atSandbox(t, lb, startRedirect(t, lb, "face", ""), "pass")); q.Get("result") != "failed" || realnameLevel(t, lb) != 1 {
			t.Errorf("face of li si: %v", q)
		}

		// Unbinding needs a recent password and recomputes the level.
		srv.Clock.Advance(6 * time.Minute)
		if r := b.Do(http.MethodDelete, "/api/v1/realname/bindings/bank_card", "", nil); r.Status != 401 || r.ErrCode(t) != "reauthentication_required" {
			t.Fatalf("unbind with an old sign-in: %d %s", r.Status, r.Body)
		}
		if r := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": apptest.Zhang.Password}); r.Status/100 != 2 {
			t.Fatalf("reauth: %d %s", r.Status, r.Body)
		}
		if r := b.Do(http.MethodDelete, "/api/v1/realname/bindings/registry", "", nil); r.Status != 400 || r.ErrCode(t) != "binding_not_removable" {
			t.Errorf("unbind registry: %d %s", r.Status, r.Body)
		}
		if r := b.Do(http.MethodDelete, "/api/v1/realname/bindings/face", "", nil); r.Status != 200 || r.JSON(t)["level"].(float64) != 2 {
			t.Errorf("unbind face: %d %s", r.Status, r.Body)
		}
		if r := b.Do(http.MethodDelete, "/api/v1/realname/bindings/face", "", nil); r.Status != 404 {
			t.Errorf("unbind face twice: %d %s", r.Status, r.Body)
		}

		// Every check was audited by the service, masked.
		events, err := srv.App.Store.ListAudit(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var bound, failed, limited, refused, unbound int
		for _, e := range events {
			switch {
			case e.Action == "realname.bound":
				bound++
			case e.Action == "realname.checked" && e.Result == audit.ResultRateLimited:
				limited++
			case e.Action == "realname.checked":
				failed++
			case e.Action == "realname.callback_refused":
				refused++
			case e.Action == "realname.unbound":
				unbound++
			}
			if strings.Contains(e.Detail+e.Subject, apptest.Zhang.IDNumber) || strings.Contains(e.Detail+e.Subject, "张三") {
				t.Errorf("unmasked personal data in %s: %s %s", e.Action, e.Subject, e.Detail)
			}
		}
		if bound != 7 || failed != 7 || limited != 1 || refused != 3 || unbound != 1 {
			t.Errorf("audited: %d bound, %d failed, %d limited, %d refused callbacks, %d unbound", bound, failed, limited, refused, unbound)
		}
	})
}

// multipartAppeal builds an appeal body.
func multipartAppeal(t *testing.T, fields map[string]string, files map[string][]byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for k, v := range files {
		f, err := w.CreateFormFile(k, k+".bin")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(v)
	}
	w.Close()
	return w.FormDataContentType(), &buf
}

var (
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	pdfBytes = []byte("%PDF-1.4\n%test\n")
)

// TestRealnameConflictAndAppeal: a second account proving a verified ID
// number is told so; its appeal, approved, moves the verification, and
// the old account drops to level 0 and is told by SMS, with the audit
// trail. Nobody reads another's records.
func TestRealnameConflictAndAppeal(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		ctx := context.Background()
		old := srv.Browser(t)
		oldID := old.MustRegister(apptest.Zhang)
		old.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
		old.PostJSON("/api/v1/realname/bank-card", map[string]any{"card_number": zhangCard, "phone": apptest.Zhang.Phone})
		if l := realnameLevel(t, old); l != 2 {
			t.Fatalf("old account level %d", l)
		}

		nb := srv.Browser(t)
		claimant := apptest.Person{Login: "zhang_san_2", Password: apptest.GoodPassword, Phone: "13600000009"}
		newID := nb.MustRegister(claimant)
		r := nb.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": "张三", "id_number": apptest.Zhang.IDNumber})
		if r.Status != http.StatusConflict || r.ErrCode(t) != "id_number_verified_elsewhere" {
			t.Fatalf("second verification: %d %s", r.Status, r.Body)
		}
		if realnameLevel(t, nb) != 0 || checks(t, srv, "zhang_san_2") != 1 {
			t.Fatal("the conflict changed the level or was not counted")
		}

		fields := map[string]string{"real_name": "张三", "id_number": apptest.Zhang.IDNumber}
		for _, c := range []struct {
			name  string
			files map[string][]byte
			code  string
		}{
			{"a text file", map[string][]byte{"id_photo": []byte("just text"), "handheld_photo": pngBytes}, "upload_type"},
			{"too large", map[string][]byte{"id_photo": append(slices.Clone(pngBytes), make([]byte, 5<<20)...), "handheld_photo": pngBytes}, "upload_too_large"},
			{"missing", map[string][]byte{"id_photo": pngBytes}, "upload_required"},
		} {
			ct, body := multipartAppeal(t, fields, c.files)
			r := nb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body)
			if r.Status != 400 || !strings.Contains(string(r.Body), c.code) {
				t.Errorf("appeal with %s: %d %s", c.name, r.Status, r.Body)
			}
		}
		if items, _ := srv.App.Store.ListUserReviewItems(ctx, newID, review.StatePending); len(items) != 0 {
			t.Fatalf("a refused appeal filed %d items", len(items))
		}
		// Three appeals a day, refused or not.
		ct, body := multipartAppeal(t, fields, map[string][]byte{"id_photo": pngBytes, "handheld_photo": pdfBytes})
		r = nb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body)
		if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "realname_appeal_limit" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("a fourth appeal in a day: %d %s", r.Status, r.Body)
		}
		// A day on, the check the appeal stood on is too old: it needs
		// another.
		srv.Clock.Advance(24*time.Hour + time.Minute)
		nb.MustLogin(claimant.Login, claimant.Password)
		ct, body = multipartAppeal(t, fields, map[string][]byte{"id_photo": pngBytes, "handheld_photo": pdfBytes})
		if r := nb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body); r.Status != 400 || r.ErrCode(t) != "realname_appeal_without_conflict" {
			t.Fatalf("an appeal on a day-old check: %d %s", r.Status, r.Body)
		}
		if r := nb.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": "张三", "id_number": apptest.Zhang.IDNumber}); r.ErrCode(t) != "id_number_verified_elsewhere" {
			t.Fatalf("second verification again: %d %s", r.Status, r.Body)
		}
		old.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
		rt := oidcGrant(t, srv, oldID)
		ct, body = multipartAppeal(t, fields, map[string][]byte{"id_photo": pngBytes, "handheld_photo": pdfBytes})
		r = nb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body)
		if r.Status != http.StatusCreated || r.JSON(t)["kind"] != "realname.appeal" || r.JSON(t)["subject"] != "*三 1101**********002X" {
			t.Fatalf("appeal: %d %s", r.Status, r.Body)
		}
		itemID := r.JSON(t)["id"].(string)
		ct, body = multipartAppeal(t, fields, map[string][]byte{"id_photo": pngBytes, "handheld_photo": pdfBytes})
		if r := nb.Do(http.MethodPost, "/api/v1/realname/appeals", ct, body); r.Status != http.StatusConflict || r.ErrCode(t) != "realname_pending" {
			t.Errorf("second appeal: %d %s", r.Status, r.Body)
		}
		// The old account sees nothing of it; the claimant sees only the
		// reference of its own item.
		if st := realnameStatus(t, old); len(st["pending"].([]any)) != 0 {
			t.Errorf("the old account sees %v", st["pending"])
		}
		if r := old.Get("/api/v1/realname/appeals/" + itemID); r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
			t.Errorf("reading an appeal through the citizen API: %d", r.Status)
		}

		// The reviewer lists, opens, views a file and approves.
		q := srv.App.Realname
		ann := audit.Origin{Actor: audit.Operator("ann"), IP: "192.0.2.9"}
		items, next, err := q.List(ctx, review.Page{Kind: "realname.appeal"})
		if err != nil || len(items) != 1 || items[0].ID != itemID || next != "" {
			t.Fatalf("List: %v %q %v", items, next, err)
		}
		d, err := q.Open(ctx, itemID, ann)
		if err != nil || len(d.Files) != 2 || d.Fields[1].Value != apptest.Zhang.IDNumber {
			t.Fatalf("Open: %+v %v", d, err)
		}
		for _, f := range d.Files {
			got, err := q.File(ctx, itemID, f.ID, ann)
			if err != nil || !(bytes.Equal(got.Data, pngBytes) || bytes.Equal(got.Data, pdfBytes)) {
				t.Errorf("File %s: %v", f.Label, err)
			}
		}
		if _, err := q.Decide(ctx, itemID, true, "", ann); err == nil {
			t.Error("Decide without a reason: no error")
		}
		if _, err := q.Decide(ctx, itemID, true, "证件照片与本人一致", ann); err != nil {
			t.Fatalf("Decide: %v", err)
		}
		if _, err := q.Decide(ctx, itemID, false, "again", ann); err == nil {
			t.Error("deciding twice: no error")
		}
		// The old holder's sessions and tokens end with the identity.
		if r := old.Get("/api/v1/realname"); r.Status != http.StatusUnauthorized {
			t.Errorf("the old holder is still signed in: %d", r.Status)
		}
		if g, err := srv.App.Store.GetGrant(ctx, rt.GrantID); err != nil || g.RevokedAt.IsZero() {
			t.Errorf("the old holder's grant was not revoked: %+v %v", g, err)
		}
		if r := refresh(t, srv, rt); r.StatusCode != http.StatusBadRequest {
			t.Errorf("the old holder's refresh token: %d", r.StatusCode)
		}
		old.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
		if l := realnameLevel(t, old); l != 0 {
			t.Errorf("old account level %d after the move", l)
		}
		if bs, _ := srv.App.Store.ListRealnameBindings(ctx, oldID); len(bs) != 0 {
			t.Errorf("old account keeps %v", bs)
		}
		if st := realnameStatus(t, nb); st["level"].(float64) != 1 || st["id_number"] != "1101**********002X" {
			t.Errorf("claimant after the move: %v", st)
		}
		told := false
		for _, m := range srv.Outbox(t) {
			told = told || m.To == apptest.Zhang.Phone && strings.Contains(m.Text, "实名认证已解除")
		}
		if !told {
			t.Error("the old account was not told by SMS")
		}
		events, _ := srv.App.Store.ListAudit(ctx, 0, 1000)
		want := map[string]bool{"realname.appealed": false, "review.opened": false, "review.file_opened": false, "review.decided": false}
		for _, e := range events {
			if _, ok := want[e.Action]; ok {
				want[e.Action] = true
				if e.Action != "realname.appealed" && e.Actor != "operator:ann" {
					t.Errorf("%s by %q", e.Action, e.Actor)
				}
				if e.Action == "review.decided" && !strings.Contains(e.Detail, oldID) {
					t.Errorf("decision detail %s does not name the old account", e.Detail)
				}
			}
		}
		for a, seen := range want {
			if !seen {
				t.Errorf("no %s event", a)
			}
		}
	})
}

// TestRealnameCounter: a counter request waits for a reviewer, whose
// approval gives level 3 and an SMS.
func TestRealnameCounter(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)
	if r := b.PostJSON("/api/v1/realname/counter", map[string]any{}); r.Status != 400 || r.ErrCode(t) != "realname_level_required" {
		t.Fatalf("counter at level 0: %d %s", r.Status, r.Body)
	}
	b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
	r := b.PostJSON("/api/v1/realname/counter", map[string]any{})
	if r.Status != http.StatusCreated || len(r.JSON(t)["reference"].(string)) != 6 {
		t.Fatalf("counter: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	if r := b.PostJSON("/api/v1/realname/counter", map[string]any{}); r.Status != http.StatusConflict || r.ErrCode(t) != "realname_pending" {
		t.Errorf("second counter request: %d %s", r.Status, r.Body)
	}
	if st := realnameStatus(t, b); len(st["pending"].([]any)) != 1 {
		t.Errorf("pending: %v", st["pending"])
	}
	it, err := srv.App.Realname.Decide(ctx, id, true, "本人到柜台核验", audit.Origin{Actor: audit.Operator("ann")})
	if err != nil || it.State != review.StateApproved || it.DecidedBy != "ann" {
		t.Fatalf("Decide: %+v %v", it, err)
	}
	if l := realnameLevel(t, b); l != 3 {
		t.Errorf("level %d after the counter, want 3", l)
	}
	if msgs := srv.Outbox(t); !strings.Contains(msgs[0].Text, "审核通过") {
		t.Errorf("last SMS: %q", msgs[0].Text)
	}
}

// TestRealnameLocksTheProfile: once verified, the user center cannot
// change the name or ID number (its profile has no such fields); only a
// reviewer's correction can, audited with its reason.
func TestRealnameLocksTheProfile(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	b := srv.Browser(t)
	id := b.MustRegister(apptest.Zhang)
	b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
	before, _ := srv.App.Store.GetUser(ctx, id)
	for _, body := range []map[string]any{
		{"real_name": "王五", "id_number": wangWu.IDNumber, "nickname": "三"},
		{"real_name": "王五", "id_number": wangWu.IDNumber},
	} {
		if r := b.SendJSON(http.MethodPatch, "/api/v1/me", body); r.Status >= 500 {
			t.Fatalf("PATCH /api/v1/me: %d %s", r.Status, r.Body)
		}
	}
	after, _ := srv.App.Store.GetUser(ctx, id)
	if !bytes.Equal(before.RealName.Cipher, after.RealName.Cipher) || !bytes.Equal(before.IDNumber.Index, after.IDNumber.Index) {
		t.Fatal("the profile changed a verified name or ID number")
	}
	if err := srv.App.Realname.Correct(ctx, id, "张叁", apptest.Zhang.IDNumber, "", audit.Origin{Actor: audit.Operator("ann")}); err == nil {
		t.Error("a correction without a reason: no error")
	}
	if err := srv.App.Realname.Correct(ctx, id, "张叁", apptest.Zhang.IDNumber, "户籍信息更正", audit.Origin{Actor: audit.Operator("ann")}); err != nil {
		t.Fatal(err)
	}
	b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password) // a correction ends the sessions
	if st := realnameStatus(t, b); st["real_name"] != "*叁" || st["level"].(float64) != 1 {
		t.Errorf("after the correction: %v", st)
	}
}

// TestRealnameHTTPProvider runs unid with realname.provider http against a
// loopback verification service: a check passes, a service that is down
// answers realname_unavailable and changes nothing but the count, a face
// verification goes through the service's redirect and a callback without
// a matching flow is refused.
func TestRealnameHTTPProvider(t *testing.T) {
	svc := verifiertest.Start(t, map[string]string{apptest.Zhang.IDNumber: apptest.Zhang.RealName})
	srv := apptest.Start(t, func(c *config.Config) {
		c.Realname.Provider = config.ProviderHTTP
		c.Realname.URL = svc.URL
		c.Realname.AppID = svc.AppID
		c.Realname.Secret = config.Secret{Value: string(svc.Secret)}
		c.Realname.Timeout = 200 * time.Millisecond
	})
	b := srv.Browser(t)
	b.MustRegister(apptest.Zhang)

	svc.Next(verifiertest.Error5xx, verifiertest.Error5xx, verifiertest.Error5xx)
	r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true})
	if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "realname_unavailable" || !strings.Contains(string(r.Body), "暂不可用") {
		t.Fatalf("service down: %d %s", r.Status, r.Body)
	}
	if realnameLevel(t, b) != 0 || checks(t, srv, "zhang_san") != 1 {
		t.Fatal("an unavailable service changed the level, or the check was not recorded")
	}
	svc.Next(verifiertest.Unsigned)
	if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("unsigned answer: %d %s", r.Status, r.Body)
	}
	if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK || r.JSON(t)["level"].(float64) != 1 {
		t.Fatalf("identity: %d %s", r.Status, r.Body)
	}
	if n := svc.Checks("identity"); n != 3 {
		t.Errorf("the service ran %d identity checks, want 3 (one per request id)", n)
	}

	page := startRedirect(t, b, "face", "")
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	back := u.Query().Get("return")
	if !strings.HasPrefix(back, srv.URL+"/realname/callback?flow=") || strings.Contains(back, svc.Tickets()[0]) {
		t.Fatalf("return URL %q", back)
	}
	if q := callback(t, b, srv.URL+"/realname/callback?flow=NOSUCHFLOWNOSUCHFLOWNOSUCH"); q.Get("result") != "expired" {
		t.Errorf("a callback without a matching flow: %v", q)
	}
	if q := callback(t, b, back); q.Get("result") != "cancelled" || realnameLevel(t, b) != 1 {
		t.Errorf("back before finishing at the service: %v", q)
	}
	page = startRedirect(t, b, "face", "")
	u, _ = url.Parse(page)
	for _, ticket := range svc.Tickets() {
		svc.Finish(ticket, "pass")
	}
	if q := callback(t, b, u.Query().Get("return")); q.Get("result") != "ok" || realnameLevel(t, b) != 3 {
		t.Errorf("face through the service: %v", q)
	}
}

// TestRealnameTakesTheVerifiedIdentity: a check that passes with another
// name and ID number than those typed at registration gives the account
// the verified ones.
func TestRealnameTakesTheVerifiedIdentity(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	typo := wangWu
	typo.RealName = "王午"
	b.MustRegister(typo)
	if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != 400 || r.ErrCode(t) != "realname_mismatch" {
		t.Fatalf("the typo: %d %s", r.Status, r.Body)
	}
	r := b.PostJSON("/api/v1/realname/identity", map[string]any{"real_name": "赵六", "id_number": "510107197506200045"})
	if r.Status != 200 || r.JSON(t)["real_name"] != "*六" || r.JSON(t)["id_number"] != "5101**********0045" {
		t.Fatalf("verified: %d %s", r.Status, r.Body)
	}
}
