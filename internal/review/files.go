package review

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/store"
)

// uploadTypes are the content types an upload may have, as sniffed.
var uploadTypes = []string{"image/jpeg", "image/png", "application/pdf"}

// CheckUpload judges an upload to keep with an item: JPEG, PNG or PDF (as
// sniffed), of at most max bytes. It returns the content type, or the
// problem code of the upload's field when it is refused: upload_required,
// upload_too_large or upload_type.
func CheckUpload(data []byte, max int) (contentType, code string) {
	switch {
	case len(data) == 0:
		return "", "upload_required"
	case len(data) > max:
		return "", "upload_too_large"
	}
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	if !slices.Contains(uploadTypes, ct) {
		return "", "upload_type"
	}
	return ct, ""
}

// ItemOf is the queue's view of a stored item.
func ItemOf(it store.ReviewItem) Item {
	return Item{ID: it.ID, Kind: it.Kind, State: it.State, Reference: it.Reference, UserID: it.UserID,
		Subject: it.Subject, CreatedAt: it.CreatedAt, DecidedAt: it.DecidedAt, DecidedBy: it.DecidedBy, Reason: it.Reason}
}

// FileOf is the queue's view of a stored file, labelled with its message
// key; data is the file's unsealed content, if any.
func FileOf(f store.ReviewFile, data []byte) File {
	return File{ID: f.ID, Label: "review.file." + f.Label, ContentType: f.ContentType, Size: f.Size, Data: data}
}

// Files lists stored files without their data (Detail.Files).
func Files(files []store.ReviewFile) []File {
	out := []File{}
	for _, f := range files {
		out = append(out, FileOf(f, nil))
	}
	return out
}

// FileStore reads the stored files of items.
type FileStore interface {
	GetReviewFile(ctx context.Context, itemID, fileID string) (store.ReviewFile, error)
}

// OpenFile returns file fileID of item it with its data, unsealed by open
// (review_file_not_found when the item has no such file), and audits the
// opening in log as action by by, for the domain service that calls it.
func OpenFile(ctx context.Context, st FileStore, it store.ReviewItem, fileID string, open func(cipher []byte) (string, error), log *audit.Log, action string, by audit.Origin) (File, error) {
	f, err := st.GetReviewFile(ctx, it.ID, fileID)
	if errors.Is(err, store.ErrNotFound) {
		return File{}, problem.New(problem.NotFound, "review_file_not_found")
	}
	if err != nil {
		return File{}, problem.Wrap(err)
	}
	plain, err := open(f.Data)
	if err != nil {
		return File{}, problem.Wrap(err)
	}
	e := by.Entry(action, audit.ResultOK)
	e.Subject = it.Subject
	e.Detail = audit.Detail{"item": it.ID, "file": f.ID, "user": it.UserID}
	log.Append(ctx, e)
	return FileOf(f, []byte(plain)), nil
}
