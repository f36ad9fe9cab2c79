package login

import (
	"context"
	"time"

	"unid/internal/problem"
)

// LockState is what an operator sees of an account's sign-in lock: a
// lock of the account for every network, and the wrong passwords counted
// towards one. Locks of single networks out of the account are keyed by
// a keyed hash of the network and cannot be listed; ClearLock lifts them
// with the rest.
type LockState struct {
	Locked   bool      `json:"locked"`
	Until    time.Time `json:"until,omitzero"`
	Failures int64     `json:"failures"` // wrong passwords from all networks in the current window
}

// Lock reports the account-wide lock of userID, counting nothing.
func (s *Service) Lock(ctx context.Context, userID string) (LockState, error) {
	now := s.now()
	r, err := s.rules(ctx, now, userKey(userID), "")
	if err != nil {
		return LockState{}, problem.Wrap(err)
	}
	wait, err := s.limiter.Exceeded(ctx, now, r.acctLock)
	if err != nil {
		return LockState{}, problem.Wrap(err)
	}
	n, err := s.limiter.Count(ctx, now, r.acctFail.Key)
	if err != nil {
		return LockState{}, problem.Wrap(err)
	}
	st := LockState{Locked: wait > 0, Failures: n}
	if st.Locked {
		st.Until = now.Add(wait).UTC()
	}
	return st, nil
}
