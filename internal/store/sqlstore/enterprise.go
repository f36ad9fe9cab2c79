package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"unid/internal/store"
)

const (
	enterpriseColumns  = `uscc, name, legal_rep_name_cipher, legal_rep_id_cipher, legal_rep_id_index, status, checked_at, created_at`
	memberColumns      = `uscc, user_id, role, labels, valid_until, is_default, granted_by, created_at`
	entGrantColumns    = `id, uscc, user_id, role, labels, valid_until, granted_by, created_at, expires_at`
	applicationColumns = `id, uscc, user_id, reason, state, created_at, expires_at, decided_at, decided_by, decision_reason`
)

func labelsText(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func labelsOf(s string) []string {
	var l []string
	_ = json.Unmarshal([]byte(s), &l)
	if len(l) == 0 {
		return nil
	}
	return l
}

func timeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func scanEnterprise(r rowScanner) (store.Enterprise, error) {
	var e store.Enterprise
	var checked, created int64
	err := r.Scan(&e.USCC, &e.Name, &e.LegalRepName.Cipher, &e.LegalRepID.Cipher, &e.LegalRepID.Index, &e.Status, &checked, &created)
	e.CheckedAt, e.CreatedAt = fromMS(checked), fromMS(created)
	e.LegalRepName.Cipher, e.LegalRepID.Cipher, e.LegalRepID.Index = normBytes(e.LegalRepName.Cipher), normBytes(e.LegalRepID.Cipher), normBytes(e.LegalRepID.Index)
	return e, err
}

func scanMember(r rowScanner) (store.EnterpriseMember, error) {
	var m store.EnterpriseMember
	var labels string
	var until sql.NullInt64
	var def, created int64
	err := r.Scan(&m.USCC, &m.UserID, &m.Role, &labels, &until, &def, &m.GrantedBy, &created)
	m.Labels, m.ValidUntil, m.Default, m.CreatedAt = labelsOf(labels), timeOf(until), def == 1, fromMS(created)
	return m, err
}

func scanEntGrant(r rowScanner) (store.EnterpriseGrant, error) {
	var g store.EnterpriseGrant
	var labels string
	var until sql.NullInt64
	var created, expires int64
	err := r.Scan(&g.ID, &g.USCC, &g.UserID, &g.Role, &labels, &until, &g.GrantedBy, &created, &expires)
	g.Labels, g.ValidUntil, g.CreatedAt, g.ExpiresAt = labelsOf(labels), timeOf(until), fromMS(created), fromMS(expires)
	return g, err
}

func scanApplication(r rowScanner) (store.EnterpriseApplication, error) {
	var a store.EnterpriseApplication
	var created, expires int64
	var decided sql.NullInt64
	err := r.Scan(&a.ID, &a.USCC, &a.UserID, &a.Reason, &a.State, &created, &expires, &decided, &a.DecidedBy, &a.DecisionReason)
	a.CreatedAt, a.ExpiresAt, a.DecidedAt = fromMS(created), fromMS(expires), timeOf(decided)
	return a, err
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ChangeEnterprise writes one enterprise happening: see store.Enterprises.
func (s *Store) ChangeEnterprise(ctx context.Context, c store.EnterpriseChange, e store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	const op = "change enterprise"
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		if g := c.Granter; g != nil {
			var role string
			err := tx.QueryRowContext(ctx, `SELECT m.role FROM enterprise_members m JOIN enterprises e ON e.uscc = m.uscc
				WHERE m.uscc = $1 AND m.user_id = $2 AND e.status = 'active' AND (m.valid_until IS NULL OR m.valid_until > $3)`,
				g.USCC, g.UserID, ms(g.Now)).Scan(&role)
			if errors.Is(err, sql.ErrNoRows) || err == nil && !slices.Contains(g.Roles, role) {
				return s.notFound(op)
			}
			if err != nil {
				return s.wrapErr(op, err)
			}
		}
		if en := c.Enterprise; en != nil {
			q := `INSERT INTO enterprises (` + enterpriseColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, legal_rep_name_cipher = excluded.legal_rep_name_cipher,
				legal_rep_id_cipher = excluded.legal_rep_id_cipher, legal_rep_id_index = excluded.legal_rep_id_index,
				status = excluded.status, checked_at = excluded.checked_at`
			if c.KeepEnterprise {
				q = `INSERT INTO enterprises (` + enterpriseColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (uscc) DO NOTHING`
			}
			if _, err := tx.ExecContext(ctx, q, en.USCC, en.Name, nullBytes(en.LegalRepName.Cipher), nullBytes(en.LegalRepID.Cipher),
				nullBytes(en.LegalRepID.Index), en.Status, ms(en.CheckedAt), ms(en.CreatedAt)); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if d := c.ApplicationDecision; d != nil {
			res, err := tx.ExecContext(ctx, `UPDATE enterprise_applications SET state = $2, decided_at = $3, decided_by = $4, decision_reason = $5
				WHERE id = $1 AND state = 'pending' AND expires_at > $3`, d.ID, d.State, ms(d.DecidedAt), d.DecidedBy, d.Reason)
			if err := s.oneDecided(ctx, tx, op, res, err, `SELECT 1 FROM enterprise_applications WHERE id = $1`, d.ID); err != nil {
				return err
			}
		}
		if d := c.ReviewDecision; d != nil {
			res, err := tx.ExecContext(ctx, `UPDATE review_items SET state = $2, decided_at = $3, decided_by = $4, reason = $5
				WHERE id = $1 AND state = 'pending'`, d.ItemID, d.State, ms(d.DecidedAt), d.DecidedBy, d.Reason)
			if err := s.oneDecided(ctx, tx, op, res, err, `SELECT 1 FROM review_items WHERE id = $1`, d.ItemID); err != nil {
				return err
			}
		}
		for _, k := range c.RemoveMembers {
			if err := s.txExecOne(ctx, tx, op, `DELETE FROM enterprise_members WHERE uscc = $1 AND user_id = $2`, k.USCC, k.UserID); err != nil {
				return err
			}
			// A grant outlives no role of its granter.
			if _, err := tx.ExecContext(ctx, `DELETE FROM enterprise_grants WHERE uscc = $1 AND granted_by = $2`, k.USCC, k.UserID); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if c.RemoveAllMembers != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM enterprise_members WHERE uscc = $1`, c.RemoveAllMembers); err != nil {
				return s.wrapErr(op, err)
			}
		}
		for _, m := range c.PutMembers {
			conflict := `DO UPDATE SET role = excluded.role, labels = excluded.labels, valid_until = excluded.valid_until,
				granted_by = excluded.granted_by, created_at = excluded.created_at`
			if c.KeepMembers {
				conflict = `DO NOTHING`
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO enterprise_members (`+memberColumns+`) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)
				ON CONFLICT (uscc, user_id) `+conflict,
				m.USCC, m.UserID, m.Role, labelsText(m.Labels), nullMS(m.ValidUntil), m.GrantedBy, ms(m.CreatedAt)); err != nil {
				return s.wrapErr(op, err)
			}
		}
		for _, id := range c.DeleteGrants {
			if err := s.txExecOne(ctx, tx, op, `DELETE FROM enterprise_grants WHERE id = $1`, id); err != nil {
				return err
			}
		}
		if c.DeleteAllGrants != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM enterprise_grants WHERE uscc = $1`, c.DeleteAllGrants); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if g := c.Grant; g != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO enterprise_grants (`+entGrantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (uscc, user_id) DO UPDATE SET id = excluded.id, role = excluded.role, labels = excluded.labels,
				valid_until = excluded.valid_until, granted_by = excluded.granted_by, created_at = excluded.created_at,
				expires_at = excluded.expires_at`,
				g.ID, g.USCC, g.UserID, g.Role, labelsText(g.Labels), nullMS(g.ValidUntil), g.GrantedBy, ms(g.CreatedAt), ms(g.ExpiresAt)); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if a := c.Application; a != nil {
			// An expired pending application no longer stands in the way.
			if _, err := tx.ExecContext(ctx, `UPDATE enterprise_applications SET state = 'expired'
				WHERE uscc = $1 AND user_id = $2 AND state = 'pending' AND expires_at <= $3`, a.USCC, a.UserID, ms(a.CreatedAt)); err != nil {
				return s.wrapErr(op, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO enterprise_applications (`+applicationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				a.ID, a.USCC, a.UserID, a.Reason, a.State, ms(a.CreatedAt), ms(a.ExpiresAt), nullMS(a.DecidedAt), a.DecidedBy, a.DecisionReason); err != nil {
				return s.wrapErr(op, err)
			}
		}
		if it := c.Review; it != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO review_items (`+reviewItemColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				it.ID, it.Kind, it.State, it.Reference, it.UserID, it.Subject, nullBytes(it.Data),
				ms(it.CreatedAt), nullMS(it.DecidedAt), it.DecidedBy, it.Reason); err != nil {
				return s.wrapErr(op, err)
			}
		}
		for _, f := range c.ReviewFiles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO review_files (id, item_id, label, content_type, size, data)
				VALUES ($1, $2, $3, $4, $5, $6)`, f.ID, f.ItemID, f.Label, f.ContentType, f.Size, f.Data); err != nil {
				return s.wrapErr(op, err)
			}
		}
		return nil
	})
	return err
}

