package account_test

import (
	"context"
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/store"
)

func TestClose(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		f.setLevel(t, u.ID, 1)
		if err := f.Accounts.SetEmail(ctx, u.ID, "zhang@example.com", audit.User(u.ID)); err != nil {
			t.Fatal(err)
		}
		li := f.Create(t, account.NewAccount{LoginName: "li_si", Password: password, Phone: "13912345678"})
		sess := store.Session{TokenHash: []byte("0123456789abcdef0123456789abcdef"), SID: "s1", UserID: u.ID,
			AuthTime: f.Now, CreatedAt: f.Now, LastSeenAt: f.Now, ExpiresAt: f.Now.Add(time.Hour)}
		if err := f.Store.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		before := len(f.Outbox.List())

		t.Run("bad actor changes nothing", func(t *testing.T) {
			if err := f.Accounts.Close(ctx, u.ID, audit.Actor{Kind: audit.KindUser}); err == nil {
				t.Fatal("Close with an actor without ID: no error")
			}
			if got, _ := f.Store.GetUser(ctx, u.ID); got.Status != store.UserActive || got.Phone.Empty() {
				t.Errorf("after the refused closure: %+v", got)
			}
		})

		if err := f.Accounts.Close(ctx, u.ID, audit.User(u.ID)); err != nil {
			t.Fatalf("Close: %v", err)
		}

		t.Run("found by nothing, the login name still taken", func(t *testing.T) {
			for _, ident := range []string{"zhang_san", "13812345678", "11010519491231002X"} {
				if _, found, err := f.Accounts.Find(ctx, ident); found || err != nil {
					t.Errorf("Find(%s) = %v, %v; want not found", ident, found, err)
				}
			}
			if taken, err := f.Accounts.LoginNameTaken(ctx, "ZHANG_SAN"); !taken || err != nil {
				t.Errorf("LoginNameTaken = %v, %v; want true: the name stays reserved", taken, err)
			}
			if _, found, _ := f.Accounts.Find(ctx, "li_si"); !found {
				t.Error("another account is no longer found")
			}
			got, _ := f.Store.GetUser(ctx, u.ID)
			if got.Status != store.UserClosed || !got.ClosedAt.Equal(f.Now) || got.PasswordHash != "" || !got.Phone.Empty() || !got.Email.Empty() || !got.IDNumber.Empty() || !got.RealName.Empty() {
				t.Errorf("the closed account keeps data: %+v", got)
			}
			ok, _, _ := f.Accounts.VerifyPassword(ctx, got, password)
			if ok {
				t.Error("the old password still verifies")
			}
		})

		t.Run("sessions ended, audited, owner told", func(t *testing.T) {
			if _, err := f.Store.GetSession(ctx, sess.TokenHash); err == nil {
				t.Error("the session outlived the closure")
			}
			events := f.Events(t, account.ActionClosed)
			if len(events) != 1 || events[0].Actor != u.ID || detail(t, events[0])["released"] != f.Now.Add(account.DefaultCoolingOff).Format(time.RFC3339) {
				t.Fatalf("account.closed events: %+v", events)
			}
			msgs := f.Outbox.List()[:len(f.Outbox.List())-before]
			sms, mail := false, false
			for _, m := range msgs {
				switch {
				case m.Channel == notify.ChannelSMS && m.To == "13812345678" && m.Template == notify.TemplateAccountClosed:
					sms = true
				case m.Channel == notify.ChannelEmail && m.To == "zhang@example.com" && m.Template == notify.TemplateAccountClosed:
					mail = true
				}
			}
			if !sms || !mail {
				t.Errorf("owner told by SMS %v, by email %v; messages %+v", sms, mail, msgs)
			}
		})

		t.Run("a closed account stays closed", func(t *testing.T) {
			wantProblem(t, "Close again", f.Accounts.Close(ctx, u.ID, audit.User(u.ID)), problem.NotFound, "not_found")
			wantProblem(t, "Enable", f.Accounts.Enable(ctx, u.ID, audit.Operator("ops"), "reopen"), problem.NotFound, "not_found")
			wantProblem(t, "SetPassword", f.Accounts.SetPassword(ctx, u.ID, "Taishan#Sunrise2026", audit.User(u.ID)), problem.NotFound, "not_found")
		})

		t.Run("the phone is free only after the cooling-off", func(t *testing.T) {
			again := account.NewAccount{LoginName: "zhang_new", Password: password, Phone: "13812345678", RealName: "张三", IDNumber: "11010519491231002X"}
			_, err := f.Accounts.Create(ctx, again, nil)
			wantProblem(t, "Create with the phone", err, problem.Conflict, "phone_cooling_off")
			wantProblem(t, "SetPhone to it", f.Accounts.SetPhone(ctx, li.ID, "13812345678", audit.User(li.ID)), problem.Conflict, "phone_cooling_off")

			f.Now = f.Now.Add(account.DefaultCoolingOff - time.Millisecond)
			_, err = f.Accounts.Create(ctx, again, nil)
			wantProblem(t, "Create a moment before the end", err, problem.Conflict, "phone_cooling_off")

			f.Now = f.Now.Add(time.Millisecond)
			v := f.Create(t, again)
			if found, _, _ := f.Accounts.Find(ctx, "13812345678"); found.ID != v.ID {
				t.Errorf("the phone finds %q, want the new account", found.ID)
			}
			_, err = f.Accounts.Create(ctx, account.NewAccount{LoginName: "zhang_san", Password: password}, nil)
			wantProblem(t, "Create with the closed login name", err, problem.Conflict, "login_name_taken")
		})
	})
}
