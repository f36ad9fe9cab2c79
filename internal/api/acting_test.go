package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/enterprise"
	"unid/internal/session"
)

func usccOf(t *testing.T, first17 string) string {
	t.Helper()
	c, ok := enterprise.USCCCheck(first17)
	if !ok {
		t.Fatalf("bad credit code %s", first17)
	}
	return first17 + string(c)
}

type actingBody struct {
	Acting *struct {
		USCC, Name, Role string
	}
	Chosen     bool
	Identities []struct{ USCC string }
}

func getActing(t *testing.T, b *apptest.Browser) actingBody {
	t.Helper()
	r := b.Get("/api/v1/sessions/current/acting")
	if r.Status != http.StatusOK {
		t.Fatalf("GET acting: %d %s", r.Status, r.Body)
	}
	var out actingBody
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSwitchActingIdentity: the personal space's switch between the person
// and the user's enterprises. Someone else's enterprise answers exactly as
// an unknown one; bad input is refused and changes nothing; a visitor is
// not signed in.
func TestSwitchActingIdentity(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	z := srv.Browser(t)
	zID := z.MustRegister(zhang)
	l := srv.Browser(t)
	lID := l.MustRegister(li)
	// mine and theirs are active in the sandbox registry, which Acting asks
	// about an imported enterprise; unknown is not in unid at all.
	mine, theirs, unknown := "91440300000000000E", "91110105000000000U", usccOf(t, "91310000132200821")
	origin := audit.Origin{Actor: audit.Operator("import")}
	if err := srv.App.Enterprise.ImportHandler(ctx, zID, mine, "样例贸易有限公司（测试数据）", origin); err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Enterprise.ImportHandler(ctx, lID, theirs, "测试咨询有限公司（测试数据）", origin); err != nil {
		t.Fatal(err)
	}

	visitor := srv.Browser(t)
	for _, r := range []apptest.Response{
		visitor.Get("/api/v1/sessions/current/acting"),
		visitor.PostJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": mine}),
	} {
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("a visitor: %d %s", r.Status, r.Body)
		}
	}

	got := getActing(t, z)
	if got.Acting != nil || got.Chosen || len(got.Identities) != 1 || got.Identities[0].USCC != mine {
		t.Fatalf("before any choice: %+v", got)
	}
	other := z.PostJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": theirs})
	missing := z.PostJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": unknown})
	if other.Status != http.StatusNotFound || missing.Status != other.Status || string(missing.Body) != string(other.Body) ||
		other.ErrCode(t) != "enterprise_not_member" {
		t.Fatalf("another's enterprise %d %s; an unknown one %d %s", other.Status, other.Body, missing.Status, missing.Body)
	}
	for _, bad := range []string{`{"uscc":"91350100M000100Y40"}`, `{"uscc":42}`, `not json`} {
		r := z.Do(http.MethodPost, "/api/v1/sessions/current/acting", "application/json", strings.NewReader(bad))
		if r.Status != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	if got := getActing(t, z); got.Acting != nil || got.Chosen {
		t.Fatalf("refused requests changed the session: %+v", got)
	}

	// Lower case is the same code.
	r := z.PostJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": strings.ToLower(mine)})
	if r.Status != http.StatusOK {
		t.Fatalf("act for mine: %d %s", r.Status, r.Body)
	}
	if got := getActing(t, z); got.Acting == nil || got.Acting.USCC != mine || got.Acting.Role != "handler" || !got.Chosen {
		t.Fatalf("after choosing: %+v", got)
	}
	if r := z.PostJSON("/api/v1/sessions/current/acting", map[string]string{"uscc": ""}); r.Status != http.StatusOK {
		t.Fatalf("back to the person: %d %s", r.Status, r.Body)
	}
	if got := getActing(t, z); got.Acting != nil || !got.Chosen {
		t.Fatalf("as the person: %+v", got)
	}
	// Still signed in after the switch.
	if r := z.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Fatalf("signed out by the switch: %d", r.Status)
	}
	events, err := srv.App.Store.ListAudit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var switched []string
	for _, e := range events {
		if e.Action == session.ActionActingSwitched {
			switched = append(switched, e.Actor+" "+e.Detail)
		}
	}
	if len(switched) != 2 || !strings.HasPrefix(switched[0], zID+" ") || !strings.Contains(switched[1], `"from":"`+mine+`"`) {
		t.Fatalf("session.acting_switched events: %v", switched)
	}
}
