package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/enterprise"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
)

// Enterprises is what the provider asks of the enterprise space;
// *enterprise.Service implements it.
type Enterprises interface {
	// Memberships returns the user's live memberships, default first.
	Memberships(ctx context.Context, userID string) ([]enterprise.Membership, error)
	// Acting returns the user's live membership of uscc, or a problem
	// with Kind NotFound.
	Acting(ctx context.Context, userID, uscc string) (enterprise.Membership, error)
}

// ActionEnterpriseRefused: a sign-in or a refresh refused because the
// identity does not hold the client's minimum enterprise role; Detail
// {client_id, required, stage (authorize, code, refresh)}.
const ActionEnterpriseRefused = "oidc.enterprise_refused"

// errAccountSelection is OpenID Connect's answer to prompt=none when the
// user must choose an identity first.
const errAccountSelection = "account_selection_required"

// IdentityPath is the page where the user chooses whom a sign-in acts for
// (the person or one of their enterprises); it sends the browser to next
// afterwards. CAS uses it too.
func IdentityPath(next, lang string) string {
	p := "/sso/identity?next=" + url.QueryEscape(next)
	if lang != "" {
		p += "&lang=" + url.QueryEscape(lang)
	}
	return p
}

// identityChosen marks the way back from the identity page, so that
// prompt=select_account asks once per request.
const identityChosen = "identity=chosen"

// wantsEnterprise reports whether a sign-in to c with the granted scopes
// must know whom the user acts for.
func wantsEnterprise(scopes []string, c store.Client) bool {
	return slices.Contains(scopes, claims.ScopeEnterprise) || c.MinEnterpriseRole != ""
}

// MeetsRole reports whether acting with m (nil: as the person) satisfies
// c's minimum enterprise role. CAS asks it too.
func MeetsRole(c store.Client, m *enterprise.Membership) bool {
	return c.MinEnterpriseRole == "" || m != nil && enterprise.AtLeast(m.Role, c.MinEnterpriseRole)
}

// Released is the enterprise claim of m, nil for the person. CAS uses it
// too.
func Released(m *enterprise.Membership) *claims.Enterprise {
	if m == nil {
		return nil
	}
	return &claims.Enterprise{USCC: m.USCC, Name: m.Name, Role: m.Role, Labels: m.Labels}
}

// LiveMembership re-reads the user's membership of uscc: nil for "" (the
// person) and for a membership that is gone (revoked, expired, the
// enterprise deregistered or unbound).
func LiveMembership(ctx context.Context, e Enterprises, userID, uscc string) (*enterprise.Membership, error) {
	if uscc == "" || e == nil {
		return nil, nil
	}
	m, err := e.Acting(ctx, userID, uscc)
	if err != nil {
		if problem.As(err).Kind == problem.NotFound {
			return nil, nil
		}
		return nil, err
	}
	return &m, nil
}

// NeedsChoice reports whether the user of s must choose an identity before
// a sign-in that wants one goes on: the session has no choice yet (or the
// request asks to choose again) and the user has an enterprise to choose.
func NeedsChoice(ctx context.Context, e Enterprises, s store.Session, again bool) (bool, error) {
	if _, chosen := session.Acting(s); chosen && !again || e == nil {
		return false, nil
	}
	ms, err := e.Memberships(ctx, s.UserID)
	return len(ms) > 0, err
}

// actingFor decides whom an approved sign-in acts for, or answers the
// request: the identity page when a choice is needed, access_denied when
// the client's minimum role is not held. ok is false when answered.
func (p *Provider) actingFor(w http.ResponseWriter, r *http.Request, ar *authRequest, c *client, s store.Session, scopes []string) (uscc string, ok bool) {
	ctx := r.Context()
	params := ar.params
	if !wantsEnterprise(scopes, c.c) {
		return "", true
	}
	again := params.SelectAccount && !strings.Contains(r.URL.RawQuery, identityChosen)
	need, err := NeedsChoice(ctx, p.d.Enterprises, s, again)
	if err != nil {
		p.serverError(w, r, ar, err)
		return "", false
	}
	if need {
		if params.PromptNone {
			op.AuthRequestError(w, r, ar, &oidc.Error{ErrorType: errAccountSelection,
				Description: "the user must choose whom to act for"}, p.op)
			return "", false
		}
		http.Redirect(w, r, IdentityPath(callbackPath(ar.ID)+"&"+identityChosen, params.Lang), http.StatusSeeOther)
		return "", false
	}
	if params.SelectAccount {
		// Chosen for this request: the consent page's way back must not ask again.
		if err := p.keepParams(ctx, ar, func(a *authParams) { a.SelectAccount = false }); err != nil {
			p.serverError(w, r, ar, err)
			return "", false
		}
	}
	acting, _ := session.Acting(s)
	m, err := LiveMembership(ctx, p.d.Enterprises, s.UserID, acting)
	if err != nil {
		p.serverError(w, r, ar, err)
		return "", false
	}
	if !MeetsRole(c.c, m) {
		p.enterpriseRefused(ctx, r, s.UserID, c.c, "authorize")
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription(roleDescription, c.c.MinEnterpriseRole), p.op)
		return "", false
	}
	if m == nil {
		return "", true
	}
	return m.USCC, true
}

// roleDescription is the error description of a client's unmet minimum
// role, with the role.
const roleDescription = "the client requires acting for an enterprise with at least the role %s"

// enterpriseRefused audits a refusal for want of the client's minimum role.
func (p *Provider) enterpriseRefused(ctx context.Context, r *http.Request, userID string, c store.Client, stage string) {
	p.record(ctx, r, audit.Entry{Actor: audit.User(userID), Action: ActionEnterpriseRefused, Result: "role_below_minimum",
		Detail: audit.Detail{"client_id": c.ID, "required": c.MinEnterpriseRole, "stage": stage}})
}

// keepParams changes the stored parameters of a pending request.
func (p *Provider) keepParams(ctx context.Context, ar *authRequest, fn func(*authParams)) error {
	fn(&ar.params)
	enc, err := json.Marshal(ar.params)
	if err != nil {
		return err
	}
	_, err = p.d.Store.UpdateAuthRequest(ctx, ar.ID, func(a store.AuthRequest) (store.AuthRequest, error) {
		a.Params = enc
		return a, nil
	})
	return err
}

// grantEnterprise is the enterprise claim of a grant's tokens now: the
// membership the grant was made for, re-read.
func (p *Provider) grantEnterprise(ctx context.Context, g store.Grant) (*claims.Enterprise, error) {
	m, err := LiveMembership(ctx, p.d.Enterprises, g.UserID, g.ActingUSCC)
	return Released(m), err
}

// accessGrant returns the grant an access token of a user names in its jti.
func (p *Provider) accessGrant(ctx context.Context, at *oidc.AccessTokenClaims) (store.Grant, error) {
	id, _, _ := strings.Cut(at.JWTID, ".")
	return p.d.Store.GetGrant(ctx, id)
}
