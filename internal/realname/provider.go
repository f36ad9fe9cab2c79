package realname

import (
	"context"
	"errors"
)

// Results of a check, as verifiers answer and as checks are recorded.
const (
	ResultPass      = "pass"
	ResultFail      = "fail"
	ResultCancelled = "cancelled" // the user left the verifier's page
	ResultPending   = "pending"   // the user has not finished at the verifier
	// Recorded only, never answered by a verifier:
	ResultUnavailable = "unavailable" // the verifier could not be reached
	ResultMismatch    = "subject_mismatch"
	ResultConflict    = "verified_elsewhere" // passed, but the ID number is verified on another account
)

// Person is whom a check is about: the name and the ID number.
type Person struct {
	RealName string `json:"real_name"`
	IDNumber string `json:"id_number"`
}

// Outcome is a verifier's answer.
type Outcome struct {
	Result    string // ResultPass, ResultFail, ResultCancelled or ResultPending
	Reference string // the verifier's reference of the check
	// IDNumber is whom a redirect verification verified, as the verifier
	// says; FinishRedirect refuses a result about someone else.
	IDNumber string
}

// Started is a redirect verification the verifier has opened.
type Started struct {
	URL    string // where the browser goes
	Ticket string // what unid asks the result with, server to server; never given to the browser
}

// IdentityVerifier checks a name and an ID number against the
// population registry (two elements).
type IdentityVerifier interface {
	VerifyIdentity(ctx context.Context, p Person) (Outcome, error)
}

// BankCardVerifier checks a bank card and its reserved phone against the
// person (four elements).
type BankCardVerifier interface {
	VerifyBankCard(ctx context.Context, p Person, cardNumber, phone string) (Outcome, error)
}

// CarrierVerifier checks that the phone is registered to the person at
// the carrier (three elements).
type CarrierVerifier interface {
	VerifyCarrier(ctx context.Context, p Person, phone string) (Outcome, error)
}

// RedirectVerifier runs the H5 verifications (face, netid, netid_face):
// StartRedirect opens one for the person and returns where the browser
// goes, which comes back to returnURL; RedirectResult asks the result
// with the ticket, server to server.
type RedirectVerifier interface {
	StartRedirect(ctx context.Context, method string, p Person, returnURL string) (Started, error)
	RedirectResult(ctx context.Context, ticket string) (Outcome, error)
}

// Provider is a verification service: one interface per method, and its
// name as checks record it. A failure to reach it is a *problem.Problem
// of kind Unavailable with code "realname_unavailable".
type Provider interface {
	Name() string
	IdentityVerifier
	BankCardVerifier
	CarrierVerifier
	RedirectVerifier
}

// None is the provider of a platform without a verification service
// (realname.provider none): the service offers no method with it, and a
// call that reaches it anyway (a redirect started before the
// configuration changed) answers that the service is unavailable.
type None struct{}

var errNone = errors.New("realname: no verification service is configured")

func (None) Name() string { return "none" }
func (None) VerifyIdentity(context.Context, Person) (Outcome, error) {
	return Outcome{}, Unavailable(errNone)
}
func (None) VerifyBankCard(context.Context, Person, string, string) (Outcome, error) {
	return Outcome{}, Unavailable(errNone)
}
func (None) VerifyCarrier(context.Context, Person, string) (Outcome, error) {
	return Outcome{}, Unavailable(errNone)
}
func (None) StartRedirect(context.Context, string, Person, string) (Started, error) {
	return Started{}, Unavailable(errNone)
}
func (None) RedirectResult(context.Context, string) (Outcome, error) {
	return Outcome{}, Unavailable(errNone)
}
