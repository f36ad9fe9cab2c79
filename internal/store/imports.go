package store

import "context"

// Imports stores accounts brought over from older systems (unid import).
type Imports interface {
	// ImportUsers creates the users and appends their audit events
	// (events[i] tells of users[i]) in one transaction: all of them or,
	// on any error, none. A taken login name, identifier or ID, or a phone
	// a closed account gave up still in its cooling-off at the user's
	// CreatedAt, is a *ConflictError naming the field, as for CreateUser;
	// the caller may then retry the users one by one to find which.
	ImportUsers(ctx context.Context, users []User, events []AuditEvent, seal func(AuditEvent) []byte) error
}
