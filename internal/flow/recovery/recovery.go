// Package recovery lets a citizen who lost the password set a new one
// (找回密码) after proving who they are: by a code sent to the bound phone
// (a Channel; email is the next one) or by the account's security
// questions (package questions), alone or, where the deployment asks for
// it (QuestionsWithCode), together with a code.
//
// Each recovery is a flow record (internal/flow) of Kind, 15 minutes long:
//
//	Start (identifier + captcha) ──▶ started
//	started ── SendCode (any number, within the SMS limits) ──▶ started
//	started ── Prove (right code, or right answers) ──▶ proven
//	StartProven (an identity provider vouched for the linked person) ──▶ proven
//	proven ── SetPassword (under the policy) ──▶ done
//	   any other step, a step out of order, a finished or expired flow ──▶ 410 flow_expired
//
// No answer tells whether the identifier has an account, or which methods
// it has. Start answers the same for every identifier and offers every
// method; a code goes out only to an address the account has, and where
// there is none a code nobody knows stands in for it (smscode.SendBlind),
// so that proving fails exactly as a wrong code does, with the same
// limits. Questions always cost three hash verifications
// (questions.Verify); an identifier without questions is shown three
// decoy questions, the same ones every time. Failed answers count per
// account (or per identifier with none): QuestionsLockThreshold of them
// lock question recovery for QuestionsLockDuration, for everybody alike.
//
// On success SetPassword (account.Service) ends every session and grant of
// the account and tells the owner; the login lock is lifted
// (login.Service.ClearLock). Every step is audited (Action*), with the
// user as actor when there is an account, and anonymous with the masked
// identifier when there is none. Answering questions and setting the new
// password hash passwords, so in a burst beyond what the cores hash they
// answer busy (account.Hasher.Admit) before anything counts or is spent.
package recovery

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/captcha"
	"unid/internal/emailcode"
	"unid/internal/flow"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/questions"
	"unid/internal/ratelimit"
	"unid/internal/session"
	"unid/internal/smscode"
	"unid/internal/store"
)

// Kind is the flow kind of a recovery.
const Kind = "recovery"

// States of a recovery flow.
const (
	StateStarted = "started" // the identifier is given; the person proves who they are
	StateProven  = "proven"  // proven; the new password is next
	StateDone    = "done"    // the password is set; the flow is spent
)

// TTL is how long a recovery can take.
const TTL = 15 * time.Minute

// Purpose is the code purpose of recovery.
const Purpose = "recover"

// Methods of proof. A Channel's Method is one too.
const (
	MethodPhone     = "phone"
	MethodEmail     = "email"
	MethodQuestions = "questions"
)

// Question modes (config recovery.questions).
const (
	QuestionsAlone    = "alone"     // the three answers are enough
	QuestionsWithCode = "with_code" // the answers and a code to a bound address
)

// Audit actions.
const (
	ActionStarted   = "recovery.started"
	ActionCodeSent  = "recovery.code_sent"
	ActionProven    = "recovery.proven"
	ActionFailed    = "recovery.failed"
	ActionLocked    = "recovery.questions_locked"
	ActionCompleted = "recovery.completed"
)

// Codes sends and checks codes on one channel; *smscode.Service is one.
type Codes interface {
	SendBlind(ctx context.Context, purpose, key, to, ip string) (smscode.Sent, error)
	Check(ctx context.Context, purpose, key, code string) error
	Use(ctx context.Context, purpose, key, code string) error
}

// Channel is a way to send a code to an address bound to the account. A
// new channel (email) is one more entry of Deps.Channels.
type Channel struct {
	Method string
	// Kind is the identifier kind that is an address on this channel (a
	// phone number is one for SMS): a recovery started with such an
	// identifier that has no account keys its stand-in code by it, so
	// that the channel's per-address limits answer alike with an account
	// or without.
	Kind account.Kind
	// Address returns the account's address on this channel, "" when it
	// has none.
	Address func(u store.User) (string, error)
	Codes   Codes
}

