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
	"unid/internal/store"
)

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
	u, err := s.d.Users.GetUser(ctx, userID)
	if err == nil && u.Status == store.UserClosed {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("records: post %s: %w", event, err)
	}
	p := make(map[string]string, len(params))
	for k, v := range params {
		p[k] = v
	}
	now := s.now()
	id := newID()
	m := store.Record{
		ID: id, Kind: store.RecordMessage, UserID: userID, ExternalID: id, Event: event, Params: p, Link: link,
		SubmittedAt: now, UpdatedAt: now, CreatedAt: now,
	}
	if _, err := s.d.Store.UpsertRecords(ctx, []store.Record{m}); err != nil {
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
		if !s.d.Catalog.Has(key) {
			return fmt.Errorf("no message %q in the catalog", key)
		}
		for _, lang := range i18n.Langs {
			for _, m := range placeholder.FindAllStringSubmatch(s.d.Catalog.T(lang, key), -1) {
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

// renderEvent is the title and body of unid's own message about event,
// in lang; an event a later release no longer describes reads as a
// generic notice, never as a raw key.
func (s *Service) renderEvent(lang i18n.Lang, event string, params map[string]string) (title, body string) {
	kv := make([]string, 0, 2*len(params))
	for k, v := range params {
		kv = append(kv, k, v)
	}
	cat := s.d.Catalog
	if cat.Has(TitleKey(event)) && cat.Has(BodyKey(event)) {
		return cat.T(lang, TitleKey(event), kv...), cat.T(lang, BodyKey(event), kv...)
	}
	return cat.T(lang, "message.unknown.title"), cat.T(lang, "message.unknown.body")
}

// formatCursor and parseCursor make the opaque cursor of a page of
// records: base64url of "<submitted_at in unix ms>.<id>".
func formatCursor(c store.RecordCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.SubmittedAt.UnixMilli(), 10) + "." + c.ID))
}

func parseCursor(s string) (store.RecordCursor, error) {
	if s == "" {
		return store.RecordCursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.RecordCursor{}, err
	}
	msStr, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(msStr, 10, 64)
	if !ok || err != nil || id == "" || n <= 0 {
		return store.RecordCursor{}, fmt.Errorf("records: cursor %q", s)
	}
	return store.RecordCursor{SubmittedAt: time.UnixMilli(n).UTC(), ID: id}, nil
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
