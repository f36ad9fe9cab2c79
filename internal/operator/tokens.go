package operator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"unid/internal/audit"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/store"
)

// Audit actions of API tokens. The token itself is never in an event.
const (
	ActionTokenCreated = "operator.token_created" // Detail {token_id, name, expires_at}; failed: Detail {reason}
	ActionTokenRevoked = "operator.token_revoked" // Detail {token_id, name}
)

// TokenPrefix starts every operator API token, so that a token pasted
// where it does not belong (a ticket, a repository) is recognised.
const TokenPrefix = "unidop_"

// Limits of API tokens.
const (
	MaxTokenName     = 64 // characters
	MinTokenDays     = 1
	MaxTokenDays     = 90
	DefaultTokenDays = 30
	// MaxTokens is how many tokens an operator holds at once, expired
	// ones not yet removed included.
	MaxTokens = 20
	// KeepExpiredTokens is how long an expired token stays in its
	// operator's list (marked expired) before the janitor removes it.
	KeepExpiredTokens = 7 * 24 * time.Hour
	// tokenTouch is how often a token's last use is written at most.
	tokenTouch = time.Minute
)

// tokenLen is the length of a token: the prefix and 32 random bytes in
// base64url.
var tokenLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(32)

var (
	errTokenInvalid = &problem.Problem{Kind: problem.Unauthorized, Code: "operator_token_invalid"}
	errTokenUnknown = &problem.Problem{Kind: problem.NotFound, Code: "operator_token_not_found"}
)

// TokenDeps are what API tokens work with besides the operator service.
type TokenDeps struct {
	Store store.OperatorTokens
}

// Tokens are operators' personal API tokens, so that a province can
// script the operator API, which signing in (a captcha and a TOTP code)
// does not allow. An operator creates one while signed in to the console,
// confirming it with a current TOTP code (judged like a sign-in's code:
// once each, under the operator's cap of wrong codes), names it and
// chooses its life (MinTokenDays–MaxTokenDays). The token is shown once;
// only its SHA-256 is stored. A call with it acts as its operator with the
// operator's roles at the time of the call: a disabled operator's tokens,
// or those of an operator whose credentials were reset and not yet set
// up again, are refused. Revoking deletes it.
type Tokens struct {
	s *Service
	d TokenDeps
}

// NewTokens returns the API tokens of the operators of s.
func NewTokens(s *Service, d TokenDeps) *Tokens {
	return &Tokens{s: s, d: d}
}

// TokenView is a token as its operator sees it: never the token.
type TokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // null until first used
	Expired    bool       `json:"expired"`
}

func (t *Tokens) viewOf(tok store.OperatorToken) TokenView {
	v := TokenView{ID: tok.ID, Name: tok.Name, CreatedAt: tok.CreatedAt, ExpiresAt: tok.ExpiresAt,
		Expired: !t.s.d.Now().Before(tok.ExpiresAt)}
	if !tok.LastUsedAt.IsZero() {
		at := tok.LastUsedAt
		v.LastUsedAt = &at
	}
	return v
}

// NewToken is a token just created: the only time its secret is told.
type NewToken struct {
	TokenView
	Token string `json:"token"`
}

// checkTokenName trims name and accepts 1–MaxTokenName characters, no
// control characters.
func checkTokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxTokenName || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", problem.Field("name", "operator_token_name_invalid")
	}
	return name, nil
}

