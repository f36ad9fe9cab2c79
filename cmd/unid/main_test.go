package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/store/sqlite"
	"unid/internal/testenv"
)

func TestREADMEConfigTableIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printConfigTable(&out)
	if !bytes.Contains(readme, out.Bytes()) {
		t.Fatalf("README.md's configuration table is not the output of `unid config`; paste it in:\n%s", out.String())
	}
}

func TestCommands(t *testing.T) {
	noenv := func(string) string { return "" }
	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{"version", []string{"version"}, "dev", ""},
		{"no command", nil, "", "command is required"},
		{"unknown command", []string{"frobnicate"}, "", "unknown command"},
		{"dev on a public address", []string{"serve", "--dev", "--addr", "0.0.0.0:8080"}, "", "loopback"},
		{"production without key file", []string{"serve", "--addr", "127.0.0.1:0", "--sms-gateway-url", "http://127.0.0.1:9/", "--sms-gateway-secret", "s", "--data", "DATA"}, "", "unid keys init"},
		{"migrate", []string{"migrate", "--dev", "--data", "DATA"}, "schema version 0 →", ""},
		{"keys init", []string{"keys", "init", "--key-file", "DATA/k.key"}, "wrote", ""},
		{"operator create on a fresh dev set-up", []string{"operator", "create", "--dev", "--data", "DATA", "--login", "reviewer1", "--role", "reviewer"}, "/console/setup#", ""},
		{"operator disable of nobody", []string{"operator", "disable", "--dev", "--data", "DATA", "--login", "nobody"}, "", "operator_unknown"},
		{"operator create without a key file", []string{"operator", "create", "--data", "DATA", "--login", "reviewer1", "--role", "reviewer"}, "", "unid keys init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "DATA", dir)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, noenv, &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantOut)
			}
		})
	}
}

func TestKeysInitRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unid.key")
	var out bytes.Buffer
	noenv := func(string) string { return "" }
	if err := run(context.Background(), []string{"keys", "init", "--key-file", path}, noenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if err := run(context.Background(), []string{"keys", "init", "--key-file", path}, noenv, &out, &out); err == nil {
		t.Fatal("a second keys init overwrote the key file")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("key file changed")
	}
}