// PhoneChannel sends codes by SMS to the account's bound phone.
func PhoneChannel(codes *smscode.Service, prot *account.Protector) Channel {
	return Channel{Method: MethodPhone, Kind: account.KindPhone, Codes: codes, Address: func(u store.User) (string, error) {
		if u.Phone.Empty() {
			return "", nil
		}
		return prot.Open(account.FieldPhone, u.Phone)
	}}
}

// EmailChannel sends codes by email to the account's bound address.
func EmailChannel(codes *emailcode.Service, prot *account.Protector) Channel {
	return Channel{Method: MethodEmail, Kind: account.KindUnknown, Codes: emailCodes{codes}, Address: func(u store.User) (string, error) {
		if u.Email.Empty() {
			return "", nil
		}
		return prot.Open(account.FieldEmail, u.Email)
	}}
}

// emailCodes is the email code service as a channel's Codes.
type emailCodes struct{ s *emailcode.Service }

func (e emailCodes) SendBlind(ctx context.Context, purpose, key, to, ip string) (smscode.Sent, error) {
	sent, err := e.s.SendBlind(ctx, purpose, key, to, ip)
	return smscode.Sent{ExpiresAt: sent.ExpiresAt, ResendAfter: sent.ResendAfter}, err
}

func (e emailCodes) Check(ctx context.Context, purpose, key, code string) error {
	return e.s.CheckKey(ctx, purpose, key, code)
}

func (e emailCodes) Use(ctx context.Context, purpose, key, code string) error {
	return e.s.UseKey(ctx, purpose, key, code)
}

// Locks lifts login locks; *login.Service is one.
type Locks interface {
	ClearLock(ctx context.Context, userID string) error
}

// Options are the rules of recovery.
type Options struct {
	QuestionsMode          string        // QuestionsAlone (default) or QuestionsWithCode
	QuestionsLockThreshold int           // failed answers that lock question recovery; default 5
	QuestionsLockDuration  time.Duration // default 24h
}

// Deps are what a Service is built from.
type Deps struct {
	Accounts  *account.Service
	Users     store.Users
	Flows     store.Flows
	Questions *questions.Service
	Locks     Locks
	Captchas  *captcha.Service
	Limiter   *ratelimit.Limiter
	Protector *account.Protector
	Audit     *audit.Log
	Channels  []Channel
	Logger    *slog.Logger
	Now       func() time.Time
	Options   Options
}

// Service runs recoveries.
type Service struct {
	d       Deps
	log     *slog.Logger
	notices sync.WaitGroup
}

// New returns a Service over d.
func New(d Deps) *Service {
	if d.Options.QuestionsMode == "" {
		d.Options.QuestionsMode = QuestionsAlone
	}
	if d.Options.QuestionsLockThreshold <= 0 {
		d.Options.QuestionsLockThreshold = 5
	}
	if d.Options.QuestionsLockDuration <= 0 {
		d.Options.QuestionsLockDuration = 24 * time.Hour
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, log: log}
}

// Wait returns when every notice started so far is handed over.
func (s *Service) Wait() { s.notices.Wait() }

// Methods are the ways of proof the pages offer, to everybody alike.
func (s *Service) Methods() []string {
	var out []string
	for _, c := range s.d.Channels {
		out = append(out, c.Method)
	}
	return append(out, MethodQuestions)
}

// QuestionsMode is QuestionsAlone or QuestionsWithCode.
func (s *Service) QuestionsMode() string { return s.d.Options.QuestionsMode }

