package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unid/internal/audit"
	"unid/internal/audit/audittest"
	"unid/internal/store"
	"unid/internal/store/sqlstore"
)

var day0 = time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)

// dailyLog returns a log of n events, event i stamped on day i, and the
// clock it writes with (set to day n).
func dailyLog(t *testing.T, st store.Store, n int) (*audit.Log, *time.Time) {
	t.Helper()
	now := day0
	log := audit.New(st, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 1; i <= n; i++ {
		now = day0.AddDate(0, 0, i)
		e := audit.Entry{Actor: audit.User("u1"), Action: audit.ActionLogin, Result: audit.ResultOK, IP: "10.1.2.3"}
		if i%3 == 0 {
			e = audit.Entry{Actor: audit.Operator("op1"), Action: "account.unlocked", Result: audit.ResultOK, Account: "u1", Client: "hall"}
		}
		log.Append(context.Background(), e)
	}
	return log, &now
}

// TestArchiveCutsAndKeepsTheChain, on both backends: archiving moves the
// old events to a file that verifies and links to the anchor, leaves the
// rest verifiable from the new anchor, is recorded, and a second archive
// links to the first; tampering after a cut is still caught, and a
// broken chain is never archived.
func TestArchiveCutsAndKeepsTheChain(t *testing.T) {
	for _, b := range audittest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st, raw := b.New(t)
			log, now := dailyLog(t, st, 20)
			*now = now.Add(audit.MinRetention)
			dir := filepath.Join(t.TempDir(), "archive")

			got, err := log.Archive(ctx, dir, day0.AddDate(0, 0, 10))
			if err != nil || got.From != 1 || got.To != 9 || got.File != "audit-1-9.json" {
				t.Fatalf("Archive = %+v, %v", got, err)
			}
			first := verifyFile(t, filepath.Join(dir, got.File))
			if first.From != 1 || first.To != 9 || len(first.PrevHash) != 0 || !bytes.Equal(first.Head, got.Head) {
				t.Errorf("first archive holds %+v", first)
			}
			a, _ := st.AuditAnchor(ctx)
			if a.Seq != 9 || !bytes.Equal(a.Hash, got.Head) || a.Archive != "audit-1-9.json" || !a.ArchivedAt.Equal(*now) {
				t.Errorf("anchor = %+v", a)
			}
			// Events 10 to 20, then the cut's own event.
			sum, err := audit.VerifyLog(ctx, st)
			if err != nil || sum.From != 10 || sum.To != 21 || !bytes.Equal(sum.PrevHash, a.Hash) {
				t.Fatalf("VerifyLog after the cut = %+v, %v", sum, err)
			}
			rec, _ := st.QueryAudit(ctx, store.AuditFilter{Action: audit.ActionArchived}, 0, 10)
			if len(rec) != 1 || rec[0].Actor != "system" || !strings.Contains(rec[0].Detail, `"file":"audit-1-9.json"`) || !strings.Contains(rec[0].Detail, `"to":"9"`) {
				t.Errorf("archived event = %+v", rec)
			}
			if again, err := log.Archive(ctx, dir, day0.AddDate(0, 0, 10)); err != nil || again.To != 0 {
				t.Errorf("archive again = %+v, %v; want nothing to do", again, err)
			}

			got2, err := log.Archive(ctx, dir, day0.AddDate(0, 0, 15))
			if err != nil || got2.From != 10 || got2.To != 14 {
				t.Fatalf("second Archive = %+v, %v", got2, err)
			}
			second := verifyFile(t, filepath.Join(dir, got2.File))
			if !bytes.Equal(second.PrevHash, first.Head) {
				t.Errorf("the second archive links to %x, not to the first's head %x", second.PrevHash, first.Head)
			}
			if _, err := audit.VerifyLog(ctx, st); err != nil {
				t.Fatalf("VerifyLog after two cuts: %v", err)
			}

			// Tampering after the cut: the event is named.
			audittest.Tamper(t, raw, 17, `result = 'failed'`)
			_, err = audit.VerifyLog(ctx, st)
			if br, ok := audit.BreakOf(err); !ok || br.Seq != 17 || br.Reason != audit.BreakAltered {
				t.Fatalf("VerifyLog of a tampered log = %v", err)
			}
			// A broken chain is not archived: no file, no cut.
			if got, err := log.Archive(ctx, dir, day0.AddDate(0, 0, 19)); err == nil || !strings.Contains(err.Error(), "event 17 was altered") {
				t.Errorf("Archive of a broken chain = %+v, %v", got, err)
			}
			files, _ := os.ReadDir(dir)
			if len(files) != 2 {
				t.Errorf("archive directory holds %d files, want the 2 good ones", len(files))
			}
			if a, _ := st.AuditAnchor(ctx); a.Seq != 14 {
				t.Errorf("anchor moved to %d", a.Seq)
			}
		})
	}
}

