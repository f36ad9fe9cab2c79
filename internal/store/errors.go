package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
)

// ErrUnavailable marks a failure to reach a backend (the database or Redis)
// as opposed to a fault in a request: the same request may work a moment
// later.
var ErrUnavailable = errors.New("store: backend unavailable")

// ErrNotSwept is WithdrawConsent's failure after the consent was withdrawn
// and its codes and grants revoked: the second pass, for a code redeemed
// by an exchange that still saw the consent, did not run to the end.
var ErrNotSwept = errors.New("store: consent withdrawn, but the second pass over its codes and grants failed")

// Unavailable reports whether err means a backend could not be reached: a
// refused or broken connection, a timeout, or ErrUnavailable. Callers answer
// such errors with "try again shortly" (503 and Retry-After), not as a
// fault of unid.
func Unavailable(err error) bool {
	var netErr net.Error
	return errors.Is(err, ErrUnavailable) ||
		errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}
