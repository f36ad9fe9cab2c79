package redis

import (
	"errors"
	"fmt"
	"io"

	"github.com/redis/go-redis/v9"

	"unid/internal/store"
)

// wrap names op in err and marks with store.ErrUnavailable the answers of
// a Redis that cannot serve for now, as an outage does: loading its data
// after a restart, a replica after a failover, out of memory, unable to
// save, its pool exhausted or closed, a connection dropped. The caller
// then answers "try again shortly" (503), not a fault of unid.
func wrap(op string, err error) error {
	if unavailable(err) {
		err = errors.Join(store.ErrUnavailable, err)
	}
	return fmt.Errorf("redis: %s: %w", op, err)
}

func unavailable(err error) bool {
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) || redis.IsOOMError(err) ||
		redis.IsMaxClientsError(err) || redis.HasErrorPrefix(err, "MISCONF") ||
		errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) || errors.Is(err, io.EOF)
}