// oneDecided checks that a decision's UPDATE changed its row: none is
// ErrNotFound when the row is missing, ErrConflict when decided already.
func (s *Store) oneDecided(ctx context.Context, tx *sql.Tx, op string, res sql.Result, err error, exists, id string) error {
	if err != nil {
		return s.wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(op, err)
	}
	if n > 0 {
		return nil
	}
	var one int
	err = tx.QueryRowContext(ctx, exists, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return s.notFound(op)
	}
	if err != nil {
		return s.wrapErr(op, err)
	}
	return fmt.Errorf("%s: %s: %s is decided already: %w", s.d.Name, op, id, store.ErrConflict)
}

// SetDefaultEnterprise makes uscc the user's default membership.
func (s *Store) SetDefaultEnterprise(ctx context.Context, userID, uscc string, e store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	const op = "set default enterprise"
	_, err := s.writeAudited(ctx, e, seal, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE enterprise_members SET is_default = 0 WHERE user_id = $1 AND is_default = 1`, userID); err != nil {
			return s.wrapErr(op, err)
		}
		if uscc == "" {
			return nil
		}
		return s.txExecOne(ctx, tx, op, `UPDATE enterprise_members SET is_default = 1 WHERE user_id = $1 AND uscc = $2`, userID, uscc)
	})
	return err
}

// GetEnterprise returns one enterprise.
func (s *Store) GetEnterprise(ctx context.Context, uscc string) (store.Enterprise, error) {
	e, err := scanEnterprise(s.queryRow(ctx, s.db, `SELECT `+enterpriseColumns+` FROM enterprises WHERE uscc = $1`, uscc))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Enterprise{}, s.notFound("get enterprise")
	}
	return e, s.wrapErr("get enterprise", err)
}

// ListMemberEnterprises returns the credit code of every enterprise with a member.
func (s *Store) ListMemberEnterprises(ctx context.Context) ([]string, error) {
	return listRows(ctx, s, "list member enterprises", func(r rowScanner) (string, error) {
		var uscc string
		err := r.Scan(&uscc)
		return uscc, err
	}, `SELECT DISTINCT uscc FROM enterprise_members ORDER BY uscc`)
}

// GetEnterpriseMember returns one membership.
func (s *Store) GetEnterpriseMember(ctx context.Context, uscc, userID string) (store.EnterpriseMember, error) {
	m, err := scanMember(s.queryRow(ctx, s.db, `SELECT `+memberColumns+` FROM enterprise_members WHERE uscc = $1 AND user_id = $2`, uscc, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.EnterpriseMember{}, s.notFound("get enterprise member")
	}
	return m, s.wrapErr("get enterprise member", err)
}

// ListUserMemberships returns the user's memberships, default first.
func (s *Store) ListUserMemberships(ctx context.Context, userID string) ([]store.EnterpriseMember, error) {
	return listRows(ctx, s, "list user memberships", scanMember, `SELECT `+memberColumns+` FROM enterprise_members
		WHERE user_id = $1 ORDER BY is_default DESC, created_at, uscc`, userID)
}

// ListEnterpriseMembers returns the members, strongest role first.
func (s *Store) ListEnterpriseMembers(ctx context.Context, uscc string) ([]store.EnterpriseMember, error) {
	return listRows(ctx, s, "list enterprise members", scanMember, `SELECT `+memberColumns+` FROM enterprise_members
		WHERE uscc = $1 ORDER BY CASE role WHEN 'legal_rep' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, created_at, user_id`, uscc)
}

// GetEnterpriseGrant returns one grant.
func (s *Store) GetEnterpriseGrant(ctx context.Context, id string) (store.EnterpriseGrant, error) {
	g, err := scanEntGrant(s.queryRow(ctx, s.db, `SELECT `+entGrantColumns+` FROM enterprise_grants WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.EnterpriseGrant{}, s.notFound("get enterprise grant")
	}
	return g, s.wrapErr("get enterprise grant", err)
}

