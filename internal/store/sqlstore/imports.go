package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"unid/internal/store"
)

// ImportUsers creates the users and appends their events in one
// transaction: see store.Imports. One transaction for a whole batch is
// what makes an import of 100,000 accounts take minutes, not hours: the
// cost of an import is the commits, not the rows.
func (s *Store) ImportUsers(ctx context.Context, users []store.User, events []store.AuditEvent, seal func(store.AuditEvent) []byte) error {
	const op = "import users"
	if len(users) != len(events) {
		return fmt.Errorf("%s: %s: %d users but %d events", s.d.Name, op, len(users), len(events))
	}
	if len(users) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertUserSQL)
		if err != nil {
			return s.wrapErr(op, err)
		}
		defer ins.Close()
		for i, u := range users {
			if _, err := ins.ExecContext(ctx, userArgs(u)...); err != nil {
				return s.wrapErr(op, err)
			}
			if err := s.checkClosed(ctx, tx, op, store.User{}, u, u.CreatedAt); err != nil {
				return err
			}
			if _, err := s.appendAuditTx(ctx, tx, events[i], seal); err != nil {
				return err
			}
		}
		return nil
	})
}
