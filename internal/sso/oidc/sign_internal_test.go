package oidc

import (
	"testing"
	"time"

	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"unid/internal/account/accounttest"
	"unid/internal/claims"
)

// BenchmarkSign is the cost of signing one access token alone, for each
// algorithm: the limit the token endpoint cannot beat. The parallel
// variant uses every CPU (tokens/s on this machine).
func BenchmarkSign(b *testing.B) {
	prot := accounttest.NewProtector(b)
	now := time.Now()
	token := &oidc.AccessTokenClaims{
		TokenClaims: oidc.TokenClaims{
			Issuer: "https://unid.example.gov.cn", Subject: "k7q2m4x9v3b8n6c1", Audience: []string{"hall"},
			Expiration: oidc.FromTime(now.Add(10 * time.Minute)), IssuedAt: oidc.FromTime(now),
			AuthTime: oidc.FromTime(now), AuthenticationContextClassReference: claims.ACR(2), ClientID: "hall",
			JWTID: newID() + "." + newID(),
		},
		Scopes: []string{"openid", "profile", "phone"},
	}
	for _, alg := range []string{"ES256", "RS256"} {
		k, err := generateKey(alg, now, prot)
		if err != nil {
			b.Fatal(err)
		}
		r := &keyRing{protector: prot}
		a, err := r.openKey(k)
		if err != nil {
			b.Fatal(err)
		}
		signer := a.signers[typAccessToken]
		b.Run(alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := zcrypto.Sign(token, signer); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/parallel", func(b *testing.B) {
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := zcrypto.Sign(token, signer); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tokens/s")
		})
	}
}
