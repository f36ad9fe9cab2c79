package address

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/division"
	"unid/internal/problem"
	"unid/internal/store"
)

// MaxAddresses is how many addresses one account may keep.
const MaxAddresses = 20

// Audit actions of addresses.
const (
	ActionCreated = "address.created"
	ActionUpdated = "address.updated" // also when it becomes the default: Detail {"change": "default"}
	ActionDeleted = "address.deleted"
)

// Kinds of sealed personal data of an address, for account.Protector.
const (
	sealRecipient = "address_recipient"
	sealPhone     = "address_phone"
	sealDetail    = "address_detail"
)

// Deps are what a Service is built from.
type Deps struct {
	Store     store.Addresses
	Protector *account.Protector
	Audit     *audit.Log
	Now       func() time.Time
}

// Service keeps the EMS addresses of accounts.
type Service struct {
	st    store.Addresses
	prot  *account.Protector
	audit *audit.Log
	now   func() time.Time
}

// New returns a Service over d.
func New(d Deps) *Service {
	return &Service{st: d.Store, prot: d.Protector, audit: d.Audit, now: d.Now}
}

// View is an address as its owner sees it.
type View struct {
	ID           string
	Recipient    string
	Phone        string // masked
	Place        division.Place
	DivisionCode string // as stored, also when the table no longer has it
	Detail       string
	Postcode     string
	Default      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// List returns the user's addresses, the default first, then the newest
// first, with each phone masked.
func (s *Service) List(ctx context.Context, userID string) ([]View, error) {
	return s.list(ctx, userID, true)
}

// ListUnmasked is List with every phone in full, for the owner's download
// of their own data after re-authentication; never for a screen.
func (s *Service) ListUnmasked(ctx context.Context, userID string) ([]View, error) {
	return s.list(ctx, userID, false)
}

func (s *Service) list(ctx context.Context, userID string, mask bool) ([]View, error) {
	list, err := s.st.ListAddresses(ctx, userID)
	if err != nil {
		return nil, problem.Wrap(fmt.Errorf("address: list: %w", err))
	}
	out := make([]View, 0, len(list))
	for _, a := range list {
		v, err := s.open(a)
		if err != nil {
			return nil, err
		}
		if mask {
			v.Phone = MaskPhone(v.Phone)
		}
		out = append(out, v)
	}
	return out, nil
}

// Create adds an address for userID, who is the actor of o. The first
// address is the default; in.Default makes a later one the default.
func (s *Service) Create(ctx context.Context, o audit.Origin, userID string, in Input) (View, error) {
	if err := checkOrigin(o, userID); err != nil {
		return View{}, err
	}
	v, err := validate(in, false)
	if err != nil {
		return View{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	a := store.Address{ID: newID(), UserID: userID, Division: v.place.Code(), Postcode: v.postcode, IsDefault: in.Default, CreatedAt: now, UpdatedAt: now}
	if err := s.seal(&a, v); err != nil {
		return View{}, err
	}
	a, err = s.st.CreateAddress(ctx, a, MaxAddresses, s.event(o, ActionCreated, a.ID, ""), audit.Hash)
	if errors.Is(err, store.ErrLimit) {
		return View{}, &problem.Problem{Kind: problem.Conflict, Code: "address_limit", Err: err}
	}
	if err != nil {
		return View{}, problem.Wrap(fmt.Errorf("address: create: %w", err))
	}
	return s.view(a)
}

// Update changes an address of userID. An empty in.Phone keeps the stored
// phone; in.Default is ignored (SetDefault).
func (s *Service) Update(ctx context.Context, o audit.Origin, userID, id string, in Input) (View, error) {
	if err := checkOrigin(o, userID); err != nil {
		return View{}, err
	}
	v, err := validate(in, true)
	if err != nil {
		return View{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var next store.Address
	if err := s.seal(&next, v); err != nil {
		return View{}, err
	}
	a, err := s.st.UpdateAddress(ctx, userID, id, func(old store.Address) (store.Address, error) {
		old.Recipient, old.Detail = next.Recipient, next.Detail
		if !next.Phone.Empty() {
			old.Phone = next.Phone
		}
		old.Division, old.Postcode, old.UpdatedAt = v.place.Code(), v.postcode, now
		return old, nil
	}, s.event(o, ActionUpdated, id, ""), audit.Hash)
	if err != nil {
		return View{}, storeProblem("update", err)
	}
	return s.view(a)
}

// Delete removes an address of userID; if it was the default, the newest
// remaining address becomes the default.
func (s *Service) Delete(ctx context.Context, o audit.Origin, userID, id string) error {
	if err := checkOrigin(o, userID); err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	err := s.st.DeleteAddress(ctx, userID, id, now, s.event(o, ActionDeleted, id, ""), audit.Hash)
	return storeProblem("delete", err)
}

// SetDefault makes an address of userID the default.
func (s *Service) SetDefault(ctx context.Context, o audit.Origin, userID, id string) error {
	if err := checkOrigin(o, userID); err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	err := s.st.SetDefaultAddress(ctx, userID, id, now, s.event(o, ActionUpdated, id, "default"), audit.Hash)
	return storeProblem("set default", err)
}

// checkOrigin: a user changes only their own addresses.
func checkOrigin(o audit.Origin, userID string) error {
	if o.Actor != audit.User(userID) || userID == "" {
		return problem.Wrap(fmt.Errorf("address: actor %+v may not change the addresses of %q", o.Actor, userID))
	}
	return nil
}

// event is the audit event of a change to address id: its detail names the
// address and, for a default, the change; never its contents.
func (s *Service) event(o audit.Origin, action, id, change string) store.AuditEvent {
	e := o.Entry(action, audit.ResultOK)
	e.Detail = audit.Detail{"address": id}
	if change != "" {
		e.Detail["change"] = change
	}
	return s.audit.Event(e)
}

func storeProblem(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return &problem.Problem{Kind: problem.NotFound, Code: "address_not_found", Err: err}
	}
	return problem.Wrap(fmt.Errorf("address: %s: %w", op, err))
}

// seal puts v's personal data into a, sealed; a phone left empty stays
// empty.
func (s *Service) seal(a *store.Address, v valid) error {
	for _, f := range []struct {
		kind, value string
		dst         *store.Sealed
	}{
		{sealRecipient, v.recipient, &a.Recipient},
		{sealPhone, v.phone, &a.Phone},
		{sealDetail, v.detail, &a.Detail},
	} {
		sealed, err := s.prot.Seal(f.kind, f.value)
		if err != nil {
			return problem.Wrap(fmt.Errorf("address: seal: %w", err))
		}
		sealed.Index = nil // never looked up: equal values must not show
		*f.dst = sealed
	}
	return nil
}

// view opens a for its owner, with the phone masked: the owner typed it,
// and a list on a screen is seen by whoever stands behind them.
func (s *Service) view(a store.Address) (View, error) {
	v, err := s.open(a)
	v.Phone = MaskPhone(v.Phone)
	return v, err
}

// open opens a, nothing masked.
func (s *Service) open(a store.Address) (View, error) {
	v := View{ID: a.ID, DivisionCode: a.Division, Postcode: a.Postcode, Default: a.IsDefault, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	v.Place, _ = division.Of(a.Division)
	for _, f := range []struct {
		kind string
		src  store.Sealed
		dst  *string
	}{
		{sealRecipient, a.Recipient, &v.Recipient},
		{sealPhone, a.Phone, &v.Phone},
		{sealDetail, a.Detail, &v.Detail},
	} {
		plain, err := s.prot.Open(f.kind, f.src)
		if err != nil {
			return View{}, problem.Wrap(fmt.Errorf("address: open %s of %s: %w", f.kind, a.ID, err))
		}
		*f.dst = plain
	}
	return v, nil
}

// newID returns a random 128-bit address ID in lower-case base32, like
// account IDs: it tells nothing of order or count.
func newID() string { return strings.ToLower(rand.Text()) }
