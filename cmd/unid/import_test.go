package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unid/internal/enterprise/legacy"
	"unid/internal/enterprise/legacy/legacytest"
)

func TestImportLegacyEnterprises(t *testing.T) {
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
		args := append([]string{"import", "legacy-enterprises", file, "--data", dir, "--reject", rejects}, extra...)
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
