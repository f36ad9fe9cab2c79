package realname

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/flow"
	"unid/internal/problem"
	"unid/internal/ratelimit"
	"unid/internal/review"
	"unid/internal/session"
	"unid/internal/store"
)

// Audit actions of real-name verification. Details hold masked values only.
const (
	ActionChecked         = "realname.checked"           // a check that bound nothing; Result its end; Detail {user, method, provider, check, reference}
	ActionBound           = "realname.bound"             // a passed check bound a method; Detail as ActionChecked plus {level}
	ActionUnbound         = "realname.unbound"           // Detail {user, method}, and via upstream.unlinked when Alipay was unlinked
	ActionCallbackRefused = "realname.callback_refused"  // a redirect callback refused; Detail {user, flow}
	ActionCounter         = "realname.counter_requested" // Detail {user, item, reference}
	ActionAppealed        = "realname.appealed"          // Detail {user, item, reference, files}
	ActionCorrected       = "realname.corrected"         // by a reviewer; Detail {user, reason, fields}
	ActionReviewOpened    = "review.opened"              // Detail {item, kind}
	ActionReviewFile      = "review.file_opened"         // Detail {item, file}
	ActionReviewDecided   = "review.decided"             // Result approved|rejected; Detail {item, kind, user, reason, moved_from}
)

// Review item kinds of this queue.
const (
	KindCounterItem = "realname.counter"
	KindAppealItem  = "realname.appeal"
)

// Events the citizen is told of, through Deps.Tell.
const (
	EventApproved  = "realname.approved"
	EventRejected  = "realname.rejected"
	EventMovedAway = "realname.moved_away"
	// EventCorrected: a reviewer corrected the account's name or ID
	// number, and the evidence above level 1 was removed.
	EventCorrected = "realname.corrected"
)

// FlowKind is the kind of a redirect verification's flow record.
const FlowKind = "realname"

// Flow states.
const (
	FlowPending = "pending"
	FlowDone    = "done"
)

// Results of FinishRedirect, as the page's result= parameter.
const (
	FinishOK          = "ok"
	FinishFailed      = "failed"
	FinishCancelled   = "cancelled"
	FinishExpired     = "expired"
	FinishUnavailable = "unavailable"
)

// Upload limits of an appeal.
const (
	MaxUpload = 5 << 20
	// Upload labels, also the multipart field names.
	UploadIDPhoto       = "id_photo"
	UploadHandheldPhoto = "handheld_photo"
)

// Defaults of Options.
const (
	DefaultChecksPerUserDay = 5
	DefaultChecksPerDay     = 10000
	DefaultFlowTTL          = 10 * time.Minute
	// AppealsPerUserDay bounds the appeals a user may start in a day,
	// refused or filed.
	AppealsPerUserDay = 3
	// AppealWindow is how recent the registry check an appeal stands on
	// must be: one that passed but found the ID number verified on
	// another account, for the same name and number.
	AppealWindow = 24 * time.Hour
)

// macAppealSubject is the purpose of the keyed MAC of a name and ID
// number kept in a verified_elsewhere check, for an appeal to match.
const macAppealSubject = "realname.appeal.subject"

// Sealing kinds of what the review queue keeps.
const (
	sealReviewData = "review.data"
	sealReviewFile = "review.file"
)

// Unavailable is the answer when the verifier cannot be reached.
func Unavailable(err error) error {
	return &problem.Problem{Kind: problem.Unavailable, Code: "realname_unavailable", Err: err}
}

// Store is what the service keeps.
type Store interface {
	store.Users
	store.Flows
	store.Realname
}

// Options configure the service.
type Options struct {
	Methods          []Method // ParseMethods(DefaultMethods) when nil
	ChecksPerUserDay int
	ChecksPerDay     int
	FlowTTL          time.Duration
	// CallbackURL is the absolute URL of GET /realname/callback, where a
	// verifier sends the browser back.
	CallbackURL string
}

// Deps are the parts the service works with.
type Deps struct {
	Store     Store
	Provider  Provider
	Protector *account.Protector
	Limiter   *ratelimit.Limiter
	Audit     *audit.Log
	// Tell tells a citizen of event (EventApproved, ...) after it
	// happened; the app wires it to a message and an SMS. May be nil.
	Tell func(ctx context.Context, userID, event string, params map[string]string)
	// Access ends every session and grant of an account: an approved
	// appeal ends the old holder's. The app wires account.Service.
	Access AccessEnder
	// Alipay tells what the account's Alipay link shows, for the alipay
	// method (支付宝认证); nil when unid has no Alipay sign-in, and the
	// method is then not available.
	Alipay  AlipayEvidence
	Logger  *slog.Logger
	Now     func() time.Time
	Options Options
}

// AccessEnder ends every session and revokes every grant of an account;
// via says why (session.ViaRealnameMovedAway).
type AccessEnder interface {
	EndAccess(ctx context.Context, userID, via string) error
}

// AlipayEvidence is what an account's link to Alipay shows of its person.
type AlipayEvidence interface {
	AlipayEvidence(ctx context.Context, userID string) (LinkEvidence, error)
}

// AlipayEvidenceFunc is a function that is an AlipayEvidence.
type AlipayEvidenceFunc func(ctx context.Context, userID string) (LinkEvidence, error)

// AlipayEvidence returns f(ctx, userID).
func (f AlipayEvidenceFunc) AlipayEvidence(ctx context.Context, userID string) (LinkEvidence, error) {
	return f(ctx, userID)
}

// LinkEvidence is what a linked identity provider said of the person of
// an account.
type LinkEvidence struct {
	Linked bool
	// Certified: the provider said, at the link's last sign-in, that it
	// verified the person's real name (Alipay's is_certified=T).
	Certified bool
	Display   string // the link's masked nickname
	// IDNumberIndex is the blind index (account.Protector.Index) of the ID
	// number the provider certified, nil when it told none.
	IDNumberIndex []byte
}

// Service is real-name verification.
type Service struct {
	d Deps
	o Options
}

var _ review.Queue = (*Service)(nil)

// New returns the service of d.
func New(d Deps) (*Service, error) {
	o := d.Options
	if o.Methods == nil {
		m, err := ParseMethods(DefaultMethods)
		if err != nil {
			return nil, err
		}
		o.Methods = m
	}
	if o.ChecksPerUserDay == 0 {
		o.ChecksPerUserDay = DefaultChecksPerUserDay
	}
	if o.ChecksPerDay == 0 {
		o.ChecksPerDay = DefaultChecksPerDay
	}
	if o.FlowTTL <= 0 {
		o.FlowTTL = DefaultFlowTTL
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, o: o}, nil
}

func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Millisecond) }

// method returns the offered method name.
func (s *Service) method(name string) (Method, bool) {
	i := slices.IndexFunc(s.o.Methods, func(m Method) bool { return m.Name == name })
	if i < 0 {
		return Method{}, false
	}
	return s.o.Methods[i], true
}

// ---- Status ----