// Create makes a token of the signed-in operator o, named name, valid for
// days days, once their current TOTP code (code) is confirmed. A bad name
// or life is refused before the code is judged; a wrong code is audited
// and changes nothing else.
func (t *Tokens) Create(ctx context.Context, o store.Operator, name string, days int, code string, by audit.Origin) (NewToken, error) {
	fields := problem.FieldSet{}
	name, err := checkTokenName(name)
	fields.Add("name", err)
	if days < MinTokenDays || days > MaxTokenDays {
		fields.Add("days", problem.Field("days", "operator_token_days_invalid"))
	}
	if strings.TrimSpace(code) == "" {
		fields.Add("code", problem.Field("code", "operator_code_required"))
	}
	if err := fields.Err(); err != nil {
		return NewToken{}, err
	}
	held, err := t.d.Store.ListOperatorTokens(ctx, o.ID)
	if err != nil {
		return NewToken{}, err
	}
	if len(held) >= MaxTokens {
		return NewToken{}, problem.New(problem.Conflict, "operator_token_limit")
	}
	fail := func(reason string) {
		e := by.Entry(ActionTokenCreated, audit.ResultFailed)
		e.Subject, e.Detail = o.LoginName, audit.Detail{"reason": reason}
		t.s.d.Audit.Append(ctx, e)
	}
	if err := t.s.confirmCode(ctx, o, code, flow.Client{IP: by.IP, UserAgent: by.UserAgent}); err != nil {
		var pr *problem.Problem
		if errors.As(err, &pr) && pr.Kind != problem.Internal {
			fail(pr.Code)
		}
		return NewToken{}, err
	}
	var raw [32]byte
	rand.Read(raw[:])
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := t.s.d.Now().UTC().Truncate(time.Millisecond)
	tok := store.OperatorToken{ID: rand.Text(), OperatorID: o.ID, Name: name, TokenHash: hashToken(secret),
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour)}
	if err := t.d.Store.CreateOperatorToken(ctx, tok); err != nil {
		return NewToken{}, err
	}
	e := by.Entry(ActionTokenCreated, audit.ResultOK)
	e.Subject = o.LoginName
	e.Detail = audit.Detail{"token_id": tok.ID, "name": name, "expires_at": tok.ExpiresAt.Format(time.RFC3339)}
	t.s.d.Audit.Append(ctx, e)
	return NewToken{TokenView: t.viewOf(tok), Token: secret}, nil
}

// List returns the tokens of the operator with operatorID, oldest first.
func (t *Tokens) List(ctx context.Context, operatorID string) ([]TokenView, error) {
	list, err := t.d.Store.ListOperatorTokens(ctx, operatorID)
	if err != nil {
		return nil, err
	}
	out := make([]TokenView, 0, len(list))
	for _, tok := range list {
		out = append(out, t.viewOf(tok))
	}
	return out, nil
}

// Revoke deletes the token id of o at once; another operator's is
// operator_token_not_found, as is one that does not exist.
func (t *Tokens) Revoke(ctx context.Context, o store.Operator, id string, by audit.Origin) error {
	if id == "" || len(id) > 64 {
		return errTokenUnknown
	}
	tok, err := t.d.Store.GetOperatorToken(ctx, o.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errTokenUnknown
	}
	if err != nil {
		return err
	}
	if err := t.d.Store.DeleteOperatorToken(ctx, o.ID, id); errors.Is(err, store.ErrNotFound) {
		return errTokenUnknown
	} else if err != nil {
		return err
	}
	e := by.Entry(ActionTokenRevoked, audit.ResultOK)
	e.Subject, e.Detail = o.LoginName, audit.Detail{"token_id": tok.ID, "name": tok.Name}
	t.s.d.Audit.Append(ctx, e)
	return nil
}

// Authenticate returns the operator a call presenting the token secret
// acts as, with their roles as they are now; an unknown, expired or
// revoked token, or one of an operator who may not sign in (disabled, or
// reset and not set up again), is operator_token_invalid. Its last use is
// written at most once a minute.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (Signed, error) {
	if len(secret) != tokenLen || !strings.HasPrefix(secret, TokenPrefix) {
		return Signed{}, errTokenInvalid
	}
	tok, err := t.d.Store.GetOperatorTokenByHash(ctx, hashToken(secret))
	if errors.Is(err, store.ErrNotFound) {
		return Signed{}, errTokenInvalid
	}
	if err != nil {
		return Signed{}, err
	}
	now := t.s.d.Now()
	if !now.Before(tok.ExpiresAt) {
		return Signed{}, errTokenInvalid
	}
	o, err := t.s.d.Store.GetOperator(ctx, tok.OperatorID)
	if errors.Is(err, store.ErrNotFound) {
		return Signed{}, errTokenInvalid
	}
	if err != nil {
		return Signed{}, err
	}
	if o.Status != store.OperatorActive || o.PasswordHash == "" {
		return Signed{}, errTokenInvalid
	}
	if now.Sub(tok.LastUsedAt) >= tokenTouch {
		tok.LastUsedAt = now.UTC().Truncate(time.Millisecond)
		if err := t.d.Store.TouchOperatorToken(ctx, tok.ID, tok.LastUsedAt); errors.Is(err, store.ErrNotFound) {
			return Signed{}, errTokenInvalid // revoked meanwhile
		} else if err != nil {
			return Signed{}, err
		}
	}
	sess := store.OperatorSession{OperatorID: o.ID, CreatedAt: tok.CreatedAt, LastSeenAt: tok.LastUsedAt, ExpiresAt: tok.ExpiresAt}
	return Signed{Operator: o, Session: sess, TokenID: tok.ID}, nil
}
