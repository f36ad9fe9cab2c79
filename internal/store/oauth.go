package store

import (
	"context"
	"time"
)

// AuthRequest is an OpenID Connect authorization request on its way from
// /oidc/authorize to the code exchange: the user signs in, consents, a code
// is issued, and the code is exchanged once. The row outlives the exchange
// (until ExpiresAt) so that a replayed code is recognised and the tokens
// issued from it can be revoked.
//
//	pending ──sign-in + consent──▶ approved ──code issued──▶ (CodeHash set) ──exchange──▶ (CodeUsedAt, GrantID set)
//	   └────────deny─────────▶ denied
type AuthRequest struct {
	ID         string // random, URL-safe
	ClientID   string
	Params     []byte // the validated request parameters, encoded by the provider; opaque to the store
	Status     string // AuthRequestPending, AuthRequestApproved or AuthRequestDenied
	UserID     string // set when the request is approved
	SID        string // the browser session that approved it (Session.SID)
	AuthTime   time.Time
	AMR        []string  // how the user signed in (Session.AMR)
	CodeHash   []byte    // SHA-256 of the issued code; unique; nil until a code is issued
	CodeUsedAt time.Time // zero until the code is exchanged
	GrantID    string    // the grant the exchange created
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Auth request statuses.
const (
	AuthRequestPending  = "pending"
	AuthRequestApproved = "approved"
	AuthRequestDenied   = "denied"
)

// Grant is what one code exchange gave a client for a user: its access
// tokens name it (in their jti), and its refresh tokens form one family.
// Revoking the grant makes all of them invalid at once.
type Grant struct {
	ID        string
	ClientID  string
	UserID    string
	SID       string // the browser session it came from
	Scopes    []string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time // the absolute limit of every refresh token of the grant
	RevokedAt time.Time // zero while valid
	// ActingUSCC is the enterprise the session acted for when the grant
	// was made ("" the person): a refresh re-reads that membership.
	ActingUSCC string
	AMR        []string // how the user signed in (Session.AMR)
}

// RefreshToken is one member of a grant's refresh-token family. Only the
// SHA-256 of the token is stored. Using it marks it used and adds its
// successor; using a used token again revokes the grant.
type RefreshToken struct {
	TokenHash []byte
	GrantID   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until it is exchanged for its successor
}

// Consent is what a user allowed a client to know. It grows when the user
// allows more scopes and is deleted when the user revokes it.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SigningKey is a key the OpenID provider signs tokens with. The private
// key is sealed by account.Protector; the store never sees it in the clear.
// At most one key is active (RetiredAt zero) at a time.
type SigningKey struct {
	ID        string // the JWK "kid"
	Algorithm string // JWS algorithm, e.g. "ES256" or "RS256"
	Private   []byte // sealed PKCS #8 PEM
	Public    []byte // public JWK, JSON
	CreatedAt time.Time
	RetiredAt time.Time // zero for the active key
}

// OAuth stores the state of the OpenID provider: authorization requests
// and codes, grants with their refresh-token families, revoked access
// tokens, consents and signing keys.
type OAuth interface {
	CreateAuthRequest(ctx context.Context, a AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// GetAuthRequestByCode finds the request whose code hashes to codeHash.
	GetAuthRequestByCode(ctx context.Context, codeHash []byte) (AuthRequest, error)
	// UpdateAuthRequest changes one request inside a transaction; the ID
	// cannot change. A CodeHash already used by another request gives a
	// *ConflictError.
	UpdateAuthRequest(ctx context.Context, id string, fn func(AuthRequest) (AuthRequest, error)) (AuthRequest, error)

	// RedeemCode exchanges the code of the request seen.ID, which the
	// caller read as seen, atomically: fn decides on the request as stored
	// and returns it as it is to be written (CodeUsedAt set and GrantID
	// g.ID, or RedeemCode fails), and the grant g and, unless first is nil,
	// the first refresh token of its family are created with it. fn may
	// run more than once: on seen, written only if the stored request is
	// still exactly seen, and else on the request as stored, locked; what
	// its last run returns is what counts. An error from fn is returned
	// unchanged and changes nothing; so does a grant whose user or client
	// is gone (ErrNotFound). Of concurrent redemptions of one code, all but
	// the first find it used in fn, and a request found used always has
	// its grant stored. A revocation of grants (WithdrawConsent,
	// RevokeSessionGrants, RevokeUserGrants) that runs meanwhile, for a
	// code approved before it began, either denies the code first or
	// revokes the grant.
	RedeemCode(ctx context.Context, seen AuthRequest, g Grant, first *RefreshToken, fn func(AuthRequest) (AuthRequest, error)) (AuthRequest, error)

	CreateGrant(ctx context.Context, g Grant) error
	GetGrant(ctx context.Context, id string) (Grant, error)
	// RevokeGrant sets RevokedAt unless it is already set; ErrNotFound if
	// there is no such grant.
	RevokeGrant(ctx context.Context, id string, at time.Time) error
	// WithdrawConsent deletes userID's consent for clientID and, in the
	// same transaction, denies the user's approved requests of the client
	// whose code is not redeemed yet and revokes every live grant of the
	// user for the client, saying how many there were; once that is
	// committed it denies and revokes again, for a code redeemed by an
	// exchange that still saw the consent (ErrNotSwept if that fails).
	// Without a consent it changes nothing and gives ErrNotFound.
	WithdrawConsent(ctx context.Context, userID, clientID string, at time.Time) (int64, error)
	// RevokeSessionGrants revokes every live grant of userID that came
	// from the browser session sid and says how many there were; the
	// session's approved requests whose code is not redeemed yet are
	// denied, so their codes give no tokens.
	RevokeSessionGrants(ctx context.Context, userID, sid string, at time.Time) (int64, error)
	// RevokeUserGrants revokes every live grant of userID, whatever the
	// client, and says how many there were: the refresh tokens and access
	// tokens of those grants stop working. In the same transaction it denies
	// the user's approved authorization requests whose code is not used yet,
	// so no code issued before can become a new grant.
	RevokeUserGrants(ctx context.Context, userID string, at time.Time) (int64, error)

	// CreateRefreshToken stores the first token of a family.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	GetRefreshToken(ctx context.Context, tokenHash []byte) (RefreshToken, error)
	// RotateRefreshToken marks the token oldHash used at next.CreatedAt and
	// stores next, in one transaction. It fails with ErrConflict, changing
	// nothing, when the old token was already used (a replay, or a lost race
	// with a concurrent rotation), and with ErrNotFound when it is unknown.
	RotateRefreshToken(ctx context.Context, oldHash []byte, next RefreshToken) error

	// RevokeAccessToken records that the access token jti is revoked until
	// it expires anyway; recording it twice is not an error.
	RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error
	AccessTokenRevoked(ctx context.Context, jti string) (bool, error)

	// PutConsent creates or replaces the consent of (UserID, ClientID).
	PutConsent(ctx context.Context, c Consent) error
	GetConsent(ctx context.Context, userID, clientID string) (Consent, error)
	// ListConsents returns the consents of userID ordered by client ID.
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error

	// CreateSigningKey stores k as the active key. When another key is
	// active already it fails with ErrConflict, changing nothing: of two
	// instances creating the first key at once, one wins.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every stored key, newest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RotateSigningKey retires the active key oldID at next.CreatedAt and
	// stores next as the active key, in one transaction. It fails with
	// ErrConflict, changing nothing, when oldID is not the active key.
	RotateSigningKey(ctx context.Context, oldID string, next SigningKey) error
	// DeleteSigningKeysRetiredBefore removes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int64, error)

	// DeleteExpiredOAuth removes auth requests, refresh tokens, grants and
	// revoked-token records whose time has passed at now.
	DeleteExpiredOAuth(ctx context.Context, now time.Time) (int64, error)
}
