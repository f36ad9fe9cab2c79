package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"unid/internal/store"
)

// CreateSession stores a new session. A missing user gives
// store.ErrNotFound; a token hash already in use, a *store.ConflictError
// with Field "id".
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	_, err := s.exec(ctx, s.wdb, `INSERT INTO sessions
		(`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		sess.TokenHash, sess.SID, sess.UserID, ms(sess.AuthTime), ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(sess.ExpiresAt),
		sess.IP, sess.UserAgent, sess.ActingUSCC, amrText(sess.AMR))
	if err != nil && s.d.ForeignKeyViolation(err) {
		return fmt.Errorf("%s: create session: user %q: %w", s.d.Name, sess.UserID, store.ErrNotFound)
	}
	return s.wrapErr("create session", err)
}

// GetSession returns the session with the token hash.
func (s *Store) GetSession(ctx context.Context, tokenHash []byte) (store.Session, error) {
	sess, err := scanSession(s.queryRow(ctx, s.db, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, s.notFound("get session")
	}
	if err != nil {
		return store.Session{}, s.wrapErr("get session", err)
	}
	return sess, nil
}

// execOne runs a statement that must affect one row; none gives ErrNotFound.
func (s *Store) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := s.exec(ctx, s.wdb, query, args...)
	if err != nil {
		return s.wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(op, err)
	}
	if n == 0 {
		return s.notFound(op)
	}
	return nil
}

// txExecOne is execOne inside the transaction tx.
func (s *Store) txExecOne(ctx context.Context, tx *sql.Tx, op, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return s.wrapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrapErr(op, err)
	} else if n == 0 {
		return s.notFound(op)
	}
	return nil
}

// execCount runs a statement and returns how many rows it affected.
func (s *Store) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	res, err := s.exec(ctx, s.wdb, query, args...)
	if err != nil {
		return 0, s.wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	return n, s.wrapErr(op, err)
}

// TouchSession sets LastSeenAt.
func (s *Store) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	return s.execOne(ctx, "touch session",
		`UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash, ms(at))
}

// SetSessionAuth sets AuthTime and AMR.
func (s *Store) SetSessionAuth(ctx context.Context, tokenHash []byte, at time.Time, amr []string) error {
	return s.execOne(ctx, "set session auth",
		`UPDATE sessions SET auth_time = $2, amr = $3 WHERE token_hash = $1`, tokenHash, ms(at), amrText(amr))
}

// amrText is how an AMR list is stored: space-separated, as OAuth scopes.
func amrText(amr []string) string { return strings.Join(amr, " ") }

// amrList reads a stored AMR list; "" is none (nil).
func amrList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// SetSessionActing sets ActingUSCC.
func (s *Store) SetSessionActing(ctx context.Context, tokenHash []byte, uscc string) error {
	return s.execOne(ctx, "set session acting",
		`UPDATE sessions SET acting_uscc = $2 WHERE token_hash = $1`, tokenHash, uscc)
}

// DeleteSession removes one session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return s.execOne(ctx, "delete session", `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
}

// DeleteUserSessions removes every session of the user (sign out
// everywhere) and says how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	return s.deleteSessions(ctx, "delete user sessions", `user_id = $1`, userID)
}

// sessionColumns are the columns scanSession reads, in its order.
const sessionColumns = `token_hash, sid, user_id, auth_time, created_at, last_seen_at, expires_at, ip, user_agent, acting_uscc, amr`

func scanSession(r rowScanner) (store.Session, error) {
	var sess store.Session
	var auth, created, seen, expires int64
	var amr string
	err := r.Scan(&sess.TokenHash, &sess.SID, &sess.UserID, &auth, &created, &seen, &expires, &sess.IP, &sess.UserAgent, &sess.ActingUSCC, &amr)
	sess.AMR = amrList(amr)
	sess.AuthTime, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMS(auth), fromMS(created), fromMS(seen), fromMS(expires)
	return sess, err
}

