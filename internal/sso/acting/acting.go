// Package acting is whom a single sign-on acts for (法人账号切换): the
// person, or one of the enterprises they hold a role in. The choice
// belongs to the browser session (session.Acting) and is carried to every
// service system that asks for it, OpenID Connect (scope enterprise) and
// CAS (services registered for the attribute enterprise) alike; a client
// may require a least enterprise role. The membership is read again
// whenever tokens or attributes are made, so a revoked role disappears.
package acting

import (
	"context"
	"net/url"
	"slices"

	"unid/internal/claims"
	"unid/internal/enterprise"
	"unid/internal/problem"
	"unid/internal/session"
	"unid/internal/store"
)

// Enterprises is what single sign-on asks of the enterprise space;
// *enterprise.Service implements it.
type Enterprises interface {
	// Memberships returns the user's live memberships, default first.
	Memberships(ctx context.Context, userID string) ([]enterprise.Membership, error)
	// Acting returns the user's live membership of uscc, or a problem
	// with Kind NotFound.
	Acting(ctx context.Context, userID, uscc string) (enterprise.Membership, error)
}

// IdentityPath is the page where the user chooses whom a sign-in acts for;
// it sends the browser to next afterwards.
func IdentityPath(next, lang string) string {
	p := "/sso/identity?next=" + url.QueryEscape(next)
	if lang != "" {
		p += "&lang=" + url.QueryEscape(lang)
	}
	return p
}

// Wants reports whether a sign-in to c that releases scopes (OpenID
// Connect: the granted scopes; CAS: the registered attributes) must know
// whom the user acts for.
func Wants(scopes []string, c store.Client) bool {
	return slices.Contains(scopes, claims.ScopeEnterprise) || c.MinEnterpriseRole != ""
}

// MeetsRole reports whether acting with m (nil: as the person) satisfies
// c's minimum enterprise role.
func MeetsRole(c store.Client, m *enterprise.Membership) bool {
	return c.MinEnterpriseRole == "" || m != nil && enterprise.AtLeast(m.Role, c.MinEnterpriseRole)
}

// Released is the enterprise claim of m, nil for the person.
func Released(m *enterprise.Membership) *claims.Enterprise {
	if m == nil {
		return nil
	}
	return &claims.Enterprise{USCC: m.USCC, Name: m.Name, Role: m.Role, Labels: m.Labels}
}

// Live re-reads the user's membership of uscc: nil for "" (the person) and
// for a membership that is gone (revoked, expired, the enterprise
// deregistered or unbound).
func Live(ctx context.Context, e Enterprises, userID, uscc string) (*enterprise.Membership, error) {
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
