package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"unid/internal/store"
)

const clientColumns = `id, name, type, secret_hash, redirect_uris, post_logout_redirect_uris,
	scopes, first_party, backchannel_logout_uri, created_at, updated_at, min_realname_level, min_enterprise_role, disabled`

func clientArgs(c store.Client) ([]any, error) {
	var lists [3]string
	for i, l := range [][]string{c.RedirectURIs, c.PostLogoutRedirectURIs, c.Scopes} {
		if l == nil {
			l = []string{}
		}
		b, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		lists[i] = string(b)
	}
	return []any{c.ID, c.Name, c.Type, nullBytes(c.SecretHash), lists[0], lists[1], lists[2],
		c.FirstParty, c.BackchannelLogoutURI, ms(c.CreatedAt), ms(c.UpdatedAt), c.MinRealnameLevel, c.MinEnterpriseRole, c.Disabled}, nil
}

func scanClient(row rowScanner) (store.Client, error) {
	var (
		c                        store.Client
		redirects, logouts, scps string
		created, updated         int64
	)
	err := row.Scan(&c.ID, &c.Name, &c.Type, &c.SecretHash, &redirects, &logouts, &scps,
		&c.FirstParty, &c.BackchannelLogoutURI, &created, &updated, &c.MinRealnameLevel, &c.MinEnterpriseRole, &c.Disabled)
	if err != nil {
		return store.Client{}, err
	}
	for _, l := range []struct {
		src string
		dst *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {scps, &c.Scopes}} {
		if err := json.Unmarshal([]byte(l.src), l.dst); err != nil {
			return store.Client{}, fmt.Errorf("client %q: %w", c.ID, err)
		}
	}
	c.SecretHash = normBytes(c.SecretHash)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// CreateClient adds a client.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	args, err := clientArgs(c)
	if err != nil {
		return s.wrapErr("create client", err)
	}
	_, err = s.exec(ctx, s.wdb, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
	return s.wrapErr("create client", err)
}

// GetClient returns one client.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(s.queryRow(ctx, s.db, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Client{}, s.notFound("get client")
	}
	return c, s.wrapErr("get client", err)
}

// ListClients returns every client ordered by ID.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return listRows(ctx, s, "list clients", scanClient, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
}

// UpdateClient changes one client inside a transaction.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	return updateRow(ctx, s, rowUpdate[store.Client]{
		op:    "update client",
		query: `SELECT ` + clientColumns + ` FROM clients WHERE id = $1`,
		args:  []any{id},
		scan:  scanClient,
		key:   func(c store.Client) any { return c.ID },
		write: func(tx *sql.Tx, old, c store.Client) (store.Client, error) {
			c.CreatedAt = old.CreatedAt
			args, err := clientArgs(c)
			if err != nil {
				return store.Client{}, err
			}
			_, err = tx.ExecContext(ctx, `UPDATE clients SET name = $2, type = $3, secret_hash = $4,
				redirect_uris = $5, post_logout_redirect_uris = $6, scopes = $7, first_party = $8,
				backchannel_logout_uri = $9, updated_at = $10, min_realname_level = $11, min_enterprise_role = $12, disabled = $13 WHERE id = $1`,
				append(args[:9:9], args[10], args[11], args[12], args[13])...)
			if err != nil {
				return store.Client{}, err
			}
			return scanClient(tx.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, c.ID))
		},
	}, fn)
}

// DeleteClient removes one client and, in the same transaction, what it
// held by its ID alone (no foreign key): the users and enterprises it may
// write records for (client_users, client_enterprises) and the records it
// wrote, with their status history. A client registered later with the
// same ID starts with none of them.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	const op = "delete client"
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM records WHERE client_id = $1`,
			`DELETE FROM client_users WHERE client_id = $1`,
			`DELETE FROM client_enterprises WHERE client_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return s.wrapErr(op, err)
			}
		}
		return s.txExecOne(ctx, tx, op, `DELETE FROM clients WHERE id = $1`, id)
	})
	return s.wrapErr(op, err)
}

// AddSessionClient records that a session signed in to a client; recording
// it again changes nothing.
//
// In the same transaction it remembers, for good, that the user signed in
// to the client, and that the enterprise sc.Acting was acted for there:
// the client may then write records for them (KnownUsers,
// KnownEnterprises).
func (s *Store) AddSessionClient(ctx context.Context, sc store.SessionClient) error {
	const op = "add session client"
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_clients (sid, client_id, ref, protocol, url, user_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sid, client_id, ref) DO NOTHING`,
			sc.SID, sc.ClientID, sc.Ref, sc.Protocol, sc.URL, sc.UserID, ms(sc.CreatedAt)); err != nil {
			return err
		}
		// The user comes from the users table: a missing or closed
		// account is not remembered.
		if _, err := tx.ExecContext(ctx, `INSERT INTO client_users (client_id, user_id, first_at)
			SELECT $1, id, $3 FROM users WHERE id = $2 AND status <> $4
			ON CONFLICT (client_id, user_id) DO NOTHING`, sc.ClientID, sc.UserID, ms(sc.CreatedAt), store.UserClosed); err != nil {
			return err
		}
		if sc.Acting == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO client_enterprises (client_id, uscc, first_at)
			VALUES ($1, $2, $3) ON CONFLICT (client_id, uscc) DO NOTHING`, sc.ClientID, sc.Acting, ms(sc.CreatedAt))
		return err
	})
	return s.wrapErr(op, err)
}

// ListSessionClients returns the records of a session, oldest first.
func (s *Store) ListSessionClients(ctx context.Context, sid string) ([]store.SessionClient, error) {
	return listRows(ctx, s, "list session clients", scanSessionClient, `SELECT sid, client_id, ref, protocol,
		url, user_id, created_at FROM session_clients WHERE sid = $1 ORDER BY created_at, client_id, ref`, sid)
}

func scanSessionClient(r rowScanner) (store.SessionClient, error) {
	var sc store.SessionClient
	var created int64
	err := r.Scan(&sc.SID, &sc.ClientID, &sc.Ref, &sc.Protocol, &sc.URL, &sc.UserID, &created)
	sc.CreatedAt = fromMS(created)
	return sc, err
}

// DeleteSessionClients forgets every record of a session.
func (s *Store) DeleteSessionClients(ctx context.Context, sid string) (int64, error) {
	return s.execCount(ctx, "delete session clients", `DELETE FROM session_clients WHERE sid = $1`, sid)
}
