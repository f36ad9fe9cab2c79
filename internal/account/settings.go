package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"unid/internal/audit"
	"unid/internal/notify"
	"unid/internal/problem"
	"unid/internal/store"
)

// The changes an owner makes to their own account in the user center.

// Audit actions of the user center's changes.
const (
	ActionProfileChanged = "account.profile_changed" // Detail {user, by, fields}
	ActionPIIRevealed    = "account.pii_revealed"    // Detail {user, by}
	ActionPhoneChanged   = "account.phone_changed"   // Subject: the new number, masked; Detail {user, by, old}
)

// Fields of the personal information, as the API names them.
const (
	FieldNickname = "nickname"
	FieldWorkUnit = "work_unit"
)

// Lengths of the personal information, in characters.
const (
	NicknameMaxLength = 20
	WorkUnitMaxLength = 60
)

// ProfileChange is new personal information, as typed. A nil field stays as
// it is; an empty one is removed.
type ProfileChange struct {
	Nickname *string
	WorkUnit *string
}

// cleanText trims s and checks it for a free-text field of the profile: at
// most max characters, valid UTF-8, no control or format characters (which
// could hide text or reorder it on screen). "" is allowed: not set.
func cleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(foldSpace(s))
	if !utf8.ValidString(s) {
		return "", problem.Field(field, "invalid_characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", problem.Field(field, "invalid_characters")
		}
	}
	if utf8.RuneCountInString(s) > max {
		return "", problem.Field(field, field+"_too_long")
	}
	return s, nil
}

// foldSpace turns the ideographic space of Chinese input methods into an
// ordinary one, so that trimming removes it.
func foldSpace(s string) string { return strings.ReplaceAll(s, "\u3000", " ") }

// UpdateProfile changes the nickname and the work unit of the account.
// Every broken rule is reported at once and nothing changes; an update
// that changes nothing is not audited.
func (s *Service) UpdateProfile(ctx context.Context, userID string, c ProfileChange, actor audit.Actor) (store.User, error) {
	if !validActor(actor) {
		return store.User{}, problem.Wrap(fmt.Errorf("account: update profile: invalid actor %+v", actor))
	}
	f := problem.FieldSet{}
	type change struct {
		field, kind, value string
		dst                func(*store.User) *store.Sealed
	}
	var changes []change
	for _, in := range []struct {
		field string
		value *string
		max   int
		dst   func(*store.User) *store.Sealed
	}{
		{FieldNickname, c.Nickname, NicknameMaxLength, func(u *store.User) *store.Sealed { return &u.Nickname }},
		{FieldWorkUnit, c.WorkUnit, WorkUnitMaxLength, func(u *store.User) *store.Sealed { return &u.WorkUnit }},
	} {
		if in.value == nil {
			continue
		}
		v, err := cleanText(in.field, *in.value, in.max)
		f.Add(in.field, err)
		changes = append(changes, change{in.field, in.field, v, in.dst})
	}
	if err := f.Err(); err != nil {
		return store.User{}, err
	}
	sealed := make([]store.Sealed, len(changes))
	for i, ch := range changes {
		v, err := s.prot.Seal(ch.kind, ch.value)
		if err != nil {
			return store.User{}, problem.Wrap(err)
		}
		v.Index = nil // never looked up
		sealed[i] = v
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var changed []string
	u, err := s.st.UpdateUser(ctx, userID, func(old store.User) (store.User, error) {
		changed = changed[:0]
		for i, ch := range changes {
			dst := ch.dst(&old)
			was, err := s.prot.Open(ch.kind, *dst)
			if err != nil {
				return old, err
			}
			if was != ch.value {
				*dst = sealed[i]
				changed = append(changed, ch.field)
			}
		}
		if len(changed) > 0 {
			old.UpdatedAt = now
		}
		return old, nil
	})
	if err != nil {
		return store.User{}, s.storeProblem("update profile", err)
	}
	if len(changed) > 0 {
		s.audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionProfileChanged, Result: audit.ResultOK,
			Detail: audit.Detail{"user": userID, "by": string(actor.Kind), "fields": strings.Join(changed, ",")}})
	}
	return u, nil
}

