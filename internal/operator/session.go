package operator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"unid/internal/audit"
	"unid/internal/flow"
	"unid/internal/store"
)

// CookieName is __Host-unid_console under HTTPS, unid_console otherwise:
// not the citizens' cookie, so that no citizen session is ever an
// operator's and the other way round.
func (s *Service) CookieName() string {
	if s.opt.Secure {
		return "__Host-unid_console"
	}
	return "unid_console"
}

func (s *Service) cookie(token string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: s.CookieName(), Value: token, Path: "/",
		HttpOnly: true, Secure: s.opt.Secure, SameSite: http.SameSiteStrictMode,
	}
	if token == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

// startSession gives w a new console session of o. The console session r
// carried, if any, ends: a token is never reused (no session fixation),
// and a browser holds one console session.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, o store.Operator, c flow.Client) error {
	if ck, err := r.Cookie(s.CookieName()); err == nil && ck.Value != "" {
		if err := s.d.Store.DeleteOperatorSession(ctx, hashToken(ck.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	var raw [32]byte
	rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	sess := store.OperatorSession{
		TokenHash: hashToken(token), OperatorID: o.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.opt.Max), IP: c.IP, UserAgent: c.UserAgent,
	}
	if err := s.d.Store.CreateOperatorSession(ctx, sess); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(token, sess.ExpiresAt))
	return nil
}

// State is what Current found.
type State int

// States of a request's console session.
const (
	// None: no console cookie, or one that names no session (signed out,
	// or the operator was disabled).
	None State = iota
	// Live: signed in.
	Live
	// TimedOut: the session passed its idle or absolute limit; the
	// console says so rather than just asking to sign in.
	TimedOut
)

// Signed is a live console session and its operator.
type Signed struct {
	Operator store.Operator
	Session  store.OperatorSession
	// TokenID is the API token the call came with (Tokens.Authenticate);
	// "" for a console session.
	TokenID string
}

// Origin names the operator, calling over c, as the origin of a change.
func (sg Signed) Origin(c flow.Client) audit.Origin {
	return audit.Origin{Actor: audit.Operator(sg.Operator.ID), IP: c.IP, UserAgent: c.UserAgent}
}

// Current returns the console session of r: the one definition of "signed
// in to the console" for the operator API and the console pages. A live
// session's activity is written at most once a minute (a tenth of the idle
// limit when that is shorter).
func (s *Service) Current(ctx context.Context, r *http.Request) (Signed, State, error) {
	ck, err := r.Cookie(s.CookieName())
	if err != nil || len(ck.Value) != 43 {
		return Signed{}, None, nil
	}
	h := hashToken(ck.Value)
	sess, err := s.d.Store.GetOperatorSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Signed{}, None, nil
	}
	if err != nil {
		return Signed{}, None, err
	}
	now := s.d.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.opt.Idle {
		return Signed{}, TimedOut, nil
	}
	o, err := s.d.Store.GetOperator(ctx, sess.OperatorID)
	if errors.Is(err, store.ErrNotFound) {
		return Signed{}, None, nil
	}
	if err != nil {
		return Signed{}, None, err
	}
	if o.Status != store.OperatorActive {
		return Signed{}, None, nil
	}
	if now.Sub(sess.LastSeenAt) >= min(time.Minute, s.opt.Idle/10) {
		sess.LastSeenAt = now.UTC().Truncate(time.Millisecond)
		if err := s.d.Store.TouchOperatorSession(ctx, h, sess.LastSeenAt); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Signed{}, None, err
		}
	}
	return Signed{Operator: o, Session: sess}, Live, nil
}

// SignOut ends the console session of r, if any, and clears its cookie. A
// session that had timed out is removed without an event: nobody was
// signed in there any more.
func (s *Service) SignOut(ctx context.Context, w http.ResponseWriter, r *http.Request, c flow.Client) error {
	http.SetCookie(w, s.cookie("", time.Unix(0, 0)))
	sg, state, err := s.Current(ctx, r)
	if err != nil {
		return err
	}
	ck, cerr := r.Cookie(s.CookieName())
	if cerr != nil {
		return nil
	}
	if err := s.d.Store.DeleteOperatorSession(ctx, hashToken(ck.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if state == Live {
		s.d.Audit.Append(ctx, audit.Entry{Actor: audit.Operator(sg.Operator.ID), Action: ActionSignOut, Result: audit.ResultOK,
			IP: c.IP, UserAgent: c.UserAgent, Subject: sg.Operator.LoginName})
	}
	return nil
}

// DeleteExpired removes console sessions past their limits, for the
// janitor.
func (s *Service) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.d.Now()
	return s.d.Store.DeleteExpiredOperatorSessions(ctx, now, now.Add(-s.opt.Idle))
}
