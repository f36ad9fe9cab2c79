package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/store"
)

// OpenData opens (and migrates) the database and the key file a server
// of cfg uses, for the commands and tools that work on them directly
// while that server runs or not.
func OpenData(ctx context.Context, cfg config.Config) (interface {
	store.Store
	store.Migrator
}, *account.Protector, error) {
	load := account.LoadKeyFile
	if cfg.Dev {
		// As `unid serve --dev` does: a fresh dev set-up needs no step first.
		load = func(path string) (account.Keys, error) {
			k, _, err := account.LoadOrCreateKeyFile(path)
			return k, err
		}
	}
	keys, err := load(cfg.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: %w (run `unid serve --dev` once, or `unid keys init` for production)", cfg.KeyFile, err)
	}
	protector, err := account.NewProtector(keys)
	if err != nil {
		return nil, nil, err
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, protector, nil
}

// OpenRegistry opens the client registry on the database of a server of
// cfg, auditing to a log written to logs. A server reads its clients from
// the database at each request, so a running server sees at once what the
// registry changes. close closes the database.
func OpenRegistry(ctx context.Context, cfg config.Config, logs io.Writer) (reg *client.Registry, close func(), err error) {
	st, protector, err := OpenData(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	logger := NewLogger(logs, "warn", "text")
	return client.New(st, protector.MAC, audit.New(st, time.Now, logger), time.Now), func() { st.Close() }, nil
}