// Status is what the real-name page shows its owner (masked).
type Status struct {
	Level           int            `json:"level"`
	RealName        string         `json:"real_name"`
	IDNumber        string         `json:"id_number"`
	Locked          bool           `json:"locked"`
	Registered      *Registered    `json:"registered"`
	BoundPhone      string         `json:"bound_phone"`
	Levels          []LevelMethods `json:"levels"`
	Bindings        []Binding      `json:"bindings"`
	Pending         []Pending      `json:"pending"`
	ChecksLeftToday int            `json:"checks_left_today"`
	// Alipay is the account's Alipay link, when the alipay method is
	// offered and Alipay sign-in is configured.
	Alipay *AlipayLink `json:"alipay,omitempty"`
}

// AlipayLink is what the page shows of the account's Alipay link.
type AlipayLink struct {
	Linked    bool `json:"linked"`
	Certified bool `json:"certified"`
}

// Registered are the masked name and ID number typed at registration.
type Registered struct {
	RealName string `json:"real_name"`
	IDNumber string `json:"id_number"`
}

// LevelMethods are the methods that give one level.
type LevelMethods struct {
	Level   int             `json:"level"`
	Methods []MethodOffered `json:"methods"`
}

// MethodOffered is a method as the page offers it.
type MethodOffered struct {
	Method    string `json:"method"`
	Kind      string `json:"kind"`
	Available bool   `json:"available"`
}

// Binding is a binding as its owner sees it.
type Binding struct {
	Method    string    `json:"method"`
	Level     int       `json:"level"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"created_at"`
	Removable bool      `json:"removable,omitempty"`
}

// Pending is a review item of the user still waiting.
type Pending struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Reference string    `json:"reference"`
	CreatedAt time.Time `json:"created_at"`
}

// Status returns the user's real-name status.
func (s *Service) Status(ctx context.Context, userID string) (Status, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return Status{}, err
	}
	bs, err := s.d.Store.ListRealnameBindings(ctx, userID)
	if err != nil {
		return Status{}, problem.Wrap(err)
	}
	items, err := s.pending(ctx, userID)
	if err != nil {
		return Status{}, err
	}
	name, err := s.d.Protector.Open(account.FieldRealName, u.RealName)
	if err != nil {
		return Status{}, problem.Wrap(err)
	}
	idn, err := s.d.Protector.Open(account.FieldIDNumber, u.IDNumber)
	if err != nil {
		return Status{}, problem.Wrap(err)
	}
	phone, err := s.d.Protector.Open(account.FieldPhone, u.Phone)
	if err != nil {
		return Status{}, problem.Wrap(err)
	}
	st := Status{Level: u.RealnameLevel, Locked: u.RealnameLevel >= 1, Bindings: []Binding{}, Pending: []Pending{}}
	if phone != "" {
		st.BoundPhone = account.MaskPhone(phone)
	}
	if st.Locked {
		st.RealName, st.IDNumber = account.MaskName(name), account.MaskIDNumber(idn)
	} else if name != "" && idn != "" {
		st.Registered = &Registered{RealName: account.MaskName(name), IDNumber: account.MaskIDNumber(idn)}
	}
	for level := 1; level <= claims.MaxLevel; level++ {
		lm := LevelMethods{Level: level, Methods: []MethodOffered{}}
		for _, m := range s.o.Methods {
			if m.Level != level {
				continue
			}
			avail := Allowed(u.RealnameLevel, m)
			switch m.Kind {
			case KindReview:
				avail = avail && len(items) == 0
			case KindLink:
				avail = avail && s.d.Alipay != nil
			}
			lm.Methods = append(lm.Methods, MethodOffered{Method: m.Name, Kind: m.Kind, Available: avail})
		}
		st.Levels = append(st.Levels, lm)
	}
	for _, b := range bs {
		st.Bindings = append(st.Bindings, Binding{Method: b.Method, Level: b.Level, Detail: b.Detail, CreatedAt: b.CreatedAt,
			Removable: b.Method != MethodRegistry})
	}
	for _, it := range items {
		st.Pending = append(st.Pending, Pending{ID: it.ID, Kind: it.Kind, Reference: it.Reference, CreatedAt: it.CreatedAt})
	}
	st.ChecksLeftToday = s.checksLeft(ctx, userID)
	if _, ok := s.method(MethodAlipay); ok && s.d.Alipay != nil {
		ev, err := s.d.Alipay.AlipayEvidence(ctx, userID)
		if err != nil {
			return Status{}, problem.Wrap(err)
		}
		st.Alipay = &AlipayLink{Linked: ev.Linked, Certified: ev.Certified}
	}
	return st, nil
}

// pending returns the user's pending items of this queue.
func (s *Service) pending(ctx context.Context, userID string) ([]store.ReviewItem, error) {
	items, err := s.d.Store.ListUserReviewItems(ctx, userID, review.StatePending)
	if err != nil {
		return nil, problem.Wrap(err)
	}
	return slices.DeleteFunc(items, func(it store.ReviewItem) bool { return !slices.Contains(s.Kinds(), it.Kind) }), nil
}

// ---- limits ----

func (s *Service) rules(userID string) []ratelimit.Rule {
	return []ratelimit.Rule{
		{Key: "realname:user:d:" + userID, Limit: int64(s.o.ChecksPerUserDay), Window: 24 * time.Hour},
		{Key: "realname:all:d", Limit: int64(s.o.ChecksPerDay), Window: 24 * time.Hour},
	}
}

func (s *Service) checksLeft(ctx context.Context, userID string) int {
	r := s.rules(userID)[0]
	if r.Off() {
		return 0
	}
	n, err := s.d.Limiter.Count(ctx, s.now(), r.Key)
	if err != nil {
		return 0
	}
	return max(0, int(r.Limit-n))
}

// allow counts one check, or refuses with realname_check_limit.
func (s *Service) allow(ctx context.Context, userID, method string, o audit.Origin) error {
	wait, err := s.d.Limiter.Allow(ctx, s.now(), s.rules(userID)...)
	if err != nil {
		return problem.Wrap(fmt.Errorf("realname: rate limit: %w", err))
	}
	if wait > 0 {
		e := o.Entry(ActionChecked, audit.ResultRateLimited)
		e.Detail = audit.Detail{"user": userID, "method": method}
		s.refusedOnce(ctx, "check:"+userID, e)
		return &problem.Problem{Kind: problem.TooMany, Code: "realname_check_limit", RetryAfter: wait}
	}
	return nil
}

// refusedOnce audits a refusal by a limit once a day for what (the
// limit and the account), so that hammering a limit cannot fill the
// audit log.
func (s *Service) refusedOnce(ctx context.Context, what string, e audit.Entry) {
	first, err := s.d.Limiter.First(ctx, s.now(), "realname:refused:"+what, 24*time.Hour)
	if err != nil || first {
		s.d.Audit.Append(ctx, e)
	}
}

// ---- checks ----

// Identity is what the level-1 form sends.
type Identity struct {
	RealName      string
	IDNumber      string
	UseRegistered bool // check the name and ID number typed at registration
}

