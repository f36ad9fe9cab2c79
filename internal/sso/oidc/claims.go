package oidc

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"unid/internal/account"
	"unid/internal/store"
)

// Scopes of a user's sign-in.
const (
	scopeOpenID  = oidc.ScopeOpenID
	scopeProfile = oidc.ScopeProfile
	scopePhone   = oidc.ScopePhone
	scopeEmail   = oidc.ScopeEmail
	scopeIDCard  = "idcard" // ID number and real name
	scopeOffline = oidc.ScopeOfflineAccess
)

// supportedScopes are the scopes a user can grant a client, in the order
// the consent page lists them.
var supportedScopes = []string{scopeOpenID, scopeProfile, scopePhone, scopeEmail, scopeIDCard, scopeOffline}

// claimsSupported are the claims of the discovery document.
var claimsSupported = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash",
	"name", "nickname", "preferred_username", "phone_number", "phone_number_verified", "email",
	"email_verified", "id_number", "realname_level",
}

// acrPrefix makes the acr of each real-name level: urn:unid:acr:realname:0
// (not verified) … :3 (高级).
const acrPrefix = "urn:unid:acr:realname:"

func acrValue(level int) string { return acrPrefix + strconv.Itoa(level) }

// parseACR returns the level of an acr value of unid's; other values are
// not unid's to judge and are ignored.
func parseACR(v string) (int, bool) {
	n, ok := strings.CutPrefix(v, acrPrefix)
	if !ok || len(n) != 1 || n[0] < '0' || n[0] > '3' {
		return 0, false
	}
	return int(n[0] - '0'), true
}

// amr says how users sign in to unid: password (with captcha).
var amr = []string{"pwd"}

// requestedScopes keeps, in order and once each, the scopes of a sign-in
// that unid supports and the client is registered for ("minimum
// necessary"); openid is always kept.
func requestedScopes(requested []string, c store.Client) []string {
	var out []string
	for _, s := range requested {
		if slices.Contains(out, s) || !slices.Contains(supportedScopes, s) {
			continue
		}
		if s == scopeOpenID || slices.Contains(c.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// grantScopes is what the user's grant to c carries: the requested scopes
// the client is (still) registered for, without idcard for a user whose
// real name is not verified.
func grantScopes(requested []string, c store.Client, level int) []string {
	out := requestedScopes(requested, c)
	if level < 1 {
		out = slices.DeleteFunc(out, func(s string) bool { return s == scopeIDCard })
	}
	return out
}

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

// clientScopes are the scopes a client-credentials token may carry: the
// client's registered scopes that are not about a user. None asked for
// means all of them.
func clientScopes(requested []string, c store.Client) []string {
	var allowed []string
	for _, s := range c.Scopes {
		if !slices.Contains(supportedScopes, s) && !slices.Contains(allowed, s) {
			allowed = append(allowed, s)
		}
	}
	if len(requested) == 0 {
		return allowed
	}
	var out []string
	for _, s := range requested {
		if slices.Contains(allowed, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// userInfo returns the claims of u that scopes release. The personal data
// is opened here, given to the client that the user allowed to see it, and
// never logged.
func (p *Provider) userInfo(u store.User, scopes []string) (*oidc.UserInfo, error) {
	info := &oidc.UserInfo{Subject: u.ID}
	open := func(kind string, s store.Sealed) (string, error) {
		v, err := p.d.Protector.Open(kind, s)
		if err != nil {
			return "", fmt.Errorf("oidc: open %s of a user: %w", kind, err)
		}
		return v, nil
	}
	verified := u.RealnameLevel >= 1
	if slices.Contains(scopes, scopeProfile) {
		info.PreferredUsername = u.LoginName
		info.Nickname = u.LoginName
		if verified {
			name, err := open(account.FieldRealName, u.RealName)
			if err != nil {
				return nil, err
			}
			info.Name = name
		}
	}
	if slices.Contains(scopes, scopePhone) {
		phone, err := open(account.FieldPhone, u.Phone)
		if err != nil {
			return nil, err
		}
		if phone != "" {
			info.PhoneNumber = "+86" + phone // E.164; unid's numbers are mainland mobiles
			info.PhoneNumberVerified = true  // proven by SMS code at registration
		}
	}
	if slices.Contains(scopes, scopeEmail) {
		email, err := open(account.FieldEmail, u.Email)
		if err != nil {
			return nil, err
		}
		info.Email = email // not proven by a code yet, so email_verified stays false
	}
	if slices.Contains(scopes, scopeIDCard) && verified {
		id, err := open(account.FieldIDNumber, u.IDNumber)
		if err != nil {
			return nil, err
		}
		name, err := open(account.FieldRealName, u.RealName)
		if err != nil {
			return nil, err
		}
		info.Name = name
		info.AppendClaims("id_number", id)
	}
	info.AppendClaims("realname_level", u.RealnameLevel)
	return info, nil
}
