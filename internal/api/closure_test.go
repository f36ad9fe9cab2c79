package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/export"
	"unid/internal/questions"
	"unid/internal/store"
)

// exported is the part of the export document the tests read.
type exported struct {
	Realname struct {
		Bindings []struct{ Method string }
		Checks   []struct{ Method, Result string }
	}
	Messages []struct{ Event string }
	Records  []struct {
		Kind, Title, Status string
		History             []struct{ Status string }
	}
	Account struct {
		ID        string
		LoginName string `json:"login_name"`
		Phone     string
		IDNumber  string `json:"id_number"`
		RealName  string `json:"real_name"`
	}
	Addresses []struct {
		Recipient, Phone, Detail, Province string
	}
	SecurityQuestions struct {
		Set       bool
		SetAt     *time.Time `json:"set_at"`
		Questions []string
	} `json:"security_questions"`
	Sessions []struct {
		Current bool
		Browser string
	}
	Consents []struct {
		ClientID   string `json:"client_id"`
		ClientName string `json:"client_name"`
	}
	AuditEvents []struct {
		Action, Result, IP string
	} `json:"audit_events"`
}

// personWithData registers p and gives them an address, security
// questions and a consent for the client hall.
func personWithData(t *testing.T, srv *apptest.Server, p apptest.Person, addr map[string]any) (*apptest.Browser, string) {
	t.Helper()
	b := srv.Browser(t)
	id := b.MustRegister(p)
	if r := b.PostJSON("/api/v1/me/addresses", addr); r.Status != http.StatusCreated {
		t.Fatalf("address: %d %s", r.Status, r.Body)
	}
	if r := setQuestions(b, zhangQuestions, zhangAnswers); r.Status != http.StatusOK {
		t.Fatalf("questions: %d %s", r.Status, r.Body)
	}
	now := srv.Clock.Now()
	if err := srv.App.Store.PutConsent(context.Background(), store.Consent{UserID: id, ClientID: "hall", Scopes: []string{"openid", "profile"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return b, id
}

func newHall(t *testing.T, srv *apptest.Server) {
	t.Helper()
	if _, _, err := srv.App.Clients.Create(context.Background(), client.Spec{ID: "hall", Name: "省网上办事大厅", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid", "profile"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
}

// TestExport: the download holds every record about the person, in full,
// and nothing about anyone else in the same database; it needs a recent
// password and is audited, never logged.
func TestExport(t *testing.T) {
	srv := apptest.Start(t, nil)
	newHall(t, srv)
	b, zhangID := personWithData(t, srv, zhang, with(jinanAddress(), "phone", "13612345678"))
	_, liID := personWithData(t, srv, li, map[string]any{"recipient": "李四", "phone": "13700001111", "province": "370000", "city": "370100", "county": "370102", "detail": "泉城路1号", "postcode": "250011"})

	if r := b.PostJSON("/api/v1/realname/identity", map[string]any{"use_registered": true}); r.Status != http.StatusOK {
		t.Fatalf("real-name check: %d %s", r.Status, r.Body)
	}
	if err := srv.App.Records.Post(context.Background(), zhangID, "realname.approved", map[string]string{"kind": "realname.counter", "reference": "K7Q2M9"}, ""); err != nil {
		t.Fatal(err)
	}
	// A case of zhang's that a service system wrote, and moved on; one
	// of li's.
	now := srv.Clock.Now()
	cases := []store.Record{
		{ID: "case-zhang", Kind: store.RecordCase, UserID: zhangID, ClientID: "hall", ExternalID: "BJ-1", Title: "居住证办理",
			Status: "submitted", UpdatedAt: now, CreatedAt: now},
		{ID: "case-zhang-2", Kind: store.RecordCase, UserID: zhangID, ClientID: "hall", ExternalID: "BJ-1", Title: "居住证办理",
			Status: "accepted", UpdatedAt: now.Add(time.Minute), CreatedAt: now},
		{ID: "case-li", Kind: store.RecordCase, UserID: liID, ClientID: "hall", ExternalID: "BJ-2", Title: "李四的营业执照变更",
			Status: "submitted", UpdatedAt: now, CreatedAt: now},
	}
	if _, err := srv.App.Store.UpsertRecords(context.Background(), cases); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(6 * time.Minute)
	wantStatus(t, "export without a recent password", b.Get("/api/v1/me/export"), http.StatusUnauthorized, "reauthentication_required")
	wantStatus(t, "export of nobody", srv.Browser(t).Get("/api/v1/me/export"), http.StatusUnauthorized, "not_signed_in")
	if r := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password}); r.Status != http.StatusOK {
		t.Fatalf("reauth: %d %s", r.Status, r.Body)
	}
	r := b.Get("/api/v1/me/export")
	if r.Status != http.StatusOK {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".json") {
		t.Errorf("Content-Disposition = %q, want an attachment", cd)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var d exported
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatal(err)
	}

	t.Run("every record about the person, in full", func(t *testing.T) {
		a := d.Account
		if a.ID != zhangID || a.LoginName != zhang.Login || a.Phone != zhang.Phone || a.IDNumber != zhang.IDNumber || a.RealName != zhang.RealName {
			t.Errorf("account = %+v", a)
		}
		if len(d.Addresses) != 1 || d.Addresses[0].Phone != "13612345678" || d.Addresses[0].Recipient != "张三" || d.Addresses[0].Detail != "经十路88号3号楼2单元501室" || d.Addresses[0].Province == "" {
			t.Errorf("addresses = %+v", d.Addresses)
		}
		if q := d.SecurityQuestions; !q.Set || q.SetAt == nil || len(q.Questions) != 3 || q.Questions[0] == "" {
			t.Errorf("security questions = %+v", q)
		}
		if len(d.Sessions) != 1 || !d.Sessions[0].Current || d.Sessions[0].Browser == "" {
			t.Errorf("sessions = %+v", d.Sessions)
		}
		if len(d.Consents) != 1 || d.Consents[0].ClientID != "hall" || d.Consents[0].ClientName != "省网上办事大厅" {
			t.Errorf("consents = %+v", d.Consents)
		}
		if rn := d.Realname; len(rn.Bindings) != 1 || rn.Bindings[0].Method != "registry" || len(rn.Checks) != 1 || rn.Checks[0].Result != "pass" {
			t.Errorf("realname = %+v, want the registry binding and its check", rn)
		}
		if len(d.Messages) != 1 || d.Messages[0].Event != "realname.approved" {
			t.Errorf("messages = %+v", d.Messages)
		}
		if len(d.Records) != 1 {
			t.Fatalf("records = %+v, want zhang's case", d.Records)
		}
		if rec := d.Records[0]; rec.Kind != "case" || rec.Title != "居住证办理" || rec.Status != "accepted" || len(rec.History) != 2 ||
			rec.History[0].Status != "submitted" || rec.History[1].Status != "accepted" {
			t.Errorf("case = %+v, want it with its history", rec)
		}
		var actions []string
		for _, e := range d.AuditEvents {
			actions = append(actions, e.Action)
		}
		for _, want := range []string{audit.ActionRegister, "address.created", questions.ActionSet, "session.reauthenticated"} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit events %v lack %s", actions, want)
			}
		}
	})

	t.Run("no answer hashes, nothing about anyone else", func(t *testing.T) {
		body := string(r.Body)
		for _, leak := range []string{"argon2", liID, li.Login, li.Phone, "李四", "泉城路", "13700001111", "BJ-2"} {
			if strings.Contains(body, leak) {
				t.Errorf("the export holds %q", leak)
			}
		}
	})

	t.Run("audited, never logged", func(t *testing.T) {
		events, err := srv.App.Store.ListActorAudit(context.Background(), zhangID, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Action != export.ActionExported {
			t.Errorf("newest event of the person = %+v, want %s", events, export.ActionExported)
		}
		for _, secret := range []string{"13612345678", "经十路", zhang.IDNumber} {
			if strings.Contains(srv.Logs.String(), secret) {
				t.Errorf("the log holds %q", secret)
			}
		}
	})
}

// casService is a CAS service system that counts the single logouts it
// receives.
type casService struct {
	srv     *httptest.Server
	mu      sync.Mutex
	logouts int
}

func newCASService(t *testing.T, srv *apptest.Server) *casService {
	t.Helper()
	s := &casService{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.FormValue("logoutRequest"), "LogoutRequest") {
			s.mu.Lock()
			s.logouts++
			s.mu.Unlock()
		}
	}))
	t.Cleanup(s.srv.Close)
	if _, _, err := srv.App.Clients.Create(context.Background(), client.Spec{ID: "archive", Name: "档案查询", Type: store.ClientCAS,
		RedirectURIs: []string{s.srv.URL + "/app/*"}, Scopes: []string{"login_name"}}, audit.Origin{Actor: audit.Operator("test")}); err != nil {
		t.Fatal(err)
	}
	return s
}

