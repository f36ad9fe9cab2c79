// Package address owns a citizen's EMS addresses (我的EMS): the rules of a
// postal address — recipient, phone, place, detailed address, postcode —
// and the Service that keeps up to MaxAddresses of them per account, one of
// them the default.
//
// The flow: a form's Input is checked and normalised by Validate (every
// broken rule at once, as a problem.Problem about its fields); the place is
// resolved and the postcode checked against its province by package
// division; recipient, phone and detail are sealed with account.Protector
// and stored as store.Sealed, so the store never sees them in the clear.
// A View opens them for their owner; in lists the phone is masked.
//
// Every write is one store method, in one transaction with its audit event
// (address.created, address.updated, address.deleted), whose actor is the
// user and whose detail names only the address ID: no personal data enters
// the log. The default rules — the first address is the default, making
// one the default takes it from the other, deleting the default passes it
// to the newest remaining address — are the store's, in the same
// transaction.
package address
