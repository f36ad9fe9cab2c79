package audit_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/store/sqlite/sqlitetest"
)

// TestExportVerifiesOffline: an export of the whole log or of a range,
// JSON or CSV, verifies with no database and declares the log's head.
func TestExportVerifiesOffline(t *testing.T) {
	st := newChain(t)
	ctx := context.Background()
	tests := []struct {
		name, format string
		from, to     int64
		wantFrom     int64
		wantTo       int64
	}{
		{name: "json whole", format: "json", wantFrom: 1, wantTo: 4},
		{name: "csv whole", format: "csv", wantFrom: 1, wantTo: 4},
		{name: "json range", format: "json", from: 2, to: 3, wantFrom: 2, wantTo: 3},
		{name: "csv from", format: "csv", from: 3, wantFrom: 3, wantTo: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			wrote, err := audit.Export(ctx, st, tt.from, tt.to, tt.format, &buf)
			if err != nil || wrote.From != tt.wantFrom || wrote.To != tt.wantTo || wrote.Events != tt.wantTo-tt.wantFrom+1 {
				t.Fatalf("Export = %+v, %v", wrote, err)
			}
			got, err := audit.VerifyExport(bytes.NewReader(buf.Bytes()))
			if err != nil || got.From != wrote.From || got.To != wrote.To || !bytes.Equal(got.Head, wrote.Head) {
				t.Fatalf("VerifyExport = %+v, %v; wrote %+v", got, err, wrote)
			}
		})
	}
	if _, err := audit.Export(ctx, st, 0, 0, "xml", &bytes.Buffer{}); err == nil {
		t.Error("Export in an unknown format succeeded")
	}
}

// TestExportTamperingIsNamed: an event changed, removed or cut off in
// the file is found, and the error names the event.
func TestExportTamperingIsNamed(t *testing.T) {
	st := newChain(t)
	ctx := context.Background()
	export := func(format string) string {
		var buf bytes.Buffer
		if _, err := audit.Export(ctx, st, 0, 0, format, &buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	js, cs := export("json"), export("csv")
	csvLines := strings.Split(cs, "\n")
	jsonLines := strings.Split(js, "\n")
	tests := []struct {
		name, file, want string
	}{
		{name: "json field changed", file: strings.Replace(js, `"action":"session.login_failed"`, `"action":"session.login"`, 1), want: "event 3 was altered"},
		{name: "csv field changed", file: strings.Replace(cs, "session.login_failed", "session.login", 1), want: "event 3 was altered"},
		{name: "csv row removed", file: strings.Join(append(append([]string{}, csvLines[:2]...), csvLines[3:]...), "\n"), want: "event 3 follows 1"},
		{name: "json last event cut, head kept", file: strings.Join(append(append(append([]string{}, jsonLines[:3]...),
			strings.TrimSuffix(jsonLines[3], ",")), jsonLines[5:]...), "\n"), want: "declares events 1 to 4"},
		{name: "json with text after its end", file: js + "{}\n", want: "not written as unid writes"},
		{name: "json with a key twice", file: strings.Replace(js, `"action":"session.login_failed"`, `"action":"session.logout","action":"session.login_failed"`, 1),
			want: "not written as unid writes"},
		{name: "not an export", file: "hello\n", want: "not a CSV export"},
		{name: "empty", file: "", want: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.file == js || tt.file == cs {
				t.Fatal("the test did not change the file")
			}
			_, err := audit.VerifyExport(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("VerifyExport = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestExportCSVIsNoFormula: a text field that a spreadsheet would take
// for a formula is written with a ' before it, and verifies.
func TestExportCSVIsNoFormula(t *testing.T) {
	st := sqlitetest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	log := audit.New(st, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	log.Append(ctx, audit.Entry{Actor: audit.User("u1"), Action: audit.ActionLogin, Result: audit.ResultOK, IP: "127.0.0.1",
		UserAgent: `=HYPERLINK("http://evil.example/","x")`})
	var buf bytes.Buffer
	if _, err := audit.Export(ctx, st, 0, 0, "csv", &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `'=HYPERLINK`) {
		t.Fatalf("the formula went out as is:\n%s", buf.String())
	}
	if _, err := audit.VerifyExport(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("VerifyExport = %v", err)
	}
	if _, err := audit.Export(ctx, st, 5, 0, "csv", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no events") {
		t.Errorf("Export of a range with no events = %v", err)
	}
}