// signIn signs b in to the service through CAS.
func (s *casService) signIn(t *testing.T, b *apptest.Browser) {
	t.Helper()
	service := s.srv.URL + "/app/"
	r := b.Get("/cas/login?service=" + url.QueryEscape(service))
	loc, _ := url.Parse(r.Location())
	ticket := loc.Query().Get("ticket")
	if ticket == "" {
		t.Fatalf("cas login: %d %q", r.Status, r.Location())
	}
	if v := b.Get("/cas/serviceValidate?" + url.Values{"service": {service}, "ticket": {ticket}}.Encode()); !strings.Contains(string(v.Body), "authenticationSuccess") {
		t.Fatalf("validate: %s", v.Body)
	}
}

func (s *casService) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logouts
}

// TestClosure: after closing, the account signs in no more (exactly as an
// unknown one fails), every session ends and the service systems are
// told, the login name stays taken, and the phone registers again only
// after the cooling-off.
func TestClosure(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, start func(edit func(*config.Config)) *apptest.Server) {
		srv := start(nil)
		ctx := context.Background()
		newHall(t, srv)
		cas := newCASService(t, srv)
		b, zhangID := personWithData(t, srv, zhang, jinanAddress())
		cas.signIn(t, b)
		other := srv.Browser(t) // another device of the same person
		other.MustLogin(zhang.Login, zhang.Password)
		liB := srv.Browser(t)
		liB.MustRegister(li)

		t.Run("a wrong login name closes nothing", func(t *testing.T) {
			for _, confirm := range []string{"", li.Login, "zhang_san2"} {
				wantStatus(t, "closure confirmed by "+confirm, b.PostJSON("/api/v1/me/closure", map[string]any{"confirm": confirm}), http.StatusBadRequest, "closure_confirm_mismatch")
			}
			if r := b.Get("/api/v1/me"); r.Status != http.StatusOK {
				t.Fatalf("after a refused closure: %d", r.Status)
			}
		})
		t.Run("a password entered long ago closes nothing", func(t *testing.T) {
			srv.Clock.Advance(6 * time.Minute)
			wantStatus(t, "closure", b.PostJSON("/api/v1/me/closure", map[string]any{"confirm": zhang.Login}), http.StatusUnauthorized, "reauthentication_required")
			if u, _ := srv.App.Store.GetUser(ctx, zhangID); u.Status != store.UserActive {
				t.Fatalf("status = %s", u.Status)
			}
		})

		if r := b.PostJSON("/api/v1/sessions/current/reauth", map[string]any{"password": zhang.Password}); r.Status != http.StatusOK {
			t.Fatalf("reauth: %d %s", r.Status, r.Body)
		}
		r := b.PostJSON("/api/v1/me/closure", map[string]any{"confirm": " ZHANG_SAN "})
		if r.Status != http.StatusNoContent {
			t.Fatalf("closure: %d %s", r.Status, r.Body)
		}
		if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "unid_session=;") || !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("Set-Cookie = %q, want the session cookie cleared", sc)
		}

		t.Run("signed out everywhere, the systems told", func(t *testing.T) {
			if n := cas.received(); n != 1 {
				t.Errorf("%d single logouts reached the CAS service, want 1", n)
			}
			wantStatus(t, "the other device", other.Get("/api/v1/me"), http.StatusUnauthorized, "not_signed_in")
			wantStatus(t, "this browser", b.Get("/api/v1/me"), http.StatusUnauthorized, "not_signed_in")
			if r := liB.Get("/api/v1/me"); r.Status != http.StatusOK {
				t.Errorf("another person was signed out: %d", r.Status)
			}
			if cs, _ := srv.App.Store.ListConsents(ctx, zhangID); len(cs) != 0 {
				t.Errorf("consents kept: %+v", cs)
			}
			if as, _ := srv.App.Store.ListAddresses(ctx, zhangID); len(as) != 0 {
				t.Errorf("addresses kept: %+v", as)
			}
			told := false
			for _, m := range srv.Outbox(t) {
				if m.To == zhang.Phone && strings.Contains(m.Text, "已注销") {
					told = true
				}
			}
			if !told {
				t.Error("the owner was not told by SMS")
			}
			events, _ := srv.App.Store.ListActorAudit(ctx, zhangID, nil, 100)
			if !slices.ContainsFunc(events, func(e store.AuditEvent) bool { return e.Action == account.ActionClosed }) {
				t.Error("no account.closed event")
			}
		})

		t.Run("sign-in fails exactly as for an unknown account", func(t *testing.T) {
			for _, pair := range [][2]string{{zhang.Login, "nobody_here"}, {zhang.Phone, "13900009999"}} {
				closed := srv.Browser(t).Login(pair[0], zhang.Password)
				unknown := srv.Browser(t).Login(pair[1], zhang.Password)
				if closed.Status != http.StatusUnauthorized || closed.Status != unknown.Status || string(closed.Body) != string(unknown.Body) {
					t.Errorf("login as %s: %d %s; as unknown %s: %d %s", pair[0], closed.Status, closed.Body, pair[1], unknown.Status, unknown.Body)
				}
			}
		})

		again := apptest.Person{Login: "zhang_again", Password: apptest.GoodPassword, Phone: zhang.Phone}
		t.Run("the phone is barred during the cooling-off", func(t *testing.T) {
			srv.Clock.Advance(29 * 24 * time.Hour)
			wantStatus(t, "register with the phone", srv.Browser(t).Register(again), http.StatusConflict, "phone_cooling_off")
		})
		t.Run("and free after it; the login name stays taken", func(t *testing.T) {
			srv.Clock.Advance(24 * time.Hour)
			nb := srv.Browser(t)
			nb.MustRegister(again)
			if r := nb.Get("/api/v1/me"); r.Status != http.StatusOK {
				t.Errorf("the new account: %d", r.Status)
			}
			wantStatus(t, "register the closed login name", srv.Browser(t).Register(apptest.Person{Login: zhang.Login, Password: apptest.GoodPassword, Phone: "13512345678"}), http.StatusConflict, "login_name_taken")
		})
	})
}
