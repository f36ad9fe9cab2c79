// Package export gathers everything unid holds about one person, for the
// person to download (个人信息副本, the Personal Information Protection
// Law's right of access and copy), typically before closing the account:
// the account with its personal data in full, the EMS addresses in full,
// which security questions were chosen and when (never the answers'
// hashes), the live sessions, the consents given to service systems, the
// real-name bindings and checks, their records of every kind (办件, 咨询,
// 投诉, 消息 — unid's own and the service systems' —, 收藏) with the
// status history of those that have one, the links to identity providers (Alipay, OpenID providers), and the
// audit events whose actor is the person. Nothing about anyone else:
// every list is read by the person's own account ID.
//
// Collect is the domain half: it reads and opens the records and audits
// the export (account.exported). How they are shown — a session's browser
// and place, a question's wording in the reader's language — is the
// adapter's (internal/api), as it is for the sections of the user center.
// The data is never logged.
package export

import (
	"context"
	"errors"
	"fmt"
	"time"

	"unid/internal/account"
	"unid/internal/address"
	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/records"
	"unid/internal/store"
)

// ActionExported is the audit action of Collect; Detail {user}.
const ActionExported = "account.exported"

// MaxAuditEvents bounds the audit events of one export: far more than a
// person makes in the years the log is kept.
const MaxAuditEvents = 100_000

// Sessions lists a person's live sessions; *session.Manager is one.
type Sessions interface {
	ListUser(ctx context.Context, userID string) ([]store.Session, error)
}

// Consents lists a person's consents with each client's name;
// *oidc.Provider is one.
type Consents interface {
	ListConsents(ctx context.Context, userID string) ([]store.Consent, map[string]string, error)
}

// Addresses lists a person's addresses in full; *address.Service is one.
type Addresses interface {
	ListUnmasked(ctx context.Context, userID string) ([]address.View, error)
}

// Realname lists a person's real-name records; the store is one.
type Realname interface {
	ListRealnameBindings(ctx context.Context, userID string) ([]store.RealnameBinding, error)
	ListRealnameChecks(ctx context.Context, userID string, limit int) ([]store.RealnameCheck, error)
}

// UpstreamLinks lists a person's links to identity providers; the store
// is one.
type UpstreamLinks interface {
	ListUpstreamLinks(ctx context.Context, userID string) ([]store.UpstreamLink, error)
}

// Records lists a person's records and their status history; the store
// is one.
type Records interface {
	ListRecords(ctx context.Context, q store.RecordQuery) ([]store.Record, error)
	RecordHistory(ctx context.Context, id string) ([]store.StatusChange, error)
}

// MaxRecords bounds the real-name checks, and the records of each kind,
// of one export.
const MaxRecords = 100_000

// recordPage is how many records one read of Collect takes.
const recordPage = 500

// Deps are what a Service is built from.
type Deps struct {
	Users     store.Users
	Protector *account.Protector
	Addresses Addresses
	Questions store.SecurityQuestions
	Sessions  Sessions
	Consents  Consents
	Realname  Realname
	Records   Records
	Links     UpstreamLinks
	AuditLog  store.AuditLog
	Audit     *audit.Log
	Now       func() time.Time
}

// Service collects exports.
type Service struct{ d Deps }

// New returns a Service over d.
func New(d Deps) *Service { return &Service{d: d} }

// Account is the account with its personal data in full.
type Account struct {
	ID            string
	LoginName     string
	Phone         string
	IDNumber      string
	RealName      string
	Email         string
	Nickname      string
	WorkUnit      string
	RealnameLevel int
	CreatedAt     time.Time
}

// Questions are the security questions the person chose (IDs of the
// configured list) and when; Set is false when there are none.
type Questions struct {
	Set   bool
	IDs   [3]string
	SetAt time.Time
}

// Consent is one consent, with the client's name.
type Consent struct {
	store.Consent
	ClientName string
}

// Record is one of the person's records with its status history (oldest
// first; none for a kind without statuses).
type Record struct {
	store.Record
	History []store.StatusChange
}

// Data is everything unid holds about one person, as read at At.
type Data struct {
	At          time.Time
	Account     Account
	Addresses   []address.View
	Questions   Questions
	Sessions    []store.Session
	Consents    []Consent
	Bindings    []store.RealnameBinding
	Checks      []store.RealnameCheck
	Records     []Record // by kind in the order of the personal space, each kind newest first
	Links       []store.UpstreamLink
	AuditEvents []store.AuditEvent // newest first
}