func TestServeDevStartsAndStops(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout, stderr syncBuffer
	go func() {
		// Its metrics on a port of their own, so that a unid running on
		// this machine (on the default 127.0.0.1:9464) does not stop it.
		done <- run(ctx, []string{"serve", "--dev", "--addr", addr, "--metrics-addr", "127.0.0.1:0", "--data", dir}, func(string) string { return "" }, &stdout, &stderr)
	}()
	var res *http.Response
	var err error
	for i := 0; i < 100; i++ {
		if res, err = http.Get("http://" + addr + "/readyz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("unid serve --dev did not come up: %v\n%s", err, stderr.String())
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %d", res.StatusCode)
	}
	for _, f := range []string{"unid.db", "unid.key", "demo-client.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("dev run did not create %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "http://"+addr+"/") {
		t.Errorf("dev start does not say where to go: %q", stdout.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dataDir returns a fresh data directory whose key file comes from
// `keys init` (as after a first dev run), and a runner of unid commands on
// it that puts --data after the command and subcommand and returns stdout.
func dataDir(t *testing.T) (string, func(args ...string) (string, error)) {
	t.Helper()
	dir := t.TempDir()
	noenv := func(string) string { return "" }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "init", "--key-file", dir + "/unid.key"}, noenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	return dir, func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(args[:2:2], append([]string{"--data", dir}, args[2:]...)...), noenv, &stdout, &stderr)
		return stdout.String(), err
	}
}

func TestClientCommands(t *testing.T) {
	dir, unid := dataDir(t)
	ctx := context.Background()
	got, err := unid("client", "create", "--id", "hall", "--name", "网上办事大厅", "--type", "oidc_confidential",
		"--redirect-uri", "https://hall.example.gov.cn/cb", "--scope", "profile", "--scope", "phone", "--first-party", "--min-realname-level", "2")
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID     string
		Secret string `json:"client_secret"`
		Scopes []string
	}
	if err := json.Unmarshal([]byte(got), &created); err != nil || len(created.Secret) < 43 {
		t.Fatalf("create printed %s (%v)", got, err)
	}
	if got, err := unid("client", "show", "hall"); err != nil || strings.Contains(got, "secret") || !strings.Contains(got, `"first_party": true`) || !strings.Contains(got, `"min_realname_level": 2`) {
		t.Fatalf("show: %s %v", got, err)
	}
	if got, err := unid("client", "list"); err != nil || !strings.Contains(got, `"id": "hall"`) {
		t.Fatalf("list: %s %v", got, err)
	}
	if _, err := unid("client", "create", "--name", "x", "--type", "oidc_confidential", "--redirect-uri", "http://evil.example/cb"); err == nil || !strings.Contains(err.Error(), "redirect_uri_https") {
		t.Fatalf("plain http accepted: %v", err)
	}
	if _, err := unid("client", "create", "--id", "tax", "--name", "x", "--type", "cas", "--redirect-uri", "https://tax.example.gov.cn/*", "--min-realname-level", "4"); err == nil || !strings.Contains(err.Error(), "min_realname_level_range") {
		t.Fatalf("minimum level 4 accepted: %v", err)
	}
	if _, err := unid("client", "show", "tax"); err == nil {
		t.Fatal("a client with minimum level 4 was registered")
	}
	if got, err := unid("client", "rotate-secret", "hall"); err != nil || strings.Contains(got, created.Secret) {
		t.Fatalf("rotate: %s %v", got, err)
	}
	if _, err := unid("client", "delete", "hall"); err != nil {
		t.Fatal(err)
	}
	if _, err := unid("client", "show", "hall"); err == nil || !strings.Contains(err.Error(), "client_not_found") {
		t.Fatalf("show after delete: %v", err)
	}

	// Every change is in the audit log, as through the operator API; the
	// secret is not.
	st, err := sqlite.Open(ctx, filepath.Join(dir, "unid.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+":"+e.Subject)
		if !strings.HasPrefix(e.Actor, "operator:cli") || strings.Contains(e.Detail, created.Secret) {
			t.Errorf("audit event %+v", e)
		}
	}
	want := "admin.client_create:hall admin.client_secret_rotate:hall admin.client_delete:hall"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit trail %q, want %q", got, want)
	}
}

func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	noenv := func(string) string { return "" }
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"keys", "init", "--key-file", dir + "/unid.key"}, noenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	var want []string
	for _, alg := range []string{"ES256", "RS256"} {
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"keys", "rotate", "--data", dir, "--alg", alg}, noenv, &stdout, &stderr); err != nil {
			t.Fatalf("rotate %s: %v\n%s", alg, err, stderr.String())
		}
		var got struct{ Kid, Algorithm string }
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Kid == "" || got.Algorithm != alg || kids[got.Kid] {
			t.Fatalf("rotate printed %s (%v)", stdout.String(), err)
		}
		kids[got.Kid] = true
		want = append(want, `oidc.signing_key_rotated {"alg":"`+alg+`","kid":"`+got.Kid+`"}`)
	}
	if err := run(ctx, []string{"keys", "rotate", "--data", dir, "--alg", "HS256"}, noenv, &out, &out); err == nil {
		t.Fatal("an HMAC signing key was accepted")
	}

	// Each rotation is audited as the operator who ran the command.
	st, err := sqlite.Open(ctx, filepath.Join(dir, "unid.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range events {
		trail = append(trail, e.Action+" "+e.Detail)
		if !strings.HasPrefix(e.Actor, "operator:cli") {
			t.Errorf("rotation audited as %q, want the operator", e.Actor)
		}
	}
	if got := strings.Join(trail, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestOperatorCommands(t *testing.T) {
	_, unid := dataDir(t)
	got, err := unid("operator", "create", "--login", "Wang", "--role", "reviewer,auditor", "--public-url", "https://id.example.gov.cn")
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID        string   `json:"id"`
		Roles     []string `json:"roles"`
		SetupLink string   `json:"setup_link"`
	}
	if err := json.Unmarshal([]byte(got), &created); err != nil || len(created.Roles) != 2 ||
		!strings.HasPrefix(created.SetupLink, "https://id.example.gov.cn/console/setup#") {
		t.Fatalf("operator create = %s, %v", got, err)
	}
	// Without --public-url the link is on the listen address.
	if got, err := unid("operator", "create", "--login", "li", "--role", "sysadmin"); err != nil || !strings.Contains(got, `"setup_link": "http://127.0.0.1:`) {
		t.Fatalf("operator create without --public-url = %s, %v", got, err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"operator", "create", "--login", "zhao", "--role", "admin"}, "sysadmin, secadmin, auditor, reviewer"},
		{[]string{"operator", "create", "--login", "zhao"}, "operator_role_required"},
		{[]string{"operator", "create", "--login", "WANG", "--role", "reviewer"}, "operator_login_taken"},
		{[]string{"operator", "create", "--login", "a b", "--role", "reviewer"}, "operator_login_invalid"},
	} {
		if _, err := unid(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v = %v, want an error naming %s", tt.args, err, tt.want)
		}
	}
	got, err = unid("operator", "list")
	if err != nil || strings.Count(got, `"login_name"`) != 2 || !strings.Contains(got, `"set_up": false`) || strings.Contains(got, "setup_link") {
		t.Fatalf("operator list = %s, %v", got, err)
	}
}

