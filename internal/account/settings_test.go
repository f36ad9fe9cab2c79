package account_test

import (
	"context"
	"strings"
	"testing"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/store"
)

func ptr(s string) *string { return &s }

func TestUpdateProfile(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		me := audit.User(u.ID)

		got, err := f.Accounts.UpdateProfile(ctx, u.ID, account.ProfileChange{Nickname: ptr("  小张\u3000"), WorkUnit: ptr("山东省大数据局")}, me)
		if err != nil {
			t.Fatalf("UpdateProfile: %v", err)
		}
		p, _ := account.NewProfile(f.Protector, got)
		if p.Nickname != "小张" || p.WorkUnit != "山东省大数据局" {
			t.Errorf("profile = %q, %q; want the values trimmed", p.Nickname, p.WorkUnit)
		}
		stored, _ := f.Store.GetUser(ctx, u.ID)
		if len(stored.Nickname.Cipher) == 0 || strings.Contains(string(stored.Nickname.Cipher), "小张") || stored.Nickname.Index != nil {
			t.Errorf("the nickname is not stored sealed without an index: %+v", stored.Nickname)
		}
		events := f.Events(t, account.ActionProfileChanged)
		if len(events) != 1 || detail(t, events[0])["fields"] != "nickname,work_unit" || strings.Contains(events[0].Detail, "小张") {
			t.Fatalf("audit events: %+v", events)
		}

		t.Run("bad input changes nothing", func(t *testing.T) {
			tests := []struct {
				name   string
				change account.ProfileChange
				fields map[string]string
			}{
				{"nickname too long", account.ProfileChange{Nickname: ptr(strings.Repeat("张", 21)), WorkUnit: ptr("新单位")}, map[string]string{"nickname": "nickname_too_long"}},
				{"work unit too long", account.ProfileChange{WorkUnit: ptr(strings.Repeat("a", 61))}, map[string]string{"work_unit": "work_unit_too_long"}},
				{"control character", account.ProfileChange{Nickname: ptr("a\x07b")}, map[string]string{"nickname": "invalid_characters"}},
				{"bidi override", account.ProfileChange{Nickname: ptr("ab\u202ecd")}, map[string]string{"nickname": "invalid_characters"}},
				{"both at once", account.ProfileChange{Nickname: ptr("a\nb"), WorkUnit: ptr(strings.Repeat("b", 61))}, map[string]string{"nickname": "invalid_characters", "work_unit": "work_unit_too_long"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := f.Accounts.UpdateProfile(ctx, u.ID, tt.change, me)
					p := problem.As(err)
					if p.Kind != problem.Invalid || len(p.Fields) != len(tt.fields) {
						t.Fatalf("UpdateProfile = %v, want fields %v", err, tt.fields)
					}
					for k, v := range tt.fields {
						if p.Fields[k] != v {
							t.Errorf("field %s = %q, want %q", k, p.Fields[k], v)
						}
					}
					after, _ := f.Store.GetUser(ctx, u.ID)
					equalSealed(t, after.Nickname, stored.Nickname)
					equalSealed(t, after.WorkUnit, stored.WorkUnit)
				})
			}
			if n := len(f.Events(t, account.ActionProfileChanged)); n != 1 {
				t.Errorf("%d profile_changed events after refused changes, want 1", n)
			}
		})

		t.Run("an absent field stays, an empty one is removed, no change is not audited", func(t *testing.T) {
			got, err := f.Accounts.UpdateProfile(ctx, u.ID, account.ProfileChange{WorkUnit: ptr("")}, me)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := account.NewProfile(f.Protector, got)
			if p.Nickname != "小张" || p.WorkUnit != "" {
				t.Errorf("profile = %q, %q", p.Nickname, p.WorkUnit)
			}
			if _, err := f.Accounts.UpdateProfile(ctx, u.ID, account.ProfileChange{Nickname: ptr("小张")}, me); err != nil {
				t.Fatal(err)
			}
			if n := len(f.Events(t, account.ActionProfileChanged)); n != 2 {
				t.Errorf("%d profile_changed events, want 2", n)
			}
		})
	})
}

func equalSealed(t *testing.T, got, want store.Sealed) {
	t.Helper()
	if string(got.Cipher) != string(want.Cipher) {
		t.Error("a refused change changed the stored value")
	}
}

func TestReveal(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		got, err := f.Accounts.Reveal(ctx, u.ID, audit.User(u.ID))
		if err != nil {
			t.Fatal(err)
		}
		if got.Phone != "13812345678" || got.IDNumber != "11010519491231002X" {
			t.Errorf("Reveal = %+v", got)
		}
		events := f.Events(t, account.ActionPIIRevealed)
		if len(events) != 1 || events[0].Actor != u.ID || strings.Contains(events[0].Detail+events[0].Subject, "13812345678") {
			t.Errorf("audit events: %+v", events)
		}
		_, err = f.Accounts.Reveal(ctx, "nobody", audit.User("nobody"))
		wantProblem(t, "Reveal(nobody)", err, problem.NotFound, "not_found")
	})
}