func verifyFile(t *testing.T, path string) audit.Summary {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := audit.VerifyExport(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return sum
}

// TestVerifyRangeAndBreaks, on both backends: a range verifies on its
// own, progress counts up to the total, and each kind of tampering is
// named with its event, read in one query or cut into segments.
func TestVerifyRangeAndBreaks(t *testing.T) {
	for _, b := range audittest.Backends {
		for _, segments := range []int64{1, 3} {
			t.Run(fmt.Sprintf("%s/%d segments", b.Name, segments), func(t *testing.T) {
				defer audit.Segments(segments, 2)()
				testVerifyRangeAndBreaks(t, b.New)
			})
		}
	}
}

func testVerifyRangeAndBreaks(t *testing.T, newStore func(testing.TB) (store.Store, *sqlstore.Store)) {
	ctx := context.Background()
	st, raw := newStore(t)
	dailyLog(t, st, 12)
	var calls [][2]int64
	sum, err := audit.VerifyRange(ctx, st, 4, 9, func(n, total int64) { calls = append(calls, [2]int64{n, total}) })
	if err != nil || sum.From != 4 || sum.To != 9 || sum.Events != 6 {
		t.Fatalf("VerifyRange(4, 9) = %+v, %v", sum, err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int64{6, 6} {
		t.Errorf("progress = %v", calls)
	}
	if _, err := audit.VerifyRange(ctx, st, 13, 20, nil); err == nil {
		t.Error("a range past the head verified")
	}
	audittest.Tamper(t, raw, 6, `account_id = ''`)
	_, err = audit.VerifyLog(ctx, st)
	if br, ok := audit.BreakOf(err); !ok || br.Seq != 6 || br.Reason != audit.BreakAltered {
		t.Fatalf("clearing the account: %v", err)
	}
	if _, err := audit.VerifyRange(ctx, st, 7, 0, nil); err != nil {
		t.Errorf("a range after the broken event: %v", err)
	}
	audittest.Tamper(t, raw, 8, `prev_hash = hash`)
	_, err = audit.VerifyRange(ctx, st, 7, 0, nil)
	if br, ok := audit.BreakOf(err); !ok || br.Seq != 8 || br.Reason != audit.BreakUnlinked {
		t.Fatalf("a broken link: %v", err)
	}
}

// TestExportCarriesAccountAndClient: both formats hold the new fields and
// verify; an export of the first layout (before the fields existed)
// still verifies, and one that gained them does not.
func TestExportCarriesAccountAndClient(t *testing.T) {
	ctx := context.Background()
	st, _ := audittest.Backends[0].New(t)
	dailyLog(t, st, 2) // no account or client yet
	old := map[string]string{}
	for _, format := range []string{"json", "csv"} {
		var buf bytes.Buffer
		if _, err := audit.Export(ctx, st, 0, 0, format, &buf); err != nil {
			t.Fatal(err)
		}
		// As the first layout wrote it.
		s := strings.ReplaceAll(buf.String(), `,"account":"","client":""`, "")
		s = strings.Replace(s, audit.ExportFormat, "unid-audit-export/1", 1)
		s = strings.Replace(s, ",account,client\n", "\n", 1)
		s = strings.ReplaceAll(s, ",,\n", "\n")
		old[format] = s
	}
	for format, s := range old {
		if _, err := audit.VerifyExport(strings.NewReader(s)); err != nil {
			t.Errorf("%s of the first layout: %v", format, err)
		}
	}
	dailyLog(t, st, 3) // event 5 (i=3) has account and client
	for _, format := range []string{"json", "csv"} {
		var buf bytes.Buffer
		if _, err := audit.Export(ctx, st, 0, 0, format, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "hall") || !strings.Contains(buf.String(), "u1") {
			t.Errorf("%s export lacks the client or account:\n%s", format, buf.String())
		}
		if sum, err := audit.VerifyExport(bytes.NewReader(buf.Bytes())); err != nil || sum.Events != 5 {
			t.Errorf("%s: VerifyExport = %+v, %v", format, sum, err)
		}
		changed := strings.Replace(buf.String(), "hall", "tax", 1)
		if _, err := audit.VerifyExport(strings.NewReader(changed)); err == nil || !strings.Contains(err.Error(), "event 5 was altered") {
			t.Errorf("%s with the client changed: %v", format, err)
		}
	}
	gained := strings.Replace(old["json"], `"hash":`, `"account":"","client":"","hash":`, 1)
	if _, err := audit.VerifyExport(strings.NewReader(gained)); err == nil {
		t.Error("an export of the first layout with the new fields verified")
	}
}

// TestArchiveKeepsTheMinimumRetention, on both backends: a cut newer
// than audit.MinRetention ago is refused whoever asks for it, and
// nothing is written, cut or recorded; one just old enough goes ahead.
func TestArchiveKeepsTheMinimumRetention(t *testing.T) {
	for _, b := range audittest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st, _ := b.New(t)
			log, now := dailyLog(t, st, 20)
			dir := filepath.Join(t.TempDir(), "archive")
			*now = day0.AddDate(0, 0, 10).Add(audit.MinRetention - time.Second)
			got, err := log.Archive(ctx, dir, day0.AddDate(0, 0, 10))
			if err == nil || !strings.Contains(err.Error(), "minimum retention of 180 days") {
				t.Fatalf("Archive within the minimum retention = %+v, %v", got, err)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("a refused archive wrote to the archive directory")
			}
			if a, _ := st.AuditAnchor(ctx); a.Seq != 0 {
				t.Errorf("a refused archive moved the anchor to %d", a.Seq)
			}
			if es, _ := st.ListAudit(ctx, 0, 100); len(es) != 20 {
				t.Errorf("a refused archive left %d events, want 20", len(es))
			}
			*now = now.Add(time.Second)
			if got, err := log.Archive(ctx, dir, day0.AddDate(0, 0, 10)); err != nil || got.To != 9 {
				t.Errorf("Archive at the minimum retention = %+v, %v", got, err)
			}
		})
	}
}

