package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unid/internal/app"
	"unid/internal/audit"
	"unid/internal/config"
	"unid/internal/enterprise/legacy"
	"unid/internal/enterprise/legacy/legacytest"
	"unid/internal/store/postgres/pgtest"
)

func TestImportLegacyEnterprises(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testImportLegacyEnterprises(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testImportLegacyEnterprises(t, []string{"--database-url", pgtest.NewDatabase(t)})
	})
}

func testImportLegacyEnterprises(t *testing.T, db []string) {
	dir, _ := dataDir(t)
	rows := []legacytest.Row{}
	for i := range 5 {
		rows = append(rows, legacytest.Account(i, legacytest.Formats[i%len(legacytest.Formats)], "Legacy#Pass2019"))
	}
	bad := legacytest.Account(9, legacytest.MD5, "Legacy#Pass2019")
	bad.USCC = legacytest.BadUSCC(9)
	rows = append(rows[:2], append([]legacytest.Row{bad}, rows[2:]...)...) // line 4
	file := filepath.Join(dir, "old.csv")
	var b bytes.Buffer
	if err := legacytest.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rejects := filepath.Join(dir, "rejects.csv")
	unid := func(extra ...string) (legacy.Result, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append(append([]string{"import", "legacy-enterprises", file, "--data", dir, "--reject", rejects}, db...), extra...)
		if err := run(context.Background(), args, func(k string) string { return map[string]string{"LANG": "en_US.UTF-8"}[k] }, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		var res legacy.Result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("stdout %q: %v", stdout.String(), err)
		}
		return res, stderr.String()
	}

	res, progress := unid("--dry-run")
	if !res.DryRun || res.Created != 5 || res.Rejected != 1 || !strings.Contains(progress, "6/6 rows") || !strings.Contains(progress, "rows/s") {
		t.Errorf("dry run: %+v, stderr %q", res, progress)
	}
	res, _ = unid("--batch", "2")
	if res.DryRun || res.Created != 5 || res.Rejected != 1 {
		t.Errorf("import: %+v (the dry run wrote something?)", res)
	}
	got, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	want := "line,login_name,reasons,message\n4," + bad.LoginName + ",uscc_format,"
	if !strings.HasPrefix(string(got), want) || strings.Count(string(got), "\n") != 2 {
		t.Errorf("reject file:\n%s\nwant it to start with\n%s", got, want)
	}
	res, _ = unid()
	if res.Created != 0 || res.Existing != 5 || res.Rejected != 1 {
		t.Errorf("second import: %+v", res)
	}
	// Each run that wrote is audited with its counts, by the CLI operator.
	cfg, _, err := config.Load(config.Command{Name: "test"}, append([]string{"--data", dir}, db...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st, err := app.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, e := range events {
		if e.Action == ActionLegacyImported {
			if !strings.HasPrefix(e.Actor, "operator:cli") {
				t.Errorf("import audited as %q", e.Actor)
			}
			runs = append(runs, e.Detail)
		}
	}
	if len(runs) != 2 || !strings.Contains(runs[0], `"created":"5"`) || !strings.Contains(runs[1], `"existing":"5"`) {
		t.Errorf("import events %v, want two (not the dry run)", runs)
	}
	if n, err := audit.Verify(context.Background(), st); err != nil || n != int64(len(events)) {
		t.Errorf("audit chain: %d, %v", n, err)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "legacy-enterprises", "--data", dir}, "usage"},
		{[]string{"import", "legacy-enterprises", filepath.Join(dir, "none.csv"), "--data", dir}, "none.csv"},
		{[]string{"import", "legacy-enterprises", file, "--data", dir, "--batch", "0"}, "--batch"},
		{[]string{"import", "users", "--data", dir}, "unknown import command"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), tt.args, func(string) string { return "" }, &out, &out); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v = %v, want an error naming %s", tt.args, err, tt.want)
		}
	}
}

// TestSpreadsheetSafe: a rejected login name that a spreadsheet would run
// as a formula is written as text.
func TestSpreadsheetSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1":                       "'+1",
		"-2":                       "'-2",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"zhang_san":                "zhang_san",
		"":                         "",
	} {
		if got := spreadsheetSafe(in); got != want {
			t.Errorf("spreadsheetSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
