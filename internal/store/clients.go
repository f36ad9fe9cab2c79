package store

import (
	"context"
	"time"
)

// Client is a government service system (业务系统) registered to sign its
// users in through unid.
type Client struct {
	ID                     string   // client_id; for CAS the registry key
	Name                   string   // shown on the consent page and in the console
	Type                   string   // ClientOIDCConfidential, ClientOIDCPublic or ClientCAS
	SecretHash             []byte   // keyed hash of the secret (confidential clients only)
	RedirectURIs           []string // OIDC: exact redirect URIs; CAS: service URL patterns
	PostLogoutRedirectURIs []string // OIDC RP-initiated logout targets (exact)
	Scopes                 []string // OIDC: scopes it may ask for; CAS: attributes it receives
	FirstParty             bool     // a government system of the platform: no consent page
	BackchannelLogoutURI   string   // OIDC back-channel logout, or CAS single-logout URL override
	MinRealnameLevel       int      // the least real-name level of a user signing in (OIDC and CAS); 0 asks for nothing
	MinEnterpriseRole      string   // the least enterprise role the signed-in identity must hold (handler, admin, legal_rep); "" asks for none
	Disabled               bool     // refused at sign-in and at every token check until enabled again
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Client types.
const (
	ClientOIDCConfidential = "oidc_confidential"
	ClientOIDCPublic       = "oidc_public"
	ClientCAS              = "cas"
)

// Clients stores the client registry.
type Clients interface {
	// CreateClient adds c; an ID in use gives a *ConflictError with Field "id".
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns every client ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient changes one client inside a transaction; the ID cannot change.
	UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) (Client, error)
	// DeleteClient removes the client and, in the same transaction, the
	// users and enterprises it may write records for and the records it
	// wrote: a client registered again with the ID inherits nothing.
	DeleteClient(ctx context.Context, id string) error
}

// SessionClient records that a browser session signed a user in to a
// client, so that ending the session can tell every such client (OIDC
// back-channel logout, CAS single logout).
type SessionClient struct {
	SID      string // the session's stable ID (Session.SID)
	ClientID string
	Protocol string // "oidc" or "cas"
	Ref      string // CAS: the service ticket (the SessionIndex of the logoutRequest); OIDC: ""
	URL      string // CAS: the service URL the ticket was issued for; OIDC: ""
	UserID   string
	// Acting is the enterprise the sign-in acts for (credit code), "" the
	// person. Recording a sign-in also remembers, for good, that the user
	// (and the enterprise) signed in to the client: store.Records.KnownUsers.
	Acting    string
	CreatedAt time.Time
}

// SessionClients stores which clients each session signed in to.
type SessionClients interface {
	// AddSessionClient records sc; recording the same (SID, ClientID, Ref)
	// again is not an error.
	AddSessionClient(ctx context.Context, sc SessionClient) error
	// ListSessionClients returns the records of sid, oldest first.
	ListSessionClients(ctx context.Context, sid string) ([]SessionClient, error)
	// DeleteSessionClients forgets every record of sid.
	DeleteSessionClients(ctx context.Context, sid string) (int64, error)
}
