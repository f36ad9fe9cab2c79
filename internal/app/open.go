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

// HashParams are the password-hash parameters of a server of cfg: what
// it hashes new passwords with, and what the commands and tools that hash
// or measure for it must use too.
func HashParams(cfg config.Config) account.Params {
	return account.Params{Memory: uint32(cfg.Argon2Memory), Time: uint32(cfg.Argon2Time), Threads: uint8(cfg.Argon2Threads),
		SaltLen: 16, KeyLen: 32}
}

// OpenData opens the database and the key file a server of cfg uses, for
// the commands and tools that work on them directly while that server runs
// or not. With migrate it brings the schema up to date, as `unid client`
// does; without, it refuses a database whose schema is not this program's
// newest, so that a tool pointed at the wrong database changes nothing
// there, not even its schema.
func OpenData(ctx context.Context, cfg config.Config, migrate bool) (interface {
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
	if migrate {
		_, _, err = st.Migrate(ctx)
	} else {
		var current, latest int
		if current, latest, err = st.SchemaVersion(ctx); err == nil && current != latest {
			err = fmt.Errorf("the database's schema is at version %d, this program's at %d: is it a running unid's database of this version?", current, latest)
		}
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, protector, nil
}

// OpenRegistry opens the client registry on the database of a server of
// cfg (migrating it as OpenData does when migrate), auditing to a log
// written to logs. A running server sees a new client at once and any
// other change within client.CacheFor. close closes the database.
func OpenRegistry(ctx context.Context, cfg config.Config, logs io.Writer, migrate bool) (reg *client.Registry, close func(), err error) {
	st, protector, err := OpenData(ctx, cfg, migrate)
	if err != nil {
		return nil, nil, err
	}
	logger := NewLogger(logs, "warn", "text")
	return client.New(st, protector.MAC, audit.New(st, time.Now, logger), time.Now), func() { st.Close() }, nil
}
