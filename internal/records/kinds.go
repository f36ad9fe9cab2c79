package records

import (
	"slices"

	"unid/internal/store"
)

// Kind is what the records API and the pages know of a record kind: its
// path segment, its status vocabulary, its scopes and whether an
// enterprise keeps it.
type Kind struct {
	Kind       store.RecordKind
	Plural     string   // path segment: /api/records/v1/users/{sub}/{Plural}/{id}
	Statuses   []string // the vocabulary of Status; nil for a kind without one
	Enterprise bool     // an enterprise keeps records of this kind too
}

// Case statuses (办件状态).
const (
	StatusSubmitted  = "submitted"  // 已提交
	StatusAccepted   = "accepted"   // 已受理
	StatusProcessing = "processing" // 办理中
	StatusCorrection = "correction" // 补正
	StatusCompleted  = "completed"  // 办结
	StatusRejected   = "rejected"   // 不予受理
	StatusWithdrawn  = "withdrawn"  // 已撤回
	StatusAnswered   = "answered"   // 已答复 (consultation)
	StatusReplied    = "replied"    // 已回复 (complaint)
	StatusClosed     = "closed"     // 已关闭 / 已办结 (consultation, complaint)
)

// Kinds are the record kinds, in the order of the personal space.
var Kinds = []Kind{
	{Kind: store.RecordCase, Plural: "cases", Enterprise: true, Statuses: []string{
		StatusSubmitted, StatusAccepted, StatusProcessing, StatusCorrection, StatusCompleted, StatusRejected, StatusWithdrawn}},
	{Kind: store.RecordConsultation, Plural: "consultations", Enterprise: true, Statuses: []string{
		StatusSubmitted, StatusAnswered, StatusClosed}},
	{Kind: store.RecordMessage, Plural: "messages"},
	{Kind: store.RecordComplaint, Plural: "complaints", Statuses: []string{
		StatusSubmitted, StatusAccepted, StatusProcessing, StatusReplied, StatusClosed}},
	{Kind: store.RecordFavorite, Plural: "favorites"},
}

// ByPlural returns the kind whose path segment is plural.
func ByPlural(plural string) (Kind, bool) {
	i := slices.IndexFunc(Kinds, func(k Kind) bool { return k.Plural == plural })
	if i < 0 {
		return Kind{}, false
	}
	return Kinds[i], true
}

// Of returns the Kind of k.
func Of(k store.RecordKind) (Kind, bool) {
	i := slices.IndexFunc(Kinds, func(x Kind) bool { return x.Kind == k })
	if i < 0 {
		return Kind{}, false
	}
	return Kinds[i], true
}

// WriteScope and ReadScope are the OAuth scopes that let a service system
// write a kind (client credentials) and read a signed-in user's records of
// it (the user's access token): records.cases:write, records.cases:read, …
func (k Kind) WriteScope() string { return "records." + k.Plural + ":write" }

// ReadScope is the scope of reading a user's records of the kind.
func (k Kind) ReadScope() string { return "records." + k.Plural + ":read" }

// ValidStatus reports whether s is a status of the kind.
func (k Kind) ValidStatus(s string) bool { return slices.Contains(k.Statuses, s) }
