package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"unid/internal/store/postgres"
	"unid/internal/testenv"
)

// New returns an open, migrated store on a new database, closed and dropped
// when t ends.
func New(t testing.TB) *postgres.Store {
	t.Helper()
	s := Open(t, NewDatabase(t))
	if _, _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return s
}

// Open opens the store at url and closes it when t ends.
func Open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, 0)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// NewDatabase creates an empty database named unid_test_<random> and
// returns its URL; it is dropped (WITH (FORCE)) when t ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := testenv.PostgresURL(t)
	name := "unid_test_" + randomHex(8)
	dbURL, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := Exec(context.Background(), admin, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := Exec(ctx, admin, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// Exec runs one statement on the database at url over a short-lived
// connection (CREATE/DROP DATABASE cannot run in a transaction).
func Exec(ctx context.Context, url, query string, args ...any) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	_, err = db.ExecContext(ctx, query, args...)
	return err
}

// QueryRow runs a one-row query on the database at url and scans it.
func QueryRow(ctx context.Context, url, query string, args []any, dest ...any) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	return db.QueryRowContext(ctx, query, args...).Scan(dest...)
}

// WithDatabase returns the URL with its database replaced by name.
func WithDatabase(rawURL, name string) (string, error) { return withDatabase(rawURL, name) }

func withDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL", testenv.PostgresURLVar)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