// TakeUserSessions deletes the user's sessions and returns them; the
// session_clients records stay for the caller's logout hooks.
func (s *Store) TakeUserSessions(ctx context.Context, userID string) ([]store.Session, error) {
	return s.takeSessions(ctx, "take user sessions", `user_id = $1`, userID)
}

// TakeUserSession deletes the user's session with the SID and returns it;
// ErrNotFound when the user has none with that SID.
func (s *Store) TakeUserSession(ctx context.Context, userID, sid string) ([]store.Session, error) {
	out, err := s.takeSessions(ctx, "take user session", `user_id = $1 AND sid = $2`, userID, sid)
	if err == nil && len(out) == 0 {
		return nil, s.notFound("take user session")
	}
	return out, err
}

// TakeOtherUserSessions deletes the user's sessions but those with the SID
// keepSID and returns them.
func (s *Store) TakeOtherUserSessions(ctx context.Context, userID, keepSID string) ([]store.Session, error) {
	return s.takeSessions(ctx, "take other user sessions", `user_id = $1 AND sid <> $2`, userID, keepSID)
}

// takeSessions deletes the sessions matching where and returns them, in
// one statement; the session_clients records stay for the caller's logout
// hooks.
func (s *Store) takeSessions(ctx context.Context, op, where string, args ...any) ([]store.Session, error) {
	var out []store.Session
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM sessions WHERE `+where+` RETURNING `+sessionColumns, args...)
		if err != nil {
			return s.wrapErr(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			sess, err := scanSession(rows)
			if err != nil {
				return s.wrapErr(op, err)
			}
			out = append(out, sess)
		}
		return s.wrapErr(op, rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListUserSessions returns the user's sessions that are neither expired
// nor idle, most recently seen first. The sessions_user_id_idx index finds
// them; a user has a handful.
func (s *Store) ListUserSessions(ctx context.Context, userID string, now, idleAfter time.Time) ([]store.Session, error) {
	return listRows(ctx, s, "list user sessions", scanSession, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3
		ORDER BY last_seen_at DESC, created_at DESC, sid`, userID, ms(now), ms(idleAfter))
}

// ListSIDSessions returns the user's sessions with the SID, live or not;
// the sessions_sid_idx index finds them.
func (s *Store) ListSIDSessions(ctx context.Context, userID, sid string) ([]store.Session, error) {
	return listRows(ctx, s, "list sid sessions", scanSession, `SELECT `+sessionColumns+` FROM sessions
		WHERE sid = $1 AND user_id = $2`, sid, userID)
}

// CountSessions returns the number of stored sessions, live or not.
func (s *Store) CountSessions(ctx context.Context) (int64, error) {
	var n int64
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM sessions`).Scan(&n)
	return n, s.wrapErr("count sessions", err)
}

// DeleteExpiredSessions removes sessions whose absolute expiry has come
// (expires_at <= now, matching Challenge.Valid) or that were last seen before
// idleBefore.
//
// The records of which clients those sessions signed in to go with them
// (a session that times out sends no logout to its clients).
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	return s.deleteSessions(ctx, "delete expired sessions", `expires_at <= $1 OR last_seen_at < $2`, ms(now), ms(idleBefore))
}

// deleteSessions removes the sessions matching where, and in the same
// transaction the client records of every SID no session holds any more
// (looked up by SID, so the cost follows the sessions removed, not the size
// of the table).
func (s *Store) deleteSessions(ctx context.Context, op, where string, args ...any) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM sessions WHERE `+where+` RETURNING sid`, args...)
		if err != nil {
			return s.wrapErr(op, err)
		}
		var sids []string
		for rows.Next() {
			var sid string
			if err := rows.Scan(&sid); err != nil {
				rows.Close()
				return s.wrapErr(op, err)
			}
			sids = append(sids, sid)
		}
		if err := rows.Err(); err != nil {
			return s.wrapErr(op, err)
		}
		n = int64(len(sids))
		for _, sid := range sids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM session_clients WHERE sid = $1
				AND NOT EXISTS (SELECT 1 FROM sessions WHERE sid = $1)`, sid); err != nil {
				return s.wrapErr(op, err)
			}
		}
		return nil
	})
	return n, err
}
