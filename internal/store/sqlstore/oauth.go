package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"unid/internal/store"
)

// oauthList encodes a list of strings as a JSON array ("[]" when empty).
func oauthList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always encodes
	return string(b)
}

// oauthParseList decodes what oauthList stored; an empty list is nil.
func oauthParseList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// ---- authorization requests ----

const authRequestColumns = `id, client_id, params, status, user_id, sid, auth_time,
	code_hash, code_used_at, grant_id, created_at, expires_at, amr`

func authRequestArgs(a store.AuthRequest) []any {
	return []any{a.ID, a.ClientID, a.Params, a.Status, a.UserID, a.SID, msOrZero(a.AuthTime),
		nullBytes(a.CodeHash), msOrZero(a.CodeUsedAt), a.GrantID, ms(a.CreatedAt), ms(a.ExpiresAt), amrText(a.AMR)}
}

func scanAuthRequest(r rowScanner) (store.AuthRequest, error) {
	var a store.AuthRequest
	var authTime, used, created, expires int64
	var amr string
	err := r.Scan(&a.ID, &a.ClientID, &a.Params, &a.Status, &a.UserID, &a.SID, &authTime,
		&a.CodeHash, &used, &a.GrantID, &created, &expires, &amr)
	a.AMR = amrList(amr)
	a.AuthTime, a.CodeUsedAt = fromMSOrZero(authTime), fromMSOrZero(used)
	a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
	return a, err
}

// CreateAuthRequest stores a new authorization request.
func (s *Store) CreateAuthRequest(ctx context.Context, a store.AuthRequest) error {
	_, err := s.exec(ctx, s.wdb, `INSERT INTO oauth_auth_requests (`+authRequestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, authRequestArgs(a)...)
	return s.wrapErr("create auth request", err)
}

