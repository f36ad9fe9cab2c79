package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"unid/internal/store"
)

const userColumns = `id, login_name, login_name_key, password_hash,
	phone_cipher, phone_index, id_number_cipher, id_number_index,
	email_cipher, email_index, real_name_cipher, realname_level, status,
	created_at, updated_at, nickname_cipher, work_unit_cipher, closed_at`

// userColumnCount is the number of columns in userColumns.
const userColumnCount = 18

func userArgs(u store.User) []any {
	return []any{
		u.ID, u.LoginName, u.LoginNameKey, u.PasswordHash,
		nullBytes(u.Phone.Cipher), nullBytes(u.Phone.Index),
		nullBytes(u.IDNumber.Cipher), nullBytes(u.IDNumber.Index),
		nullBytes(u.Email.Cipher), nullBytes(u.Email.Index),
		nullBytes(u.RealName.Cipher), u.RealnameLevel, u.Status,
		ms(u.CreatedAt), ms(u.UpdatedAt),
		nullBytes(u.Nickname.Cipher), nullBytes(u.WorkUnit.Cipher), nullMS(u.ClosedAt),
	}
}

func scanUser(r rowScanner) (store.User, error) {
	var u store.User
	var created, updated int64
	var closed sql.NullInt64
	err := r.Scan(&u.ID, &u.LoginName, &u.LoginNameKey, &u.PasswordHash,
		&u.Phone.Cipher, &u.Phone.Index, &u.IDNumber.Cipher, &u.IDNumber.Index,
		&u.Email.Cipher, &u.Email.Index, &u.RealName.Cipher, &u.RealnameLevel, &u.Status,
		&created, &updated, &u.Nickname.Cipher, &u.WorkUnit.Cipher, &closed)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	if closed.Valid {
		u.ClosedAt = fromMS(closed.Int64)
	}
	return u, err
}

// normUser is what a user looks like after a round trip through the store.
func normUser(u store.User) store.User {
	for _, p := range []*store.Sealed{&u.Phone, &u.IDNumber, &u.Email, &u.RealName, &u.Nickname, &u.WorkUnit} {
		p.Cipher, p.Index = normBytes(p.Cipher), normBytes(p.Index)
	}
	// Not stored: real names, nicknames and work units are not looked up.
	u.RealName.Index, u.Nickname.Index, u.WorkUnit.Index = nil, nil, nil
	u.CreatedAt, u.UpdatedAt = normTime(u.CreatedAt), normTime(u.UpdatedAt)
	if !u.ClosedAt.IsZero() {
		u.ClosedAt = normTime(u.ClosedAt)
	}
	return u
}

// nullMS stores a zero time as NULL.
func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

// placeholders returns "($1, $2, ...), ($n+1, ...)" for rows of n columns,
// or "(?, ?, ...), ..." when positional.
func placeholders(rows, n int, positional bool) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		if positional {
			b.WriteString(strings.TrimSuffix(strings.Repeat("?, ", n), ", "))
		} else {
			b.WriteString(params(r*n, n))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// params is "$from+1, $from+2, …", n of them.
func params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i+1))
	}
	return b.String()
}

var insertUserSQL = `INSERT INTO users (` + userColumns + `) VALUES ` + placeholders(1, userColumnCount, false)

// CreateUser stores a new user; a taken ID, login name or identifier index
// gives a *store.ConflictError naming it, and so does a phone or verified
// ID number that a closed account gave up and whose cooling-off lasts
// beyond u.CreatedAt ("closed_phone", "closed_id_number").
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertUserSQL, userArgs(u)...); err != nil {
			return s.wrapErr("create user", err)
		}
		return s.checkClosed(ctx, tx, "create user", store.User{}, u, u.CreatedAt)
	})
}

// bulkRows is how many users one INSERT statement of BulkCreateUsers carries;
// 1000 rows × 18 columns stays below the parameter limits of both SQLite
// (32766) and PostgreSQL (65535). Imported accounts are not checked
// against closed identifiers: an import brings accounts of the platform's
// past, before any was closed here.
const bulkRows = 1000

// BulkCreateUsers inserts many users in one transaction with multi-row
// INSERTs, for imports and benchmarks. Any conflict aborts the whole batch.
func (s *Store) BulkCreateUsers(ctx context.Context, users []store.User) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var full *sql.Stmt
		defer func() {
			if full != nil {
				full.Close()
			}
		}()
		args := make([]any, 0, bulkRows*userColumnCount)
		for start := 0; start < len(users); start += bulkRows {
			batch := users[start:min(start+bulkRows, len(users))]
			args = args[:0]
			for _, u := range batch {
				args = append(args, userArgs(u)...)
			}
			query := `INSERT INTO users (` + userColumns + `) VALUES ` + placeholders(len(batch), userColumnCount, s.d.Positional)
			var err error
			if len(batch) == bulkRows {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, query); err != nil {
						return s.wrapErr("bulk create users", err)
					}
				}
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, query, args...)
			}
			if err != nil {
				return s.wrapErr("bulk create users", err)
			}
		}
		return nil
	})
}

