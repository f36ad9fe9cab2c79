// Package client is the registry of government service systems (业务系统)
// that sign their users in through unid: OpenID Connect clients
// (confidential or public) and CAS services. It checks what operators
// register, generates client secrets, and authenticates clients.
//
// A secret is 256 random bits, shown once at creation and stored only as a
// keyed HMAC-SHA256. A fast keyed hash is right for such secrets: nobody can
// guess 256 random bits, so slow password hashing would only cap the token
// endpoint; the key (from the personal-data key file) makes a stolen
// database useless for checking guesses offline.
//
// The registry audits its own changes, whoever asks (an operator on the
// command line, an operator tool on the operator API, unid itself for the
// development demo client): the caller names itself with an audit.Origin,
// and each change that happened is one event.
package client

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/enterprise"
	"unid/internal/problem"
	"unid/internal/store"
)

// Audit actions of the registry. Their names date from when only the
// operator API wrote them; the command line wrote the same ones.
const (
	ActionCreate       = "admin.client_create"
	ActionDelete       = "admin.client_delete"
	ActionRotateSecret = "admin.client_secret_rotate"
)

// Keyed is a keyed hash, account.Protector.MAC.
type Keyed func(purpose string, parts ...[]byte) []byte

// Spec is what an operator registers.
type Spec struct {
	ID                     string   `json:"id,omitempty"` // generated when empty
	Name                   string   `json:"name"`
	Type                   string   `json:"type"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Scopes                 []string `json:"scopes"`
	FirstParty             bool     `json:"first_party,omitempty"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty"`
	// MinRealnameLevel is the least real-name level (0…claims.MaxLevel) a
	// user needs to sign in to the client, OpenID Connect and CAS alike;
	// a user below it is sent to the upgrade page.
	MinRealnameLevel int `json:"min_realname_level,omitempty"`
	// MinEnterpriseRole is the least enterprise role (handler, admin,
	// legal_rep) the identity signing in must act with, OpenID Connect and
	// CAS alike; "" asks for none. Together with MinRealnameLevel.
	MinEnterpriseRole string `json:"min_enterprise_role,omitempty"`
}

// View is how a client is shown: everything but the secret hash.
type View struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Type                   string    `json:"type"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Scopes                 []string  `json:"scopes"`
	FirstParty             bool      `json:"first_party"`
	BackchannelLogoutURI   string    `json:"backchannel_logout_uri,omitempty"`
	MinRealnameLevel       int       `json:"min_realname_level"`
	MinEnterpriseRole      string    `json:"min_enterprise_role,omitempty"`
	Disabled               bool      `json:"disabled"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
	Secret                 string    `json:"client_secret,omitempty"` // only in the answer to Create
}

// NewView shows c.
func NewView(c store.Client) View {
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return View{
		ID: c.ID, Name: c.Name, Type: c.Type, RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), Scopes: nonNil(c.Scopes),
		FirstParty: c.FirstParty, BackchannelLogoutURI: c.BackchannelLogoutURI,
		MinRealnameLevel: c.MinRealnameLevel, MinEnterpriseRole: c.MinEnterpriseRole, Disabled: c.Disabled,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// Registry manages clients.
type Registry struct {
	store store.Clients
	mac   Keyed
	audit *audit.Log
	now   func() time.Time
	cache cache
}

// New returns a Registry over s that audits its changes to log.
func New(s store.Clients, mac Keyed, log *audit.Log, now func() time.Time) *Registry {
	return &Registry{store: s, mac: mac, audit: log, now: now}
}

// Create registers a client on behalf of by. For a confidential client it
// returns the secret, which is never shown again.
func (r *Registry) Create(ctx context.Context, s Spec, by audit.Origin) (store.Client, string, error) {
	if err := checkOrigin(by); err != nil {
		return store.Client{}, "", err
	}
	if err := Validate(&s); err != nil {
		return store.Client{}, "", err
	}
	now := r.now().UTC().Truncate(time.Millisecond)
	c := store.Client{
		ID: s.ID, Name: s.Name, Type: s.Type, RedirectURIs: s.RedirectURIs,
		PostLogoutRedirectURIs: s.PostLogoutRedirectURIs, Scopes: s.Scopes, FirstParty: s.FirstParty,
		BackchannelLogoutURI: s.BackchannelLogoutURI, MinRealnameLevel: s.MinRealnameLevel,
		MinEnterpriseRole: s.MinEnterpriseRole, CreatedAt: now, UpdatedAt: now,
	}
	if c.ID == "" {
		c.ID = strings.ToLower(rand.Text())
	}
	defer r.cache.forget(c.ID) // a new client changes the listing
	var secret string
	if c.Type == store.ClientOIDCConfidential {
		secret = newSecret()
		c.SecretHash = r.hash(c.ID, secret)
	}
	if err := r.store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Client{}, "", &problem.Problem{Kind: problem.Conflict, Code: "client_id_taken", Fields: map[string]string{"id": "client_id_taken"}}
		}
		return store.Client{}, "", problem.Wrap(err)
	}
	detail := audit.Detail{"type": c.Type, "min_realname_level": strconv.Itoa(c.MinRealnameLevel)}
	if c.MinEnterpriseRole != "" {
		detail["min_enterprise_role"] = c.MinEnterpriseRole
	}
	r.record(ctx, by, ActionCreate, c.ID, detail)
	return c, secret, nil
}