// VerifyIdentity runs the registry check (level 1). On a pass the
// account takes the verified name and ID number, whatever it held.
func (s *Service) VerifyIdentity(ctx context.Context, userID string, in Identity, o audit.Origin) (Status, error) {
	m, ok := s.method(MethodRegistry)
	if !ok {
		return Status{}, problem.New(problem.NotFound, "realname_method_off")
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return Status{}, err
	}
	if u.RealnameLevel >= 1 {
		return Status{}, problem.New(problem.Conflict, "realname_locked")
	}
	if in.UseRegistered {
		if in.RealName, err = s.d.Protector.Open(account.FieldRealName, u.RealName); err != nil {
			return Status{}, problem.Wrap(err)
		}
		if in.IDNumber, err = s.d.Protector.Open(account.FieldIDNumber, u.IDNumber); err != nil {
			return Status{}, problem.Wrap(err)
		}
	}
	p, err := s.person(in.RealName, in.IDNumber)
	if err != nil {
		return Status{}, err
	}
	if err := s.allow(ctx, userID, m.Name, o); err != nil {
		return Status{}, err
	}
	out, err := s.d.Provider.VerifyIdentity(ctx, p)
	mismatch := &problem.Problem{Kind: problem.Invalid, Code: "realname_mismatch",
		Fields: map[string]string{account.FieldRealName: "realname_mismatch", account.FieldIDNumber: "realname_mismatch"}}
	return s.settle(ctx, userID, m, p, "", out, err, mismatch, o)
}

// person checks and normalises a name and an ID number.
func (s *Service) person(name, idNumber string) (Person, error) {
	f := problem.FieldSet{}
	n, err := account.NormalizeRealName(name)
	f.Add(account.FieldRealName, err)
	id, err := account.ParseIDNumber(idNumber, s.now())
	f.Add(account.FieldIDNumber, err)
	if err := f.Err(); err != nil {
		return Person{}, err
	}
	return Person{RealName: n, IDNumber: id.Number}, nil
}

// verified returns the account's verified person, or
// realname_level_required when it has none.
func (s *Service) verified(u store.User) (Person, error) {
	if u.RealnameLevel < 1 {
		return Person{}, problem.New(problem.Invalid, "realname_level_required")
	}
	name, err := s.d.Protector.Open(account.FieldRealName, u.RealName)
	if err != nil {
		return Person{}, problem.Wrap(err)
	}
	idn, err := s.d.Protector.Open(account.FieldIDNumber, u.IDNumber)
	if err != nil {
		return Person{}, problem.Wrap(err)
	}
	return Person{RealName: name, IDNumber: idn}, nil
}

// aboutVerified begins a check that needs level 1: the method must be
// offered, and the check is about the account's verified person.
func (s *Service) aboutVerified(ctx context.Context, userID, method string) (Method, store.User, Person, error) {
	m, ok := s.method(method)
	if !ok {
		return Method{}, store.User{}, Person{}, problem.New(problem.NotFound, "realname_method_off")
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return Method{}, store.User{}, Person{}, err
	}
	p, err := s.verified(u)
	return m, u, p, err
}

// VerifyBankCard runs the four-element check (level 2).
func (s *Service) VerifyBankCard(ctx context.Context, userID, cardNumber, phone string, o audit.Origin) (Status, error) {
	m, _, p, err := s.aboutVerified(ctx, userID, MethodBankCard)
	if err != nil {
		return Status{}, err
	}
	f := problem.FieldSet{}
	card, err := normalizeCard(cardNumber)
	f.Add("card_number", err)
	ph, err := account.NormalizePhone(phone)
	f.Add(account.FieldPhone, err)
	if err := f.Err(); err != nil {
		return Status{}, err
	}
	if err := s.allow(ctx, userID, m.Name, o); err != nil {
		return Status{}, err
	}
	out, err := s.d.Provider.VerifyBankCard(ctx, p, card, ph)
	return s.settle(ctx, userID, m, p, "**** "+card[len(card)-4:], out, err, problem.Field("card_number", "bank_card_mismatch"), o)
}

