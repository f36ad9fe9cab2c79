package enterprise

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/problem"
	"unid/internal/review"
	"unid/internal/store"
)

// UploadLicence is the label of the business licence upload.
const UploadLicence = "licence"

// Sealing kinds of what an appeal keeps (as real-name's review items).
const (
	sealReviewData = "review.data"
	sealReviewFile = "review.file"
)

var _ review.Queue = (*Service)(nil)

// AppealForm is an appeal with the business licence: the enterprise and
// the licence (JPEG, PNG or PDF, at most MaxUpload bytes).
type AppealForm struct {
	USCC    string
	Name    string
	Licence []byte
}

// appealData is the sealed JSON of an appeal item.
type appealData struct {
	USCC string `json:"uscc"`
	Name string `json:"name"`
}

// Appeal files an appeal to become legal representative of an enterprise
// the registry does not name the user for, with the business licence,
// for a reviewer (review kind enterprise.appeal, in the console's inbox).
// The real-name level of Bind applies; one pending appeal per user.
func (s *Service) Appeal(ctx context.Context, userID string, a AppealForm, o audit.Origin) (review.Item, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return review.Item{}, err
	}
	if u.RealnameLevel < s.o.BindMinLevel {
		return review.Item{}, problem.New(problem.Forbidden, "realname_level_required")
	}
	f := problem.FieldSet{}
	uscc, err := ParseUSCC(a.USCC)
	if err != nil {
		f["uscc"] = "uscc_format"
	}
	name := strings.TrimSpace(a.Name)
	if name == "" {
		f["name"] = "enterprise_name_required"
	}
	var file store.ReviewFile
	if ct, code := review.CheckUpload(a.Licence, MaxUpload); code != "" {
		f[UploadLicence] = code
	} else {
		sealed, err := s.d.Protector.Seal(sealReviewFile, string(a.Licence))
		if err != nil {
			return review.Item{}, problem.Wrap(err)
		}
		file = store.ReviewFile{ID: newID(), Label: UploadLicence, ContentType: ct, Size: len(a.Licence), Data: sealed.Cipher}
	}
	if err := f.Err(); err != nil {
		return review.Item{}, err
	}
	if m, err := s.d.Store.GetEnterpriseMember(ctx, uscc, userID); err == nil && m.Role == RoleLegalRep {
		return review.Item{}, problem.New(problem.Conflict, "enterprise_bound")
	}
	data, _ := json.Marshal(appealData{USCC: uscc, Name: name})
	sealed, err := s.d.Protector.Seal(sealReviewData, string(data))
	if err != nil {
		return review.Item{}, problem.Wrap(err)
	}
	it := store.ReviewItem{ID: newID(), Kind: KindAppealItem, State: review.StatePending, Reference: newReference(), UserID: userID,
		Subject: account.MaskName(s.realName(u)) + " " + uscc, Data: sealed.Cipher, CreatedAt: s.now()}
	file.ItemID = it.ID
	e := o.Entry(ActionAppealed, audit.ResultOK)
	e.Subject = it.Subject
	e.Detail = audit.Detail{"uscc": uscc, "item": it.ID, "reference": it.Reference}
	err = s.d.Store.ChangeEnterprise(ctx, store.EnterpriseChange{Review: &it, ReviewFiles: []store.ReviewFile{file}}, s.d.Audit.Event(e), audit.Hash)
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Field == "review_pending" {
		return review.Item{}, problem.New(problem.Conflict, "enterprise_appeal_pending")
	}
	if err != nil {
		return review.Item{}, problem.Wrap(err)
	}
	return review.ItemOf(it), nil
}

// Kinds lists the item kinds of this queue.
func (s *Service) Kinds() []string { return []string{KindAppealItem} }

// List returns a page of appeals, oldest first.
func (s *Service) List(ctx context.Context, p review.Page) ([]review.Item, string, error) {
	if p.Kind != "" && p.Kind != KindAppealItem {
		return nil, "", problem.Field("kind", "review_kind")
	}
	if p.State == "" {
		p.State = review.StatePending
	}
	if p.Limit <= 0 || p.Limit > 100 {
		p.Limit = 50
	}
	q := store.ReviewPage{Kinds: s.Kinds(), State: p.State, Limit: p.Limit}
	if p.After != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.After)
		msText, id, ok := strings.Cut(string(b), ".")
		n, nerr := strconv.ParseInt(msText, 10, 64)
		if err != nil || !ok || nerr != nil || id == "" {
			return nil, "", problem.Field("after", "review_cursor")
		}
		q.AfterTime, q.AfterID = time.UnixMilli(n).UTC(), id
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
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.CreatedAt.UnixMilli(), 10) + "." + last.ID))
	}
	return out, next, nil
}