// data is what a recovery flow keeps.
type data struct {
	Masked    string                  `json:"masked"`    // the identifier as the audit log shows it
	Key       string                  `json:"key"`       // keyed hash of the identifier: codes and locks of an identifier without an address or account
	Questions [questions.Count]string `json:"questions"` // the IDs shown
	Kind      account.Kind            `json:"kind"`      // of the identifier
	Sealed    []byte                  `json:"sealed"`    // the identifier, sealed: the key of stand-in codes for a channel of its kind
	Method    string                  `json:"method,omitempty"`
	Tries     int                     `json:"tries,omitempty"` // proofs tried in this flow
}

// Limits of proofs: a flow takes MaxProofs tries (a code or answers), then
// the person starts again with a new captcha; one client address tries at
// most ProofsPerAddressHour proofs an hour, over all flows. Answers cost
// three password hashes each, so neither may be free.
const (
	MaxProofs            = 5
	ProofsPerAddressHour = 60
)

// identifierField is the kind of personal data the identifier of a flow
// is sealed as.
const identifierField = "recovery_identifier"

// Started is the answer to Start: the same shape for every identifier.
type Started struct {
	ID        string
	ExpiresAt time.Time
}

// Start begins a recovery for identifier once the captcha is answered.
func (s *Service) Start(ctx context.Context, identifier, captchaID, captchaAnswer string, c flow.Client) (Started, error) {
	identifier = strings.TrimSpace(identifier)
	f := problem.FieldSet{}
	if identifier == "" {
		f.Add("identifier", problem.Field("identifier", "identifier_required"))
	}
	if captchaID == "" || captchaAnswer == "" {
		f.Add("captcha_answer", problem.Field("captcha_answer", "captcha_required"))
	}
	if err := f.Err(); err != nil {
		return Started{}, err
	}
	if err := s.d.Captchas.Verify(ctx, captchaID, captchaAnswer); err != nil {
		return Started{}, err
	}
	kind, ident := account.Recognize(identifier)
	u, found, err := s.d.Accounts.Find(ctx, identifier)
	if err != nil {
		return Started{}, problem.Wrap(err)
	}
	norm := []byte(account.LoginNameKey(ident))
	d := data{
		Masked: account.MaskIdentifier(kind, ident, found),
		Key:    hex.EncodeToString(s.d.Protector.MAC("recovery-identifier", norm)),
	}
	// Chosen looks in the store for every identifier ("" finds nothing),
	// so that a missing account costs the same query.
	ids, ok, err := s.d.Questions.Chosen(ctx, u.ID)
	if err != nil {
		return Started{}, err
	}
	if !ok {
		ids = s.d.Questions.List().Decoy(s.d.Protector.MAC("recovery-decoy", norm))
	}
	d.Questions = ids
	sealed, err := s.d.Protector.Seal(identifierField, ident)
	if err != nil {
		return Started{}, problem.Wrap(err)
	}
	d.Kind, d.Sealed = kind, sealed.Cipher
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	fl, err := flow.Start(ctx, s.d.Flows, store.Flow{
		Kind: Kind, State: StateStarted, Subject: u.ID, IssuedAt: now, ExpiresAt: now.Add(TTL),
	}, d)
	if err != nil {
		return Started{}, problem.Wrap(err)
	}
	s.record(ctx, c, ActionStarted, u.ID, d.Masked, audit.ResultOK, nil)
	return Started{ID: fl.ID, ExpiresAt: fl.ExpiresAt}, nil
}

// StartProven begins a recovery that is proven already: an identity
// provider (method, e.g. "alipay") vouched for a person whose identity is
// linked to the account u. The flow goes straight to SetPassword.
func (s *Service) StartProven(ctx context.Context, u store.User, method string, c flow.Client) (Started, error) {
	d := data{Masked: u.LoginName, Method: method} // login names are public
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	fl, err := flow.Start(ctx, s.d.Flows, store.Flow{
		Kind: Kind, State: StateProven, Subject: u.ID, IssuedAt: now, ExpiresAt: now.Add(TTL),
	}, d)
	if err != nil {
		return Started{}, problem.Wrap(err)
	}
	s.record(ctx, c, ActionProven, u.ID, d.Masked, audit.ResultOK, audit.Detail{"method": method})
	return Started{ID: fl.ID, ExpiresAt: fl.ExpiresAt}, nil
}

