package client

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/problem"
	"unid/internal/store"
)

// Audit actions of the console's changes to a registration.
const (
	ActionUpdate  = "admin.client_update"  // Detail {fields: the names of the fields changed}
	ActionDisable = "admin.client_disable" // its sign-ins are refused and its tokens stop working
	ActionEnable  = "admin.client_enable"
)

// errDisabled is the answer for a disabled client wherever a client that
// may sign users in is asked for: a NotFound problem, so that every
// protocol answers it as it answers a client that is not registered.
var errDisabled = &problem.Problem{Kind: problem.NotFound, Code: "client_disabled"}

// CheckActive is the one rule on disabled clients: a disabled client signs
// nobody in, gets no tokens and has the tokens it holds refused. It
// answers a NotFound problem with the code client_disabled.
func CheckActive(c store.Client) error {
	if c.Disabled {
		return errDisabled
	}
	return nil
}

// Active returns the client id when it is registered and not disabled; a
// disabled one is answered as CheckActive answers it.
func (r *Registry) Active(ctx context.Context, id string) (store.Client, error) {
	c, err := r.Get(ctx, id)
	if err != nil {
		return store.Client{}, err
	}
	if err := CheckActive(c); err != nil {
		return store.Client{}, err
	}
	return c, nil
}

// Check judges s as Create would, without creating anything: every field
// problem at once, an ID in use among them. The console calls it while the
// operator types.
func (r *Registry) Check(ctx context.Context, s Spec) error {
	f := problem.FieldSet{}
	if err := Validate(&s); err != nil {
		var p *problem.Problem
		if !errors.As(err, &p) {
			return err
		}
		for k, v := range p.Fields {
			f[k] = v
		}
	}
	if _, ok := f["id"]; !ok && s.ID != "" {
		_, err := r.store.GetClient(ctx, s.ID)
		switch {
		case err == nil:
			f["id"] = "client_id_taken"
		case !errors.Is(err, store.ErrNotFound):
			return problem.Wrap(err)
		}
	}
	return f.Err()
}

// Patch is a change to a registration: only the fields given change. The
// ID and the type never change (the type decides whether there is a
// secret); a secret changes only by RotateSecret.
type Patch struct {
	Name                   *string   `json:"name,omitempty"`
	RedirectURIs           *[]string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris,omitempty"`
	Scopes                 *[]string `json:"scopes,omitempty"`
	FirstParty             *bool     `json:"first_party,omitempty"`
	BackchannelLogoutURI   *string   `json:"backchannel_logout_uri,omitempty"`
	MinRealnameLevel       *int      `json:"min_realname_level,omitempty"`
	MinEnterpriseRole      *string   `json:"min_enterprise_role,omitempty"`
}

// specOf is the registration c as a Spec.
func specOf(c store.Client) Spec {
	return Spec{
		ID: c.ID, Name: c.Name, Type: c.Type, RedirectURIs: slices.Clone(c.RedirectURIs),
		PostLogoutRedirectURIs: slices.Clone(c.PostLogoutRedirectURIs), Scopes: slices.Clone(c.Scopes),
		FirstParty: c.FirstParty, BackchannelLogoutURI: c.BackchannelLogoutURI,
		MinRealnameLevel: c.MinRealnameLevel, MinEnterpriseRole: c.MinEnterpriseRole,
	}
}

// apply returns s with p's fields and the names of those that differ.
func (p Patch) apply(s Spec) (Spec, []string) {
	var changed []string
	set := func(name string, differs bool, do func()) {
		if differs {
			changed = append(changed, name)
			do()
		}
	}
	if p.Name != nil {
		set("name", *p.Name != s.Name, func() { s.Name = *p.Name })
	}
	if p.RedirectURIs != nil {
		set("redirect_uris", !slices.Equal(*p.RedirectURIs, s.RedirectURIs), func() { s.RedirectURIs = *p.RedirectURIs })
	}
	if p.PostLogoutRedirectURIs != nil {
		set("post_logout_redirect_uris", !slices.Equal(*p.PostLogoutRedirectURIs, s.PostLogoutRedirectURIs),
			func() { s.PostLogoutRedirectURIs = *p.PostLogoutRedirectURIs })
	}
	if p.Scopes != nil {
		set("scopes", !slices.Equal(*p.Scopes, s.Scopes), func() { s.Scopes = *p.Scopes })
	}
	if p.FirstParty != nil {
		set("first_party", *p.FirstParty != s.FirstParty, func() { s.FirstParty = *p.FirstParty })
	}
	if p.BackchannelLogoutURI != nil {
		set("backchannel_logout_uri", *p.BackchannelLogoutURI != s.BackchannelLogoutURI,
			func() { s.BackchannelLogoutURI = *p.BackchannelLogoutURI })
	}
	if p.MinRealnameLevel != nil {
		set("min_realname_level", *p.MinRealnameLevel != s.MinRealnameLevel, func() { s.MinRealnameLevel = *p.MinRealnameLevel })
	}
	if p.MinEnterpriseRole != nil {
		set("min_enterprise_role", *p.MinEnterpriseRole != s.MinEnterpriseRole, func() { s.MinEnterpriseRole = *p.MinEnterpriseRole })
	}
	return s, changed
}

