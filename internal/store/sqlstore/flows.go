package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"unid/internal/store"
)

const flowColumns = `id, kind, state, subject, data, issued_at, expires_at, updated_at`

const insertFlowSQL = `INSERT INTO flows (` + flowColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

func flowArgs(f store.Flow) []any {
	return []any{f.ID, f.Kind, f.State, f.Subject, nullBytes(f.Data), ms(f.IssuedAt), ms(f.ExpiresAt), ms(f.UpdatedAt)}
}

func scanFlow(r rowScanner) (store.Flow, error) {
	var f store.Flow
	var issued, expires, updated int64
	err := r.Scan(&f.ID, &f.Kind, &f.State, &f.Subject, &f.Data, &issued, &expires, &updated)
	f.Data = normBytes(f.Data)
	f.IssuedAt, f.ExpiresAt, f.UpdatedAt = fromMS(issued), fromMS(expires), fromMS(updated)
	return f, err
}

// normFlow is what a flow looks like after a round trip through the store.
func normFlow(f store.Flow) store.Flow {
	f.Data = normBytes(f.Data)
	f.IssuedAt, f.ExpiresAt, f.UpdatedAt = normTime(f.IssuedAt), normTime(f.ExpiresAt), normTime(f.UpdatedAt)
	return f
}

// CreateFlow stores a new flow; an ID in use gives a *store.ConflictError.
func (s *Store) CreateFlow(ctx context.Context, f store.Flow) error {
	_, err := s.exec(ctx, s.wdb, insertFlowSQL, flowArgs(f)...)
	return s.wrapErr("create flow", err)
}

// GetFlow returns the flow, expired or not; callers check Valid.
func (s *Store) GetFlow(ctx context.Context, id string) (store.Flow, error) {
	f, err := scanFlow(s.queryRow(ctx, s.db, `SELECT `+flowColumns+` FROM flows WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Flow{}, s.notFound("get flow")
	}
	return f, s.wrapErr("get flow", err)
}

// UpdateFlow reads the flow, applies fn and writes the result in one
// transaction. The ID and IssuedAt cannot change; an error from fn aborts
// the write and is returned unchanged.
func (s *Store) UpdateFlow(ctx context.Context, id string, fn func(store.Flow) (store.Flow, error)) (store.Flow, error) {
	return updateRow(ctx, s, rowUpdate[store.Flow]{
		op:    "update flow",
		query: `SELECT ` + flowColumns + ` FROM flows WHERE id = $1`,
		args:  []any{id},
		scan:  scanFlow,
		key:   func(f store.Flow) any { return f.ID },
		write: func(tx *sql.Tx, old, f store.Flow) (store.Flow, error) {
			f.IssuedAt = old.IssuedAt
			_, err := tx.ExecContext(ctx, `UPDATE flows SET kind = $2, state = $3, subject = $4,
				data = $5, expires_at = $6, updated_at = $7 WHERE id = $1`,
				f.ID, f.Kind, f.State, f.Subject, nullBytes(f.Data), ms(f.ExpiresAt), ms(f.UpdatedAt))
			return normFlow(f), err
		},
	}, fn)
}

// DeleteFlow removes the flow; of several concurrent callers one succeeds
// and the others get store.ErrNotFound.
func (s *Store) DeleteFlow(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete flow", `DELETE FROM flows WHERE id = $1`, id)
}

// DeleteExpiredFlows removes the flows no longer valid at now
// (expires_at <= now, matching Flow.Valid).
func (s *Store) DeleteExpiredFlows(ctx context.Context, now time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired flows", `DELETE FROM flows WHERE expires_at <= $1`, ms(now))
}