// GetAuthRequest returns the request, expired or not; callers check the expiry.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	a, err := scanAuthRequest(s.queryRow(ctx, s.db,
		`SELECT `+authRequestColumns+` FROM oauth_auth_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuthRequest{}, s.notFound("get auth request")
	}
	return a, s.wrapErr("get auth request", err)
}

// GetAuthRequestByCode returns the request whose code hashes to codeHash.
func (s *Store) GetAuthRequestByCode(ctx context.Context, codeHash []byte) (store.AuthRequest, error) {
	if len(codeHash) == 0 {
		return store.AuthRequest{}, s.notFound("get auth request by code")
	}
	a, err := scanAuthRequest(s.queryRow(ctx, s.db,
		`SELECT `+authRequestColumns+` FROM oauth_auth_requests WHERE code_hash = $1`, codeHash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuthRequest{}, s.notFound("get auth request by code")
	}
	return a, s.wrapErr("get auth request by code", err)
}

// UpdateAuthRequest reads the request, applies fn and writes the result in
// one transaction, so that of two concurrent exchanges of one code only one
// sees it unused.
func (s *Store) UpdateAuthRequest(ctx context.Context, id string, fn func(store.AuthRequest) (store.AuthRequest, error)) (store.AuthRequest, error) {
	return updateRow(ctx, s, s.authRequestUpdate(ctx, "update auth request", id, nil), fn)
}

// RedeemCode is UpdateAuthRequest with the grant and its first refresh
// token written in the same transaction: one commit for the exchange, and
// no grant without its used code or the other way round. Where the
// dialect allows (WritingWith), the request as the caller saw it is tried
// first in one statement, which writes only if the stored request is
// still exactly that; otherwise, and whenever fn refuses what was seen,
// the request is locked and read again and fn decides on it.
func (s *Store) RedeemCode(ctx context.Context, seen store.AuthRequest, g store.Grant, first *store.RefreshToken, fn func(store.AuthRequest) (store.AuthRequest, error)) (store.AuthRequest, error) {
	const op = "redeem code"
	redeem := func(old store.AuthRequest) (store.AuthRequest, error) {
		a, err := fn(old)
		if err == nil && (a.ID != old.ID || a.GrantID != g.ID || a.CodeUsedAt.IsZero()) {
			// A replay could not find what the code gave.
			return a, fmt.Errorf("%s: redeem code %s: the request must be used and name grant %s", s.d.Name, old.ID, g.ID)
		}
		return a, err
	}
	if s.d.WritingWith {
		if a, err := redeem(seen); err == nil {
			done, err := s.redeemSeen(ctx, op, seen, a, g, first)
			if err != nil {
				return store.AuthRequest{}, s.wrapErr(op, err)
			}
			if done {
				return normAuthRequest(a), nil
			}
		}
	}
	also := func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertGrant, grantArgs(g)...); err != nil {
			return s.grantErr(op, g, err)
		}
		if first == nil {
			return nil
		}
		_, err := tx.ExecContext(ctx, insertRefreshToken, refreshTokenArgs(*first)...)
		return s.refreshTokenErr(op, *first, err)
	}
	return updateRow(ctx, s, s.authRequestUpdate(ctx, op, seen.ID, also), redeem)
}

// redeemSeen writes the redeemed request a, the grant and the first
// refresh token in one statement, if the stored request is still seen in
// every column; done says whether it was.
func (s *Store) redeemSeen(ctx context.Context, op string, seen, a store.AuthRequest, g store.Grant, first *store.RefreshToken) (done bool, err error) {
	args := append(authRequestArgs(a), authRequestArgs(seen)[1:]...) // the new request, then the old one's columns but its id
	q := `WITH redeemed AS (UPDATE oauth_auth_requests SET ` + authRequestCAS + ` RETURNING id)`
	ga := grantArgs(g)
	grant := `INSERT INTO oauth_grants (` + grantColumns + `) SELECT ` + params(len(args), len(ga)) + ` FROM redeemed`
	args = append(args, ga...)
	if first == nil {
		q += " " + grant
	} else {
		ra := refreshTokenArgs(*first)
		q += `, granted AS (` + grant + ` RETURNING id)
		INSERT INTO oauth_refresh_tokens (` + refreshColumns + `) SELECT ` + params(len(args), len(ra)) + ` FROM granted`
		args = append(args, ra...)
	}
	res, err := s.wdb.ExecContext(ctx, q, args...)
	if err != nil {
		return false, s.grantErr(op, g, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// authRequestCAS is the SET and WHERE of an update of an authorization
// request that writes only over the request as it was seen: $1 is the id,
// $2… the new values of the other columns of authRequestColumns and the
// $ after them their values as seen.
var authRequestCAS = func() string {
	cols := strings.Split(authRequestColumns, ",")
	var set, where []string
	for i, c := range cols[1:] {
		c = strings.TrimSpace(c)
		set = append(set, fmt.Sprintf("%s = $%d", c, i+2))
		where = append(where, fmt.Sprintf("%s IS NOT DISTINCT FROM $%d", c, i+len(cols)+1))
	}
	return strings.Join(set, ", ") + " WHERE id = $1 AND " + strings.Join(where, " AND ")
}()

// authRequestUpdate is the read-modify-write of the request id; also, when
// not nil, writes more in the same transaction after the request.
func (s *Store) authRequestUpdate(ctx context.Context, op, id string, also func(*sql.Tx) error) rowUpdate[store.AuthRequest] {
	return rowUpdate[store.AuthRequest]{
		op:    op,
		query: `SELECT ` + authRequestColumns + ` FROM oauth_auth_requests WHERE id = $1`,
		args:  []any{id},
		scan:  scanAuthRequest,
		key:   func(a store.AuthRequest) any { return a.ID },
		write: func(tx *sql.Tx, _, a store.AuthRequest) (store.AuthRequest, error) {
			_, err := tx.ExecContext(ctx, `UPDATE oauth_auth_requests SET client_id = $2, params = $3,
				status = $4, user_id = $5, sid = $6, auth_time = $7, code_hash = $8, code_used_at = $9,
				grant_id = $10, created_at = $11, expires_at = $12, amr = $13 WHERE id = $1`, authRequestArgs(a)...)
			if err == nil && also != nil {
				err = also(tx)
			}
			return normAuthRequest(a), err
		},
	}
}

// normAuthRequest is a as the store gives it back after writing it.
func normAuthRequest(a store.AuthRequest) store.AuthRequest {
	a.AMR = amrList(amrText(a.AMR))
	a.CodeHash = normBytes(a.CodeHash)
	a.AuthTime, a.CodeUsedAt = fromMSOrZero(msOrZero(a.AuthTime)), fromMSOrZero(msOrZero(a.CodeUsedAt))
	a.CreatedAt, a.ExpiresAt = normTime(a.CreatedAt), normTime(a.ExpiresAt)
	return a
}

// ---- grants and refresh tokens ----

const grantColumns = `id, client_id, user_id, sid, scopes, auth_time, created_at, expires_at, revoked_at, acting_uscc, amr`

func scanGrant(r rowScanner) (store.Grant, error) {
	var g store.Grant
	var scopes string
	var authTime, created, expires, revoked int64
	var amr string
	if err := r.Scan(&g.ID, &g.ClientID, &g.UserID, &g.SID, &scopes, &authTime, &created, &expires, &revoked, &g.ActingUSCC, &amr); err != nil {
		return store.Grant{}, err
	}
	g.AMR = amrList(amr)
	var err error
	if g.Scopes, err = oauthParseList(scopes); err != nil {
		return store.Grant{}, fmt.Errorf("grant %s: scopes: %w", g.ID, err)
	}
	g.AuthTime, g.CreatedAt, g.ExpiresAt = fromMS(authTime), fromMS(created), fromMS(expires)
	g.RevokedAt = fromMSOrZero(revoked)
	return g, nil
}

// CreateGrant stores a new grant. An unknown user or client gives
// store.ErrNotFound.
func (s *Store) CreateGrant(ctx context.Context, g store.Grant) error {
	_, err := s.exec(ctx, s.wdb, insertGrant, grantArgs(g)...)
	return s.wrapErr("create grant", s.grantErr("create grant", g, err))
}

const insertGrant = `INSERT INTO oauth_grants (` + grantColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

func grantArgs(g store.Grant) []any {
	return []any{g.ID, g.ClientID, g.UserID, g.SID, oauthList(g.Scopes), ms(g.AuthTime), ms(g.CreatedAt),
		ms(g.ExpiresAt), msOrZero(g.RevokedAt), g.ActingUSCC, amrText(g.AMR)}
}

// grantErr is the error of storing g: store.ErrNotFound for an unknown
// user or client, else err as it is, for the caller to wrap.
func (s *Store) grantErr(op string, g store.Grant, err error) error {
	if err != nil && s.d.ForeignKeyViolation(err) {
		return fmt.Errorf("%s: %s: user %q or client %q: %w", s.d.Name, op, g.UserID, g.ClientID, store.ErrNotFound)
	}
	return err
}

// GetGrant returns the grant, revoked or expired or not.
func (s *Store) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := scanGrant(s.queryRow(ctx, s.db, `SELECT `+grantColumns+` FROM oauth_grants WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Grant{}, s.notFound("get grant")
	}
	return g, s.wrapErr("get grant", err)
}

