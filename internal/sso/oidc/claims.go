package oidc

import (
	"fmt"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"unid/internal/claims"
	"unid/internal/store"
)

// covers reports whether every scope of want is in have.
func covers(have, want []string) bool {
	for _, s := range want {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

// union returns a with the scopes of b it lacks appended.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// userInfo writes what claims releases to c about u for the granted
// scopes as a userinfo response. The personal data is opened by claims,
// given to the client that the user allowed to see it, and never logged.
func (p *Provider) userInfo(u store.User, c store.Client, scopes []string, ent *claims.Enterprise) (*oidc.UserInfo, error) {
	released, err := claims.Release(claims.Request{Form: claims.UserInfo, User: u, Client: c, Scopes: scopes, Open: p.d.Protector.Open, Enterprise: ent})
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	info := &oidc.UserInfo{Subject: u.ID}
	for _, cl := range released {
		s, _ := cl.Value.(string)
		b, _ := cl.Value.(bool)
		switch cl.Name {
		case claims.ClaimPreferredUsername:
			info.PreferredUsername = s
		case claims.ClaimNickname:
			info.Nickname = s
		case claims.ClaimName:
			info.Name = s
		case claims.ClaimPhoneNumber:
			info.PhoneNumber = s
		case claims.ClaimPhoneNumberVerified:
			info.PhoneNumberVerified = oidc.Bool(b)
		case claims.ClaimEmail:
			info.Email = s
		case claims.ClaimEmailVerified:
			info.EmailVerified = oidc.Bool(b)
		default:
			info.AppendClaims(cl.Name, cl.Value)
		}
	}
	return info, nil
}

// idTokenClaims returns the acr of u's tokens and the claims u's ID token
// carries besides the protocol's, as claims releases them: with the
// scope enterprise, the enterprise ent the tokens act for (nil: none).
func idTokenClaims(u store.User, c store.Client, scopes []string, ent *claims.Enterprise) (acr string, extra map[string]any, err error) {
	released, err := claims.Release(claims.Request{Form: claims.IDToken, User: u, Client: c, Scopes: scopes, Enterprise: ent})
	if err != nil {
		return "", nil, fmt.Errorf("oidc: %w", err)
	}
	extra = make(map[string]any, len(released))
	for _, cl := range released {
		if cl.Name == claims.ClaimACR {
			acr, _ = cl.Value.(string)
			continue
		}
		extra[cl.Name] = cl.Value
	}
	return acr, extra, nil
}