// Update changes a registration on behalf of by, under the rules of
// Create; a change that breaks one changes nothing. A change that leaves
// every field as it was is not an event.
func (r *Registry) Update(ctx context.Context, id string, p Patch, by audit.Origin) (store.Client, error) {
	if err := checkOrigin(by); err != nil {
		return store.Client{}, err
	}
	if !validID(id) {
		return store.Client{}, problem.New(problem.NotFound, "client_not_found")
	}
	var changed []string
	defer r.cache.forget(id)
	c, err := r.store.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		s, names := p.apply(specOf(c))
		if err := Validate(&s); err != nil {
			return c, err
		}
		changed = names
		if len(names) == 0 {
			return c, nil
		}
		c.Name, c.RedirectURIs, c.PostLogoutRedirectURIs, c.Scopes = s.Name, s.RedirectURIs, s.PostLogoutRedirectURIs, s.Scopes
		c.FirstParty, c.BackchannelLogoutURI = s.FirstParty, s.BackchannelLogoutURI
		c.MinRealnameLevel, c.MinEnterpriseRole = s.MinRealnameLevel, s.MinEnterpriseRole
		c.UpdatedAt = r.now().UTC().Truncate(time.Millisecond)
		return c, nil
	})
	if err != nil {
		return store.Client{}, notFound(err)
	}
	if len(changed) > 0 {
		detail := audit.Detail{"fields": strings.Join(changed, ","), "min_realname_level": strconv.Itoa(c.MinRealnameLevel)}
		if c.MinEnterpriseRole != "" {
			detail["min_enterprise_role"] = c.MinEnterpriseRole
		}
		r.record(ctx, by, ActionUpdate, id, detail)
	}
	return c, nil
}

// Disable refuses the client's sign-ins and the tokens it holds, on behalf
// of by, until Enable; disabling a disabled client changes nothing and is
// not an event.
func (r *Registry) Disable(ctx context.Context, id string, by audit.Origin) (store.Client, error) {
	return r.setDisabled(ctx, id, true, ActionDisable, by)
}

// Enable lets a disabled client sign users in again.
func (r *Registry) Enable(ctx context.Context, id string, by audit.Origin) (store.Client, error) {
	return r.setDisabled(ctx, id, false, ActionEnable, by)
}

func (r *Registry) setDisabled(ctx context.Context, id string, disabled bool, action string, by audit.Origin) (store.Client, error) {
	if err := checkOrigin(by); err != nil {
		return store.Client{}, err
	}
	if !validID(id) {
		return store.Client{}, problem.New(problem.NotFound, "client_not_found")
	}
	changed := false
	defer r.cache.forget(id)
	c, err := r.store.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		if c.Disabled == disabled {
			return c, nil
		}
		changed = true
		c.Disabled, c.UpdatedAt = disabled, r.now().UTC().Truncate(time.Millisecond)
		return c, nil
	})
	if err != nil {
		return store.Client{}, notFound(err)
	}
	if changed {
		r.record(ctx, by, action, id, nil)
	}
	return c, nil
}

// Vocabulary returns, for each client type, the scopes (for CAS services
// the attributes) it may be registered for, in the order the console
// offers them; openid is implied for OpenID Connect clients.
func Vocabulary() map[string][]string {
	names := append(claims.UserScopes(), claims.ClientOnlyScopes()...)
	out := map[string][]string{store.ClientCAS: claims.CASAttributes()}
	for _, t := range []string{store.ClientOIDCConfidential, store.ClientOIDCPublic} {
		out[t] = []string{}
		for _, n := range names {
			if n != claims.ScopeOpenID && claims.Registrable(t, n) {
				out[t] = append(out[t], n)
			}
		}
	}
	return out
}
