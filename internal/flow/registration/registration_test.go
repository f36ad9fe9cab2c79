package registration_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"unid/internal/account/accounttest"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/flow"
	"unid/internal/flow/registration"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/smscode"
	"unid/internal/store"
	"unid/internal/store/sqlite/sqlitetest"
)

type fixture struct {
	*accounttest.Fixture
	captchas *captcha.Service
	reg      *registration.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	a := accounttest.New(t, sqlitetest.New(t))
	f := &fixture{Fixture: a, captchas: captcha.New(a.Store, a.Clock, captcha.Options{})}
	codes := smscode.New(a.Store, ratelimit.New(a.Store), a.Outbox, a.Protector.MAC, a.Clock, smscode.Options{})
	f.reg = registration.New(a.Accounts, f.captchas, codes, a.Audit, a.Clock)
	return f
}

var client = flow.NewClient("203.0.113.9", "test")

const password = "Shandong#2026"

// code asks for a registration code for phone and returns it.
func (f *fixture) code(t *testing.T, phone string) string {
	t.Helper()
	ctx := context.Background()
	f.Now = f.Now.Add(2 * time.Minute) // past the per-phone minute limit
	c, err := f.captchas.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := f.captchas.Answer(ctx, c.ID)
	if _, err := f.reg.SendCode(ctx, phone, c.ID, answer, client); err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	m, ok := f.Outbox.Last(notify.ChannelSMS, phone)
	if !ok {
		t.Fatal("no code sent")
	}
	return m.Params["code"]
}

func request(login, phone, code, name, id string) registration.Request {
	return registration.Request{LoginName: login, Password: password, PasswordConfirm: password, Phone: phone, SMSCode: code, RealName: name, IDNumber: id}
}

// lastRegister returns the result of the newest user.register audit event.
func (f *fixture) lastRegister(t *testing.T) store.AuditEvent {
	t.Helper()
	events := f.Events(t, audit.ActionRegister)
	if len(events) == 0 {
		t.Fatal("no user.register event")
	}
	return events[len(events)-1]
}

func TestRegister(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	zhang, err := f.reg.Register(ctx, request("zhang_san", "13812345678", f.code(t, "13812345678"), "张三", "11010519491231002X"), client)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if e := f.lastRegister(t); e.Actor != zhang.ID || e.Result != audit.ResultOK || e.Subject != "138****5678" {
		t.Errorf("audit: %+v", e)
	}

	t.Run("an ID number another account holds unverified", func(t *testing.T) {
		wang, err := f.reg.Register(ctx, request("wang_wu_2026", "13900000002", f.code(t, "13900000002"), "王五", "11010519491231002x"), client)
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		if wang.RealnameLevel != 0 || string(wang.IDNumber.Index) != string(zhang.IDNumber.Index) {
			t.Errorf("second holder: level %d, same number %v", wang.RealnameLevel, string(wang.IDNumber.Index) == string(zhang.IDNumber.Index))
		}
	})

	t.Run("a phone with an account", func(t *testing.T) {
		_, err := f.reg.Register(ctx, request("li_si_2026", "13812345678", f.code(t, "13812345678"), "", ""), client)
		if p := problem.As(err); p.Kind != problem.Conflict || p.Code != "phone_registered" {
			t.Fatalf("Register = %v, want phone_registered", err)
		}
		if e := f.lastRegister(t); e.Result != "conflict_phone" || e.Actor != "" {
			t.Errorf("audit: %+v", e)
		}
	})

	t.Run("a taken login name keeps the code", func(t *testing.T) {
		code := f.code(t, "13900000005")
		_, err := f.reg.Register(ctx, request("ZHANG_SAN", "13900000005", code, "", ""), client)
		if p := problem.As(err); p.Kind != problem.Conflict || p.Code != "login_name_taken" {
			t.Fatalf("Register = %v, want login_name_taken", err)
		}
		if _, err := f.reg.Register(ctx, request("zhao_liu_2026", "13900000005", code, "", ""), client); err != nil {
			t.Fatalf("Register with the same code and a free name: %v", err)
		}
	})

	t.Run("bad fields change nothing", func(t *testing.T) {
		before, _ := f.Store.CountUsers(ctx)
		_, err := f.reg.Register(ctx, registration.Request{LoginName: "x", Password: "a", PasswordConfirm: "b", Phone: "1", RealName: "张三"}, client)
		var p *problem.Problem
		if !errors.As(err, &p) || p.Kind != problem.Invalid || len(p.Fields) < 5 {
			t.Fatalf("Register = %v, want every bad field", err)
		}
		if after, _ := f.Store.CountUsers(ctx); after != before {
			t.Error("a bad request stored an account")
		}
	})
}
