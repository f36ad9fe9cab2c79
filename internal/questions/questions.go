package questions

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/width"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/i18n"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/store"
)

// Count is how many questions an account answers.
const Count = 3

// MaxAnswer bounds an answer, in characters after normalisation.
const MaxAnswer = 64

// ActionSet is the audit action of setting an account's questions.
const ActionSet = "account.security_questions_set"

// Question is one entry of the list.
type Question struct {
	ID string `json:"id"` // stable: stored with the answers
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Text is the question in lang.
func (q Question) Text(lang i18n.Lang) string {
	if lang == i18n.EN && q.EN != "" {
		return q.EN
	}
	return q.ZH
}

//go:embed default.json
var defaultList []byte

// List is the configured list of questions, in the order the pages show.
type List struct {
	all  []Question
	byID map[string]Question
}

// Load reads the list from path, a JSON array like default.json, or
// returns unid's default list when path is "".
func Load(path string) (*List, error) {
	data := defaultList
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("questions: %w", err)
		}
		data = b
	}
	return Parse(data)
}

// Parse reads a list: at least Count + 2 questions (so that a decoy is not
// the only choice there is), each with a unique ID of letters, digits and
// "_", and its text in Chinese.
func Parse(data []byte) (*List, error) {
	var qs []Question
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&qs); err != nil {
		return nil, fmt.Errorf("questions: list: %w", err)
	}
	if len(qs) < Count+2 {
		return nil, fmt.Errorf("questions: list has %d questions, want at least %d", len(qs), Count+2)
	}
	l := &List{all: qs, byID: make(map[string]Question, len(qs))}
	for i, q := range qs {
		if !validID(q.ID) {
			return nil, fmt.Errorf("questions: question %d: id %q is not 1-32 letters, digits or _", i+1, q.ID)
		}
		if _, dup := l.byID[q.ID]; dup {
			return nil, fmt.Errorf("questions: question id %q appears twice", q.ID)
		}
		if strings.TrimSpace(q.ZH) == "" {
			return nil, fmt.Errorf("questions: question %q has no Chinese text", q.ID)
		}
		l.byID[q.ID] = q
	}
	return l, nil
}

func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// All returns the questions in order.
func (l *List) All() []Question { return l.all }

// Get returns the question with the ID.
func (l *List) Get(id string) (Question, bool) {
	q, ok := l.byID[id]
	return q, ok
}

// Decoy returns Count distinct questions picked by seed (a keyed hash of
// an identifier): the same seed always gives the same ones, so that an
// identifier without questions shows the same three every time, as one
// with questions does.
func (l *List) Decoy(seed []byte) [Count]string {
	var out [Count]string
	idx := make([]int, len(l.all))
	for i := range idx {
		idx[i] = i
	}
	for i := range Count {
		var n uint64
		if len(seed) >= 8*(i+1) {
			n = binary.BigEndian.Uint64(seed[8*i:])
		}
		j := i + int(n%uint64(len(idx)-i))
		idx[i], idx[j] = idx[j], idx[i]
		out[i] = l.all[idx[i]].ID
	}
	return out
}

var fold = cases.Fold()

// Normalize is the form of an answer that is hashed and compared: trimmed,
// full-width letters, digits and spaces folded to half-width, case-folded,
// and every run of inner white space one space.
func Normalize(answer string) string {
	s := width.Fold.String(strings.ToValidUTF8(answer, ""))
	s = fold.String(s)
	return strings.Join(strings.Fields(s), " ")
}

// Answer is one chosen question and its answer as typed.
type Answer struct {
	Question string
	Answer   string
}

// Status is what the owner is shown of their questions.
type Status struct {
	Set   bool
	SetAt time.Time
}

// Deps are what a Service is built from.
type Deps struct {
	Store  store.SecurityQuestions
	Hasher *account.Hasher
	List   *List
	Audit  *audit.Log
	Now    func() time.Time
	// Tell tells the owner of userID of a change (a notify.Template*
	// name); nil: nobody is told.
	Tell func(ctx context.Context, userID, template string)
}

// Service sets and checks security questions.
type Service struct{ d Deps }

// New returns a Service over d.
func New(d Deps) *Service { return &Service{d: d} }

// List returns the configured list.
func (s *Service) List() *List { return s.d.List }