func (s *Store) getUserBy(ctx context.Context, op, column string, key any) (store.User, error) {
	u, err := scanUser(s.queryRow(ctx, s.db,
		`SELECT `+userColumns+` FROM users WHERE `+column+` = $1`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, s.notFound(op)
	}
	if err != nil {
		return store.User{}, s.wrapErr(op, err)
	}
	return u, nil
}

// GetUser returns the user with the ID.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	return s.getUserBy(ctx, "get user", "id", id)
}

// GetUserByLoginName returns the user with the lower-cased login name.
func (s *Store) GetUserByLoginName(ctx context.Context, loginNameKey string) (store.User, error) {
	return s.getUserBy(ctx, "get user by login name", "login_name_key", loginNameKey)
}

// GetUserByPhone returns the user with the phone blind index.
func (s *Store) GetUserByPhone(ctx context.Context, phoneIndex []byte) (store.User, error) {
	if len(phoneIndex) == 0 {
		return store.User{}, s.notFound("get user by phone")
	}
	return s.getUserBy(ctx, "get user by phone", "phone_index", phoneIndex)
}

// GetUserByVerifiedIDNumber returns the verified user with the ID-number
// blind index. The condition on realname_level is the predicate of the
// partial unique index, written the same way so that the index serves it.
func (s *Store) GetUserByVerifiedIDNumber(ctx context.Context, idNumberIndex []byte) (store.User, error) {
	if len(idNumberIndex) == 0 {
		return store.User{}, s.notFound("get user by verified id number")
	}
	const op = "get user by verified id number"
	u, err := scanUser(s.queryRow(ctx, s.db,
		`SELECT `+userColumns+` FROM users WHERE id_number_index = $1 AND realname_level >= 1`, idNumberIndex))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, s.notFound(op)
	}
	if err != nil {
		return store.User{}, s.wrapErr(op, err)
	}
	return u, nil
}

// GetUserByEmail returns the user with the email blind index.
func (s *Store) GetUserByEmail(ctx context.Context, emailIndex []byte) (store.User, error) {
	if len(emailIndex) == 0 {
		return store.User{}, s.notFound("get user by email")
	}
	return s.getUserBy(ctx, "get user by email", "email_index", emailIndex)
}

// errChangeID is returned when an update function changes the record's key.
var errChangeID = errors.New("the update function changed the key")

// UpdateUser reads the user, applies fn and writes the result in one
// transaction. The ID, CreatedAt and ClosedAt cannot change; UpdatedAt is
// stored as fn sets it (the caller's clock). An error from fn aborts the
// write and is returned unchanged. A closed account is not found: only
// CloseUser writes it. A new phone, or an ID number becoming verified, is
// checked against the closed identifiers at the new UpdatedAt.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(store.User) (store.User, error)) (store.User, error) {
	return updateRow(ctx, s, rowUpdate[store.User]{
		op:    "update user",
		query: `SELECT ` + userColumns + ` FROM users WHERE id = $1 AND status <> $2`,
		args:  []any{id, store.UserClosed},
		scan:  scanUser,
		key:   func(u store.User) any { return u.ID },
		write: func(tx *sql.Tx, old, u store.User) (store.User, error) {
			return s.writeUser(ctx, tx, "update user", old, u)
		},
	}, fn)
}

// writeUser stores u over old, the row as read and locked inside tx.
func (s *Store) writeUser(ctx context.Context, tx *sql.Tx, op string, old, u store.User) (store.User, error) {
	u.CreatedAt, u.ClosedAt = old.CreatedAt, old.ClosedAt
	if u.Status == store.UserClosed {
		return store.User{}, fmt.Errorf("%s: %s %s: only CloseUser closes an account", s.d.Name, op, u.ID)
	}
	args := userArgs(u)
	_, err := tx.ExecContext(ctx, `UPDATE users SET
		login_name = $2, login_name_key = $3, password_hash = $4,
		phone_cipher = $5, phone_index = $6, id_number_cipher = $7, id_number_index = $8,
		email_cipher = $9, email_index = $10, real_name_cipher = $11, realname_level = $12,
		status = $13, updated_at = $14, nickname_cipher = $15, work_unit_cipher = $16
		WHERE id = $1`, append(args[:13:13], args[14:17]...)...)
	if err != nil {
		return store.User{}, err
	}
	if err := s.checkClosed(ctx, tx, op, old, u, u.UpdatedAt); err != nil {
		return store.User{}, err
	}
	return normUser(u), nil
}

// CountUsers returns the number of accounts.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM users`).Scan(&n)
	return n, s.wrapErr("count users", err)
}
