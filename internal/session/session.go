// Package session ties a browser to a signed-in user. The cookie carries a
// random 256-bit token; the store keeps only its SHA-256, so a copy of the
// database cannot be replayed as cookies. A session ends at its absolute
// expiry (Max after sign-in) or when it has been idle longer than Idle;
// activity is written at most once a minute so that reading pages does not
// turn into a write per request.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"unid/internal/store"
)

// Options configure the manager.
type Options struct {
	Idle   time.Duration
	Max    time.Duration
	Secure bool // HTTPS: Secure cookie with the __Host- prefix
}

// touchEvery limits how often activity is written.
const touchEvery = time.Minute

// Manager creates, finds and ends sessions.
type Manager struct {
	store store.Sessions
	now   func() time.Time
	opt   Options
}

// New returns a Manager.
func New(s store.Sessions, now func() time.Time, o Options) *Manager {
	return &Manager{store: s, now: now, opt: o}
}

// CookieName is __Host-unid_session under HTTPS, unid_session otherwise.
func (m *Manager) CookieName() string {
	if m.opt.Secure {
		return "__Host-unid_session"
	}
	return "unid_session"
}

// Start creates a session for userID and sets its cookie on w.
func (m *Manager) Start(ctx context.Context, w http.ResponseWriter, userID, ip, userAgent string) (store.Session, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return store.Session{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := m.now().UTC().Truncate(time.Millisecond)
	s := store.Session{
		TokenHash: hash(token), UserID: userID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(m.opt.Max), IP: ip, UserAgent: userAgent,
	}
	if err := m.store.CreateSession(ctx, s); err != nil {
		return store.Session{}, err
	}
	http.SetCookie(w, m.cookie(token, s.ExpiresAt))
	return s, nil
}

// Current returns the live session of r, or ok=false. An expired or idle
// session is deleted on sight.
func (m *Manager) Current(ctx context.Context, r *http.Request) (store.Session, bool, error) {
	c, err := r.Cookie(m.CookieName())
	if err != nil || len(c.Value) != 43 {
		return store.Session{}, false, nil
	}
	h := hash(c.Value)
	s, err := m.store.GetSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, false, nil
	}
	if err != nil {
		return store.Session{}, false, err
	}
	now := m.now()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= m.opt.Idle {
		if err := m.store.DeleteSession(ctx, h); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Session{}, false, err
		}
		return store.Session{}, false, nil
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		s.LastSeenAt = now.UTC().Truncate(time.Millisecond)
		if err := m.store.TouchSession(ctx, h, s.LastSeenAt); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Session{}, false, err
		}
	}
	return s, true, nil
}

// End deletes the session of r (if any) and clears its cookie.
func (m *Manager) End(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, m.cookie("", time.Unix(0, 0)))
	c, err := r.Cookie(m.CookieName())
	if err != nil {
		return nil
	}
	err = m.store.DeleteSession(ctx, hash(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func (m *Manager) cookie(token string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: m.CookieName(), Value: token, Path: "/",
		HttpOnly: true, Secure: m.opt.Secure, SameSite: http.SameSiteLaxMode,
	}
	if token == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

func hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