// ListUserGrants returns the user's grants not expired at now.
func (s *Store) ListUserGrants(ctx context.Context, userID string, now time.Time) ([]store.EnterpriseGrant, error) {
	return listRows(ctx, s, "list user grants", scanEntGrant, `SELECT `+entGrantColumns+` FROM enterprise_grants
		WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`, userID, ms(now))
}

// ListEnterpriseGrants returns the enterprise's grants not expired at now.
func (s *Store) ListEnterpriseGrants(ctx context.Context, uscc string, now time.Time) ([]store.EnterpriseGrant, error) {
	return listRows(ctx, s, "list enterprise grants", scanEntGrant, `SELECT `+entGrantColumns+` FROM enterprise_grants
		WHERE uscc = $1 AND expires_at > $2 ORDER BY created_at, id`, uscc, ms(now))
}

// GetEnterpriseApplication returns one application.
func (s *Store) GetEnterpriseApplication(ctx context.Context, id string) (store.EnterpriseApplication, error) {
	a, err := scanApplication(s.queryRow(ctx, s.db, `SELECT `+applicationColumns+` FROM enterprise_applications WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.EnterpriseApplication{}, s.notFound("get enterprise application")
	}
	return a, s.wrapErr("get enterprise application", err)
}

// ListUserApplications returns the user's applications, newest first.
func (s *Store) ListUserApplications(ctx context.Context, userID string) ([]store.EnterpriseApplication, error) {
	return listRows(ctx, s, "list user applications", scanApplication, `SELECT `+applicationColumns+` FROM enterprise_applications
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100`, userID)
}

// ListPendingApplications returns the enterprise's pending applications.
func (s *Store) ListPendingApplications(ctx context.Context, uscc string, now time.Time) ([]store.EnterpriseApplication, error) {
	return listRows(ctx, s, "list pending applications", scanApplication, `SELECT `+applicationColumns+` FROM enterprise_applications
		WHERE uscc = $1 AND state = 'pending' AND expires_at > $2 ORDER BY created_at, id`, uscc, ms(now))
}
