package oidc

import (
	"time"

	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"unid/internal/account"
)

// SampleSigner returns a function that signs one access token of the
// shape the token endpoint issues for client credentials, with a fresh
// key of alg ("ES256" or "RS256") made, sealed and opened the way the
// provider's own keys are. It is for measuring how fast this machine can
// sign: the limit no token endpoint can beat (tools/load).
func SampleSigner(alg string) (func() error, error) {
	keys, err := account.GenerateKeys()
	if err != nil {
		return nil, err
	}
	prot, err := account.NewProtector(keys)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	k, err := generateKey(alg, now, prot)
	if err != nil {
		return nil, err
	}
	a, err := (&keyRing{protector: prot}).openKey(k)
	if err != nil {
		return nil, err
	}
	signer := a.signers[typAccessToken]
	const issuer, client = "https://unid.example.gov.cn", "load-sample"
	return func() error {
		claims := &oidc.AccessTokenClaims{
			TokenClaims: oidc.TokenClaims{
				Issuer: issuer, Subject: client, Audience: []string{issuer},
				Expiration: oidc.FromTime(now.Add(10 * time.Minute)), IssuedAt: oidc.FromTime(now), ClientID: client, JWTID: newID(),
			},
			Scopes: []string{"records.cases:write", "records.messages:write"},
		}
		_, err := zcrypto.Sign(claims, signer)
		return err
	}, nil
}
