package realname

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"unid/internal/claims"
	"unid/internal/store"
)

// Methods of verification (the contract's table).
const (
	MethodRegistry  = "registry"   // name + ID number against the population registry
	MethodBankCard  = "bank_card"  // four elements: name, ID number, card, the card's reserved phone
	MethodCarrier   = "carrier"    // three elements: name, ID number, a phone registered to that ID
	MethodNetID     = "netid"      // 国家网络身份认证 网号/网证, an H5 redirect
	MethodAlipay    = "alipay"     // 支付宝认证: a linked Alipay account that Alipay says is certified
	MethodFace      = "face"       // face + liveness against the registry photo, an H5 redirect
	MethodNetIDFace = "netid_face" // 网证 + face, an H5 redirect
	MethodCounter   = "counter"    // in person at a service counter, approved by a reviewer
)

// Kinds of method: how the user goes through it.
const (
	KindForm     = "form"     // a form the API checks at once
	KindRedirect = "redirect" // the verifier's own H5 page, then a callback
	KindReview   = "review"   // a reviewer decides
	KindLink     = "link"     // what a linked identity provider said of the person (Deps.Alipay)
)

// kinds is the kind of every method unid knows.
var kinds = map[string]string{
	MethodRegistry: KindForm, MethodBankCard: KindForm, MethodCarrier: KindForm,
	MethodNetID: KindRedirect, MethodFace: KindRedirect, MethodNetIDFace: KindRedirect,
	MethodCounter: KindReview, MethodAlipay: KindLink,
}

// DefaultMethods is the realname.methods setting by default: the
// contract's table.
const DefaultMethods = "registry:1,bank_card:2,carrier:2,netid:2,alipay:2,face:3,netid_face:3,counter:3"

// Method is a method offered, with the level its binding gives.
type Method struct {
	Name  string
	Level int
	Kind  string
}

// ParseMethods reads the realname.methods setting: comma-separated
// method:level pairs. The registry method must be offered at level 1,
// which every other method builds on; the others give levels 2 to
// claims.MaxLevel.
func ParseMethods(s string) ([]Method, error) {
	var out []Method
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, lv, ok := strings.Cut(part, ":")
		kind, known := kinds[name]
		if !ok || !known {
			return nil, fmt.Errorf("realname: methods: %q is not method:level with a known method (%s)", part, knownMethods())
		}
		level, err := strconv.Atoi(lv)
		if err != nil || level < 1 || level > claims.MaxLevel {
			return nil, fmt.Errorf("realname: methods: %q: the level must be 1 to %d", part, claims.MaxLevel)
		}
		if (name == MethodRegistry) != (level == 1) {
			return nil, fmt.Errorf("realname: methods: %q: registry, and only registry, gives level 1", part)
		}
		if slices.ContainsFunc(out, func(m Method) bool { return m.Name == name }) {
			return nil, fmt.Errorf("realname: methods: %s is listed twice", name)
		}
		out = append(out, Method{Name: name, Level: level, Kind: kind})
	}
	if !slices.ContainsFunc(out, func(m Method) bool { return m.Name == MethodRegistry }) {
		return nil, fmt.Errorf("realname: methods: registry:1 is required, every other method builds on it")
	}
	slices.SortStableFunc(out, func(a, b Method) int { return a.Level - b.Level })
	return out, nil
}

func knownMethods() string {
	var names []string
	for n := range kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Level is the real-name level the bindings give: 0 without a registry
// binding, else the highest level among them. It is the one place the
// level is computed; the store keeps its result on the account.
func Level(bindings []store.RealnameBinding) int {
	registry := false
	level := 0
	for _, b := range bindings {
		registry = registry || b.Method == MethodRegistry
		level = max(level, b.Level)
	}
	if !registry {
		return 0
	}
	return claims.ClampLevel(level)
}

// Allowed reports whether a user at level may go through a method giving
// method.Level: level 1 first, then anything above it.
func Allowed(level int, m Method) bool {
	if m.Level <= 1 {
		return level < 1
	}
	return claims.Verified(level)
}