// Set replaces the account's questions with answers: Count distinct
// questions of the list, each with an answer of 1 to MaxAnswer characters
// once normalised. Every broken rule is reported at once, by field
// ("question1", "answer2", ...), and nothing changes.
func (s *Service) Set(ctx context.Context, userID string, answers []Answer, actor audit.Actor) (Status, error) {
	if len(answers) != Count {
		return Status{}, problem.Field("answers", "questions_count")
	}
	f := problem.FieldSet{}
	rec := store.SecurityAnswers{UserID: userID}
	seen := map[string]bool{}
	norm := make([]string, Count)
	for i, a := range answers {
		n := strconv.Itoa(i + 1)
		switch _, ok := s.d.List.Get(a.Question); {
		case a.Question == "":
			f.Add("question"+n, problem.Field("question"+n, "question_required"))
		case !ok:
			f.Add("question"+n, problem.Field("question"+n, "question_unknown"))
		case seen[a.Question]:
			f.Add("question"+n, problem.Field("question"+n, "question_repeated"))
		}
		seen[a.Question] = true
		rec.Questions[i] = a.Question
		norm[i] = Normalize(a.Answer)
		switch {
		case norm[i] == "":
			f.Add("answer"+n, problem.Field("answer"+n, "answer_required"))
		case utf8.RuneCountInString(norm[i]) > MaxAnswer:
			f.Add("answer"+n, problem.Field("answer"+n, "answer_too_long"))
		}
	}
	if err := f.Err(); err != nil {
		return Status{}, err
	}
	// Three hashes, asked for by a signed-in person at will: in a burst
	// they are judged like a sign-in, and count as three for those after.
	ctx, admitted, err := s.d.Hasher.Admit(ctx, Count)
	if err != nil {
		return Status{}, err
	}
	defer admitted()
	for i := range Count {
		h, err := s.d.Hasher.Hash(ctx, norm[i])
		if err != nil {
			return Status{}, problem.Wrap(err)
		}
		rec.Hashes[i] = h
	}
	rec.SetAt = s.d.Now().UTC().Truncate(time.Millisecond)
	if err := s.d.Store.PutSecurityAnswers(ctx, rec); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Status{}, &problem.Problem{Kind: problem.NotFound, Code: "not_found", Err: err}
		}
		return Status{}, problem.Wrap(err)
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionSet, Result: audit.ResultOK,
		Detail: audit.Detail{"user": userID}})
	if s.d.Tell != nil {
		// Questions recover the password: the owner must know whenever
		// they change, on every channel.
		s.d.Tell(ctx, userID, notify.TemplateQuestionsSet)
	}
	return Status{Set: true, SetAt: rec.SetAt}, nil
}

// Status says whether the account has questions, and since when.
func (s *Service) Status(ctx context.Context, userID string) (Status, error) {
	a, err := s.d.Store.GetSecurityAnswers(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, problem.Wrap(err)
	}
	return Status{Set: true, SetAt: a.SetAt}, nil
}

// lookupID is the ID the store is asked for: userID, or for no account
// one that never exists, so that a missing account costs the same query.
func lookupID(userID string) string {
	if userID == "" {
		return "-" // account IDs are base32: never "-"
	}
	return userID
}

// Chosen returns the account's questions; ok is false when it has none
// (or userID is "", no account).
func (s *Service) Chosen(ctx context.Context, userID string) (ids [Count]string, ok bool, err error) {
	a, err := s.d.Store.GetSecurityAnswers(ctx, lookupID(userID))
	if errors.Is(err, store.ErrNotFound) {
		return ids, false, nil
	}
	if err != nil {
		return ids, false, problem.Wrap(err)
	}
	return a.Questions, true, nil
}

// Verify reports whether answers, in the order of the account's questions,
// are all right. It always verifies Count hashes and looks at every answer
// whatever the others: an account without questions, and userID "" (no
// account), cost the same and answer false.
func (s *Service) Verify(ctx context.Context, userID string, answers [Count]string) (bool, error) {
	var hashes [Count]string
	a, err := s.d.Store.GetSecurityAnswers(ctx, lookupID(userID))
	switch {
	case err == nil:
		hashes = a.Hashes
	case !errors.Is(err, store.ErrNotFound):
		return false, problem.Wrap(err)
	}
	all := true
	for i := range Count {
		if hashes[i] == "" {
			s.d.Hasher.DummyVerify(ctx)
			all = false
			continue
		}
		norm := Normalize(answers[i])
		ok, _, err := s.d.Hasher.Verify(ctx, norm, hashes[i])
		if err != nil {
			return false, problem.Wrap(err)
		}
		all = all && ok && norm != ""
	}
	return all, nil
}