func TestSetPhone(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		other := f.Create(t, account.NewAccount{LoginName: "li_si_2026", Password: password, Phone: "13900000004"})

		t.Run("a number another account holds changes nothing", func(t *testing.T) {
			sent := len(f.Outbox.List())
			err := f.Accounts.SetPhone(ctx, u.ID, "139 0000 0004", audit.User(u.ID))
			wantProblem(t, "SetPhone(taken)", err, problem.Conflict, "phone_registered")
			if found, _, _ := f.Accounts.Find(ctx, "13812345678"); found.ID != u.ID {
				t.Error("the old number no longer finds the account")
			}
			if found, _, _ := f.Accounts.Find(ctx, "13900000004"); found.ID != other.ID {
				t.Error("the other account lost its number")
			}
			if len(f.Outbox.List()) != sent || len(f.Events(t, account.ActionPhoneChanged)) != 0 {
				t.Error("a refused change was told or audited")
			}
		})
		t.Run("a malformed number", func(t *testing.T) {
			err := f.Accounts.SetPhone(ctx, u.ID, "12345", audit.User(u.ID))
			if p := problem.As(err); p.Kind != problem.Invalid || p.Fields["phone"] == "" {
				t.Errorf("SetPhone(12345) = %v", err)
			}
		})

		if err := f.Accounts.SetPhone(ctx, u.ID, "13700000001", audit.User(u.ID)); err != nil {
			t.Fatalf("SetPhone: %v", err)
		}
		if found, ok, _ := f.Accounts.Find(ctx, "13700000001"); !ok || found.ID != u.ID {
			t.Error("the new number does not find the account")
		}
		if _, ok, _ := f.Accounts.Find(ctx, "13812345678"); ok {
			t.Error("the old number still finds the account")
		}
		m, ok := f.Outbox.Last(notify.ChannelSMS, "13812345678")
		if !ok || m.Template != notify.TemplatePhoneChanged || strings.Contains(m.Text, "1370") {
			t.Errorf("notice to the old number: %+v, %v", m, ok)
		}
		events := f.Events(t, account.ActionPhoneChanged)
		if len(events) != 1 || events[0].Subject != "137****0001" || detail(t, events[0])["old"] != "138****5678" {
			t.Errorf("audit events: %+v", events)
		}
	})
}

func TestSetPasswordKeeping(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.Create(t, zhang)
		current, _, rtCurrent := f.access(t, u.ID)
		s2, _, rt2 := f.access(t, u.ID)

		t.Run("others kept: only the password changes", func(t *testing.T) {
			if err := f.Accounts.SetPasswordKeeping(ctx, u.ID, "Jinan@Spring2031", account.Keep{SID: current.SID, Others: true}, audit.User(u.ID)); err != nil {
				t.Fatal(err)
			}
			for i, a := range []struct {
				s  store.Session
				rt store.RefreshToken
			}{{current, rtCurrent}, {s2, rt2}} {
				if gone, revoked := f.ended(t, a.s, a.rt); gone || revoked {
					t.Errorf("access %d ended: session %v, grant %v", i, gone, revoked)
				}
			}
			m, _ := f.Outbox.Last(notify.ChannelSMS, "13812345678")
			if m.Template != notify.TemplatePasswordChangedKept {
				t.Errorf("notice template = %s", m.Template)
			}
		})

		t.Run("sign out others: every other session ends, this one stays", func(t *testing.T) {
			if err := f.Accounts.SetPasswordKeeping(ctx, u.ID, "Qingdao@Sea2032", account.Keep{SID: current.SID}, audit.User(u.ID)); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Store.GetSession(ctx, current.TokenHash); err != nil {
				t.Errorf("the current session: %v", err)
			}
			if gone, revoked := f.ended(t, s2, rt2); !gone || !revoked {
				t.Errorf("the other session: gone %v, grant revoked %v; want both", gone, revoked)
			}
			m, _ := f.Outbox.Last(notify.ChannelSMS, "13812345678")
			if m.Template != notify.TemplatePasswordChangedOthersOut {
				t.Errorf("notice template = %s", m.Template)
			}
			got, _ := f.Store.GetUser(ctx, u.ID)
			if ok, _, _ := f.Accounts.VerifyPassword(ctx, got, "Qingdao@Sea2032"); !ok {
				t.Error("the new password does not work")
			}
		})

		t.Run("a weak password changes nothing", func(t *testing.T) {
			before, _ := f.Store.GetUser(ctx, u.ID)
			err := f.Accounts.SetPasswordKeeping(ctx, u.ID, "short", account.Keep{SID: current.SID}, audit.User(u.ID))
			if p := problem.As(err); p.Kind != problem.Invalid {
				t.Errorf("SetPasswordKeeping(weak) = %v", err)
			}
			after, _ := f.Store.GetUser(ctx, u.ID)
			if after.PasswordHash != before.PasswordHash {
				t.Error("the hash changed")
			}
			if _, err := f.Store.GetSession(ctx, current.TokenHash); err != nil {
				t.Errorf("the current session: %v", err)
			}
		})
	})
}