// RevokeGrant marks the grant revoked; a grant revoked before keeps its
// first revocation time.
func (s *Store) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	n, err := s.execCount(ctx, "revoke grant",
		`UPDATE oauth_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0`, id, ms(at))
	if err != nil || n > 0 {
		return err
	}
	if _, err := s.GetGrant(ctx, id); err != nil {
		return err
	}
	return nil
}

// WithdrawConsent deletes the user's consent for the client, denies the
// user's approved requests of the client whose code is unused and revokes
// the user's live grants for the client, in one transaction, so that a
// failure leaves the consent to withdraw again; without a consent,
// ErrNotFound and nothing changed. Then it denies and revokes once more:
// until the transaction commits, an exchange still sees the consent, and
// a request approved meanwhile (pending when the first denial ran) can be
// redeemed into a grant the first revocation did not see. Any such
// exchange checked the consent before this sweep began, so the sweep
// meets its code or its grant (revokeWithRequests); one that checks after
// finds the consent gone.
func (s *Store) WithdrawConsent(ctx context.Context, userID, clientID string, at time.Time) (int64, error) {
	const op, match = "withdraw consent", "user_id = $1 AND client_id = $2"
	deleteConsent := func(tx *sql.Tx) error {
		return s.txExecOne(ctx, tx, op, `DELETE FROM oauth_consents WHERE `+match, userID, clientID)
	}
	n, err := s.revokeWithRequests(ctx, op, match, at, deleteConsent, userID, clientID)
	if err != nil {
		return n, err
	}
	m, err := s.revokeWithRequests(ctx, op+": sweep", match, at, nil, userID, clientID)
	if err != nil {
		return n, fmt.Errorf("%w: %w", store.ErrNotSwept, err)
	}
	return n + m, nil
}

