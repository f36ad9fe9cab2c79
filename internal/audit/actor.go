package audit

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Kind is what sort of party an Actor is.
type Kind string

// Kinds of Actor. The zero Actor, of no kind, is anonymous: a person not
// (yet) known to unid, such as someone whose registration failed.
const (
	KindUser     Kind = "user"     // an account holder, by user ID
	KindOperator Kind = "operator" // an operator of the platform, by name
	KindClient   Kind = "client"   // a registered client (an operator tool, a relying party), by client ID
	KindSystem   Kind = "system"   // unid itself: a scheduled rule, a key rotation
)

// Actor is who caused an event. Services take one explicitly from their
// callers rather than working it out from a request.
type Actor struct {
	Kind Kind
	ID   string // user ID, operator name or client ID; empty for KindSystem
}

// User is the account holder userID acting.
func User(userID string) Actor { return Actor{Kind: KindUser, ID: userID} }

// Operator is an operator of the platform acting, named as they are known
// where they act: "cli:<os user>" on the command line.
func Operator(name string) Actor { return Actor{Kind: KindOperator, ID: name} }

// ClientActor is a registered client acting on its own authority: an
// operator tool on the operator API, a relying party at the token endpoint.
func ClientActor(clientID string) Actor { return Actor{Kind: KindClient, ID: clientID} }

// System is unid itself acting.
func System() Actor { return Actor{Kind: KindSystem} }

// Anonymous is someone unid does not know, stored as the empty actor.
func Anonymous() Actor { return Actor{} }

// Valid reports whether a is anonymous, System, or of a known kind with an
// ID: what a service should accept from its caller.
func (a Actor) Valid() bool {
	switch a.Kind {
	case "":
		return a.ID == ""
	case KindSystem:
		return a.ID == ""
	case KindUser, KindOperator, KindClient:
		return a.ID != ""
	}
	return false
}

// String is how the actor is stored in the log, the format events have had
// since the first release so that a query for one actor finds old and new
// events alike: a user by the bare user ID (random lower-case base32, so
// never "system" and never containing ':'), "operator:<name>",
// "client:<id>", "system", and "" for anonymous.
func (a Actor) String() string {
	switch a.Kind {
	case KindUser:
		return a.ID
	case KindOperator, KindClient:
		return string(a.Kind) + ":" + a.ID
	case KindSystem:
		return string(KindSystem)
	}
	return ""
}

// ParseActor reads a stored actor back. Events written by `unid client`
// before operators were named as such ("cli:<os user>", or "cli") read as
// that operator.
func ParseActor(s string) Actor {
	switch {
	case s == "":
		return Anonymous()
	case s == string(KindSystem):
		return System()
	case strings.HasPrefix(s, "operator:"):
		return Operator(strings.TrimPrefix(s, "operator:"))
	case strings.HasPrefix(s, "client:"):
		return ClientActor(strings.TrimPrefix(s, "client:"))
	case s == "cli" || strings.HasPrefix(s, "cli:"):
		return Operator(s)
	}
	return User(s)
}

// Detail is the structured detail of an event: a few named values, masked
// like everything else in the log (no personal data in the clear, never a
// code, password or token).
type Detail map[string]string

// String is the canonical JSON of d, keys sorted, as it is stored and
// hashed: the same detail is always the same bytes. An empty detail is the
// empty string.
func (d Detail) String() string {
	if len(d) == 0 {
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string(d)); err != nil {
		return "" // a map of strings always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ParseDetail reads a stored detail back. Events written before details
// were structured may hold plain text ("client_id=x reason=y") or JSON with
// other than string values; ok is false for those.
func ParseDetail(s string) (d Detail, ok bool) {
	if s == "" {
		return Detail{}, true
	}
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, false
	}
	return d, true
}

// Origin is who asks a service for a change and from where: the Actor,
// and the address and user agent of the request that carried it (empty on
// the command line and for unid itself).
type Origin struct {
	Actor     Actor
	IP        string
	UserAgent string
}

// Entry is an event of action with result from o, for services that take
// an Origin from their callers.
func (o Origin) Entry(action, result string) Entry {
	return Entry{Actor: o.Actor, Action: action, Result: result, IP: o.IP, UserAgent: o.UserAgent}
}