// TestAuditCommands: the trail verifies in the database, an export of it
// verifies as a file with no database and ends in the same head, and a
// changed file names the changed event.
func TestAuditCommands(t *testing.T) {
	dir, unid := dataDir(t)
	for _, login := range []string{"wang", "li"} {
		if _, err := unid("operator", "create", "--login", login, "--role", "auditor"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := unid("audit", "verify")
	if err != nil || !strings.HasPrefix(got, "audit trail verified: ") {
		t.Fatalf("audit verify = %q, %v", got, err)
	}
	for _, format := range []string{"json", "csv"} {
		file := filepath.Join(dir, "trail."+format)
		exported, err := unid("audit", "export", "--format", format, "--out", file)
		if err != nil || !strings.HasPrefix(exported, "exported: events 1 to ") {
			t.Fatalf("audit export --format %s = %q, %v", format, exported, err)
		}
		var out bytes.Buffer
		noenv := func(string) string { return "" }
		if err := run(context.Background(), []string{"audit", "verify", file}, noenv, &out, &out); err != nil {
			t.Fatalf("audit verify %s: %v", file, err)
		}
		_, head, _ := strings.Cut(exported, "head ")
		if !strings.HasPrefix(out.String(), "export verified: ") || !strings.HasSuffix(out.String(), "head "+head) {
			t.Fatalf("audit verify %s = %q; the export said %q", file, out.String(), exported)
		}
		head = strings.TrimSpace(head)
		if err := run(context.Background(), []string{"audit", "verify", file, "--head", head}, noenv, &out, &out); err != nil {
			t.Errorf("audit verify %s --head (its own) = %v", file, err)
		}
		if err := run(context.Background(), []string{"audit", "verify", file, "--head", strings.Repeat("0", 64)}, noenv, &out, &out); err == nil {
			t.Errorf("audit verify %s --head (another) succeeded", file)
		}
		if _, err := unid("audit", "export", "--format", format, "--out", file); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("audit export over an existing file = %v", err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, bytes.Replace(data, []byte("auditor"), []byte("sysadmin"), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := run(context.Background(), []string{"audit", "verify", file}, noenv, &out, &out); err == nil || !strings.Contains(err.Error(), "was altered") {
			t.Errorf("audit verify of a changed %s file = %v", format, err)
		}
	}
	if _, err := unid("audit", "export", "--format", "xml"); err == nil || !strings.Contains(err.Error(), "json or csv") {
		t.Errorf("audit export --format xml = %v", err)
	}
	// Archiving holds --before to the minimum retention of 180 days.
	recent := time.Now().AddDate(0, 0, -10).Format(time.RFC3339)
	if got, err := unid("audit", "archive", "--before", recent); err == nil || !strings.Contains(err.Error(), "minimum retention of 180 days") {
		t.Errorf("audit archive --before %s = %q, %v", recent, got, err)
	}
	if got, err := unid("audit", "verify"); err != nil || !strings.HasPrefix(got, "audit trail verified: events 1 to ") {
		t.Errorf("audit verify after a refused archive = %q, %v", got, err)
	}
	old := time.Now().AddDate(0, 0, -200).Format(time.RFC3339)
	if got, err := unid("audit", "archive", "--before", old); err != nil || !strings.HasPrefix(got, "no events before") {
		t.Errorf("audit archive --before %s = %q, %v", old, got, err)
	}
}