// RevokeSessionGrants revokes every live grant of the user that came from
// the browser session sid, and denies the session's approved requests
// whose code is not redeemed yet, so that no token is issued for what the
// session was before.
func (s *Store) RevokeSessionGrants(ctx context.Context, userID, sid string, at time.Time) (int64, error) {
	return s.revokeWithRequests(ctx, "revoke session grants", "user_id = $1 AND sid = $2", at, nil, userID, sid)
}

// RevokeUserGrants revokes every live grant of the user, and denies their
// approved requests whose code is not redeemed yet.
func (s *Store) RevokeUserGrants(ctx context.Context, userID string, at time.Time) (int64, error) {
	return s.revokeWithRequests(ctx, "revoke user grants", "user_id = $1", at, nil, userID)
}

// revokeWithRequests revokes the live grants that match (a condition on
// columns both tables have, over args) and denies the approved requests
// that match whose code is unused, in one transaction, and says how many
// grants it revoked; first (nil: nothing) runs before both in the same
// transaction. The requests go first: a code being redeemed holds
// its request's row until the grant it makes is committed, so the denial
// waits for it, finds the code used and leaves it, and the revocation that
// follows, a statement of its own, sees that grant. Revoking first would
// miss it and return with the new grant live.
func (s *Store) revokeWithRequests(ctx context.Context, op, match string, at time.Time, first func(*sql.Tx) error, args ...any) (int64, error) {
	next := func(k int) string { return "$" + strconv.Itoa(len(args)+k) }
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_auth_requests SET status = `+next(1)+`
			WHERE `+match+` AND status = `+next(2)+` AND code_used_at = 0`,
			append(args, store.AuthRequestDenied, store.AuthRequestApproved)...); err != nil {
			return s.wrapErr(op+": deny approved requests", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = `+next(1)+`
			WHERE `+match+` AND revoked_at = 0`, append(args, ms(at))...)
		if err != nil {
			return s.wrapErr(op, err)
		}
		n, err = res.RowsAffected()
		return s.wrapErr(op, err)
	})
	return n, err
}

const refreshColumns = `token_hash, grant_id, created_at, expires_at, used_at`

// CreateRefreshToken stores a token; an unknown grant gives store.ErrNotFound.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	_, err := s.exec(ctx, s.wdb, insertRefreshToken, refreshTokenArgs(t)...)
	return s.wrapErr("create refresh token", s.refreshTokenErr("create refresh token", t, err))
}

const insertRefreshToken = `INSERT INTO oauth_refresh_tokens (` + refreshColumns + `) VALUES ($1, $2, $3, $4, $5)`

func refreshTokenArgs(t store.RefreshToken) []any {
	return []any{t.TokenHash, t.GrantID, ms(t.CreatedAt), ms(t.ExpiresAt), msOrZero(t.UsedAt)}
}

// refreshTokenErr is grantErr for t: store.ErrNotFound for an unknown
// grant.
func (s *Store) refreshTokenErr(op string, t store.RefreshToken, err error) error {
	if err != nil && s.d.ForeignKeyViolation(err) {
		return fmt.Errorf("%s: %s: grant %q: %w", s.d.Name, op, t.GrantID, store.ErrNotFound)
	}
	return err
}