// Questions returns the three questions of the flow, for the questions
// method: the account's, or decoys.
func (s *Service) Questions(ctx context.Context, id string) ([]questions.Question, error) {
	_, d, err := s.load(ctx, id, StateStarted)
	if err != nil {
		return nil, err
	}
	out := make([]questions.Question, 0, questions.Count)
	for _, qid := range d.Questions {
		q, ok := s.d.Questions.List().Get(qid)
		if !ok {
			// A question taken off the list since: shown by its ID, so
			// that the owner still sees three and may still answer.
			q = questions.Question{ID: qid, ZH: qid, EN: qid}
		}
		out = append(out, q)
	}
	return out, nil
}

// Sent says when a code expires and when another may be asked for.
type Sent struct {
	ExpiresIn   time.Duration
	ResendAfter time.Duration
}

// SendCode sends a code on the channel of method to the account's address
// there, or stands a code nobody knows in for it (see the package doc).
func (s *Service) SendCode(ctx context.Context, id, method string, c flow.Client) (Sent, error) {
	fl, d, err := s.load(ctx, id, StateStarted)
	if err != nil {
		return Sent{}, err
	}
	ch, ok := s.channel(method)
	if !ok {
		return Sent{}, problem.Field("method", "recovery_method_unknown")
	}
	u, err := s.user(ctx, fl.Subject)
	if err != nil {
		return Sent{}, err
	}
	key, to, err := s.address(ch, u, d)
	if err != nil {
		return Sent{}, err
	}
	sent, err := ch.Codes.SendBlind(ctx, Purpose, key, to, c.IP)
	result := audit.ResultOK
	if err != nil {
		result = problem.As(err).Code
	}
	s.record(ctx, c, ActionCodeSent, fl.Subject, d.Masked, result, audit.Detail{"method": method})
	if err != nil {
		return Sent{}, err
	}
	return Sent{ExpiresIn: sent.ExpiresAt.Sub(s.d.Now()), ResendAfter: sent.ResendAfter}, nil
}

// Proof is one attempt to prove who one is.
type Proof struct {
	Method     string                  // a Channel's method, or MethodQuestions
	Code       string                  // the code of Method, or of CodeMethod with QuestionsWithCode
	CodeMethod string                  // the channel of Code with questions; default MethodPhone
	Answers    [questions.Count]string // MethodQuestions: in the order of Questions
}

