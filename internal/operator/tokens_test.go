package operator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/operator"
	"unid/internal/store"
)

// by is the signed-in operator o calling from the browser.
func by(o store.Operator) audit.Origin {
	return audit.Origin{Actor: audit.Operator(o.ID), IP: browser.IP, UserAgent: browser.UserAgent}
}

// TestTokenCreate: a token needs a name, a life of 1–90 days and a current
// TOTP code; bad input is refused before the code is judged and creates
// nothing; the token is shown once, prefixed, and only its hash is kept;
// a replayed code is refused and audited.
func TestTokenCreate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tokens := operator.NewTokens(f.ops, operator.TokenDeps{Store: f.Store})
	o, secret := f.setUp(t, "zhao", operator.RoleSecadmin)

	bad := []struct {
		name, tokenName string
		days            int
		code, want      string
	}{
		{"no name", " ", 30, "123456", "name"},
		{"a name too long", strings.Repeat("名", operator.MaxTokenName+1), 30, "123456", "name"},
		{"a control character", "a\tb", 30, "123456", "name"},
		{"no days", "export", 0, "123456", "days"},
		{"too many days", "export", operator.MaxTokenDays + 1, "123456", "days"},
		{"no code", "export", 30, " ", "code"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tokens.Create(ctx, o, tt.tokenName, tt.days, tt.code, by(o))
			wantField(t, err, tt.want)
		})
	}
	if list, _ := tokens.List(ctx, o.ID); len(list) != 0 {
		t.Fatalf("bad input created %+v", list)
	}
	// None of those judged a code: the code of now still works once.
	c := code(t, secret, f.Now)
	nt, err := tokens.Create(ctx, o, " 夜间导出 ", 7, c, by(o))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nt.Token, operator.TokenPrefix) || len(nt.Token) < len(operator.TokenPrefix)+43 {
		t.Errorf("token %q: want %s and 256 bits", nt.Token[:10], operator.TokenPrefix)
	}
	if nt.Name != "夜间导出" || !nt.ExpiresAt.Equal(nt.CreatedAt.Add(7*24*time.Hour)) || nt.LastUsedAt != nil {
		t.Errorf("created %+v", nt.TokenView)
	}
	stored, err := f.Store.ListOperatorTokens(ctx, o.ID)
	if err != nil || len(stored) != 1 || strings.Contains(string(stored[0].TokenHash), nt.Token) || len(stored[0].TokenHash) != 32 {
		t.Fatalf("stored %+v, %v: want the hash only", stored, err)
	}
	ev := f.Events(t, operator.ActionTokenCreated)
	if len(ev) != 1 || ev[0].Result != audit.ResultOK || ev[0].Actor != "operator:"+o.ID ||
		!strings.Contains(ev[0].Detail, nt.ID) || !strings.Contains(ev[0].Detail, "夜间导出") || strings.Contains(ev[0].Detail, nt.Token) {
		t.Fatalf("token_created events = %+v", ev)
	}

	_, err = tokens.Create(ctx, o, "again", 30, c, by(o))
	wantCode(t, "a replayed code", err, "operator_code_wrong")
	if list, _ := tokens.List(ctx, o.ID); len(list) != 1 {
		t.Fatalf("a replayed code created a token: %+v", list)
	}
	ev = f.Events(t, operator.ActionTokenCreated)
	if len(ev) != 2 || ev[1].Result != audit.ResultFailed || !strings.Contains(ev[1].Detail, "operator_code_wrong") {
		t.Fatalf("a refused code is audited: %+v", ev)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), field+":") {
		t.Fatalf("err = %v, want a problem with field %s", err, field)
	}
}

// TestTokenCodeCap: wrong codes for a token count on the operator's cap of
// wrong codes, which then refuses their sign-in too.
func TestTokenCodeCap(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tokens := operator.NewTokens(f.ops, operator.TokenDeps{Store: f.Store})
	o, secret := f.setUp(t, "qian", operator.RoleAuditor)
	limit := int(f.ops.Options().CodeThreshold)
	for i := range limit {
		_, err := tokens.Create(ctx, o, "x", 30, wrongCode(t, secret, f.Now), by(o))
		wantCode(t, fmt.Sprintf("wrong code %d", i+1), err, "operator_code_wrong")
	}
	_, err := tokens.Create(ctx, o, "x", 30, code(t, secret, f.Now), by(o))
	wantCode(t, "the right code over the cap", err, "operator_locked")
	f.Now = f.Now.Add(30 * time.Second)
	_, err = f.ops.SignIn(ctx, nil, noCookie, f.req(t, "qian", password, code(t, secret, f.Now)), browser)
	wantCode(t, "a sign-in over the cap", err, "operator_locked")
	if list, _ := tokens.List(ctx, o.ID); len(list) != 0 {
		t.Fatalf("tokens created over the cap: %+v", list)
	}
}