// Collect reads everything unid holds about the person userID, who is
// o's actor (a person exports only their own data), and audits it.
func (s *Service) Collect(ctx context.Context, userID string, o audit.Origin) (Data, error) {
	if o.Actor != audit.User(userID) || userID == "" {
		return Data{}, problem.Wrap(fmt.Errorf("export: actor %+v may not export the data of %q", o.Actor, userID))
	}
	d := Data{At: s.d.Now().UTC().Truncate(time.Millisecond)}
	u, err := s.d.Users.GetUser(ctx, userID)
	if err != nil {
		return Data{}, wrap("account", err)
	}
	if u.Status == store.UserClosed {
		return Data{}, &problem.Problem{Kind: problem.NotFound, Code: "not_found"}
	}
	if d.Account, err = s.account(u); err != nil {
		return Data{}, err
	}
	if d.Addresses, err = s.d.Addresses.ListUnmasked(ctx, userID); err != nil {
		return Data{}, err
	}
	switch a, err := s.d.Questions.GetSecurityAnswers(ctx, userID); {
	case err == nil:
		d.Questions = Questions{Set: true, IDs: a.Questions, SetAt: a.SetAt}
	case !isNotFound(err):
		return Data{}, wrap("security questions", err)
	}
	if d.Sessions, err = s.d.Sessions.ListUser(ctx, userID); err != nil {
		return Data{}, wrap("sessions", err)
	}
	consents, names, err := s.d.Consents.ListConsents(ctx, userID)
	if err != nil {
		return Data{}, wrap("consents", err)
	}
	for _, c := range consents {
		d.Consents = append(d.Consents, Consent{Consent: c, ClientName: names[c.ClientID]})
	}
	if d.Bindings, err = s.d.Realname.ListRealnameBindings(ctx, userID); err != nil {
		return Data{}, wrap("real-name bindings", err)
	}
	if d.Checks, err = s.d.Realname.ListRealnameChecks(ctx, userID, MaxRecords); err != nil {
		return Data{}, wrap("real-name checks", err)
	}
	if d.Records, err = s.records(ctx, userID); err != nil {
		return Data{}, err
	}
	if d.Links, err = s.d.Links.ListUpstreamLinks(ctx, userID); err != nil {
		return Data{}, wrap("upstream links", err)
	}
	if d.AuditEvents, err = s.d.AuditLog.ListActorAudit(ctx, audit.User(userID).String(), nil, MaxAuditEvents); err != nil {
		return Data{}, wrap("audit events", err)
	}
	e := o.Entry(ActionExported, audit.ResultOK)
	e.Detail = audit.Detail{"user": userID}
	s.d.Audit.Append(ctx, e)
	return d, nil
}

// records reads the person's records of every kind, page by page, and
// the history of those of a kind with statuses.
func (s *Service) records(ctx context.Context, userID string) ([]Record, error) {
	var out []Record
	for _, k := range records.Kinds {
		q := store.RecordQuery{Kind: k.Kind, UserID: userID, Limit: recordPage}
		for n := 0; n < MaxRecords; {
			page, err := s.d.Records.ListRecords(ctx, q)
			if err != nil {
				return nil, wrap("records", err)
			}
			for _, r := range page {
				rec := Record{Record: r}
				if k.Statuses != nil {
					if rec.History, err = s.d.Records.RecordHistory(ctx, r.ID); err != nil {
						return nil, wrap("record history", err)
					}
				}
				out = append(out, rec)
			}
			n += len(page)
			if len(page) < recordPage {
				break
			}
			last := page[len(page)-1]
			q.After = store.RecordCursor{SubmittedAt: last.SubmittedAt, ID: last.ID}
		}
	}
	return out, nil
}

// account opens u's personal data.
func (s *Service) account(u store.User) (Account, error) {
	a := Account{ID: u.ID, LoginName: u.LoginName, RealnameLevel: u.RealnameLevel, CreatedAt: u.CreatedAt}
	for _, f := range []struct {
		kind   string
		sealed store.Sealed
		dst    *string
	}{
		{account.FieldPhone, u.Phone, &a.Phone},
		{account.FieldIDNumber, u.IDNumber, &a.IDNumber},
		{account.FieldRealName, u.RealName, &a.RealName},
		{account.FieldEmail, u.Email, &a.Email},
		{account.FieldNickname, u.Nickname, &a.Nickname},
		{account.FieldWorkUnit, u.WorkUnit, &a.WorkUnit},
	} {
		if f.sealed.Empty() {
			continue
		}
		v, err := s.d.Protector.Open(f.kind, f.sealed)
		if err != nil {
			return Account{}, problem.Wrap(fmt.Errorf("export: open %s: %w", f.kind, err))
		}
		*f.dst = v
	}
	return a, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func wrap(what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &problem.Problem{Kind: problem.NotFound, Code: "not_found", Err: err}
	}
	return problem.Wrap(fmt.Errorf("export: %s: %w", what, err))
}