// GetRefreshToken returns the token with the hash, used or not.
func (s *Store) GetRefreshToken(ctx context.Context, tokenHash []byte) (store.RefreshToken, error) {
	var t store.RefreshToken
	var created, expires, used int64
	err := s.queryRow(ctx, s.db, `SELECT `+refreshColumns+` FROM oauth_refresh_tokens WHERE token_hash = $1`, tokenHash).
		Scan(&t.TokenHash, &t.GrantID, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return store.RefreshToken{}, s.notFound("get refresh token")
	}
	if err != nil {
		return store.RefreshToken{}, s.wrapErr("get refresh token", err)
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMS(created), fromMS(expires), fromMSOrZero(used)
	return t, nil
}

// RotateRefreshToken marks the old token used and stores its successor in
// one transaction. The conditional UPDATE is the compare-and-swap: of two
// concurrent rotations of one token, the second finds it used.
// Where the dialect allows (WritingWith), both writes are one statement.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash []byte, next store.RefreshToken) error {
	const op = "rotate refresh token"
	// use marks the old token used; with WritingWith the same statement
	// stores the successor, else an INSERT after it does.
	use, args := `UPDATE oauth_refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at = 0`, []any{oldHash, ms(next.CreatedAt)}
	if s.d.WritingWith {
		na := refreshTokenArgs(next)
		use = `WITH used AS (` + use + ` RETURNING token_hash)
			INSERT INTO oauth_refresh_tokens (` + refreshColumns + `) SELECT ` + params(len(args), len(na)) + ` FROM used`
		args = append(args, na...)
	}
	rotate := func(tx execQuerier) error {
		res, err := tx.ExecContext(ctx, use, args...)
		if err != nil {
			return s.wrapErr(op, s.refreshTokenErr(op, next, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.wrapErr(op, err)
		}
		if n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM oauth_refresh_tokens WHERE token_hash = $1`, oldHash).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return s.notFound(op)
			}
			if err != nil {
				return s.wrapErr(op, err)
			}
			return fmt.Errorf("%s: %s: already used: %w", s.d.Name, op, store.ErrConflict)
		}
		if s.d.WritingWith {
			return nil // stored by the same statement
		}
		_, err = tx.ExecContext(ctx, insertRefreshToken, refreshTokenArgs(next)...)
		return s.wrapErr(op, s.refreshTokenErr(op, next, err))
	}
	if s.d.WritingWith {
		return rotate(s.wdb) // one statement: its own transaction
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return rotate(tx) })
}

// ---- revoked access tokens ----

// RevokeAccessToken lists jti as revoked until expiresAt.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	_, err := s.exec(ctx, s.wdb, `INSERT INTO oauth_revoked_tokens (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO NOTHING`, jti, ms(expiresAt))
	return s.wrapErr("revoke access token", err)
}

// AccessTokenRevoked reports whether jti is listed as revoked.
func (s *Store) AccessTokenRevoked(ctx context.Context, jti string) (bool, error) {
	var one int
	err := s.queryRow(ctx, s.db, `SELECT 1 FROM oauth_revoked_tokens WHERE jti = $1`, jti).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.wrapErr("access token revoked", err)
	}
	return true, nil
}

// ---- consents ----

const consentColumns = `user_id, client_id, scopes, created_at, updated_at`

func scanConsent(r rowScanner) (store.Consent, error) {
	var c store.Consent
	var scopes string
	var created, updated int64
	if err := r.Scan(&c.UserID, &c.ClientID, &scopes, &created, &updated); err != nil {
		return store.Consent{}, err
	}
	var err error
	if c.Scopes, err = oauthParseList(scopes); err != nil {
		return store.Consent{}, fmt.Errorf("consent %s/%s: scopes: %w", c.UserID, c.ClientID, err)
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// PutConsent creates the consent or replaces its scopes and UpdatedAt,
// keeping its CreatedAt. An unknown user or client gives store.ErrNotFound.
func (s *Store) PutConsent(ctx context.Context, c store.Consent) error {
	_, err := s.exec(ctx, s.wdb, `INSERT INTO oauth_consents (`+consentColumns+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, oauthList(c.Scopes), ms(c.CreatedAt), ms(c.UpdatedAt))
	if err != nil && s.d.ForeignKeyViolation(err) {
		return fmt.Errorf("%s: put consent: user %q or client %q: %w", s.d.Name, c.UserID, c.ClientID, store.ErrNotFound)
	}
	return s.wrapErr("put consent", err)
}

// GetConsent returns the consent of the user for the client.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (store.Consent, error) {
	c, err := scanConsent(s.queryRow(ctx, s.db, `SELECT `+consentColumns+` FROM oauth_consents
		WHERE user_id = $1 AND client_id = $2`, userID, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Consent{}, s.notFound("get consent")
	}
	return c, s.wrapErr("get consent", err)
}

// ListConsents returns the user's consents ordered by client ID.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]store.Consent, error) {
	return listRows(ctx, s, "list consents", scanConsent, `SELECT `+consentColumns+` FROM oauth_consents
		WHERE user_id = $1 ORDER BY client_id`, userID)
}

// DeleteConsent removes the consent of the user for the client.
func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	return s.execOne(ctx, "delete consent",
		`DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
}

// ---- signing keys ----

const signingKeyColumns = `id, algorithm, private_key, public_jwk, created_at, retired_at`

// insertSigningKeySQL inserts an active key; the unique "active" column
// refuses a second one.
const insertSigningKeySQL = `INSERT INTO oauth_signing_keys (` + signingKeyColumns + `, active)
	VALUES ($1, $2, $3, $4, $5, 0, TRUE)`

// CreateSigningKey stores k as the active key, or fails with a
// *store.ConflictError when a key is active already.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	_, err := s.exec(ctx, s.wdb, insertSigningKeySQL, k.ID, k.Algorithm, k.Private, k.Public, ms(k.CreatedAt))
	return s.wrapErr("create signing key", err)
}

// ListSigningKeys returns every key, newest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	return listRows(ctx, s, "list signing keys", scanSigningKey, `SELECT `+signingKeyColumns+` FROM oauth_signing_keys
		ORDER BY created_at DESC, id DESC`)
}

func scanSigningKey(r rowScanner) (store.SigningKey, error) {
	var k store.SigningKey
	var created, retired int64
	err := r.Scan(&k.ID, &k.Algorithm, &k.Private, &k.Public, &created, &retired)
	k.CreatedAt, k.RetiredAt = fromMS(created), fromMSOrZero(retired)
	return k, err
}

// RotateSigningKey retires oldID and makes next the active key, or fails
// with store.ErrConflict when oldID is not the active key (another
// instance rotated first).
func (s *Store) RotateSigningKey(ctx context.Context, oldID string, next store.SigningKey) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oauth_signing_keys SET active = NULL, retired_at = $2
			WHERE id = $1 AND active IS NOT NULL`, oldID, ms(next.CreatedAt))
		if err != nil {
			return s.wrapErr("rotate signing key", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.wrapErr("rotate signing key", err)
		} else if n == 0 {
			return fmt.Errorf("%s: rotate signing key: %s is not the active key: %w", s.d.Name, oldID, store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, insertSigningKeySQL, next.ID, next.Algorithm, next.Private, next.Public, ms(next.CreatedAt))
		return s.wrapErr("rotate signing key", err)
	})
}

// DeleteSigningKeysRetiredBefore removes the keys retired before t.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete retired signing keys",
		`DELETE FROM oauth_signing_keys WHERE active IS NULL AND retired_at < $1`, ms(t))
}

// DeleteExpiredOAuth removes what has expired at now: authorization
// requests, refresh tokens, grants (with their remaining refresh tokens) and
// the records of revoked access tokens.
func (s *Store) DeleteExpiredOAuth(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM oauth_auth_requests WHERE expires_at <= $1`,
		`DELETE FROM oauth_refresh_tokens WHERE expires_at <= $1`,
		`DELETE FROM oauth_grants WHERE expires_at <= $1`,
		`DELETE FROM oauth_revoked_tokens WHERE expires_at <= $1`,
	} {
		n, err := s.execCount(ctx, "delete expired oauth", q, ms(now))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