// Prove checks p and moves the flow on to proven.
func (s *Service) Prove(ctx context.Context, id string, p Proof, c flow.Client) error {
	ipRule := ratelimit.Rule{Key: "recovery-proof-ip:" + hex.EncodeToString(s.d.Protector.MAC("recovery-proof-ip", []byte(ratelimit.Address(c.IP)))), Limit: ProofsPerAddressHour, Window: time.Hour}
	if p.Method == MethodQuestions {
		// Three hashes, account or not: in a burst the answer is busy
		// before the try, the address's proofs or a code count.
		var admitted func()
		var err error
		if ctx, admitted, err = s.admitAnswers(ctx, id, ipRule); err != nil {
			return err
		}
		defer admitted()
	}
	if wait, err := s.d.Limiter.Allow(ctx, s.d.Now(), ipRule); err != nil {
		return problem.Wrap(err)
	} else if wait > 0 {
		return &problem.Problem{Kind: problem.TooMany, Code: "recovery_rate_limited", RetryAfter: wait}
	}
	// Count the try in the flow first: past MaxProofs the flow is over.
	fl, d, err := flow.Update(ctx, s.d.Flows, Kind, id, s.d.Now(), func(f *store.Flow, d *data) error {
		if f.State != StateStarted {
			return flow.Expired()
		}
		d.Tries++
		if d.Tries > MaxProofs {
			f.State = StateDone
		}
		return nil
	})
	if err != nil {
		return err
	}
	if d.Tries > MaxProofs {
		return flow.Expired()
	}
	u, err := s.user(ctx, fl.Subject)
	if err != nil {
		return err
	}
	var use func() error // takes the code once everything else is right
	switch p.Method {
	case MethodQuestions:
		use, err = s.proveQuestions(ctx, fl, d, u, p, c)
	default:
		ch, ok := s.channel(p.Method)
		if !ok {
			return problem.Field("method", "recovery_method_unknown")
		}
		use, err = s.checkCode(ctx, ch, u, d, p.Code)
	}
	if err == nil && use != nil {
		err = use()
	}
	if err != nil {
		pr := problem.As(err)
		if pr.Kind != problem.Internal {
			s.record(ctx, c, ActionFailed, fl.Subject, d.Masked, pr.Code, audit.Detail{"method": p.Method})
		}
		return err
	}
	_, _, err = flow.Update(ctx, s.d.Flows, Kind, id, s.d.Now(), func(f *store.Flow, d *data) error {
		if f.State != StateStarted {
			return flow.Expired()
		}
		f.State, d.Method = StateProven, p.Method
		return nil
	})
	if err != nil {
		return err
	}
	s.record(ctx, c, ActionProven, fl.Subject, d.Masked, audit.ResultOK, audit.Detail{"method": p.Method})
	return nil
}

// admitAnswers asks the hasher (account.Service.Admit) for the three
// hashes of answers to the questions, counting nothing, once the flow may
// still be proven and the address is within its proofs: made-up flows and
// refused addresses hold no places in the queue. Those are let through
// unadmitted, to be answered by Prove as they would be in no burst.
func (s *Service) admitAnswers(ctx context.Context, id string, ipRule ratelimit.Rule) (context.Context, func(), error) {
	none := func() {}
	if _, d, err := s.load(ctx, id, StateStarted); err != nil || d.Tries >= MaxProofs {
		return ctx, none, nil
	}
	if wait, err := s.d.Limiter.Exceeded(ctx, s.d.Now(), ipRule); err != nil || wait > 0 {
		return ctx, none, nil
	}
	return s.d.Accounts.Admit(ctx, questions.Count)
}

// checkCode counts an attempt at code on ch and, when it is right, returns
// the function that takes it.
func (s *Service) checkCode(ctx context.Context, ch Channel, u store.User, d data, code string) (func() error, error) {
	key, _, err := s.address(ch, u, d)
	if err != nil {
		return nil, err
	}
	if err := ch.Codes.Check(ctx, Purpose, key, code); err != nil {
		return nil, codeField(err)
	}
	return func() error { return codeField(ch.Codes.Use(ctx, Purpose, key, code)) }, nil
}