// RotateSecret gives a confidential client a new secret, on behalf of by;
// the old one stops working at once.
func (r *Registry) RotateSecret(ctx context.Context, id string, by audit.Origin) (string, error) {
	if err := checkOrigin(by); err != nil {
		return "", err
	}
	secret := newSecret()
	defer r.cache.forget(id)
	_, err := r.store.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		if c.Type != store.ClientOIDCConfidential {
			return c, problem.New(problem.Invalid, "client_has_no_secret")
		}
		c.SecretHash = r.hash(c.ID, secret)
		c.UpdatedAt = r.now().UTC().Truncate(time.Millisecond)
		return c, nil
	})
	if err != nil {
		return "", notFound(err)
	}
	r.record(ctx, by, ActionRotateSecret, id, nil)
	return secret, nil
}

// Get returns one client.
func (r *Registry) Get(ctx context.Context, id string) (store.Client, error) {
	if !validID(id) {
		return store.Client{}, problem.New(problem.NotFound, "client_not_found")
	}
	c, err := r.read(ctx, id)
	return c, notFound(err)
}

// read returns the client id from the cache or the store. What it returns
// is shared: callers do not change it.
func (r *Registry) read(ctx context.Context, id string) (store.Client, error) {
	c, ok, gen := r.cache.get(id)
	if ok {
		return c, nil
	}
	at := time.Now()
	c, err := r.store.GetClient(ctx, id)
	if err == nil {
		r.cache.put(c, gen, at)
	}
	return c, err
}

// List returns every client, read from the store now.
func (r *Registry) List(ctx context.Context) ([]store.Client, error) {
	l, err := r.store.ListClients(ctx)
	if err != nil {
		return nil, problem.Wrap(err)
	}
	return l, nil
}

// Delete removes a client on behalf of by, and with it (one store
// transaction) the users and enterprises it could write records for and
// the records it wrote: a system registered later under the same ID
// inherits none of them.
func (r *Registry) Delete(ctx context.Context, id string, by audit.Origin) error {
	if err := checkOrigin(by); err != nil {
		return err
	}
	if !validID(id) {
		return problem.New(problem.NotFound, "client_not_found")
	}
	defer r.cache.forget(id)
	if err := r.store.DeleteClient(ctx, id); err != nil {
		return notFound(err)
	}
	r.record(ctx, by, ActionDelete, id, nil)
	return nil
}

// checkOrigin: every change to the registry is made by someone named.
func checkOrigin(by audit.Origin) error {
	if by.Actor.Kind == "" || !by.Actor.Valid() {
		return problem.Wrap(fmt.Errorf("client: no valid actor: %+v", by.Actor))
	}
	return nil
}

// record appends the event of a change that happened: the client is the
// subject.
func (r *Registry) record(ctx context.Context, by audit.Origin, action, id string, detail audit.Detail) {
	e := by.Entry(action, audit.ResultOK)
	e.Subject, e.Detail = id, detail
	r.audit.Append(ctx, e)
}

// Authenticate checks a confidential client's secret. An unknown client, a
// client without a secret, a wrong secret and a disabled client all give
// invalid_client.
func (r *Registry) Authenticate(ctx context.Context, id, secret string) (store.Client, error) {
	invalid := &problem.Problem{Kind: problem.Unauthorized, Code: "invalid_client"}
	if !validID(id) || secret == "" || len(secret) > 256 {
		return store.Client{}, invalid
	}
	c, err := r.read(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		r.hash(id, secret) // the same work as for a known client
		return store.Client{}, invalid
	}
	if err != nil {
		return store.Client{}, problem.Wrap(err)
	}
	if c.Type != store.ClientOIDCConfidential || len(c.SecretHash) == 0 || !hmac.Equal(c.SecretHash, r.hash(id, secret)) || CheckActive(c) != nil {
		return store.Client{}, invalid
	}
	return c, nil
}

func (r *Registry) hash(id, secret string) []byte {
	return r.mac("client-secret", []byte(id), []byte(secret))
}

func newSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &problem.Problem{Kind: problem.NotFound, Code: "client_not_found", Err: err}
	}
	if err != nil {
		var p *problem.Problem
		if errors.As(err, &p) {
			return p
		}
		return problem.Wrap(err)
	}
	return nil
}