func (s *Service) item(ctx context.Context, id string) (store.ReviewItem, appealData, error) {
	var d appealData
	it, err := s.d.Store.GetReviewItem(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && it.Kind != KindAppealItem {
		return it, d, problem.New(problem.NotFound, "review_item_not_found")
	}
	if err != nil {
		return it, d, problem.Wrap(err)
	}
	plain, err := s.d.Protector.Open(sealReviewData, store.Sealed{Cipher: it.Data})
	if err != nil {
		return it, d, problem.Wrap(err)
	}
	if err := json.Unmarshal([]byte(plain), &d); err != nil {
		return it, d, problem.Wrap(err)
	}
	return it, d, nil
}

// Open returns an appeal with the appellant's verified name and ID number
// and the enterprise, audited.
func (s *Service) Open(ctx context.Context, id string, by audit.Origin) (review.Detail, error) {
	it, d, err := s.item(ctx, id)
	if err != nil {
		return review.Detail{}, err
	}
	files, err := s.d.Store.ListReviewFiles(ctx, it.ID)
	if err != nil {
		return review.Detail{}, problem.Wrap(err)
	}
	u, _ := s.d.Store.GetUser(ctx, it.UserID)
	idn := ""
	if !u.IDNumber.Empty() {
		idn, _ = s.d.Protector.Open(account.FieldIDNumber, u.IDNumber)
	}
	e := by.Entry(ActionReviewOpened, audit.ResultOK)
	e.Subject = it.Subject
	e.Detail = audit.Detail{"item": it.ID, "kind": it.Kind, "user": it.UserID}
	s.d.Audit.Append(ctx, e)
	out := review.Detail{Item: review.ItemOf(it), Fields: []review.Field{
		{Label: "review.field.real_name", Value: s.realName(u)},
		{Label: "review.field.id_number", Value: idn},
		{Label: "review.field.uscc", Value: d.USCC},
		{Label: "review.field.enterprise_name", Value: d.Name},
	}, Files: review.Files(files)}
	return out, nil
}

// File returns the licence of an appeal, audited.
func (s *Service) File(ctx context.Context, itemID, fileID string, by audit.Origin) (review.File, error) {
	it, _, err := s.item(ctx, itemID)
	if err != nil {
		return review.File{}, err
	}
	return review.OpenFile(ctx, s.d.Store, it, fileID, func(cipher []byte) (string, error) {
		return s.d.Protector.Open(sealReviewFile, store.Sealed{Cipher: cipher})
	}, s.d.Audit, ActionReviewFile, by)
}

// Decide approves or rejects an appeal with a reason. Approving makes the
// appellant legal representative (an earlier one loses the role and is
// told), creating the enterprise record when unknown; one transaction
// with the audit event. The appellant is told either way.
func (s *Service) Decide(ctx context.Context, id string, approve bool, reason string, by audit.Origin) (review.Item, error) {
	reason, err := review.CleanReason(reason, true)
	if err != nil {
		return review.Item{}, err
	}
	it, d, err := s.item(ctx, id)
	if err != nil {
		return review.Item{}, err
	}
	if it.State != review.StatePending {
		return review.Item{}, problem.New(problem.Conflict, "review_decided")
	}
	now := s.now()
	state, event := review.StateRejected, EventAppealRejected
	if approve {
		state, event = review.StateApproved, EventAppealApproved
	}
	change := store.EnterpriseChange{ReviewDecision: &store.ReviewDecision{ItemID: it.ID, State: state, DecidedAt: now, DecidedBy: by.Actor.ID, Reason: reason}}
	e := by.Entry(ActionReviewDecided, state)
	e.Subject = it.Subject
	e.Detail = audit.Detail{"item": it.ID, "kind": it.Kind, "user": it.UserID, "uscc": d.USCC, "reason": reason}
	old := ""
	name := d.Name
	if approve {
		if _, err := s.user(ctx, it.UserID); err != nil {
			return review.Item{}, problem.New(problem.Conflict, "review_subject_changed")
		}
		en, err := s.d.Store.GetEnterprise(ctx, d.USCC)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Not checked in the registry yet: the first sign-in or the
			// daily recheck asks it.
			change.Enterprise = &store.Enterprise{USCC: d.USCC, Name: d.Name, Status: StatusActive, CreatedAt: now}
		case err != nil:
			return review.Item{}, problem.Wrap(err)
		default:
			name = en.Name
		}
		ms, err := s.d.Store.ListEnterpriseMembers(ctx, d.USCC)
		if err != nil {
			return review.Item{}, problem.Wrap(err)
		}
		for _, m := range ms {
			if m.Role == RoleLegalRep && m.UserID != it.UserID {
				old = m.UserID
				change.RemoveMembers = []store.MemberKey{{USCC: d.USCC, UserID: m.UserID}}
				e.Detail["replaced"] = m.UserID
			}
		}
		change.PutMembers = []store.EnterpriseMember{{USCC: d.USCC, UserID: it.UserID, Role: RoleLegalRep, CreatedAt: now}}
	}
	err = s.d.Store.ChangeEnterprise(ctx, change, s.d.Audit.Event(e), audit.Hash)
	switch {
	case errors.Is(err, store.ErrConflict) && !errors.As(err, new(*store.ConflictError)):
		return review.Item{}, problem.New(problem.Conflict, "review_decided")
	case err != nil:
		return review.Item{}, problem.Wrap(err)
	}
	s.tell(ctx, it.UserID, event, map[string]string{"uscc": d.USCC, "name": name, "reference": it.Reference})
	if old != "" {
		s.tell(ctx, old, EventRoleRevoked, map[string]string{"uscc": d.USCC, "name": name, "role": RoleLegalRep})
	}
	it.State, it.DecidedAt, it.DecidedBy, it.Reason = state, now, by.Actor.ID, reason
	return review.ItemOf(it), nil
}

// referenceAlphabet leaves out letters and digits read alike.
const referenceAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func newReference() string {
	b := []byte(strings.ToUpper(newID()))
	out := make([]byte, 6)
	for i := range out {
		out[i] = referenceAlphabet[int(b[i])%len(referenceAlphabet)]
	}
	return string(out)
}