// proveQuestions checks the answers (and, with QuestionsWithCode, first a
// code: without it the answers are not looked at, so that they cannot be
// guessed without the phone).
func (s *Service) proveQuestions(ctx context.Context, fl store.Flow, d data, u store.User, p Proof, c flow.Client) (func() error, error) {
	f := problem.FieldSet{}
	for i, a := range p.Answers {
		if questions.Normalize(a) == "" {
			n := string(rune('1' + i))
			f.Add("answer"+n, problem.Field("answer"+n, "answer_required"))
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var use func() error
	if s.d.Options.QuestionsMode == QuestionsWithCode {
		method := p.CodeMethod
		if method == "" {
			method = MethodPhone
		}
		ch, ok := s.channel(method)
		if !ok {
			return nil, problem.Field("code_method", "recovery_method_unknown")
		}
		var err error
		if use, err = s.checkCode(ctx, ch, u, d, p.Code); err != nil {
			return nil, err
		}
	}
	now := s.d.Now()
	key := "id:" + d.Key
	if fl.Subject != "" {
		key = "user:" + fl.Subject
	}
	o := s.d.Options
	fail := ratelimit.Rule{Key: "recovery-q-fail:" + key, Limit: int64(o.QuestionsLockThreshold), Window: o.QuestionsLockDuration}
	lock := ratelimit.Rule{Key: "recovery-q-lock:" + key, Limit: 1, Window: o.QuestionsLockDuration}
	wait, err := s.d.Limiter.Exceeded(ctx, now, lock)
	if err != nil {
		return nil, problem.Wrap(err)
	}
	if wait > 0 {
		// Locked: answered at once. The lock is the identifier's, for an
		// account or not alike, so hashing would hide nothing and only
		// hand a stranger three password hashes of unid's time.
		return nil, &problem.Problem{Kind: problem.TooMany, Code: "recovery_questions_locked", RetryAfter: wait}
	}
	// Counted before the answers are checked, so that concurrent attempts
	// cannot all pass the lock check.
	count, _, err := s.d.Limiter.Hit(ctx, now, fail)
	if err != nil {
		return nil, problem.Wrap(err)
	}
	// Always three hash verifications, account or not.
	ok, err := s.d.Questions.Verify(ctx, fl.Subject, p.Answers)
	if err != nil {
		return nil, err
	}
	if count > fail.Limit {
		return nil, &problem.Problem{Kind: problem.TooMany, Code: "recovery_questions_locked", RetryAfter: o.QuestionsLockDuration}
	}
	if !ok {
		if count == fail.Limit {
			_, resetAt, err := s.d.Limiter.Hit(ctx, now, lock)
			if err != nil {
				return nil, problem.Wrap(err)
			}
			if err := s.d.Limiter.Reset(ctx, fail.Key); err != nil {
				return nil, problem.Wrap(err)
			}
			s.record(ctx, c, ActionLocked, fl.Subject, d.Masked, audit.ResultOK, nil)
			s.tell(ctx, u) // once per lock: someone tried the answers
			return nil, &problem.Problem{Kind: problem.TooMany, Code: "recovery_questions_locked", RetryAfter: resetAt.Sub(now)}
		}
		return nil, problem.Field("answers", "recovery_answers_wrong")
	}
	if err := s.d.Limiter.Reset(ctx, fail.Key); err != nil {
		return nil, problem.Wrap(err)
	}
	s.tell(ctx, u) // the answers were right: the owner must know
	return use, nil
}

// SetPassword gives the account of a proven flow its new password, ends
// every session and grant it had, lifts its login lock and ends the flow.
func (s *Service) SetPassword(ctx context.Context, id, password, confirm string, c flow.Client) error {
	fl, d, err := s.load(ctx, id, StateProven)
	if err != nil {
		return err
	}
	u, err := s.user(ctx, fl.Subject)
	if err != nil {
		return err
	}
	if u.ID == "" {
		return flow.Expired() // the account was closed meanwhile
	}
	f := problem.FieldSet{}
	if password == "" {
		f.Add("password", problem.Field("password", "password_required"))
	} else {
		f.Add("password", account.CheckPassword(password, u.LoginName))
	}
	if confirm != password {
		f.Add("password_confirm", problem.Field("password_confirm", "password_mismatch"))
	}
	if err := f.Err(); err != nil {
		return err
	}
	// The new password's hash waits its turn: in a burst the answer is
	// busy while the flow is still proven, for the next try.
	ctx, admitted, err := s.d.Accounts.Admit(ctx, 1)
	if err != nil {
		return err
	}
	defer admitted()
	// The flow is spent before the password changes: of two concurrent
	// requests, one sets it.
	if _, _, err := flow.Update(ctx, s.d.Flows, Kind, id, s.d.Now(), func(f *store.Flow, _ *data) error {
		if f.State != StateProven {
			return flow.Expired()
		}
		f.State = StateDone
		return nil
	}); err != nil {
		return err
	}
	// The flow is spent: the rest is done even if the browser hangs up.
	ctx, cancel := session.Detach(ctx)
	defer cancel()
	// A password set whose old sessions could not all be ended is still
	// set: the lock is cleared and the recovery recorded, then the failure
	// reported.
	err = s.d.Accounts.SetPassword(ctx, u.ID, password, audit.User(u.ID))
	if err != nil && !errors.Is(err, account.ErrAccessNotEnded) {
		return err
	}
	ctx, cancel = session.Detach(ctx) // a fresh budget: the password is set
	defer cancel()
	if lerr := s.d.Locks.ClearLock(ctx, u.ID); lerr != nil {
		// The recovery happened; the lock lifts at its own time. Telling
		// the user to try again would only find the flow spent.
		s.log.ErrorContext(ctx, "recovery: clear the lock after the new password", "err", lerr)
	}
	s.record(ctx, c, ActionCompleted, u.ID, d.Masked, audit.ResultOK, audit.Detail{"method": d.Method})
	return err // nil, or the password changed and its problem says what remains
}

// load returns the flow and its data when it is in state, else Expired.
func (s *Service) load(ctx context.Context, id, state string) (store.Flow, data, error) {
	fl, d, err := flow.Load[data](ctx, s.d.Flows, Kind, id, s.d.Now())
	if err != nil {
		return store.Flow{}, data{}, err
	}
	if fl.State != state {
		return store.Flow{}, data{}, flow.Expired()
	}
	return fl, d, nil
}

// user returns the flow's account, or the zero User when there is none.
// The store is asked either way, so that no account costs the same.
func (s *Service) user(ctx context.Context, id string) (store.User, error) {
	u, err := s.d.Users.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.Status != store.UserActive {
		return store.User{}, nil
	}
	if err != nil {
		return store.User{}, problem.Wrap(err)
	}
	return u, nil
}

func (s *Service) channel(method string) (Channel, bool) {
	i := slices.IndexFunc(s.d.Channels, func(c Channel) bool { return c.Method == method })
	if i < 0 {
		return Channel{}, false
	}
	return s.d.Channels[i], true
}

// address returns the key a code on ch is bound to and where it goes: the
// account's address, or, without one, a key of the identifier and nowhere.
func (s *Service) address(ch Channel, u store.User, d data) (key, to string, err error) {
	if u.ID != "" {
		if to, err = ch.Address(u); err != nil {
			return "", "", problem.Wrap(err)
		}
	}
	if to == "" {
		if ch.Kind == d.Kind && ch.Kind != account.KindUnknown {
			ident, err := s.d.Protector.Open(identifierField, store.Sealed{Cipher: d.Sealed})
			if err != nil {
				return "", "", problem.Wrap(err)
			}
			return ident, "", nil
		}
		return "recovery:" + ch.Method + ":" + d.Key, "", nil
	}
	return to, to, nil
}

// codeField names a code problem's field "code", the field of the
// recovery forms, whatever the channel calls it.
func codeField(err error) error {
	var p *problem.Problem
	if !errors.As(err, &p) || len(p.Fields) == 0 {
		return err
	}
	q := *p
	q.Fields = map[string]string{}
	for _, v := range p.Fields {
		q.Fields["code"] = v
	}
	return &q
}

// tell sends the owner of u, in the background, the notice that the
// questions were used.
func (s *Service) tell(ctx context.Context, u store.User) {
	ctx = context.WithoutCancel(ctx)
	s.notices.Go(func() { s.d.Accounts.Tell(ctx, u, notify.TemplateQuestionsUsed) })
}

func (s *Service) record(ctx context.Context, c flow.Client, action, userID, masked, result string, detail audit.Detail) {
	actor := audit.Anonymous()
	if userID != "" {
		actor = audit.User(userID)
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: action, Result: result, IP: c.IP, UserAgent: c.UserAgent, Subject: masked, Detail: detail})
}
