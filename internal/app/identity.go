package app

import (
	"log/slog"
	"net/http"

	"unid/internal/enterprise"
	"unid/internal/session"
	"unid/internal/web"
)

// identities is whom the signed-in user of r may act for, for the identity
// page (/sso/identity): their live enterprises, and the session's choice.
func identities(r *http.Request, sessions *session.Manager, e *enterprise.Service, logger *slog.Logger) (web.Identities, bool, error) {
	ctx := r.Context()
	s, u, ok, err := sessions.SignedIn(ctx, r)
	if err != nil || !ok {
		return web.Identities{}, false, err
	}
	ms, err := e.Memberships(ctx, u.ID)
	if err != nil {
		logger.ErrorContext(ctx, "identity page: memberships", "err", err)
		return web.Identities{}, false, err
	}
	ids := web.Identities{LoginName: u.LoginName}
	ids.Acting, ids.Chosen = session.Acting(s)
	for _, m := range ms {
		ids.Enterprises = append(ids.Enterprises, web.IdentityEnterprise{USCC: m.USCC, Name: m.Name, Role: m.Role, Labels: m.Labels, Default: m.Default})
	}
	return ids, true, nil
}