// TestVerifyRefusesAnUnprovenAnchor, on both backends: someone with
// unid's own database role can still move the anchor forward to a
// stored event (with its hash) and delete the events up to it, which the
// schema allows because a cut does it; the trail that is left links to
// the anchor, but no recorded cut is there, and the verification says so.
func TestVerifyRefusesAnUnprovenAnchor(t *testing.T) {
	tests := []struct {
		name    string
		archive bool  // archive events 1 to 9 properly first
		to      int64 // where the anchor is moved
	}{
		{"nothing archived before", false, 5},
		{"past a proper cut", true, 15},
	}
	for _, b := range audittest.Backends {
		for _, tt := range tests {
			t.Run(b.Name+"/"+tt.name, func(t *testing.T) {
				ctx := context.Background()
				st, raw := b.New(t)
				log, now := dailyLog(t, st, 20)
				*now = now.Add(audit.MinRetention)
				if tt.archive {
					if _, err := log.Archive(ctx, filepath.Join(t.TempDir(), "archive"), day0.AddDate(0, 0, 10)); err != nil {
						t.Fatal(err)
					}
				}
				es, _ := st.ListAudit(ctx, tt.to-1, 1)
				if _, err := raw.WriteDB().ExecContext(ctx, `UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1`, tt.to, es[0].Hash); err != nil {
					t.Fatalf("moving the anchor: %v", err)
				}
				if _, err := raw.WriteDB().ExecContext(ctx, `DELETE FROM audit_events WHERE seq <= $1`, tt.to); err != nil {
					t.Fatalf("deleting up to the anchor: %v", err)
				}
				_, err := audit.VerifyLog(ctx, st)
				if br, ok := audit.BreakOf(err); !ok || br.Seq != tt.to || br.Reason != audit.BreakUnproven ||
					!strings.Contains(err.Error(), fmt.Sprintf("anchor at event %d is unproven", tt.to)) {
					t.Fatalf("VerifyLog from a moved anchor = %v", err)
				}
				// A range that starts after the anchor's next event does
				// not start at the anchor.
				if _, err := audit.VerifyRange(ctx, st, tt.to+2, 0, nil); err != nil {
					t.Errorf("VerifyRange after the anchor: %v", err)
				}
			})
		}
	}
}

// TestVerifyRefusesATruncatedTrail, on both backends: events deleted
// from the end of the trail (past the delete guard, as its owner can)
// leave no broken link behind them, but the head the store recorded
// still counts them.
func TestVerifyRefusesATruncatedTrail(t *testing.T) {
	for _, b := range audittest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st, raw := b.New(t)
			dailyLog(t, st, 12)
			del := []string{`DROP TRIGGER audit_events_no_delete`, `DELETE FROM audit_events WHERE seq > 9`}
			if raw.DB() == raw.WriteDB() { // PostgreSQL
				del[0] = `ALTER TABLE audit_events DISABLE TRIGGER USER`
			}
			for _, q := range del {
				if _, err := raw.WriteDB().ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			_, err := audit.VerifyLog(ctx, st)
			if br, ok := audit.BreakOf(err); !ok || br.Seq != 10 || br.After != 9 || br.Reason != audit.BreakTruncated {
				t.Fatalf("VerifyLog of a trail cut short = %v", err)
			}
			if _, err := audit.VerifyRange(ctx, st, 0, 20, nil); err == nil {
				t.Error("a range up to the recorded head verified")
			}
			if _, err := audit.VerifyRange(ctx, st, 2, 8, nil); err != nil {
				t.Errorf("a range short of the end: %v", err)
			}
		})
	}
}
