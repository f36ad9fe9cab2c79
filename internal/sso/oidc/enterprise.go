package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"unid/internal/audit"
	"unid/internal/session"
	"unid/internal/sso/acting"
	"unid/internal/store"
)

// Enterprises is what the provider asks of the enterprise space;
// *enterprise.Service implements it.
type Enterprises = acting.Enterprises

// ActionEnterpriseRefused: a sign-in or a refresh refused because the
// identity does not hold the client's minimum enterprise role; Detail
// {client_id, required, stage (authorize, code, refresh)}.
const ActionEnterpriseRefused = "oidc.enterprise_refused"

// errAccountSelection is OpenID Connect's answer to prompt=none when the
// user must choose an identity first.
const errAccountSelection = "account_selection_required"

// identityChosen marks the way back from the identity page, so that
// prompt=select_account asks once per request.
const identityChosen = "identity=chosen"

// actingFor decides whom an approved sign-in acts for, or answers the
// request: the identity page when a choice is needed, access_denied when
// the client's minimum role is not held. ok is false when answered.
func (p *Provider) actingFor(w http.ResponseWriter, r *http.Request, ar *authRequest, c *client, s store.Session, scopes []string) (uscc string, ok bool) {
	ctx := r.Context()
	params := ar.params
	if !acting.Wants(scopes, c.c) {
		return "", true
	}
	again := params.SelectAccount && !strings.Contains(r.URL.RawQuery, identityChosen)
	need, err := acting.NeedsChoice(ctx, p.d.Enterprises, s, again)
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
		p.redirect(w, r, ar, acting.IdentityPath(callbackPath(ar.ID)+"&"+identityChosen, params.Lang))
		return "", false
	}
	if params.SelectAccount {
		// Chosen for this request: the consent page's way back must not ask again.
		if err := p.keepParams(ctx, ar, func(a *authParams) { a.SelectAccount = false }); err != nil {
			p.serverError(w, r, ar, err)
			return "", false
		}
	}
	uscc, _ = session.Acting(s)
	m, err := acting.Live(ctx, p.d.Enterprises, s.UserID, uscc)
	if err != nil {
		p.serverError(w, r, ar, err)
		return "", false
	}
	if !acting.MeetsRole(c.c, m) {
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

// keepParams changes the parameters of a pending request, the stored
// ones too when it is stored.
func (p *Provider) keepParams(ctx context.Context, ar *authRequest, fn func(*authParams)) error {
	fn(&ar.params)
	if ar.unsaved {
		return nil
	}
	enc, err := json.Marshal(ar.params)
	if err != nil {
		return err
	}
	_, err = p.d.Store.UpdateAuthRequest(ctx, ar.ID, func(a store.AuthRequest) (store.AuthRequest, error) {
		if a.Status == store.AuthRequestDenied || a.CodeHash != nil {
			return a, errAnswered // answered in another tab meanwhile
		}
		a.Params = enc
		return a, nil
	})
	return err
}

// accessGrant returns the grant an access token of a user names in its jti.
func (p *Provider) accessGrant(ctx context.Context, at *oidc.AccessTokenClaims) (store.Grant, error) {
	id, _, _ := strings.Cut(at.JWTID, ".")
	return p.d.Store.GetGrant(ctx, id)
}