// TestTokenAuthenticate: a token acts as its operator with their roles of
// the moment; unknown, malformed, expired and revoked tokens and those of
// a disabled or reset operator are refused; its last use is written at
// most once a minute.
func TestTokenAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tokens := operator.NewTokens(f.ops, operator.TokenDeps{Store: f.Store})
	o, secret := f.setUp(t, "sun", operator.RoleSecadmin)
	other, otherSecret := f.setUp(t, "li", operator.RoleSysadmin)
	nt, err := tokens.Create(ctx, o, "script", 1, code(t, secret, f.Now), by(o))
	if err != nil {
		t.Fatal(err)
	}
	created := f.Now

	sg, err := tokens.Authenticate(ctx, nt.Token)
	if err != nil || sg.Operator.ID != o.ID || sg.TokenID != nt.ID || strings.Join(sg.Operator.Roles, ",") != operator.RoleSecadmin {
		t.Fatalf("Authenticate = %+v, %v", sg, err)
	}
	used := func() time.Time {
		l, _ := f.Store.ListOperatorTokens(ctx, o.ID)
		return l[0].LastUsedAt
	}
	if !used().Equal(created) {
		t.Errorf("last used %v, want %v", used(), created)
	}
	f.Now = f.Now.Add(59 * time.Second)
	tokens.Authenticate(ctx, nt.Token)
	if !used().Equal(created) {
		t.Errorf("last used written again within a minute: %v", used())
	}
	f.Now = f.Now.Add(time.Second)
	tokens.Authenticate(ctx, nt.Token)
	if !used().Equal(f.Now) {
		t.Errorf("last used %v, want %v", used(), f.Now)
	}

	// Roles follow the operator.
	if _, err := f.Store.UpdateOperator(ctx, o.ID, func(cur store.Operator) (store.Operator, error) {
		cur.Roles = []string{operator.RoleAuditor}
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if sg, err := tokens.Authenticate(ctx, nt.Token); err != nil || strings.Join(sg.Operator.Roles, ",") != operator.RoleAuditor {
		t.Fatalf("after a change of roles: %+v, %v", sg.Operator.Roles, err)
	}

	refused := func(what, token string) {
		t.Helper()
		_, err := tokens.Authenticate(ctx, token)
		wantCode(t, what, err, "operator_token_invalid")
	}
	refused("no token", "")
	refused("no prefix", strings.TrimPrefix(nt.Token, operator.TokenPrefix)+"1234567")
	refused("one character changed", nt.Token[:len(nt.Token)-1]+map[bool]string{true: "B", false: "A"}[strings.HasSuffix(nt.Token, "A")])
	refused("a console cookie's token", strings.Repeat("a", 43))

	f.Now = created.Add(24*time.Hour - time.Millisecond)
	if _, err := tokens.Authenticate(ctx, nt.Token); err != nil {
		t.Fatalf("a millisecond before the end: %v", err)
	}
	f.Now = created.Add(24 * time.Hour)
	refused("an expired token", nt.Token)
	if v, _ := tokens.List(ctx, o.ID); len(v) != 1 || !v[0].Expired {
		t.Errorf("the list says %+v, want expired", v)
	}

	// Disabling the operator removes their tokens, which do not come back
	// when they are enabled; a reset removes them too, also for after the
	// operator sets up again.
	f.Now = f.Now.Add(time.Minute)
	dt, err := tokens.Create(ctx, o, "before disable", 30, code(t, secret, f.Now), by(o))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ops.Disable(ctx, "sun", cli); err != nil {
		t.Fatal(err)
	}
	refused("a disabled operator's token", dt.Token)
	if _, err := f.ops.Enable(ctx, "sun", cli); err != nil {
		t.Fatal(err)
	}
	refused("the token of an operator disabled and enabled again", dt.Token)
	f.Now = f.Now.Add(time.Minute)
	rt, err := tokens.Create(ctx, o, "before reset", 30, code(t, secret, f.Now), by(o))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ops.Reset(ctx, "sun", cli); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.UpdateOperator(ctx, o.ID, func(cur store.Operator) (store.Operator, error) {
		cur.PasswordHash = "set up again"
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	refused("a token from before a reset, after set-up", rt.Token)
	if l, _ := f.Store.ListOperatorTokens(ctx, o.ID); len(l) != 0 {
		t.Errorf("tokens left after disable and reset: %+v", l)
	}

	// Revoking: only the owner, then the token is gone.
	f.Now = created.Add(time.Hour)
	ot, err := tokens.Create(ctx, other, "mine", 30, code(t, otherSecret, f.Now), by(other))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "revoking another operator's token", tokens.Revoke(ctx, o, ot.ID, by(o)), "operator_token_not_found")
	if _, err := tokens.Authenticate(ctx, ot.Token); err != nil {
		t.Fatalf("another operator's revoke stopped the token: %v", err)
	}
	if err := tokens.Revoke(ctx, other, ot.ID, by(other)); err != nil {
		t.Fatal(err)
	}
	refused("a revoked token", ot.Token)
	wantCode(t, "revoking twice", tokens.Revoke(ctx, other, ot.ID, by(other)), "operator_token_not_found")
	ev := f.Events(t, operator.ActionTokenRevoked)
	if len(ev) != 1 || ev[0].Actor != "operator:"+other.ID || !strings.Contains(ev[0].Detail, ot.ID) ||
		!strings.Contains(ev[0].Detail, "mine") || strings.Contains(ev[0].Detail, ot.Token) {
		t.Fatalf("token_revoked events = %+v", ev)
	}
}

// TestTokenLimit: an operator holds at most MaxTokens.
func TestTokenLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tokens := operator.NewTokens(f.ops, operator.TokenDeps{Store: f.Store})
	o, secret := f.setUp(t, "zhou", operator.RoleSysadmin)
	for i := range operator.MaxTokens {
		if _, err := tokens.Create(ctx, o, fmt.Sprint("t", i), 30, code(t, secret, f.Now), by(o)); err != nil {
			t.Fatal(err)
		}
		f.Now = f.Now.Add(30 * time.Second)
	}
	_, err := tokens.Create(ctx, o, "one more", 30, code(t, secret, f.Now), by(o))
	wantCode(t, "one token too many", err, "operator_token_limit")
}
