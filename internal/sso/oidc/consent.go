package oidc

import (
	"context"
	"errors"
	"strings"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
)

// The consent answers: the JSON API (/api/v1/consents) decodes the
// consent page's answer and the personal space's list and withdrawals, and
// asks the provider, which owns the authorization requests, to act on them.

// AnswerConsent records Allow (the consent, and the request approved) or
// Deny (the request denied) of a pending authorization request, and returns
// where the browser goes next: the callback, which sends it back to the
// client.
func (p *Provider) AnswerConsent(ctx context.Context, s store.Session, u store.User, requestID string, allow bool, cl flow.Client) (string, error) {
	if requestID == "" || len(requestID) > maxIDBytes {
		return "", problem.Field("request_id", "consent_request_expired")
	}
	a, err := p.d.Store.GetAuthRequest(ctx, requestID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (!p.d.Now().Before(a.ExpiresAt) || a.Status != store.AuthRequestPending) {
		return "", problem.New(problem.Gone, "consent_request_expired")
	}
	if err != nil {
		return "", problem.Wrap(err)
	}
	ar, err := decodeAuthRequest(a)
	if err != nil {
		return "", problem.Wrap(err)
	}
	c, err := p.activeClient(ctx, a.ClientID)
	if err != nil {
		if problem.As(err).Kind == problem.NotFound {
			err = problem.New(problem.Gone, "consent_request_expired") // the client is gone or disabled
		}
		return "", err
	}
	now := p.now()
	scopes := claims.Grant(ar.params.Scopes, c.c, u.RealnameLevel)
	event := audit.Entry{Actor: audit.User(u.ID), Action: ActionConsentDenied, Result: audit.ResultOK,
		IP: cl.IP, UserAgent: cl.UserAgent, Detail: audit.Detail{"client_id": c.c.ID}}
	if allow {
		have, err := p.d.Store.GetConsent(ctx, u.ID, c.c.ID)
		if errors.Is(err, store.ErrNotFound) {
			have, err = store.Consent{UserID: u.ID, ClientID: c.c.ID, CreatedAt: now}, nil
		}
		if err != nil {
			return "", problem.Wrap(err)
		}
		have.Scopes, have.UpdatedAt = union(have.Scopes, scopes), now
		if err := p.d.Store.PutConsent(ctx, have); err != nil {
			return "", problem.Wrap(err)
		}
		if err := p.approve(ctx, ar, s, u, scopes, ""); err != nil {
			return "", problem.New(problem.Gone, "consent_request_expired")
		}
		event.Action, event.Detail["scopes"] = ActionConsentGranted, strings.Join(scopes, ",")
	} else {
		_, err := p.d.Store.UpdateAuthRequest(ctx, a.ID, func(a store.AuthRequest) (store.AuthRequest, error) {
			if a.Status != store.AuthRequestPending {
				return a, errAnswered
			}
			a.Status = store.AuthRequestDenied
			return a, nil
		})
		if err != nil {
			return "", problem.New(problem.Gone, "consent_request_expired")
		}
	}
	p.d.Audit.Append(ctx, event)
	return callbackPath(a.ID), nil
}

// ListConsents returns the user's consents ordered by client ID, and the
// name of each client (its ID when the client is gone).
func (p *Provider) ListConsents(ctx context.Context, userID string) ([]store.Consent, map[string]string, error) {
	list, err := p.d.Store.ListConsents(ctx, userID)
	if err != nil {
		return nil, nil, problem.Wrap(err)
	}
	names := make(map[string]string, len(list))
	for _, c := range list {
		names[c.ClientID] = c.ClientID
		if cl, err := p.d.Registry.Get(ctx, c.ClientID); err == nil {
			names[c.ClientID] = cl.Name
		}
	}
	return list, names, nil
}

// RevokeConsent withdraws the user's consent for a client and revokes the
// client's grants for the user, in one transaction: its refresh tokens stop
// working at once, its access tokens are reported inactive, its codes not
// yet exchanged give nothing.
func (p *Provider) RevokeConsent(ctx context.Context, userID, clientID string, cl flow.Client) error {
	if len(clientID) > maxIDBytes {
		return problem.New(problem.NotFound, "consent_not_found")
	}
	// Begun, it finishes and is recorded even if the browser hangs up.
	ctx, cancel := session.Detach(ctx)
	defer cancel()
	_, err := p.d.Store.WithdrawConsent(ctx, userID, clientID, p.now())
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "consent_not_found")
	}
	detail := audit.Detail{"client_id": clientID}
	if errors.Is(err, store.ErrNotSwept) {
		// Withdrawn and revoked; only a code redeemed in the withdrawal's
		// own instant may have escaped. The user is answered as withdrawn
		// (asking again would find nothing to withdraw); the operators see
		// it in the log and the record.
		p.log.ErrorContext(ctx, "consent withdrawn, but its second pass over codes and grants failed", "client_id", clientID, "err", err)
		detail["sweep_failed"] = "true"
	} else if err != nil {
		return problem.Wrap(err)
	}
	p.d.Audit.Append(ctx, audit.Entry{Actor: audit.User(userID), Action: ActionConsentRevoked, Result: audit.ResultOK,
		IP: cl.IP, UserAgent: cl.UserAgent, Detail: detail})
	return nil
}