// normalizeCard returns a bank card number as 12 to 19 digits with a
// valid Luhn check digit.
func normalizeCard(s string) (string, error) {
	s = strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
	if s == "" {
		return "", problem.Field("card_number", "bank_card_required")
	}
	if len(s) < 12 || len(s) > 19 {
		return "", problem.Field("card_number", "bank_card_format")
	}
	sum := 0
	for i := range len(s) {
		c := s[len(s)-1-i]
		if c < '0' || c > '9' {
			return "", problem.Field("card_number", "bank_card_format")
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if sum%10 != 0 {
		return "", problem.Field("card_number", "bank_card_format")
	}
	return s, nil
}

// VerifyCarrier runs the three-element check (level 2) with phone, or the
// account's bound phone when phone is "".
func (s *Service) VerifyCarrier(ctx context.Context, userID, phone string, o audit.Origin) (Status, error) {
	m, u, p, err := s.aboutVerified(ctx, userID, MethodCarrier)
	if err != nil {
		return Status{}, err
	}
	if strings.TrimSpace(phone) == "" {
		if phone, err = s.d.Protector.Open(account.FieldPhone, u.Phone); err != nil {
			return Status{}, problem.Wrap(err)
		}
	}
	ph, err := account.NormalizePhone(phone)
	if err != nil {
		return Status{}, err
	}
	if err := s.allow(ctx, userID, m.Name, o); err != nil {
		return Status{}, err
	}
	out, err := s.d.Provider.VerifyCarrier(ctx, p, ph)
	return s.settle(ctx, userID, m, p, account.MaskPhone(ph), out, err, problem.Field(account.FieldPhone, "carrier_mismatch"), o)
}

// ProviderAlipay is the provider of an alipay check: Alipay itself, not
// the verifier.
const ProviderAlipay = "alipay"

// VerifyAlipay binds the alipay method (level 2 by default) on what the
// account's Alipay link shows: Alipay said at its last sign-in that the
// person is certified (is_certified=T). It stands on level 1, never
// alone: Alipay vouches that its user verified a real name, and level 1
// is whose. No verifier is asked, so nothing is counted against the
// check limits; the check is recorded all the same, with the binding.
func (s *Service) VerifyAlipay(ctx context.Context, userID string, o audit.Origin) (Status, error) {
	m, u, p, err := s.aboutVerified(ctx, userID, MethodAlipay)
	if err != nil {
		return Status{}, err
	}
	if s.d.Alipay == nil {
		return Status{}, problem.New(problem.NotFound, "realname_method_off")
	}
	ev, err := s.d.Alipay.AlipayEvidence(ctx, userID)
	switch {
	case err != nil:
		return Status{}, problem.Wrap(err)
	case !ev.Linked:
		return Status{}, problem.New(problem.Conflict, "realname_alipay_unlinked")
	case !ev.Certified:
		return Status{}, problem.New(problem.Conflict, "realname_alipay_uncertified")
	case !account.SameMAC(ev.IDNumberIndex, u.IDNumber.Index):
		// Certified says Alipay knows someone's name, not whose: only the
		// ID number it certified, the account's own verified one, makes
		// the link evidence about this person.
		return Status{}, problem.New(problem.Conflict, "realname_alipay_mismatch")
	}
	check := store.RealnameCheck{ID: newID(), UserID: userID, Method: m.Name, Provider: ProviderAlipay,
		Result: ResultPass, Reference: ev.Display, CreatedAt: s.now()}
	if err := s.bind(ctx, check, m, p, ev.Display, o); err != nil {
		return Status{}, err
	}
	return s.Status(ctx, userID)
}

// settle records a check's end: a pass binds m (in one transaction with
// the check and its event), anything else records the check alone and
// answers failed (or the verifier's unavailability).
func (s *Service) settle(ctx context.Context, userID string, m Method, p Person, detail string, out Outcome, callErr error, failed error, o audit.Origin) (Status, error) {
	now := s.now()
	check := store.RealnameCheck{ID: newID(), UserID: userID, Method: m.Name, Provider: s.d.Provider.Name(),
		Result: out.Result, Reference: out.Reference, CreatedAt: now}
	if callErr != nil {
		check.Result = ResultUnavailable
		s.d.Logger.WarnContext(ctx, "real-name verifier unavailable", "method", m.Name, "err", callErr)
	}
	if check.Result != ResultPass {
		if err := s.recordCheck(ctx, check, o); err != nil {
			return Status{}, err
		}
		if callErr != nil {
			return Status{}, Unavailable(callErr)
		}
		return Status{}, failed
	}
	if err := s.bind(ctx, check, m, p, detail, o); err != nil {
		return Status{}, err
	}
	return s.Status(ctx, userID)
}

// recordCheck records a check that bound nothing, with its event.
func (s *Service) recordCheck(ctx context.Context, c store.RealnameCheck, o audit.Origin) error {
	e := o.Entry(ActionChecked, c.Result)
	e.Detail = checkDetail(c)
	ev := s.d.Audit.Event(e)
	if err := s.d.Store.ChangeRealname(ctx, store.RealnameChange{Check: &c}, ev, audit.Hash); err != nil {
		return problem.Wrap(fmt.Errorf("realname: record check: %w", err))
	}
	s.d.Audit.Committed(ev)
	return nil
}

func checkDetail(c store.RealnameCheck) audit.Detail {
	return audit.Detail{"user": c.UserID, "method": c.Method, "provider": c.Provider, "check": c.ID, "reference": c.Reference}
}

// errIdentityChanged refuses a binding whose check was about an identity
// the account no longer holds.
var errIdentityChanged = problem.New(problem.Conflict, "realname_identity_changed")

// bind stores the binding of a passed check c of m with the check and its
// event. The registry binding also gives the account the verified name
// and ID number; any other needs level 1 still to hold.
func (s *Service) bind(ctx context.Context, c store.RealnameCheck, m Method, p Person, detail string, o audit.Origin) error {
	var sealedName, sealedID store.Sealed
	if m.Name == MethodRegistry {
		var err error
		if sealedName, err = s.d.Protector.Seal(account.FieldRealName, p.RealName); err != nil {
			return problem.Wrap(err)
		}
		sealedName.Index = nil
		if sealedID, err = s.d.Protector.Seal(account.FieldIDNumber, p.IDNumber); err != nil {
			return problem.Wrap(err)
		}
	}
	// Whom the check was about must still be whom the account is: a
	// correction or an appeal may have changed the identity while the
	// check ran (a face verification takes minutes).
	whom := s.d.Protector.Index(account.FieldIDNumber, p.IDNumber)
	level := 0
	e := o.Entry(ActionBound, audit.ResultOK)
	e.Subject = account.MaskIDNumber(p.IDNumber)
	e.Detail = checkDetail(c)
	e.Detail["level"] = strconv.Itoa(m.Level)
	change := store.RealnameChange{Check: &c, Users: []store.RealnameUserChange{{
		UserID: c.UserID,
		Put:    []store.RealnameBinding{{UserID: c.UserID, Method: m.Name, Level: m.Level, Detail: detail, Reference: c.Reference, CreatedAt: c.CreatedAt}},
		Update: func(u store.User, bs []store.RealnameBinding) (store.User, error) {
			if m.Name == MethodRegistry {
				if u.RealnameLevel >= 1 {
					// Checked again with the row locked: of two
					// concurrent checks, one binds.
					return u, problem.New(problem.Conflict, "realname_locked")
				}
				u.RealName, u.IDNumber = sealedName, sealedID
			} else if !account.SameMAC(u.IDNumber.Index, whom) {
				return u, errIdentityChanged
			}
			level = Level(bs)
			if level < m.Level {
				return u, problem.New(problem.Invalid, "realname_level_required")
			}
			u.RealnameLevel, u.UpdatedAt = level, c.CreatedAt
			return u, nil
		},
	}}}
	ev := s.d.Audit.Event(e)
	err := s.d.Store.ChangeRealname(ctx, change, ev, audit.Hash)
	var ce *store.ConflictError
	switch {
	case err == nil:
		s.d.Audit.Committed(ev)
		return nil
	case errors.As(err, &ce):
		// Passed, and paid for: recorded, but bound nowhere. The
		// number verified elsewhere is kept as a MAC with the name, for
		// the appeal it allows.
		c.Result = ResultConflict
		if ce.Field == "id_number" && m.Name == MethodRegistry {
			c.Subject = s.appealSubject(p)
		}
		if rerr := s.recordCheck(ctx, c, o); rerr != nil {
			return rerr
		}
		if ce.Field == "closed_id_number" {
			return &problem.Problem{Kind: problem.Conflict, Code: "id_number_cooling_off", Err: err}
		}
		return &problem.Problem{Kind: problem.Conflict, Code: "id_number_verified_elsewhere", Err: err}
	case errors.As(err, new(*problem.Problem)):
		if errors.Is(err, errIdentityChanged) {
			c.Result = ResultMismatch
		}
		if rerr := s.recordCheck(ctx, c, o); rerr != nil {
			return rerr
		}
		return err
	default:
		return s.storeProblem("bind", err)
	}
}

// ---- redirect verifications ----

// redirectFlow is the data of a redirect verification's flow record.
type redirectFlow struct {
	Method   string `json:"method"`
	Provider string `json:"provider"`
	Ticket   string `json:"ticket"`
	// Subject is the blind index of the ID number the verification is
	// about, not the number: flow data is not sealed.
	Subject []byte `json:"subject"`
	Back    Back   `json:"back"`
}

// Back is where the upgrade page offers to go once a verification is
// done: a local path (Next; anything else is dropped) and the level the
// service there needs (Level, 0 when none), so that the page offers the
// way back only once the user has it.
type Back struct {
	Next  string `json:"next,omitempty"`
	Level int    `json:"level,omitempty"`
}

// StartRedirect starts the redirect verification method (face, netid,
// netid_face) and returns the verifier's URL for the browser. back is
// where the upgrade page should offer to go once it is done.
func (s *Service) StartRedirect(ctx context.Context, userID, method string, back Back, o audit.Origin) (string, error) {
	m, ok := s.method(method)
	if !ok || m.Kind != KindRedirect {
		return "", problem.Field("method", "realname_method_off")
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return "", err
	}
	p, err := s.verified(u)
	if err != nil {
		return "", err
	}
	if err := s.allow(ctx, userID, m.Name, o); err != nil {
		return "", err
	}
	id := flow.NewID()
	started, err := s.d.Provider.StartRedirect(ctx, m.Name, p, s.o.CallbackURL+"?flow="+url.QueryEscape(id))
	if err != nil {
		check := store.RealnameCheck{ID: newID(), UserID: userID, Method: m.Name, Provider: s.d.Provider.Name(), Result: ResultUnavailable, CreatedAt: s.now()}
		if rerr := s.recordCheck(ctx, check, o); rerr != nil {
			return "", rerr
		}
		return "", Unavailable(err)
	}
	now := s.now()
	_, err = flow.Start(ctx, s.d.Store, store.Flow{ID: id, Kind: FlowKind, State: FlowPending, Subject: userID,
		IssuedAt: now, ExpiresAt: now.Add(s.o.FlowTTL)},
		redirectFlow{Method: m.Name, Provider: s.d.Provider.Name(), Ticket: started.Ticket,
			Subject: s.d.Protector.Index(account.FieldIDNumber, p.IDNumber), Back: cleanBack(back)})
	if err != nil {
		return "", problem.Wrap(err)
	}
	return started.URL, nil
}

// Finished is how a redirect verification ended, for the page.
type Finished struct {
	Method string // "" when the flow was refused
	Result string // FinishOK, FinishFailed, ...
	Back   Back
}

// cleanBack keeps a local next and a level within 1…3, and a level only
// with a next.
func cleanBack(b Back) Back {
	b.Next = flow.LocalPath(b.Next)
	if b.Next == "" || b.Level < 1 || b.Level > claims.MaxLevel {
		b.Level = 0
	}
	return b
}

// FinishRedirect takes the verifier's callback for the flow flowID in the
// browser of userID: it asks the verifier for the result with the ticket
// kept in the flow and binds the method on a pass. A flow of another
// user, a forged or unknown ID, or a flow already finished is refused and
// changes nothing (FinishExpired).
func (s *Service) FinishRedirect(ctx context.Context, userID, flowID string, o audit.Origin) (Finished, error) {
	refused := func() (Finished, error) {
		e := o.Entry(ActionCallbackRefused, audit.ResultFailed)
		e.Detail = audit.Detail{"user": userID, "flow": flowID}
		s.d.Audit.Append(ctx, e)
		return Finished{Result: FinishExpired}, nil
	}
	f, data, err := flow.Load[redirectFlow](ctx, s.d.Store, FlowKind, flowID, s.now())
	var p *problem.Problem
	if errors.As(err, &p) && p.Code == flow.CodeExpired {
		return refused()
	}
	if err != nil {
		return Finished{}, problem.Wrap(err)
	}
	if f.Subject != userID || f.State != FlowPending {
		return refused()
	}
	fin := Finished{Method: data.Method, Back: data.Back}
	m, ok := s.method(data.Method)
	if !ok {
		return refused()
	}
	out, callErr := s.d.Provider.RedirectResult(ctx, data.Ticket)
	if callErr != nil {
		// The flow stays pending: the callback may be taken again.
		s.d.Logger.WarnContext(ctx, "real-name verifier unavailable", "method", m.Name, "err", callErr)
		fin.Result = FinishUnavailable
		return fin, nil
	}
	// Done before anything is bound: of two callbacks, one goes on.
	_, _, err = flow.Update(ctx, s.d.Store, FlowKind, flowID, s.now(), func(f *store.Flow, _ *redirectFlow) error {
		if f.Subject != userID || f.State != FlowPending {
			return flow.Expired()
		}
		f.State = FlowDone
		return nil
	})
	if errors.As(err, &p) && p.Code == flow.CodeExpired {
		return refused()
	}
	if err != nil {
		return Finished{}, problem.Wrap(err)
	}
	check := store.RealnameCheck{ID: newID(), UserID: userID, Method: m.Name, Provider: s.d.Provider.Name(),
		Result: out.Result, Reference: out.Reference, CreatedAt: s.now()}
	switch {
	case out.Result == ResultPass && !account.SameMAC(s.d.Protector.Index(account.FieldIDNumber, out.IDNumber), data.Subject):
		check.Result = ResultMismatch
	case out.Result == ResultPending:
		check.Result = ResultCancelled // back without finishing
	}
	if check.Result != ResultPass {
		if err := s.recordCheck(ctx, check, o); err != nil {
			return Finished{}, err
		}
		fin.Result = FinishFailed
		if check.Result == ResultCancelled {
			fin.Result = FinishCancelled
		}
		return fin, nil
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return Finished{}, err
	}
	pv, err := s.verified(u)
	if err != nil {
		fin.Result = FinishFailed
		return fin, s.recordCheck(ctx, check, o)
	}
	// Whom the verifier verified (the flow's person, checked above):
	// bind refuses it if the account holds another identity by now.
	pv.IDNumber = out.IDNumber
	if err := s.bind(ctx, check, m, pv, "", o); err != nil {
		if problem.As(err).Kind == problem.Internal {
			return Finished{}, err
		}
		fin.Result = FinishFailed
		return fin, nil
	}
	fin.Result = FinishOK
	return fin, nil
}

// ---- unbinding ----

// Unbind removes the user's binding of method and recomputes the level.
// The registry binding is not removable: level 1 is the account's
// identity, which only a reviewer changes.
func (s *Service) Unbind(ctx context.Context, userID, method string, o audit.Origin) (Status, error) {
	if method == MethodRegistry {
		return Status{}, problem.New(problem.Invalid, "binding_not_removable")
	}
	bs, err := s.d.Store.ListRealnameBindings(ctx, userID)
	if err != nil {
		return Status{}, problem.Wrap(err)
	}
	if !slices.ContainsFunc(bs, func(b store.RealnameBinding) bool { return b.Method == method }) {
		return Status{}, problem.New(problem.NotFound, "binding_not_found")
	}
	if err := s.unbind(ctx, userID, method, o.Entry(ActionUnbound, audit.ResultOK)); err != nil {
		return Status{}, err
	}
	return s.Status(ctx, userID)
}

// unbind removes the binding of method and recomputes the level, in one
// transaction with e.
func (s *Service) unbind(ctx context.Context, userID, method string, e audit.Entry) error {
	if e.Detail == nil {
		e.Detail = audit.Detail{}
	}
	e.Detail["user"], e.Detail["method"] = userID, method
	now := s.now()
	err := s.d.Store.ChangeRealname(ctx, store.RealnameChange{Users: []store.RealnameUserChange{{
		UserID: userID, Remove: []string{method},
		Update: func(u store.User, bs []store.RealnameBinding) (store.User, error) {
			u.RealnameLevel, u.UpdatedAt = Level(bs), now
			return u, nil
		},
	}}}, s.d.Audit.Event(e), audit.Hash)
	return s.storeProblem("unbind", err)
}

// AlipayUnlinked removes the alipay binding of a user who unlinked
// Alipay, and recomputes the level: the binding stood on the link. The
// user asked for the unlink; an account without the binding is left as
// it is.
func (s *Service) AlipayUnlinked(ctx context.Context, userID string) error {
	bs, err := s.d.Store.ListRealnameBindings(ctx, userID)
	if err != nil {
		return problem.Wrap(err)
	}
	if !slices.ContainsFunc(bs, func(b store.RealnameBinding) bool { return b.Method == MethodAlipay }) {
		return nil
	}
	e := audit.Origin{Actor: audit.User(userID)}.Entry(ActionUnbound, audit.ResultOK)
	e.Detail = audit.Detail{"via": "upstream.unlinked"}
	return s.unbind(ctx, userID, MethodAlipay, e)
}

// ---- counter and appeal ----

// RequestCounter files a counter verification (level 3 in person): a
// pending item whose reference the citizen quotes at the counter.
func (s *Service) RequestCounter(ctx context.Context, userID string, o audit.Origin) (review.Item, error) {
	if _, ok := s.method(MethodCounter); !ok {
		return review.Item{}, problem.New(problem.NotFound, "realname_method_off")
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return review.Item{}, err
	}
	p, err := s.verified(u)
	if err != nil {
		return review.Item{}, err
	}
	it, err := s.file(ctx, userID, KindCounterItem, p, nil, ActionCounter, o)
	return it, err
}

// AppealForm is what an appeal sends: the name and ID number the appellant
// claims, and the photos.
type AppealForm struct {
	RealName      string
	IDNumber      string
	IDPhoto       []byte
	HandheldPhoto []byte
}

// appealSubject is the keyed MAC of a person an appeal must match.
func (s *Service) appealSubject(p Person) []byte {
	return s.d.Protector.MAC(macAppealSubject, []byte(p.RealName), []byte(p.IDNumber))
}

// appealGrounds returns the user's registry checks of the last
// AppealWindow that found the number verified on another account.
func (s *Service) appealGrounds(ctx context.Context, userID string) ([]store.RealnameCheck, error) {
	cs, err := s.d.Store.ListRealnameChecks(ctx, userID, 100)
	if err != nil {
		return nil, problem.Wrap(err)
	}
	since := s.now().Add(-AppealWindow)
	return slices.DeleteFunc(cs, func(c store.RealnameCheck) bool {
		return c.Method != MethodRegistry || c.Result != ResultConflict || len(c.Subject) == 0 || c.CreatedAt.Before(since)
	}), nil
}

// appealable refuses an appeal of u: verified already, one pending, or
// no recent check that found a number verified elsewhere.
func (s *Service) appealable(ctx context.Context, u store.User) ([]store.RealnameCheck, error) {
	if u.RealnameLevel >= 1 {
		return nil, problem.New(problem.Conflict, "realname_locked")
	}
	pending, err := s.pending(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(pending) > 0 {
		return nil, problem.New(problem.Conflict, "realname_pending")
	}
	grounds, err := s.appealGrounds(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(grounds) == 0 {
		return nil, problem.New(problem.Invalid, "realname_appeal_without_conflict")
	}
	return grounds, nil
}

// CanAppeal is what an appeal checks before its body is read: the user
// may appeal (see Appeal), and has appeals left today (AppealsPerUserDay,
// each call counts one). It reads no upload.
func (s *Service) CanAppeal(ctx context.Context, userID string, o audit.Origin) error {
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	if _, err := s.appealable(ctx, u); err != nil {
		return err
	}
	wait, err := s.d.Limiter.Allow(ctx, s.now(), ratelimit.Rule{Key: "realname:appeal:d:" + userID, Limit: AppealsPerUserDay, Window: 24 * time.Hour})
	if err != nil {
		return problem.Wrap(fmt.Errorf("realname: rate limit: %w", err))
	}
	if wait > 0 {
		e := o.Entry(ActionAppealed, audit.ResultRateLimited)
		e.Detail = audit.Detail{"user": userID}
		s.refusedOnce(ctx, "appeal:"+userID, e)
		return &problem.Problem{Kind: problem.TooMany, Code: "realname_appeal_limit", RetryAfter: wait}
	}
	return nil
}

// Appeal files an appeal for an ID number verified on another account.
// It stands on a registry check of the last AppealWindow that passed for
// the same name and ID number but found the number verified on another
// account; without one it is refused (realname_appeal_without_conflict).
// The uploads are kept sealed with the item.
func (s *Service) Appeal(ctx context.Context, userID string, a AppealForm, o audit.Origin) (review.Item, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return review.Item{}, err
	}
	grounds, err := s.appealable(ctx, u)
	if err != nil {
		return review.Item{}, err
	}
	f := problem.FieldSet{}
	p, err := s.person(a.RealName, a.IDNumber)
	if pp := problem.As(err); err != nil && pp.Fields != nil {
		for k, v := range pp.Fields {
			f[k] = v
		}
	} else if err != nil {
		return review.Item{}, err
	}
	if err == nil {
		mac := s.appealSubject(p)
		if !slices.ContainsFunc(grounds, func(c store.RealnameCheck) bool { return account.SameMAC(c.Subject, mac) }) {
			return review.Item{}, problem.New(problem.Invalid, "realname_appeal_without_conflict")
		}
	}
	var files []store.ReviewFile
	for _, up := range []struct {
		label string
		data  []byte
	}{{UploadIDPhoto, a.IDPhoto}, {UploadHandheldPhoto, a.HandheldPhoto}} {
		ct, code := review.CheckUpload(up.data, MaxUpload)
		if code != "" {
			f[up.label] = code
			continue
		}
		sealed, err := s.d.Protector.Seal(sealReviewFile, string(up.data))
		if err != nil {
			return review.Item{}, problem.Wrap(err)
		}
		files = append(files, store.ReviewFile{ID: newID(), Label: up.label, ContentType: ct, Size: len(up.data), Data: sealed.Cipher})
	}
	if err := f.Err(); err != nil {
		return review.Item{}, err
	}
	return s.file(ctx, userID, KindAppealItem, p, files, ActionAppealed, o)
}

// itemData is the sealed JSON of an item.
type itemData struct {
	RealName string `json:"real_name"`
	IDNumber string `json:"id_number"`
}

// file creates a pending item of kind about p with files, unless the user
// has one pending already.
func (s *Service) file(ctx context.Context, userID, kind string, p Person, files []store.ReviewFile, action string, o audit.Origin) (review.Item, error) {
	pending, err := s.pending(ctx, userID)
	if err != nil {
		return review.Item{}, err
	}
	if len(pending) > 0 {
		return review.Item{}, problem.New(problem.Conflict, "realname_pending")
	}
	data, err := json.Marshal(itemData(p))
	if err != nil {
		return review.Item{}, problem.Wrap(err)
	}
	sealed, err := s.d.Protector.Seal(sealReviewData, string(data))
	if err != nil {
		return review.Item{}, problem.Wrap(err)
	}
	it := store.ReviewItem{ID: newID(), Kind: kind, State: review.StatePending, Reference: newReference(), UserID: userID,
		Subject: maskPerson(p), Data: sealed.Cipher, CreatedAt: s.now()}
	for i := range files {
		files[i].ItemID = it.ID
	}
	e := o.Entry(action, audit.ResultOK)
	e.Subject = it.Subject
	e.Detail = audit.Detail{"user": userID, "item": it.ID, "reference": it.Reference}
	if len(files) > 0 {
		e.Detail["files"] = strconv.Itoa(len(files))
	}
	if err := s.d.Store.ChangeRealname(ctx, store.RealnameChange{Item: &it, Files: files}, s.d.Audit.Event(e), audit.Hash); err != nil {
		return review.Item{}, s.storeProblem("file", err)
	}
	return review.ItemOf(it), nil
}

func maskPerson(p Person) string {
	return account.MaskName(p.RealName) + " " + account.MaskIDNumber(p.IDNumber)
}

// ---- reviewer correction ----

// Correct sets the real name and ID number of a verified account, by a
// reviewer, with a reason. The bindings above level 1 were proven for
// the identity corrected, so they are removed and the level recomputed;
// the registry binding stays (the reviewer checked the documents). An
// account below level 1 is refused (realname_not_verified: its owner
// changes the name and ID number), an ID number verified on another
// account is a conflict. The account's sessions and grants end, and the
// citizen is told (EventCorrected).
func (s *Service) Correct(ctx context.Context, userID, realName, idNumber, reason string, by audit.Origin) error {
	reason, err := review.CleanReason(reason, true)
	if err != nil {
		return err
	}
	p, err := s.person(realName, idNumber)
	if err != nil {
		return err
	}
	name, err := s.d.Protector.Seal(account.FieldRealName, p.RealName)
	if err != nil {
		return problem.Wrap(err)
	}
	name.Index = nil
	idn, err := s.d.Protector.Seal(account.FieldIDNumber, p.IDNumber)
	if err != nil {
		return problem.Wrap(err)
	}
	now := s.now()
	e := by.Entry(ActionCorrected, audit.ResultOK)
	e.Subject = maskPerson(p)
	e.Detail = audit.Detail{"user": userID, "reason": reason, "removed_above": "1"}
	err = s.d.Store.ChangeRealname(ctx, store.RealnameChange{Users: []store.RealnameUserChange{{UserID: userID, RemoveAbove: 1,
		Update: func(u store.User, bs []store.RealnameBinding) (store.User, error) {
			if u.RealnameLevel < 1 {
				return u, problem.New(problem.Conflict, "realname_not_verified")
			}
			u.RealName, u.IDNumber, u.UpdatedAt = name, idn, now
			u.RealnameLevel = Level(bs)
			return u, nil
		}}}}, s.d.Audit.Event(e), audit.Hash)
	if err != nil {
		return s.storeProblem("correct", err)
	}
	// Sessions and tokens carry the identity corrected: they end, as
	// after an appeal that moves a verification away.
	if s.d.Access != nil {
		if err := s.d.Access.EndAccess(ctx, userID, session.ViaRealnameCorrected); err != nil {
			s.d.Logger.ErrorContext(ctx, "end access after a correction", "user", userID, "err", err)
		}
	}
	if s.d.Tell != nil {
		s.d.Tell(ctx, userID, EventCorrected, map[string]string{})
	}
	return nil
}

// ---- review.Queue ----

// Kinds lists the item kinds of this queue.
func (s *Service) Kinds() []string { return []string{KindCounterItem, KindAppealItem} }

// List returns a page of the queue, oldest first. The cursor is opaque:
// the creation time and ID of the page's last item.
func (s *Service) List(ctx context.Context, p review.Page) ([]review.Item, string, error) {
	kinds := s.Kinds()
	if p.Kind != "" {
		if !slices.Contains(kinds, p.Kind) {
			return nil, "", problem.Field("kind", "review_kind")
		}
		kinds = []string{p.Kind}
	}
	if p.State == "" {
		p.State = review.StatePending
	}
	if p.Limit <= 0 || p.Limit > 100 {
		p.Limit = 50
	}
	q := store.ReviewPage{Kinds: kinds, State: p.State, Limit: p.Limit}
	if p.After != "" {
		t, id, ok := parseCursor(p.After)
		if !ok {
			return nil, "", problem.Field("after", "review_cursor")
		}
		q.AfterTime, q.AfterID = t, id
	}
	items, err := s.d.Store.ListReviewItems(ctx, q)
	if err != nil {
		return nil, "", problem.Wrap(err)
	}
	out := make([]review.Item, len(items))
	for i, it := range items {
		out[i] = review.ItemOf(it)
	}
	next := ""
	if len(items) == p.Limit {
		last := items[len(items)-1]
		next = cursor(last.CreatedAt, last.ID)
	}
	return out, next, nil
}

func cursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMilli(), 10) + "." + id))
}

func parseCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ms, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", false
	}
	return time.UnixMilli(n).UTC(), id, true
}

// item returns an item of this queue.
func (s *Service) item(ctx context.Context, id string) (store.ReviewItem, error) {
	it, err := s.d.Store.GetReviewItem(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !slices.Contains(s.Kinds(), it.Kind) {
		return store.ReviewItem{}, problem.New(problem.NotFound, "review_item_not_found")
	}
	if err != nil {
		return store.ReviewItem{}, problem.Wrap(err)
	}
	return it, nil
}

func (s *Service) openData(it store.ReviewItem) (itemData, error) {
	var d itemData
	plain, err := s.d.Protector.Open(sealReviewData, store.Sealed{Cipher: it.Data})
	if err != nil {
		return d, problem.Wrap(err)
	}
	if err := json.Unmarshal([]byte(plain), &d); err != nil {
		return d, problem.Wrap(err)
	}
	return d, nil
}

// Open returns an item unmasked with its files (without data), audited.
func (s *Service) Open(ctx context.Context, id string, by audit.Origin) (review.Detail, error) {
	it, err := s.item(ctx, id)
	if err != nil {
		return review.Detail{}, err
	}
	d, err := s.openData(it)
	if err != nil {
		return review.Detail{}, err
	}
	files, err := s.d.Store.ListReviewFiles(ctx, it.ID)
	if err != nil {
		return review.Detail{}, problem.Wrap(err)
	}
	e := by.Entry(ActionReviewOpened, audit.ResultOK)
	e.Subject = it.Subject
	e.Detail = audit.Detail{"item": it.ID, "kind": it.Kind, "user": it.UserID}
	s.d.Audit.Append(ctx, e)
	out := review.Detail{Item: review.ItemOf(it), Fields: []review.Field{
		{Label: "review.field.real_name", Value: d.RealName},
		{Label: "review.field.id_number", Value: d.IDNumber},
	}, Files: review.Files(files)}
	return out, nil
}

// File returns one file of an item with its data, audited.
func (s *Service) File(ctx context.Context, itemID, fileID string, by audit.Origin) (review.File, error) {
	it, err := s.item(ctx, itemID)
	if err != nil {
		return review.File{}, err
	}
	return review.OpenFile(ctx, s.d.Store, it, fileID, func(cipher []byte) (string, error) {
		return s.d.Protector.Open(sealReviewFile, store.Sealed{Cipher: cipher})
	}, s.d.Audit, ActionReviewFile, by)
}

// Decide approves or rejects a pending item with a reason and applies it:
// a counter item binds counter; an appeal moves the verification of its
// ID number to the appellant (the account that held it loses every
// binding, drops to level 0 and is told). One transaction with its event.
func (s *Service) Decide(ctx context.Context, id string, approve bool, reason string, by audit.Origin) (review.Item, error) {
	reason, err := review.CleanReason(reason, true)
	if err != nil {
		return review.Item{}, err
	}
	it, err := s.item(ctx, id)
	if err != nil {
		return review.Item{}, err
	}
	if it.State != review.StatePending {
		return review.Item{}, problem.New(problem.Conflict, "review_decided")
	}
	now := s.now()
	state := review.StateRejected
	if approve {
		state = review.StateApproved
	}
	decidedBy := by.Actor.ID
	change := store.RealnameChange{Decision: &store.ReviewDecision{ItemID: it.ID, State: state, DecidedAt: now, DecidedBy: decidedBy, Reason: reason}}
	e := by.Entry(ActionReviewDecided, state)
	e.Subject = it.Subject
	e.Detail = audit.Detail{"item": it.ID, "kind": it.Kind, "user": it.UserID, "reason": reason}
	movedFrom := ""
	if approve {
		d, err := s.openData(it)
		if err != nil {
			return review.Item{}, err
		}
		relevel := func(u store.User, bs []store.RealnameBinding) (store.User, error) {
			u.RealnameLevel, u.UpdatedAt = Level(bs), now
			return u, nil
		}
		switch it.Kind {
		case KindCounterItem:
			m, ok := s.method(MethodCounter)
			if !ok {
				return review.Item{}, problem.New(problem.Conflict, "realname_method_off")
			}
			change.Users = []store.RealnameUserChange{{UserID: it.UserID,
				Put: []store.RealnameBinding{{UserID: it.UserID, Method: MethodCounter, Level: m.Level, Reference: it.Reference, CreatedAt: now}},
				Update: func(u store.User, bs []store.RealnameBinding) (store.User, error) {
					if !account.SameMAC(u.IDNumber.Index, s.d.Protector.Index(account.FieldIDNumber, d.IDNumber)) || u.RealnameLevel < 1 {
						// The account is no longer the person who came.
						return u, problem.New(problem.Conflict, "review_subject_changed")
					}
					return relevel(u, bs)
				}}}
		case KindAppealItem:
			idx := s.d.Protector.Index(account.FieldIDNumber, d.IDNumber)
			holder, err := s.d.Store.GetUserByVerifiedIDNumber(ctx, idx)
			switch {
			case err == nil && holder.ID != it.UserID:
				movedFrom = holder.ID
				e.Detail["moved_from"] = holder.ID
				change.Users = append(change.Users, store.RealnameUserChange{UserID: holder.ID, RemoveAll: true,
					Update: func(u store.User, bs []store.RealnameBinding) (store.User, error) {
						u, err := relevel(u, bs)
						u.RealnameLevel = 0
						return u, err
					}})
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return review.Item{}, problem.Wrap(err)
			}
			name, err := s.d.Protector.Seal(account.FieldRealName, d.RealName)
			if err != nil {
				return review.Item{}, problem.Wrap(err)
			}
			name.Index = nil
			idn, err := s.d.Protector.Seal(account.FieldIDNumber, d.IDNumber)
			if err != nil {
				return review.Item{}, problem.Wrap(err)
			}
			change.Users = append(change.Users, store.RealnameUserChange{UserID: it.UserID, RemoveAll: true,
				Put: []store.RealnameBinding{{UserID: it.UserID, Method: MethodRegistry, Level: 1, Reference: it.Reference, CreatedAt: now}},
				Update: func(u store.User, bs []store.RealnameBinding) (store.User, error) {
					u.RealName, u.IDNumber = name, idn
					return relevel(u, bs)
				}})
		}
	}
	err = s.d.Store.ChangeRealname(ctx, change, s.d.Audit.Event(e), audit.Hash)
	switch {
	case errors.Is(err, store.ErrConflict) && !errors.As(err, new(*store.ConflictError)):
		return review.Item{}, problem.New(problem.Conflict, "review_decided")
	case err != nil:
		if p := problem.As(err); p.Kind != problem.Internal {
			return review.Item{}, err
		}
		return review.Item{}, s.storeProblem("decide", err)
	}
	if approve {
		s.tell(ctx, it.UserID, EventApproved, it)
		if movedFrom != "" {
			// The old holder's sessions and tokens were issued to an
			// identity it no longer has: they end, as after a password
			// change.
			if s.d.Access != nil {
				if err := s.d.Access.EndAccess(ctx, movedFrom, session.ViaRealnameMovedAway); err != nil {
					s.d.Logger.ErrorContext(ctx, "end the old holder's access after an appeal", "item", it.ID, "err", err)
				}
			}
			s.tell(ctx, movedFrom, EventMovedAway, it)
		}
	} else {
		s.tell(ctx, it.UserID, EventRejected, it)
	}
	it.State, it.DecidedAt, it.DecidedBy, it.Reason = state, now, decidedBy, reason
	return review.ItemOf(it), nil
}

func (s *Service) tell(ctx context.Context, userID, event string, it store.ReviewItem) {
	if s.d.Tell != nil {
		s.d.Tell(ctx, userID, event, map[string]string{"kind": it.Kind, "reference": it.Reference})
	}
}

// ---- helpers ----

func (s *Service) user(ctx context.Context, userID string) (store.User, error) {
	u, err := s.d.Store.GetUser(ctx, userID)
	if err != nil {
		return store.User{}, s.storeProblem("get user", err)
	}
	if u.Status == store.UserClosed {
		return store.User{}, problem.New(problem.NotFound, "not_found")
	}
	return u, nil
}

func (s *Service) storeProblem(op string, err error) error {
	var ce *store.ConflictError
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*problem.Problem)):
		return err
	case errors.Is(err, store.ErrNotFound):
		return &problem.Problem{Kind: problem.NotFound, Code: "not_found", Err: err}
	case errors.As(err, &ce) && ce.Field == "id_number":
		return &problem.Problem{Kind: problem.Conflict, Code: "id_number_verified_elsewhere", Err: err}
	case errors.As(err, &ce) && ce.Field == "review_pending":
		return &problem.Problem{Kind: problem.Conflict, Code: "realname_pending", Err: err}
	case errors.As(err, &ce) && ce.Field == "closed_id_number":
		return &problem.Problem{Kind: problem.Conflict, Code: "id_number_cooling_off", Err: err}
	}
	return problem.Wrap(fmt.Errorf("realname: %s: %w", op, err))
}

func newID() string { return strings.ToLower(rand.Text()) }

// referenceAlphabet leaves out letters and digits read alike (0/O, 1/I/L).
const referenceAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newReference returns a six-character code a citizen reads out at a
// counter.
func newReference() string {
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = referenceAlphabet[int(b[i])%len(referenceAlphabet)]
	}
	return string(b)
}
