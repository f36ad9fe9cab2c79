package records

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"unid/internal/flow"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/store"
)

// PageSize is how many messages one page of the list holds.
const PageSize = 20

// Deps are what a Service is built from.
type Deps struct {
	Store   store.Messages
	Catalog *i18n.Catalog
	Now     func() time.Time
}

// Service posts and lists citizens' messages.
type Service struct {
	st  store.Messages
	cat *i18n.Catalog
	now func() time.Time
}

// New returns a Service over d.
func New(d Deps) *Service {
	return &Service{st: d.Store, cat: d.Catalog, now: d.Now}
}

// TitleKey and BodyKey are the message keys of an event's texts.
func TitleKey(event string) string { return "message." + event + ".title" }

// BodyKey is the message key of an event's body.
func BodyKey(event string) string { return "message." + event + ".body" }

// placeholder matches a {name} of a text.
var placeholder = regexp.MustCompile(`\{([a-z0-9_]+)\}`)

// Post leaves a message for userID about event, its texts filled from
// params, leading to link (a path on this site, or ""). A missing or
// closed account is store.ErrNotFound; a message the catalog cannot
// render completely is refused. Either is an error of the caller, not a
// problem a citizen is shown.
func (s *Service) Post(ctx context.Context, userID, event string, params map[string]string, link string) error {
	if err := s.check(event, params, link); err != nil {
		return fmt.Errorf("records: post %s: %w", event, err)
	}
	p := make(map[string]string, len(params))
	for k, v := range params {
		p[k] = v
	}
	m := store.Message{
		ID: newID(), UserID: userID, Event: event, Params: p, Link: link,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond),
	}
	if err := s.st.PostMessage(ctx, m); err != nil {
		return fmt.Errorf("records: post %s: %w", event, err)
	}
	return nil
}

// check refuses what would show a citizen a raw key, an unfilled
// placeholder or a link away from the site.
func (s *Service) check(event string, params map[string]string, link string) error {
	if event == "" {
		return errors.New("no event")
	}
	for _, key := range []string{TitleKey(event), BodyKey(event)} {
		if !s.cat.Has(key) {
			return fmt.Errorf("no message %q in the catalog", key)
		}
		for _, lang := range i18n.Langs {
			for _, m := range placeholder.FindAllStringSubmatch(s.cat.T(lang, key), -1) {
				if _, ok := params[m[1]]; !ok {
					return fmt.Errorf("message %q needs the parameter %q", key, m[1])
				}
			}
		}
	}
	if link != "" && flow.LocalPath(link) == "" {
		return fmt.Errorf("link %q is not a path on this site", link)
	}
	return nil
}

// View is a message as its reader sees it.
type View struct {
	ID        string
	Title     string
	Body      string
	Link      string
	CreatedAt time.Time
	Read      bool
}

// Page is one page of a user's messages, newest first, with the cursor
// of the next page ("" on the last) and how many are unread in all.
type Page struct {
	Messages []View
	Next     string
	Unread   int
}

// List returns the page of userID's messages after the cursor ("" for the
// first page), rendered in lang. A cursor this package did not make is an
// Invalid problem.
func (s *Service) List(ctx context.Context, lang i18n.Lang, userID, after string) (Page, error) {
	cur, err := parseCursor(after)
	if err != nil {
		return Page{}, &problem.Problem{Kind: problem.Invalid, Code: "message_cursor_invalid", Fields: map[string]string{"after": "message_cursor_invalid"}, Err: err}
	}
	list, err := s.st.ListMessages(ctx, userID, cur, PageSize+1)
	if err != nil {
		return Page{}, problem.Wrap(fmt.Errorf("records: list messages: %w", err))
	}
	unread, err := s.st.CountUnreadMessages(ctx, userID)
	if err != nil {
		return Page{}, problem.Wrap(fmt.Errorf("records: count unread messages: %w", err))
	}
	p := Page{Messages: make([]View, 0, min(len(list), PageSize)), Unread: unread}
	if len(list) > PageSize {
		list = list[:PageSize]
		last := list[PageSize-1]
		p.Next = formatCursor(store.MessageCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, m := range list {
		p.Messages = append(p.Messages, s.render(lang, m))
	}
	return p, nil
}

func (s *Service) render(lang i18n.Lang, m store.Message) View {
	kv := make([]string, 0, 2*len(m.Params))
	for k, v := range m.Params {
		kv = append(kv, k, v)
	}
	v := View{ID: m.ID, Link: m.Link, CreatedAt: m.CreatedAt, Read: !m.ReadAt.IsZero()}
	if s.cat.Has(TitleKey(m.Event)) && s.cat.Has(BodyKey(m.Event)) {
		v.Title, v.Body = s.cat.T(lang, TitleKey(m.Event), kv...), s.cat.T(lang, BodyKey(m.Event), kv...)
	} else {
		// An event a later release of unid no longer describes.
		v.Title, v.Body = s.cat.T(lang, "message.unknown.title"), s.cat.T(lang, "message.unknown.body")
	}
	return v
}

// MarkRead marks userID's message id read. Another user's message is not
// found, like a missing one.
func (s *Service) MarkRead(ctx context.Context, userID, id string) error {
	err := s.st.MarkMessageRead(ctx, userID, id, s.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return &problem.Problem{Kind: problem.NotFound, Code: "message_not_found", Err: err}
	}
	if err != nil {
		return problem.Wrap(fmt.Errorf("records: mark message read: %w", err))
	}
	return nil
}

// formatCursor and parseCursor make the opaque cursor of a page:
// base64url of "<created_at in unix ms>.<id>".
func formatCursor(c store.MessageCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMilli(), 10) + "." + c.ID))
}

func parseCursor(s string) (store.MessageCursor, error) {
	if s == "" {
		return store.MessageCursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.MessageCursor{}, err
	}
	msStr, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(msStr, 10, 64)
	if !ok || err != nil || id == "" || n <= 0 {
		return store.MessageCursor{}, fmt.Errorf("records: cursor %q", s)
	}
	return store.MessageCursor{CreatedAt: time.UnixMilli(n).UTC(), ID: id}, nil
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
