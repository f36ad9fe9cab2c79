// Package upstream signs citizens in through identity providers outside
// unid (identity brokering): Alipay (支付宝) and OpenID providers such as the
// national government service platform, a provincial app or an enterprise
// IdP. Each provider sits behind Provider; what a verified external
// identity may do with an account — sign in, register, bind, recover,
// unbind — is decided here once, for every provider alike.
package upstream

import (
	"context"
	"net/url"
	"time"
)

// Kinds of provider.
const (
	KindAlipay = "alipay"
	KindOIDC   = "oidc"
)

// Info is how a provider shows itself.
type Info struct {
	ID   string // in URLs and link records: "alipay", or the upstream's configured id
	Kind string // KindAlipay or KindOIDC
	Name string // on the button, e.g. 支付宝
	Icon string // path of an image unid serves ("/static/…"), or "" for the kind's own icon
	// App is the application at the provider the identities belong to: the
	// Alipay app_id, or the OpenID provider's issuer. A link is keyed on
	// (provider, app, subject), so that moving to another Alipay app, whose
	// open_ids differ, cannot sign anybody in as somebody else.
	App string
}

// Auth is one authorization run at a provider, as the flow that started it
// keeps it: the same values go to AuthURL and to Exchange.
type Auth struct {
	State       string // the flow's id; the provider echoes it
	RedirectURI string // unid's callback for this provider
	Nonce       string // OpenID Connect nonce; Alipay ignores it
	Verifier    string // PKCE code verifier; Alipay ignores it
	// OnlyID asks for the external subject only (Alipay scope auth_base,
	// which needs no consent page): enough to recognise a linked identity,
	// not to register one.
	OnlyID bool
	// FreshSince, when set, asks the person to sign in at the provider
	// now, not to ride on a session there: an OpenID provider is asked
	// for prompt=login and max_age=0 and its auth_time must not be before
	// FreshSince. Alipay has no such request; its authorization page is
	// its own.
	FreshSince time.Time
}

// Identity is an external identity a provider vouched for, once its answer
// was verified.
type Identity struct {
	Provider string // Info.ID
	App      string // Info.App
	Subject  string // Alipay open_id (its user_id where no open_id came), the OpenID sub
	// AlipayUserID is Alipay's user_id where it still returns one
	// (applications created since 2023 get open_id only); "" otherwise.
	AlipayUserID string
	Nickname     string // to prefill a new account's nickname; may be ""
	Avatar       string // URL; may be ""
	LoginName    string // preferred_username, a suggestion only; may be ""
	// Phone is a mainland mobile number the provider gave, as a hint: it is
	// never bound to an account until its owner proves it by SMS code.
	Phone string
	// Certified is Alipay's is_certified=T: Alipay has verified the
	// person's real name. It is evidence for the Alipay real-name path,
	// never a real-name level of its own.
	Certified bool
	// IDNumber is the mainland ID number the provider certified for the
	// person (Alipay's cert_no with cert_type 0, for applications allowed
	// it), "" when it gave none. unid keeps only its blind index, to tell
	// whether the provider certified the account's own verified person.
	IDNumber string
}

// Provider is one identity provider.
type Provider interface {
	Info() Info
	// AuthURL returns where to send the browser to authorize a.
	AuthURL(ctx context.Context, a Auth) (string, error)
	// Exchange finishes a with the query of the callback request (state
	// already checked by the caller): it redeems the code at the provider,
	// verifies every answer, and returns the identity. Its errors are
	// *problem.Problem with the codes below; details go to the log, never
	// to the answer.
	Exchange(ctx context.Context, a Auth, callback url.Values) (Identity, error)
}

// Problem codes of Exchange (message keys error.<code>).
const (
	// CodeCancelled: the person did not authorize (no code came back);
	// problem.Invalid.
	CodeCancelled = "upstream_cancelled"
	// CodeExpired: the provider refused the code as invalid, expired or
	// already used (Alipay isv.code-invalid, OAuth invalid_grant), or the
	// token it gave as invalid (Alipay aop.invalid-auth-token, 20001):
	// authorize again; problem.Gone.
	CodeExpired = "upstream_code_invalid"
	// CodeUnavailable: the provider cannot be reached, timed out, or
	// answered 5xx or "service unavailable" (Alipay 20000);
	// problem.Unavailable.
	CodeUnavailable = "upstream_unavailable"
	// CodeUnverified: an answer failed verification — a bad or missing
	// signature, an ID token that does not verify, a malformed answer. It
	// is refused and logged; problem.Unavailable.
	CodeUnverified = "upstream_unverified"
	// CodeRefused: the provider refused for another reason (Alipay 40002
	// other than an invalid code, 40004, 40006; OAuth errors other than
	// invalid_grant): a configuration matter for the operators, logged with
	// the provider's code; problem.Unavailable.
	CodeRefused = "upstream_refused"
)
