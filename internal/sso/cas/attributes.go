package cas

import (
	"unid/internal/account"
	"unid/internal/claims"
	"unid/internal/store"
)

// attribute is one released attribute. Value is a string, an int or a bool:
// XML writes each as text, JSON as its own type.
type attribute = claims.Claim

// release returns the attributes of u that client c may receive: those
// its Scopes name (claims.CASAttributes), in that order, as claims
// releases them, with the enterprise ent the sign-in acts for (nil: none).
// Personal data is opened only when released.
func release(p *account.Protector, c store.Client, u store.User, ent *claims.Enterprise) ([]attribute, error) {
	return claims.Release(claims.Request{Form: claims.CAS, User: u, Client: c, Open: p.Open, Enterprise: ent})
}
