package oidc

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"

	"unid/internal/claims"
)

// discoveryDoc is the discovery document: zitadel's type, with the fields
// it leaves out.
type discoveryDoc struct {
	oidc.DiscoveryConfiguration
	PromptValuesSupported []string `json:"prompt_values_supported"`
}

// discoveryDocument encodes the document once; it changes only with the
// configuration.
func (p *Provider) discoveryDocument() ([]byte, error) {
	algs := []string{p.o.Algorithm}
	for a := range algorithms {
		if a != p.o.Algorithm {
			algs = append(algs, a) // verifiers must accept it: keys of it may still be published
		}
	}
	secret := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	doc := discoveryDoc{
		DiscoveryConfiguration: oidc.DiscoveryConfiguration{
			Issuer:                                    p.issuer,
			AuthorizationEndpoint:                     p.issuer + "/oidc/authorize",
			TokenEndpoint:                             p.issuer + "/oidc/token",
			IntrospectionEndpoint:                     p.issuer + "/oidc/introspect",
			UserinfoEndpoint:                          p.issuer + "/oidc/userinfo",
			RevocationEndpoint:                        p.issuer + "/oidc/revoke",
			EndSessionEndpoint:                        p.issuer + "/oidc/end_session",
			JwksURI:                                   p.issuer + "/oidc/keys",
			ScopesSupported:                           claims.UserScopes(),
			ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
			ResponseModesSupported:                    []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost)},
			GrantTypesSupported:                       []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials},
			ACRValuesSupported:                        claims.ACRValues(),
			SubjectTypesSupported:                     []string{"public"},
			IDTokenSigningAlgValuesSupported:          algs,
			TokenEndpointAuthMethodsSupported:         append(secret, oidc.AuthMethodNone),
			RevocationEndpointAuthMethodsSupported:    append(secret, oidc.AuthMethodNone),
			IntrospectionEndpointAuthMethodsSupported: secret,
			ClaimsSupported:                           claims.ClaimsSupported(),
			CodeChallengeMethodsSupported:             []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
			UILocalesSupported:                        oidc.Locales{language.SimplifiedChinese, language.English},
			RequestParameterSupported:                 false,
			RequestURIParameterSupported:              false,
			BackChannelLogoutSupported:                true,
			BackChannelLogoutSessionSupported:         true,
		},
		PromptValuesSupported: []string{oidc.PromptNone, oidc.PromptLogin, oidc.PromptConsent},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("oidc: encode discovery document: %w", err)
	}
	return b, nil
}

// keysCacheControl lets caches keep the JWKS for one key refresh at most: a
// new key signs two refreshes after its rotation (keyRing.lead), by when
// every instance publishes it (one refresh) and no cache holds a JWKS
// without it (the other).
func keysCacheControl(refresh time.Duration) []string {
	return []string{"public, max-age=" + strconv.Itoa(int(refresh/time.Second))}
}

// serveDiscovery answers the discovery document from memory.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = discoveryCache
	h["Access-Control-Allow-Origin"] = anyOrigin
	w.Write(p.discovery)
}

// serveKeys answers the JWKS: the active key and the retired keys whose
// tokens may still be live, encoded when the keys were loaded.
func (p *Provider) serveKeys(w http.ResponseWriter, r *http.Request) {
	ks := p.keys.current(r.Context())
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = p.keysCache
	h["Access-Control-Allow-Origin"] = anyOrigin
	w.Write(ks.jwks)
}

// Header values of the two hottest endpoints, shared so that serving them
// allocates nothing for headers (the JWKS's Cache-Control is
// Provider.keysCache).
var (
	jsonContentType = []string{"application/json"}
	discoveryCache  = []string{"public, max-age=3600"}
	anyOrigin       = []string{"*"}
)