// validID: 3–64 characters of a-z, 0-9, '.', '_' and '-', starting with a
// letter or digit.
func validID(id string) bool {
	if len(id) < 3 || len(id) > 64 {
		return false
	}
	for i, c := range []byte(id) {
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return true
}

// Validate checks s and normalises it in place, reporting every problem at
// once with its field.
func Validate(s *Spec) error {
	f := problem.FieldSet{}
	s.Name = strings.TrimSpace(s.Name)
	if s.ID != "" && !validID(s.ID) {
		f.Add("id", problem.Field("id", "client_id_format"))
	}
	if s.Name == "" || utf8.RuneCountInString(s.Name) > 100 {
		f.Add("name", problem.Field("name", "client_name_format"))
	}
	knownType := true // the scopes of an unknown type cannot be judged
	switch s.Type {
	case store.ClientOIDCConfidential, store.ClientOIDCPublic:
		if len(s.RedirectURIs) == 0 {
			f.Add("redirect_uris", problem.Field("redirect_uris", "redirect_uri_required"))
		}
		for _, u := range s.RedirectURIs {
			f.Add("redirect_uris", checkURI(u, s.Type == store.ClientOIDCPublic))
		}
		for _, u := range s.PostLogoutRedirectURIs {
			f.Add("post_logout_redirect_uris", checkURI(u, s.Type == store.ClientOIDCPublic))
		}
		if !slices.Contains(s.Scopes, claims.ScopeOpenID) {
			s.Scopes = append([]string{claims.ScopeOpenID}, s.Scopes...)
		}
	case store.ClientCAS:
		if len(s.RedirectURIs) == 0 {
			f.Add("redirect_uris", problem.Field("redirect_uris", "service_pattern_required"))
		}
		for _, u := range s.RedirectURIs {
			f.Add("redirect_uris", checkPattern(u))
		}
		if len(s.PostLogoutRedirectURIs) > 0 {
			f.Add("post_logout_redirect_uris", problem.Field("post_logout_redirect_uris", "not_for_cas"))
		}
	default:
		knownType = false
		f.Add("type", problem.Field("type", "client_type"))
	}
	for _, sc := range s.Scopes {
		if knownType && !claims.Registrable(s.Type, sc) {
			f.Add("scopes", problem.Field("scopes", "scope_unknown"))
		}
	}
	s.Scopes = dedupe(s.Scopes)
	s.RedirectURIs = dedupe(s.RedirectURIs)
	s.PostLogoutRedirectURIs = dedupe(s.PostLogoutRedirectURIs)
	if s.BackchannelLogoutURI != "" {
		f.Add("backchannel_logout_uri", checkURI(s.BackchannelLogoutURI, false))
	}
	if s.MinRealnameLevel < 0 || s.MinRealnameLevel > claims.MaxLevel {
		f.Add("min_realname_level", problem.Field("min_realname_level", "min_realname_level_range"))
	}
	if s.MinEnterpriseRole != "" && !enterprise.AtLeast(s.MinEnterpriseRole, enterprise.RoleHandler) {
		f.Add("min_enterprise_role", problem.Field("min_enterprise_role", "min_enterprise_role_unknown"))
	}
	return f.Err()
}

// checkURI accepts absolute https URLs, http only on loopback hosts (a
// service system under test on the same machine), and for public clients
// (mobile apps) private-use schemes like cn.gov.example.app:/callback. No
// fragments, no user info, no wildcards: OIDC matches exactly.
func checkURI(raw string, public bool) error {
	bad := problem.Field("redirect_uris", "redirect_uri_format")
	if len(raw) > 2000 || strings.ContainsAny(raw, " \t\r\n\\*") {
		return bad
	}
	u, err := url.Parse(raw)
	if err != nil || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return bad
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return bad
		}
		return checkScheme(u.Scheme, u.Hostname())
	default:
		if !public || !strings.Contains(u.Scheme, ".") {
			return problem.Field("redirect_uris", "redirect_uri_https")
		}
		return nil
	}
}

// checkPattern accepts a CAS service pattern (see Pattern) under the same
// https rule.
func checkPattern(raw string) error {
	p, err := ParsePattern(raw)
	if err != nil {
		return problem.Field("redirect_uris", "redirect_uri_format")
	}
	host := p.host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return checkScheme(p.scheme, strings.Trim(host, "[]"))
}

// checkScheme allows http only for loopback hosts.
func checkScheme(scheme, host string) error {
	if scheme == "https" {
		return nil
	}
	ip := net.ParseIP(host)
	if scheme == "http" && (host == "localhost" || ip != nil && ip.IsLoopback()) {
		return nil
	}
	return problem.Field("redirect_uris", "redirect_uri_https")
}

func dedupe(l []string) []string {
	var out []string
	for _, s := range l {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
