package store

import "context"

// Migrator is implemented by every backend: it applies the embedded,
// numbered, forward-only migrations of its dialect that the database has not
// seen yet, and reports the schema version before and after.
type Migrator interface {
	Migrate(ctx context.Context) (from, to int, err error)
	// SchemaVersion reports the database's schema version and the newest
	// this program knows, changing nothing.
	SchemaVersion(ctx context.Context) (current, latest int, err error)
}