// Revealed is the owner's own phone number and ID number in full.
type Revealed struct {
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
}

// Reveal opens the account's phone and ID number for its owner, who has
// just re-entered the password (the caller's check). It is audited, the
// values never.
func (s *Service) Reveal(ctx context.Context, userID string, actor audit.Actor) (Revealed, error) {
	if !validActor(actor) {
		return Revealed{}, problem.Wrap(fmt.Errorf("account: reveal: invalid actor %+v", actor))
	}
	u, err := s.get(ctx, userID)
	if err != nil {
		return Revealed{}, err
	}
	var out Revealed
	if out.Phone, err = s.prot.Open(FieldPhone, u.Phone); err != nil {
		return Revealed{}, problem.Wrap(err)
	}
	if out.IDNumber, err = s.prot.Open(FieldIDNumber, u.IDNumber); err != nil {
		return Revealed{}, problem.Wrap(err)
	}
	s.record(ctx, ActionPIIRevealed, userID, actor, "")
	return out, nil
}

// Keep says what a password change leaves standing of the access the old
// password opened.
type Keep struct {
	// SID is the browser session that made the change: it stays signed in
	// (with the service systems it signed in to) when the others end.
	// "": every session ends.
	SID string
	// Others: every other session and every OpenID Connect grant stays
	// too; the owner chose not to sign out elsewhere. Only the password
	// changes.
	Others bool
}

// SetPasswordKeeping is SetPassword for the owner's own change in the user
// center, which may keep the owner's current session (keep.SID) and, if
// the owner asks, everything else (keep.Others). With keep.SID set and
// keep.Others false, every other session ends with single logout and
// every grant is revoked: a service system signed in through the kept
// session obtains new tokens through it.
func (s *Service) SetPasswordKeeping(ctx context.Context, userID, newPassword string, keep Keep, actor audit.Actor) error {
	return s.setPassword(ctx, userID, newPassword, keep, actor)
}

// SetPhone binds the account to a new phone number, which its owner has
// just proved they hold (the caller's check, with an SMS code). A number
// another account holds is problem.Conflict phone_registered. The old
// number is told (TemplatePhoneChanged): if someone else made the change,
// the owner learns of it there. Audited, with both numbers masked.
func (s *Service) SetPhone(ctx context.Context, userID, phone string, actor audit.Actor) error {
	if !validActor(actor) {
		return problem.Wrap(fmt.Errorf("account: set phone: invalid actor %+v", actor))
	}
	phone, err := NormalizePhone(phone)
	if err != nil {
		return err
	}
	sealed, err := s.prot.Seal(FieldPhone, phone)
	if err != nil {
		return problem.Wrap(err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var old store.User
	_, err = s.st.UpdateUser(ctx, userID, func(u store.User) (store.User, error) {
		old = u
		u.Phone = sealed
		u.UpdatedAt = now
		return u, nil
	})
	var conflict *store.ConflictError
	if errors.As(err, &conflict) && conflict.Field == "phone" {
		return &problem.Problem{Kind: problem.Conflict, Code: "phone_registered", Fields: map[string]string{FieldPhone: "phone_registered"}, Err: err}
	}
	if errors.As(err, &conflict) && conflict.Field == "closed_phone" {
		return phoneCoolingOff(err)
	}
	if err != nil {
		return s.storeProblem("set phone", err)
	}
	was := ""
	if !old.Phone.Empty() {
		if v, err := s.prot.Open(FieldPhone, old.Phone); err == nil {
			was = MaskPhone(v)
		}
	}
	s.audit.Append(ctx, audit.Entry{Actor: actor, Action: ActionPhoneChanged, Result: audit.ResultOK, Subject: MaskPhone(phone),
		Detail: audit.Detail{"user": userID, "by": string(actor.Kind), "old": was}})
	s.tell(ctx, old, notify.TemplatePhoneChanged)
	return nil
}
