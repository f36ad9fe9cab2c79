package httpx

import (
	"context"
	"net/http"
	"time"

	"unid/internal/problem"
	"unid/internal/store"
)

// Signed is the signed-in user of a request and their session.
type Signed struct {
	Session store.Session
	User    store.User
}

// SignedInFunc returns the live session of r and its active user, ok=false
// when there is none; session.Manager.SignedIn is the one definition.
type SignedInFunc func(ctx context.Context, r *http.Request) (store.Session, store.User, bool, error)

// UserHandler is a handler that runs only for a signed-in user.
type UserHandler func(w http.ResponseWriter, r *http.Request, s Signed)

// Guard admits requests of signed-in users, and for sensitive changes
// (password, phone, closing the account, unbinding an enterprise) only of
// users who presented their credentials recently.
type Guard struct {
	signedIn SignedInFunc
	fail     func(http.ResponseWriter, *http.Request, error)
	now      func() time.Time
}

// NewGuard returns a Guard that answers refusals with fail.
func NewGuard(signedIn SignedInFunc, fail func(http.ResponseWriter, *http.Request, error), now func() time.Time) *Guard {
	return &Guard{signedIn: signedIn, fail: fail, now: now}
}

// SignedIn runs h for a signed-in user and answers 401 not_signed_in
// otherwise.
func (g *Guard) SignedIn(h UserHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := g.current(w, r)
		if ok {
			h(w, r, s)
		}
	}
}

// Recent runs h for a user who signed in (or re-entered their password)
// within the last d, and answers 401 reauthentication_required to a user
// who did so earlier: the page asks for the password again and retries.
func (g *Guard) Recent(d time.Duration, h UserHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := g.current(w, r)
		if !ok {
			return
		}
		if !Fresh(s.Session, d, g.now()) {
			g.fail(w, r, problem.New(problem.Unauthorized, "reauthentication_required"))
			return
		}
		h(w, r, s)
	}
}

// Fresh reports whether s presented credentials within d of now.
func Fresh(s store.Session, d time.Duration, now time.Time) bool {
	return now.Sub(s.AuthTime) <= d
}

func (g *Guard) current(w http.ResponseWriter, r *http.Request) (Signed, bool) {
	sess, u, ok, err := g.signedIn(r.Context(), r)
	if err != nil {
		g.fail(w, r, problem.Wrap(err))
		return Signed{}, false
	}
	if !ok {
		g.fail(w, r, problem.New(problem.Unauthorized, "not_signed_in"))
		return Signed{}, false
	}
	return Signed{Session: sess, User: u}, true
}
