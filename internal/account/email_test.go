package account_test

import (
	"context"
	"strings"
	"testing"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
)

func TestSetEmail(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		other := f.Create(t, account.NewAccount{LoginName: "li_si", Password: password, Phone: "13900001111"})

		// Bound: sealed, found by its blind index, audited; nobody to tell.
		if err := f.Accounts.SetEmail(ctx, u.ID, " Zhang@Example.COM ", audit.User(u.ID)); err != nil {
			t.Fatalf("bind: %v", err)
		}
		got, _ := f.Store.GetUser(ctx, u.ID)
		if email, err := f.Protector.Open(account.FieldEmail, got.Email); err != nil || email != "Zhang@example.com" {
			t.Errorf("stored email %q (%v)", email, err)
		}
		if byIndex, err := f.Store.GetUserByEmail(ctx, f.Protector.Index(account.FieldEmail, "Zhang@example.com")); err != nil || byIndex.ID != u.ID {
			t.Errorf("found by email: %v %v", byIndex.ID, err)
		}
		if len(f.Outbox.List()) != 0 {
			t.Errorf("a first address told someone: %+v", f.Outbox.List())
		}

		// The same address again, a bad one, another's: refused, nothing changes.
		wantProblem(t, "same address", f.Accounts.SetEmail(ctx, u.ID, "Zhang@example.com", audit.User(u.ID)), problem.Invalid, "email_unchanged")
		wantProblem(t, "bad address", f.Accounts.SetEmail(ctx, u.ID, "not-an-address", audit.User(u.ID)), problem.Invalid, "email_format")
		wantProblem(t, "taken", f.Accounts.SetEmail(ctx, other.ID, "Zhang@example.com", audit.User(other.ID)), problem.Conflict, "email_taken")
		wantProblem(t, "no actor", f.Accounts.SetEmail(ctx, u.ID, "new@example.com", audit.Actor{}), problem.Internal, "internal")
		if o, _ := f.Store.GetUser(ctx, other.ID); !o.Email.Empty() {
			t.Error("the taken address was stored for the other account")
		}

		// Changed: the old address is told, naming the new one masked only.
		if err := f.Accounts.SetEmail(ctx, u.ID, "zhang.new@example.com", audit.User(u.ID)); err != nil {
			t.Fatalf("change: %v", err)
		}
		m, ok := f.Outbox.Last(notify.ChannelEmail, "Zhang@example.com")
		if !ok || m.Template != notify.TemplateEmailChanged {
			t.Fatalf("old address not told: %+v", f.Outbox.List())
		}
		if strings.Contains(m.Text, "zhang.new@example.com") || !strings.Contains(m.Text, account.MaskEmail("zhang.new@example.com")) {
			t.Errorf("notice %q: want the new address masked", m.Text)
		}
		if _, ok := f.Outbox.Last(notify.ChannelEmail, "zhang.new@example.com"); ok {
			t.Error("the new address was told")
		}
		// The old address is free again.
		if err := f.Accounts.SetEmail(ctx, other.ID, "Zhang@example.com", audit.User(other.ID)); err != nil {
			t.Errorf("the freed address: %v", err)
		}

		events := f.Events(t, account.ActionEmailChanged)
		if len(events) != 3 {
			t.Fatalf("%d email_changed events, want 3", len(events))
		}
		if d := detail(t, events[0]); d["user"] != u.ID || d["reason"] != "bound" || events[0].Actor != u.ID {
			t.Errorf("first event %+v", events[0])
		}
		if d := detail(t, events[1]); d["reason"] != "changed" {
			t.Errorf("second event %+v", events[1])
		}
		for _, e := range events {
			if strings.Contains(e.Detail+e.Subject, "example.com") {
				t.Errorf("the audit holds an address: %+v", e)
			}
		}
	})
}

func TestPasswordChangeMailed(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		if err := f.Accounts.SetEmail(ctx, u.ID, "zhang@example.com", audit.User(u.ID)); err != nil {
			t.Fatal(err)
		}
		if err := f.Accounts.SetPassword(ctx, u.ID, "Qingdao@Sea2032", audit.User(u.ID)); err != nil {
			t.Fatal(err)
		}
		m, ok := f.Outbox.Last(notify.ChannelEmail, "zhang@example.com")
		if !ok || m.Template != notify.TemplatePasswordChanged || !strings.Contains(m.Subject, "统一身份认证平台") {
			t.Fatalf("password change not mailed: %+v", f.Outbox.List())
		}
		for _, secret := range []string{"Qingdao@Sea2032", password, "zhang_san", "Zhang_San", "13812345678"} {
			if strings.Contains(m.Text+m.HTML+m.Subject, secret) {
				t.Errorf("notice names %q", secret)
			}
		}
		if _, ok := f.Outbox.Last(notify.ChannelSMS, "13812345678"); !ok {
			t.Error("the SMS notice is gone")
		}
	})
}
