package oidc

import (
	"errors"

	jose "github.com/go-jose/go-jose/v4"
)

// BreakSigning makes every signature of p fail from now on, as a signer
// that has stopped working would (a reload keeps the key it has, broken,
// until another key becomes the signing one).
func BreakSigning(p *Provider) {
	ks := *p.keys.state.Load()
	a := *ks.active
	a.signers = make(map[string]jose.Signer, len(ks.active.signers))
	for typ := range ks.active.signers {
		a.signers[typ] = brokenSigner{}
	}
	ks.active = &a
	p.keys.state.Store(&ks)
}

type brokenSigner struct{}

func (brokenSigner) Sign([]byte) (*jose.JSONWebSignature, error) {
	return nil, errors.New("the signer has stopped working")
}

func (brokenSigner) Options() jose.SignerOptions { return jose.SignerOptions{} }
