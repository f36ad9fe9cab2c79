package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"unid/internal/store"
)

// Actions of the audit trail itself.
const (
	ActionArchived = "audit.archived" // events moved to an archive file and cut from the store (System)
	ActionVerified = "audit.verified" // an auditor verified the chain; Result ok or broken
	ActionExported = "audit.exported" // an auditor exported a range
	ResultBroken   = "broken"
)

// MinRetention is the shortest retention of the stored trail unid
// accepts: the Cybersecurity Law (art. 21) asks network logs be kept for
// no less than six months.
const MinRetention = 180 * 24 * time.Hour

// WriteExportFile writes an export of from..to to a new file path, whole
// or not at all: it is written beside it under another name, synced, and
// linked to path only once complete, so that a failed export leaves no
// shorter file that would verify, and an existing file is never
// overwritten.
func WriteExportFile(ctx context.Context, s Source, from, to int64, format, path string) (Summary, error) {
	if _, err := os.Lstat(path); err == nil {
		return Summary{}, fmt.Errorf("audit: %s exists; an export never overwrites a file", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return Summary{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	sum, err := Export(ctx, s, from, to, format, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	return sum, err
}

// syncDir makes a new name in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}

// Archived is what one run of Archive moved out of the store.
type Archived struct {
	From, To int64  // the events archived; 0 when there were none to
	File     string // the archive's name in the archive directory
	Head     []byte // the hash of event To: the new anchor
}

// Archive moves the events stamped before before out of the store: it
// writes them, from the event after the anchor, to a new JSON export in
// dir, reads the file back and verifies it (its first event links to the
// anchor, its last is the one to cut at), then cuts the store at its last
// event and records ActionArchived as System, in one transaction: the
// recorded cut is what proves the anchor to a verification. The newest
// event always stays, so that the stored chain has a head.
//
// before must be at least MinRetention ago, whoever asks: a later time
// is refused before anything is read or written.
//
// Two instances archiving at once write files of different names or
// find the file there; the store's cut lets only one of them move the
// anchor, and the other ends with a conflict. A file left by a run that
// failed before its cut is verified and used again.
func (l *Log) Archive(ctx context.Context, dir string, before time.Time) (Archived, error) {
	if limit := l.now().Add(-MinRetention); before.After(limit) {
		return Archived{}, fmt.Errorf("audit: archive: events stamped since %s are within the minimum retention of %d days; archive only events before %s",
			before.UTC().Format(time.RFC3339), int(MinRetention/(24*time.Hour)), limit.UTC().Format(time.RFC3339))
	}
	a, err := l.store.AuditAnchor(ctx)
	if err != nil {
		return Archived{}, fmt.Errorf("audit: archive: %w", err)
	}
	last, err := l.store.QueryAudit(ctx, store.AuditFilter{To: before}, 0, 1)
	if err != nil {
		return Archived{}, fmt.Errorf("audit: archive: %w", err)
	}
	newest, err := l.store.QueryAudit(ctx, store.AuditFilter{}, 0, 1)
	if err != nil || len(last) == 0 || len(newest) == 0 {
		return Archived{}, err
	}
	from, to := a.Seq+1, min(last[0].Seq, newest[0].Seq-1)
	if to < from {
		return Archived{}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Archived{}, fmt.Errorf("audit: archive: %w", err)
	}
	name := fmt.Sprintf("audit-%d-%d.json", from, to)
	path := filepath.Join(dir, name)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if _, err := WriteExportFile(ctx, l.store, from, to, "json", path); err != nil {
			return Archived{}, fmt.Errorf("audit: archive: %w", err)
		}
	}
	sum, err := verifyArchive(path)
	if err != nil {
		return Archived{}, err
	}
	if sum.From != from || sum.To != to || !bytes.Equal(sum.PrevHash, a.Hash) {
		return Archived{}, fmt.Errorf("audit: archive: %s holds events %d to %d linked to %x, not %d to %d linked to the anchor %x",
			path, sum.From, sum.To, sum.PrevHash, from, to, a.Hash)
	}
	ev := l.Event(Entry{Actor: System(), Action: ActionArchived, Result: ResultOK, Detail: Detail{
		"from": strconv.FormatInt(from, 10), "to": strconv.FormatInt(to, 10), "file": name, "head": hex.EncodeToString(sum.Head),
	}})
	cut := store.AuditAnchor{Seq: to, Hash: sum.Head, ArchivedAt: l.now().UTC(), Archive: name}
	if _, err := l.store.CutAudit(ctx, cut, ev, Hash); err != nil {
		return Archived{}, fmt.Errorf("audit: archive: cut at %d: %w", to, err)
	}
	l.Committed(ev)
	return Archived{From: from, To: to, File: name, Head: sum.Head}, nil
}

func verifyArchive(path string) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("audit: archive: %w", err)
	}
	defer f.Close()
	sum, err := VerifyExport(f)
	if err != nil {
		return Summary{}, fmt.Errorf("audit: archive: %s: %w", path, err)
	}
	return sum, nil
}
